"""The portal's own socket.io handlers are in place once it runs (service.hardening); a browser test sends through
them (tests/browser/test_socket_ownership.py)."""

from nicegui import core

from service import hardening


async def test_tab_messages_and_browser_logs_go_through_the_portals_handlers(user):
    await user.open('/')
    handlers = core.sio.handlers['/']
    assert [handlers[name].__name__ for name in hardening.BOUND] == [
        'bound_event',
        'bound_javascript_response',
        'bound_ack',
    ]
    assert handlers['log'] is hardening.on_log


async def test_a_message_from_no_tab_is_owned_by_none(user):
    await user.open('/')
    assert hardening.owns('unknown-sid', {'client_id': user.client.id}) is None
    assert hardening.owns('unknown-sid', 'not a message') is None
    assert hardening.owns('unknown-sid', {'client_id': ['a', 'list']}) is None
