"""socket.io messages are accepted only from the socket that owns their tab (issue 22, items 9 and 12): a second,
anonymous socket that knows a tab's client id can neither click in that tab nor write into the server log, and the
tab's own log lines arrive as one limited line at a known level."""

import asyncio
import threading
import time
from pathlib import Path

import pytest
import socketio
from playwright.sync_api import Page, expect

from tests.browser.test_self_service_journeys import household, log_in  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.parametrize('database_url', ['sqlite'], indirect=True)]

FIND_SWITCH = """() => {
  const [id, element] = Object.entries(mounted_app.elements).find(([, e]) => e.props && e.props.label === 'English');
  return {id: Number(id), listener_id: element.events[0].listener_id, client_id: window.clientId};
}"""


OWN_MESSAGE = "'eins\\nzwei ' + 'x'.repeat(900)"  # a line break in the message
OWN_LOG_LINE = f"window.socket.emit('log', {{client_id: window.clientId, level: 'critical', message: {OWN_MESSAGE}}})"


async def foreign_socket(base: str, messages: list[tuple[str, dict]]) -> None:
    """A socket of its own (no handshake for any tab), sending what a tab's socket would send."""
    client = socketio.AsyncClient()
    await client.connect(base, socketio_path='/_nicegui_ws/socket.io', transports=['websocket'])
    for name, message in messages:
        await client.emit(name, message)
    await asyncio.sleep(1)
    await client.disconnect()


def server_log(tmp_path: Path) -> str:
    return '\n'.join(path.read_text() for path in tmp_path.glob('server-*.log'))


def test_a_foreign_socket_cannot_click_in_a_tab_nor_forge_its_log(
    household,  # noqa: F811 - the fixture imported above
    start_portal,
    browser: Page,
    tmp_path,
):
    base, page = start_portal('stadtwerke-a'), browser
    log_in(page, base, 'haushalt@example.org')
    page.goto(base + '/kundendaten')
    expect(page.locator('html')).to_have_attribute('lang', 'de')
    switch = page.evaluate(FIND_SWITCH)
    click = {'id': switch['id'], 'client_id': switch['client_id'], 'listener_id': switch['listener_id'], 'args': []}
    forged = {'client_id': switch['client_id'], 'level': 'critical', 'message': 'harmlos\n2026-12-02 ERROR FORGED'}
    sender = threading.Thread(target=lambda: asyncio.run(foreign_socket(base, [('event', click), ('log', forged)])))
    sender.start()  # in a thread of its own: Playwright's sync API holds this thread's event loop
    sender.join(30)
    time.sleep(1)
    expect(page.locator('html')).to_have_attribute('lang', 'de')  # the "English" switch was not clicked
    logged = server_log(tmp_path)
    assert 'FORGED' not in logged and 'KeyError' not in logged
    assert "socket.io 'event' for a tab from a socket that is not its own: ignored" in logged

    page.evaluate(OWN_LOG_LINE)
    deadline = time.monotonic() + 10
    while 'browser ' not in server_log(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    [line] = [line for line in server_log(tmp_path).splitlines() if 'kundenportal.browser' in line]
    assert 'WARNING' in line and 'eins zwei x' in line and len(line) < 500  # one line, limited, a known level

    page.get_by_role('button', name='Show this page in English').click()  # the tab's own socket still clicks
    expect(page.locator('html')).to_have_attribute('lang', 'en-GB')
