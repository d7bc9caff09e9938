"""Stored documents (bill PDFs, inbox attachments) under the data folder's `documents/`: named by the portal, never
by input, and every path checked to stay inside that folder, on the way in and on the way out."""

import contextlib
import os
import re
import shutil
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from domain.stored import IMPORT_FOLDER_PREFIX


class OutsideDocuments(ValueError):
    """A relative path that would leave the documents folder (`../`, an absolute path, a symlink out)."""


def inside(documents: Path, relative: str) -> Path:
    """The absolute path of `relative` under `documents`, or OutsideDocuments."""
    base = documents.resolve()
    target = (base / relative).resolve()
    if base not in target.parents:
        raise OutsideDocuments(f'{relative!r} lies outside {base}')
    return target


def store(documents: Path, relative: str, content: bytes) -> Path:
    """Write atomically (a crash leaves no half file) at a name the portal chose, checked to lie inside
    `documents`."""
    target = inside(documents, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    return store_in(target.parent, target.name, content)


def folder(documents: Path, relative: str) -> Path:
    """The folder `relative` under `documents`, checked to lie inside and made if missing: checked once for the many
    files `store_in` then writes there (the billing run's chunk; resolving the path again for each file was a
    twentieth of the time a bill took besides its PDF)."""
    target = inside(documents, relative)
    target.mkdir(parents=True, exist_ok=True)
    return target


_PLAIN_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]*\Z', re.ASCII)


NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)  # POSIX; Windows has no symlinks to fear here


def store_in(checked: Path, name: str, content: bytes) -> Path:
    """Write atomically into a folder that `folder` (or `inside`) checked. A plain file name only, without a
    separator and not starting with a dot, so the file lies in that folder; a symlink of that name there is replaced
    by the rename, not written through, and a link at the partial file's name is removed, not written through. The
    partial file is this process's own (another instance, or another thread, may write the same document at the same
    time)."""
    if not _PLAIN_NAME.match(name):
        raise OutsideDocuments(f'{name!r} is not a plain file name')
    target = os.path.join(checked, name)
    partial = f'{target}.{os.getpid()}-{threading.get_ident()}.part'
    # a new file, never an existing one opened: a stale partial of a crash, or a symlink or hard link planted at this
    # foreseeable name, loses its name only (written through, a hard link truncated the file it shares); created
    # exclusively, so one planted again meanwhile is refused. The umask decides the mode, as before.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(partial)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o666)
    try:
        try:
            written = 0
            while written < len(content):  # a regular file takes it all at once; a short write is continued
                written += os.write(descriptor, content[written:])
        finally:
            os.close(descriptor)
        os.replace(partial, target)  # the billing run writes thousands: os calls, not pathlib's, a third less time
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)  # no half file left behind (a full disk)
        raise
    return Path(target)


class FolderFiles:
    """The documents folder as the portal's `DocumentFiles` (domain/ports.py)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def locate(self, relative: str) -> Path | None:
        try:
            path = inside(self.root, relative)
        except OutsideDocuments:
            return None
        return path if path.is_file() else None

    def store(self, relative: str, content: bytes) -> None:
        store(self.root, relative, content)

    def remove(self, relative: str) -> None:
        path = self.locate(relative)
        if path is not None:
            path.unlink(missing_ok=True)


def remove_stale_import_folders(older_than: timedelta) -> int:
    """Upload folders of import pages that were never closed properly (a crash, a killed process): removed once
    they are `older_than`; returns how many.

    Their age is the file system's: a folder's modification time against the time the file system gives a file
    written now, not the portal's clock. That clock is business time, which tests and demos move; compared with it,
    the folder of an import page open right now (of this or another portal on the machine) looked weeks old to a
    portal whose clock stood ahead, and was removed under the page (tests/pages/test_backoffice.py failed so under
    `faketime`)."""
    temporary = Path(tempfile.gettempdir())
    with tempfile.NamedTemporaryFile(dir=temporary, prefix='kp-now-') as probe:
        now = os.stat(probe.name).st_mtime
    removed = 0
    for folder in temporary.glob(f'{IMPORT_FOLDER_PREFIX}*'):
        try:
            changed = folder.stat().st_mtime
        except OSError:
            continue
        if folder.is_dir() and now - changed > older_than.total_seconds():
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
