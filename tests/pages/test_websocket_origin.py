"""The websocket accepts browsers only from the portal's own pages (cross-site websocket hijacking, ASVS 14.5.3)."""

import json

from pages.security import same_origin

HANDSHAKE = '/_nicegui_ws/socket.io/?EIO=4&transport=polling'


async def test_a_foreign_page_cannot_open_the_portals_websocket(user, caplog):
    foreign = await user.http_client.get(HANDSHAKE, headers={'Origin': 'https://evil.example'})
    assert foreign.status_code == 400 and 'not an accepted origin' in foreign.text
    caplog.clear()  # engine.io logs the refused origin (once) as an error, as it should
    own = await user.http_client.get(HANDSHAKE, headers={'Origin': 'http://test'})
    assert own.status_code == 200 and own.text.startswith('0{')  # engine.io's open packet


async def test_tabs_are_pinged_every_25_s_and_may_answer_within_20_s(user):
    """At a peak the event loop may be seconds behind: NiceGUI's pings (every 8 s, answer within 4 s with its
    reconnect time of 10 s) dropped the connections of tabs whose answer waited unread (bench/load.py)."""
    opened = await user.http_client.get(HANDSHAKE, headers={'Origin': 'http://test'})
    announced = json.loads(opened.text[1:])
    assert (announced['pingInterval'], announced['pingTimeout']) == (25_000, 20_000)


def test_the_public_address_and_the_proxied_host_are_the_portals_own_origins():
    allowed = same_origin('https://portal.stadtwerke-beispiel.de')
    assert allowed('https://portal.stadtwerke-beispiel.de', {'HTTP_HOST': '127.0.0.1:8080'})
    assert allowed('https://kunden.example', {'HTTP_HOST': '127.0.0.1:8080', 'HTTP_X_FORWARDED_HOST': 'kunden.example'})
    assert allowed(None, {})  # no browser, no Origin: nothing to hijack
    assert not allowed('https://portal.stadtwerke-beispiel.de.evil.example', {'HTTP_HOST': 'portal.example'})
    assert not allowed('http://127.0.0.1:8081', {'HTTP_HOST': '127.0.0.1:8080'})
