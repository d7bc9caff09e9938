"""Each NiceGUI element keeps its props, classes and style in observable collections that hold their own bound
method `_update` as change handler: three reference cycles per element, so a page a customer has left is not
freed when NiceGUI lets go of it but waits for Python's cyclic garbage collector, which then walks and frees it in
one of its full collections, a pause in which nothing else runs (docs/operations.md). The collections now find
their `_update` when a change is handled, as the first handler as before, instead of storing it, and a page is
freed by reference counting the moment it is let go. (NiceGUI's nested collections ask their parent for its
handlers: they get `_update` the same way.)"""

from collections.abc import Callable
from typing import Any

from nicegui.classes import Classes
from nicegui.observables import ObservableCollection
from nicegui.props import Props
from nicegui.style import Style

from service.tuning.guard import Patch, Undo

KINDS: tuple[Any, ...] = (Props, Classes, Style)  # patched below, attributes mypy cannot know


def apply() -> Undo:
    base = vars(ObservableCollection)['_change_handlers_with_args'].fget
    assert base is not None

    def handlers_with_own_update(self: Any) -> list[tuple[Callable, bool]]:
        return [(self._update, False), *base(self)]

    originals = {kind: vars(kind)['__init__'] for kind in KINDS}
    for kind, make in originals.items():

        def __init__(self, *args, _make=make, **kwargs) -> None:
            _make(self, *args, **kwargs)
            self._change_handlers = [
                (handler, expects)
                for handler, expects in self._change_handlers
                if getattr(handler, '__self__', None) is not self
            ]

        kind.__init__ = __init__
        kind._change_handlers_with_args = property(handlers_with_own_update)

    def undo() -> None:
        for kind, make in originals.items():
            kind.__init__ = make
            del kind._change_handlers_with_args

    return undo


PATCH = Patch('element_cycles', 'nicegui', '3.18.*', apply)
