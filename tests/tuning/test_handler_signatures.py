"""service/tuning/handler_signatures.py: NiceGUI's signature checks are answered from memory, with NiceGUI's own
answers."""

import functools

from nicegui import helpers, ui
from nicegui.classes import Classes
from nicegui.helpers import functions
from nicegui.props import Props
from nicegui.style import Style

from service.tuning.handler_signatures import remembering
from tests.pages.conftest import button


async def test_nicegui_asks_the_remembering_check_when_it_builds_an_element_and_handles_a_click(user):
    await user.open('/')
    await user.should_see('Passwort vergessen?')
    known = helpers.expects_arguments.known  # installed at start
    assert {Props._update, Classes._update, Style._update} <= set(known)  # each element's three collections
    clicked = []
    with user.client.layout:
        ui.button('Zählerstand melden', on_click=lambda event: clicked.append(event))
    button(user, 'Zählerstand melden').click()  # through NiceGUI's event handling
    assert len(clicked) == 1
    assert [key for key in known if isinstance(key, tuple) and 'clicked' in key[0].co_freevars]


def test_handler_signatures_are_remembered_by_code_and_answer_as_nicegui_does():
    original = functions.expects_arguments  # NiceGUI's own (the portal replaces the one in `nicegui.helpers`)
    remembered = remembering(original)

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
