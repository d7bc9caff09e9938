"""PDF streams deflated at zlib level 2 instead of the default 6. ReportLab compresses every stream of a document
(the pages' contents, the font subsets, their character maps) through one filter object, `pdfdoc.PDFZCompress`,
with `zlib.compress` at its default level and no setting to choose another. For a bill that is about 35 KB of
data, and level 6 spent 1.15–1.20 ms of CPU on it against 0.60–0.66 ms at level 2, for 1.1 KB more per bill
(docs/operations.md, "Tuning on and off"). Decompressed, every stream is the same byte for byte
(tests/tuning); any zlib inflater reads both levels alike."""

import zlib

from reportlab.pdfbase import pdfdoc

from service.tuning.guard import Patch, Undo

LEVEL = 2
stats = {'streams': 0}  # for the tests: that ReportLab's own stream formatting comes through here


def apply() -> Undo:
    filter_class = type(pdfdoc.PDFZCompress)
    original = filter_class.encode

    def encode(self: object, text: str | bytes) -> bytes:
        stats['streams'] += 1
        return zlib.compress(text.encode('utf8') if isinstance(text, str) else text, LEVEL)

    filter_class.encode = encode

    def undo() -> None:
        filter_class.encode = original

    return undo


PATCH = Patch('deflate_level', 'reportlab', '5.1.*', apply)
