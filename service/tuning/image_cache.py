"""The letterhead's logo, made once per process instead of once per PDF. ReportLab reads an image file anew for
every document that draws it: PIL decodes the PNG, the pixels are converted to RGB and compressed again (zlib,
level 6). For the demo's logo (360 × 160 pixels) that was 3.5 ms of a bill's 18 ms, a fifth of its rendering
(docs/operations.md, "A leaner, faster billing run"). The public ways round it cost more elsewhere: a JPEG is
passed through uncompressed but adds 9–15 KB to every bill (a flat-coloured logo is what JPEG does worst), and an
`ImageReader` kept across documents still compresses the pixels each time.

So the image XObject's contents (size, colour space, filters, the compressed stream) are kept per file (path,
modification time and size) and handed to the next document's image object. Only for a file drawn without a mask
(the letterhead's logo is flattened onto the band's colour, domain/documents.py): a masked image has a second
object (the soft mask) tied to its first document. The PDF is the same byte for byte (tests/tuning)."""

import os
from collections import OrderedDict
from contextlib import suppress
from typing import Any

from reportlab.pdfbase import pdfdoc

from service.tuning.guard import Patch, Undo

_KEPT = 16  # files: a portal draws one logo, a test run a few
_kept: OrderedDict[tuple[str, int, int], dict[str, Any]] = OrderedDict()
stats = {'made': 0, 'reused': 0}  # for the tests: that ReportLab's own drawImage comes through here


def _key(source: object, mask: object) -> tuple[str, int, int] | None:
    if not isinstance(source, str) or mask is not None:
        return None
    try:
        found = os.stat(source)
    except OSError:
        return None  # ReportLab's own code says what is wrong with it
    return os.path.realpath(source), found.st_mtime_ns, found.st_size


def apply() -> Undo:
    original = pdfdoc.PDFImageXObject.__init__

    def __init__(self: pdfdoc.PDFImageXObject, name: str, source: object = None, mask: object = None) -> None:
        key = _key(source, mask)
        kept = _kept.get(key) if key else None
        if kept is not None:
            vars(self).update(kept)
            self.name = name
            with suppress(KeyError):  # another thread of the web process may have let it go meanwhile
                _kept.move_to_end(key)  # type: ignore[arg-type]  # key is set when something was kept
            stats['reused'] += 1
            return
        original(self, name, source, mask)
        if key is not None and not hasattr(self, '_smask') and self.mask is None:
            _kept[key] = {field: value for field, value in vars(self).items() if field != 'name'}
            if len(_kept) > _KEPT:
                _kept.popitem(last=False)
            stats['made'] += 1

    pdfdoc.PDFImageXObject.__init__ = __init__

    def undo() -> None:
        pdfdoc.PDFImageXObject.__init__ = original
        _kept.clear()

    return undo


PATCH = Patch('image_cache', 'reportlab', '5.1.*', apply)
