"""Measured shortcuts below the public API of NiceGUI, python-socketio, ReportLab and CPython's garbage
collector, fenced in here: each module is one patch with the versions it was written for (`guard`). `install`
applies those that fit the installed libraries at start, `uninstall` takes them out at shutdown;
`KUNDENPORTAL_TUNING=off` leaves all of them off and the portal runs on the libraries' own code
(docs/operations.md, "Tuning on and off"). The measurements behind each are in docs/operations.md. The billing
run's processes install only `DOCUMENTS`, the one that concerns them."""

import logging
from collections.abc import Collection

from service.tuning import collector, element_cycles, image_cache, outbox_wakeups, pings, redirects, socket_rooms
from service.tuning.guard import Patch, Undo, fits

log = logging.getLogger('kundenportal')

# In the order applied; one that needs another comes after it.
PATCHES: tuple[Patch, ...] = tuple(
    module.PATCH for module in (outbox_wakeups, socket_rooms, element_cycles, collector, redirects, pings, image_cache)
)
DOCUMENTS = (image_cache.PATCH.name,)  # what rendering PDFs outside the web process (the billing run) uses
_undo: dict[str, Undo] = {}


def install(enabled: bool = True, skip: Collection[str] = (), only: Collection[str] | None = None) -> list[str]:
    """Apply every patch (or those named in `only`) that is wanted and fits the installed library; returns the names
    of those now on."""
    unknown = set(skip) - {patch.name for patch in PATCHES}
    if unknown:
        log.warning('KUNDENPORTAL_TUNING_SKIP names no such tuning: %s', ', '.join(sorted(unknown)))
    for patch in PATCHES:
        if patch.name in _undo or (only is not None and patch.name not in only) or not wanted(patch, enabled, skip):
            continue
        if any(need not in _undo for need in patch.needs):
            log.warning('tuning %r left off: it needs %s', patch.name, ', '.join(patch.needs))
            continue
        _undo[patch.name] = patch.apply()
    return list(_undo)


def uninstall(only: Collection[str] | None = None) -> None:
    """Take every applied patch (or those named in `only`) out again, the last applied first."""
    for name in reversed(list(_undo)):
        if only is None or name in only:
            _undo.pop(name)()


def active() -> frozenset[str]:
    return frozenset(_undo)


def wanted(patch: Patch, enabled: bool, skip: Collection[str]) -> bool:
    return enabled and patch.name not in skip and fits(patch)
