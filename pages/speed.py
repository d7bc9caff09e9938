"""Shared work NiceGUI would otherwise repeat for every element of every page (found with bench/load.py)."""

from collections.abc import Callable

from nicegui import helpers


def remember_handler_signatures() -> None:
    """NiceGUI inspects the signature of each element's change handlers every time it creates an element (its
    classes, style and props are observable collections, each with a bound method as handler): a tenth of a page's
    build time. The answer depends only on the function behind the bound method, so it is remembered per function.
    Plain functions and lambdas are still inspected each time."""
    inspect_each_time = helpers.expects_arguments
    known: dict[Callable, bool] = {}

    def expects_arguments(handler: Callable) -> bool:
        function = getattr(handler, '__func__', None)
        if function is None:
            return inspect_each_time(handler)
        if function not in known:
            known[function] = inspect_each_time(handler)
        return known[function]
    helpers.expects_arguments = expects_arguments
