"""NiceGUI inspects the signature of a handler (`helpers.expects_arguments`) each time an element is made (three
times: its props, classes and style) and for a click handler on every event: with a page's handlers made anew for
each page, about a tenth of a page's build time. The answer depends only on the function behind a bound method,
and for a plain function or lambda only on its code and how many of its parameters have defaults: it is
remembered by those. Anything else (partials, wrapped or callable objects) is still inspected each time."""

import types
from collections.abc import Callable

from nicegui import helpers

from service.tuning.guard import Patch, Undo


def apply() -> Undo:
    inspect_each_time = helpers.expects_arguments
    helpers.expects_arguments = remembering(inspect_each_time)  # type: ignore[assignment]

    def undo() -> None:
        helpers.expects_arguments = inspect_each_time

    return undo


def remembering(inspect_each_time: Callable[[Callable], bool]) -> Callable[[Callable], bool]:
    """`inspect_each_time`, its answers remembered by code; the memory is the function's `known`."""
    known: dict[object, bool] = {}

    def expects_arguments(handler: Callable) -> bool:
        function = getattr(handler, '__func__', None)
        if function is not None:
            key: object = function
        elif (
            type(handler) is types.FunctionType
            and not hasattr(handler, '__wrapped__')
            and not hasattr(handler, '__signature__')
        ):
            key = (handler.__code__, len(handler.__defaults__ or ()), tuple(handler.__kwdefaults__ or ()))
        else:
            return inspect_each_time(handler)
        if key not in known:
            known[key] = inspect_each_time(handler)
        return known[key]

    expects_arguments.known = known  # type: ignore[attr-defined]
    return expects_arguments


PATCH = Patch('handler_signatures', 'nicegui', '3.18.*', apply)
