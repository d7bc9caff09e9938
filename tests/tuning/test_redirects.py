"""service/tuning/redirects.py: a page that only redirects leaves no NiceGUI client behind."""

from nicegui import Client


async def test_a_page_that_only_redirects_leaves_no_client_behind(user):
    await user.open('/anmelden/code')  # no login waits for its code: on to the login
    await user.should_see('Passwort vergessen?')
    assert not [c for c in Client.instances.values() if c.page.path == '/anmelden/code']
