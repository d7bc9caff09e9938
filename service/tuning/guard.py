"""What every shortcut below a library's public API declares: the library and the versions it was written for.

A shortcut is applied only on those versions: on any other the library's own code runs, and one warning says so
(once per shortcut and process), so that an upgrade can never silently break or disable one."""

import logging
import platform
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import metadata

log = logging.getLogger('kundenportal')
Undo = Callable[[], None]


@dataclass(frozen=True)
class Patch:
    """`name` (as in `KUNDENPORTAL_TUNING_SKIP`), the `library` whose internals it relies on ('python' for the
    interpreter), the `versions` it was written and measured for ('3.18.*' or an exact '5.18.1'), and `apply`,
    which installs it and returns how to take it out again (the tests start and stop the portal many times)."""

    name: str
    library: str
    versions: str
    apply: Callable[[], Undo]
    needs: tuple[str, ...] = ()  # other patches without which this one would do harm


@cache
def installed_version(library: str) -> str:
    """What is imported does not change while the process runs (importlib.metadata reads the files each time: a
    millisecond a patch at each start, which the tests do hundreds of times)."""
    return platform.python_version() if library == 'python' else metadata.version(library)


def written_for(patch: Patch, version: str) -> bool:
    """'3.18.*' takes every 3.18 release; anything else only that very version."""
    if patch.versions.endswith('.*'):
        return version.startswith(patch.versions[:-1])
    return version == patch.versions


_warned: set[tuple[str, str]] = set()


def fits(patch: Patch) -> bool:
    """Whether the installed library is one the patch was written for; logs one warning per patch if not."""
    version = installed_version(patch.library)
    if written_for(patch, version):
        return True
    if (patch.name, version) not in _warned:
        _warned.add((patch.name, version))
        log.warning(
            'tuning %r left off: written for %s %s, installed is %s (docs/operations.md, "Upgrading NiceGUI")',
            patch.name,
            patch.library,
            patch.versions,
            version,
        )
    return False
