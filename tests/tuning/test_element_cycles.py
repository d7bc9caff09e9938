"""service/tuning/element_cycles.py: a page left is freed by reference counting, and its elements still update."""

import gc
import weakref

from nicegui import helpers, ui
from nicegui.classes import Classes
from nicegui.props import Props
from nicegui.style import Style

from service.tuning import element_cycles


async def test_a_page_left_is_freed_by_reference_counting_without_the_cyclic_collector(user):
    await user.open('/')  # the page's elements made by NiceGUI's own code, with the patch on since start
    await user.should_see('Passwort vergessen?')
    client = user.client
    kept = [id(value) for value in vars(client).values()]  # the frame the client itself holds (test's client)
    parts = [
        weakref.ref(part)
        for element in client.elements.values()
        if id(element) not in kept
        for part in (element, element.props, element.classes, element.style)
    ]
    assert len(parts) > 40
    gc.collect()
    gc.disable()
    try:
        client.delete()  # what NiceGUI does when the browser has left the page
        alive = [part() for part in parts if part() is not None]
        assert not alive, f'{len(alive)} of {len(parts)} wait for the cyclic collector: {alive[:3]}'
    finally:
        gc.enable()


async def test_props_classes_and_style_still_update_their_element_also_through_nested_values(user):
    await user.open('/')
    await user.should_see('Passwort vergessen?')
    with user.client.layout:
        label = ui.label('Zählerstand')
    assert not [h for h, _ in label.props._change_handlers if getattr(h, '__self__', None) is label.props]
    updates = []
    label.update = lambda: updates.append(1)

    def changes(step) -> bool:
        before = len(updates)
        step()
        return len(updates) > before

    assert changes(lambda: label.props('color=red'))
    assert changes(lambda: label.classes('text-h6'))
    assert changes(lambda: label.style('margin: 0'))
    assert changes(lambda: label.props.update(nested={'values': [1]}))
    assert changes(lambda: label.props['nested']['values'].append(2))  # a collection inside the props
    assert changes(lambda: label.props['nested'].update(more=3))
    seen = []
    label.props.on_change(lambda: seen.append(len(updates)))  # a handler added later comes after the update
    assert changes(lambda: label.props('dense'))
    assert seen == [len(updates)]


async def test_props_classes_and_style_are_made_as_niceguis_own_code_makes_them_but_without_their_handler(user):
    await user.open('/')
    await user.should_see('Passwort vergessen?')
    assert Props.__init__ is element_cycles.INITS[Props]  # the portal runs with the patch
    with user.client.layout:
        owner = ui.label('Zählerstand')
    for kind, data in ((Props, {'color': 'red', 'nested': {'a': [1]}}), (Classes, ['text-h6']), (Style, {'gap': '0'})):
        ours = kind(dict(data) if isinstance(data, dict) else list(data), element=owner)
        theirs = kind.__new__(kind)
        element_cycles.NICEGUIS[kind](theirs, dict(data) if isinstance(data, dict) else list(data), element=owner)
        assert theirs._change_handlers == [(theirs._update, False)] and ours._change_handlers == []
        assert ours == theirs and type(ours['nested']) is type(theirs['nested']) if kind is Props else ours == theirs
        skip = {'_change_handlers', 'last_modified', '_element', '_parent_ref'}
        assert {k: v for k, v in vars(ours).items() if k not in skip} == {
            k: v for k, v in vars(theirs).items() if k not in skip
        }
        assert ours._element() is theirs._element() is owner and ours._parent is theirs._parent is None


async def test_no_handler_signature_is_checked_for_an_elements_own_collections(user, monkeypatch):
    await user.open('/')
    await user.should_see('Passwort vergessen?')
    checked = []
    real = helpers.expects_arguments
    monkeypatch.setattr(helpers, 'expects_arguments', lambda func: checked.append(func) or real(func))
    with user.client.layout:
        ui.input('Zählernummer')
        ui.button('Speichern', on_click=lambda: None)
    assert not [f for f in checked if isinstance(getattr(f, '__self__', None), (Props, Classes, Style))]
