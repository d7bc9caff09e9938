"""service/tuning/element_cycles.py: a page left is freed by reference counting, and its elements still update."""

import gc
import weakref

from nicegui import ui


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
