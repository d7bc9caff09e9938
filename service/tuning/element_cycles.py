"""Each NiceGUI element keeps its props, classes and style in observable collections that hold their own bound
method `_update` as change handler: three reference cycles per element, so a page a customer has left is not
freed when NiceGUI lets go of it but waits for Python's cyclic garbage collector, which then walks and frees it in
one of its full collections, a pause in which nothing else runs (docs/operations.md). The collections now find
their `_update` when a change is handled, as the first handler as before, instead of storing it, and a page is
freed by reference counting the moment it is let go. (NiceGUI's nested collections ask their parent for its
handlers: they get `_update` the same way.)"""

import weakref
from collections.abc import Callable
from typing import Any

from nicegui.classes import Classes
from nicegui.observables import ObservableCollection, ObservableDict, ObservableList
from nicegui.props import Props
from nicegui.style import Style

from service.tuning.guard import Patch, Undo

KINDS: tuple[Any, ...] = (Props, Classes, Style)  # patched below, attributes mypy cannot know


def _init_without_handler(collection_init: Callable[..., None], *fresh_dicts: str) -> Callable[..., None]:
    def __init__(self: Any, *args: Any, element: Any, **kwargs: Any) -> None:
        collection_init(self, *args, **kwargs)
        self._element = weakref.ref(element)
        self._suspend_count = 0
        for name in fresh_dicts:
            setattr(self, name, {})

    return __init__


# NiceGUI 3.18's own __init__ of each, without the change handler it passes on (`on_change=self._update`): the
# collection would store it (the cycle) and check its signature (`helpers.expects_arguments`, `inspect.signature`:
# three times per element, 8.7 % of the event loop at a login burst, py-spy 03.12.2026), only for the handler to
# be taken out again. tests/tuning/test_element_cycles.py checks that each makes what NiceGUI's own makes.
INITS: dict[Any, Callable[..., None]] = {
    Props: _init_without_handler(ObservableDict.__init__, '_warnings', '_renames'),
    Classes: _init_without_handler(ObservableList.__init__),
    Style: _init_without_handler(ObservableDict.__init__),
}
NICEGUIS: dict[Any, Callable[..., None]] = {}  # NiceGUI's own, as found when the patch is applied


def apply() -> Undo:
    base = vars(ObservableCollection)['_change_handlers_with_args'].fget
    assert base is not None

    def handlers_with_own_update(self: Any) -> list[tuple[Callable, bool]]:
        return [(self._update, False), *base(self)]

    NICEGUIS.update({kind: vars(kind)['__init__'] for kind in KINDS})
    for kind in KINDS:
        kind.__init__ = INITS[kind]
        kind._change_handlers_with_args = property(handlers_with_own_update)

    def undo() -> None:
        for kind in KINDS:
            kind.__init__ = NICEGUIS[kind]
            del kind._change_handlers_with_args

    return undo


PATCH = Patch('element_cycles', 'nicegui', '3.18.*', apply)
