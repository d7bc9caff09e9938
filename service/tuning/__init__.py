"""Measured shortcuts below the public API of NiceGUI, python-socketio, ReportLab and CPython's garbage
collector, fenced in here: each module is one patch with the versions it was written for (`guard`). `install`
applies those that fit the installed libraries at start, `uninstall` takes them out at shutdown;
`KUNDENPORTAL_TUNING=off` leaves all of them off and the portal runs on the libraries' own code
(docs/operations.md, "Tuning on and off"). The measurements behind each are in docs/operations.md. The billing
run's processes install only `DOCUMENTS`, the ones that concern them."""

import importlib
import logging
from collections.abc import Collection

from service.tuning.guard import Patch, Undo, fits

log = logging.getLogger('kundenportal')

# Each patch by its module's name, in the order applied; one that needs another comes after it. A module is
# imported only when its patch is wanted: the billing run's processes, which install only `DOCUMENTS`, do not load
# NiceGUI (36 MB a process).
NAMES = (
    'outbox_wakeups',
    'socket_rooms',
    'element_cycles',
    'collector',
    'redirects',
    'pings',
    'image_cache',
    'deflate_level',
    'pdf_objects',
)
# what rendering PDFs outside the web process (the billing run) uses
DOCUMENTS = ('image_cache', 'deflate_level', 'pdf_objects')
_undo: dict[str, Undo] = {}


def patches(names: Collection[str] | None = None) -> tuple[Patch, ...]:
    """The patches (those named, or all), in the order applied."""
    chosen = [name for name in NAMES if names is None or name in names]
    return tuple(importlib.import_module(f'service.tuning.{name}').PATCH for name in chosen)


def install(enabled: bool = True, skip: Collection[str] = (), only: Collection[str] | None = None) -> list[str]:
    """Apply every patch (or those named in `only`) that is wanted and fits the installed library; returns the names
    of those now on."""
    unknown = set(skip) - set(NAMES)
    if unknown:
        log.warning('KUNDENPORTAL_TUNING_SKIP names no such tuning: %s', ', '.join(sorted(unknown)))
    if not enabled:
        return list(_undo)
    for patch in patches(only):
        if patch.name in _undo or not wanted(patch, enabled, skip):
            continue
        if any(need not in _undo for need in patch.needs):
            log.warning('tuning %r left off: it needs %s', patch.name, ', '.join(patch.needs))
            continue
        _undo[patch.name] = patch.apply()
    return list(_undo)


def uninstall() -> None:
    """Take every applied patch out again, the last applied first (NiceGUI's shutdown handler: no parameter, or
    NiceGUI would hand it the app)."""
    take_out(list(_undo))


def take_out(names: Collection[str]) -> None:
    """Take the named patches out again, the last applied first."""
    for name in reversed(list(_undo)):
        if name in names:
            _undo.pop(name)()


def active() -> frozenset[str]:
    return frozenset(_undo)


def set_aside_before_a_batch(enabled: bool = True, skip: Collection[str] = ()) -> bool:
    """In a process that runs one long batch (the command-line import), set aside from the collector what is loaded
    already, as the server's `collector` does with what survives; off with that one (`KUNDENPORTAL_TUNING=off` or
    `KUNDENPORTAL_TUNING_SKIP=collector`) or on another Python. Whether it was done."""
    if not wanted(patches(('collector',))[0], enabled, skip):
        return False
    from service.tuning.collector import set_aside_what_is_loaded

    set_aside_what_is_loaded()
    return True


def document_worker(enabled: bool = True, skip: Collection[str] = ()) -> list[str]:
    """Set up a process of the billing run's pool: the patches for PDFs (`DOCUMENTS`), and what it inherited set
    aside from the collector (`set_aside_before_a_batch`, off with `collector`): a worker bills for minutes, and
    each of its full collections walked the ~140,000 objects of the libraries again, about 3 % of a bill's time
    (docs/operations.md, "The billing run"). The names of what is now on."""
    on = install(enabled, skip, DOCUMENTS)
    return [*on, 'collector'] if set_aside_before_a_batch(enabled, skip) else on


def wanted(patch: Patch, enabled: bool, skip: Collection[str]) -> bool:
    return enabled and patch.name not in skip and fits(patch)
