"""pages/speed.py: the shortcuts taken for NiceGUI's repeated work give NiceGUI's own answers."""

import functools

from nicegui import Client, helpers

from pages.speed import remember_handler_signatures


def test_handler_signatures_are_remembered_by_code_and_answer_as_nicegui_does(monkeypatch):
    original = helpers.expects_arguments
    monkeypatch.setattr(helpers, 'expects_arguments', original)
    remember_handler_signatures()
    remembered = helpers.expects_arguments
    assert remembered is not original

    def make(n):  # closures made anew per page, as the click handlers are
        return [lambda: n, lambda event: n, lambda event=None: n, lambda *args: n, lambda r=n, s=n: (r, s)]

    class Page:
        def method(self, event): ...

    def needs(a, b=1): ...
    for handlers in (make(1), make(2)):
        for handler in handlers:
            assert remembered(handler) == original(handler)
    for handler in (Page().method, needs, functools.partial(needs, 1), functools.partial(needs)):
        assert remembered(handler) == original(handler)
        assert remembered(handler) == original(handler)  # the remembered answer too

    @functools.wraps(needs)
    def wrapped(): ...  # its signature is the wrapped function's: inspected each time, like NiceGUI does
    assert remembered(wrapped) == original(wrapped) is True


async def test_a_page_that_only_redirects_leaves_no_client_behind(user):
    await user.open('/anmelden/weiter?t=unknown')  # a login ticket that is not valid: on to the login
    await user.should_see('Passwort vergessen?')
    assert not [c for c in Client.instances.values() if c.page.path == '/anmelden/weiter']
