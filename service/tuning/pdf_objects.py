"""ReportLab's writing of a PDF's objects, the same bytes quicker. Every name, number and text of a document goes
through `pdfdoc.pdfdocEnc`, which encodes with ReportLab's own Python codec (`extpdfdoc`), several hundred calls a
bill, each several times what encoding ASCII costs. And each number of an array (a font subset's widths, a hundred
and more) goes through `pdfdoc.format`'s type dispatch, the codec and the number formatting one by one, where
ReportLab's `fp_str` formats ten at once.

And each key of every dictionary goes through `pdfdoc.PDFName`, a loop over its characters, the same few dozen
keys (/Type, /Parent, /Dest …) again and again: a bill's outline alone has fifty.

So: text that is ASCII and holds none of the eight control characters PDFDocEncoding gives other meanings
(0x18–0x1F, which the codec refuses) is encoded as ASCII, which is what the codec makes of every other ASCII
character; anything else goes to the codec as before. An array of numbers only (not booleans, as `format` decides)
is written line by line of ten with `fp_str`, in ReportLab's layout. A name is made once per process and kept
(`PDFName` is a pure function of its text). The PDF is the same byte for byte
(tests/tuning); measured in docs/operations.md, "Tuning on and off"."""

import functools

from reportlab import rl_config
from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase import pdfdoc

from service.tuning.guard import Patch, Undo

_REFUSED = bytes(range(0x18, 0x20))  # ASCII control characters that PDFDocEncoding does not map to themselves
stats = {'texts': 0, 'arrays': 0, 'names': 0}  # for the tests: that ReportLab's own writing comes through here


def apply() -> Undo:
    original_encode, original_array, original_name = pdfdoc.pdfdocEnc, pdfdoc.PDFArray.format, pdfdoc.PDFName
    named = functools.lru_cache(maxsize=4096)(original_name)

    def pdf_name(data: str, lo: str = chr(0x21), hi: str = chr(0x7E)) -> str:
        stats['names'] += 1
        return named(data, lo, hi)

    def pdfdoc_enc(x: str | bytes) -> bytes:
        if type(x) is str and x.isascii():
            ascii = x.encode('ascii')
            if len(ascii.translate(None, _REFUSED)) == len(ascii):
                stats['texts'] += 1
                return ascii
        return original_encode(x)

    def array_format(self: pdfdoc.PDFArray, document: object, IND: bytes = b'\n ') -> bytes:
        sequence = self.sequence
        numbers = all(type(element) is float or type(element) is int for element in sequence)
        if not numbers or (self.multiline and rl_config.pdfMultiLine) or self.multiline == 'forced':
            return original_array(self, document, IND)
        stats['arrays'] += 1
        # as ReportLab: a line break after every ten numbers, the joining spaces around it kept
        lines = [fp_str(*sequence[at : at + 10]).encode('ascii') for at in range(0, len(sequence), 10)]
        return b'[ ' + b' \n  '.join(lines) + b' ]'

    pdfdoc.pdfdocEnc = pdfdoc_enc
    pdfdoc.PDFArray.format = array_format
    pdfdoc.PDFName = pdf_name

    def undo() -> None:
        pdfdoc.pdfdocEnc = original_encode
        pdfdoc.PDFArray.format = original_array
        pdfdoc.PDFName = original_name

    return undo


PATCH = Patch('pdf_objects', 'reportlab', '5.1.*', apply)
