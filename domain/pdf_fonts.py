"""The fonts every document embeds (€ and umlauts right): DejaVu Sans where the system has it, otherwise Bitstream
Vera, which ships with ReportLab, so that a fresh installation renders the same documents without extra packages.
Embedded as subsets of the glyphs a document uses, cut from a lean copy of the font made once per process."""

import io
import struct
from functools import cache
from itertools import pairwise
from pathlib import Path

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontMaker

_CANDIDATES = [
    (
        Path('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'),
        Path('/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'),
    ),
    (Path(reportlab.__file__).parent / 'fonts' / 'Vera.ttf', Path(reportlab.__file__).parent / 'fonts' / 'VeraBd.ttf'),
]


@cache
def fonts() -> tuple[str, str]:
    """Register the embedded fonts once; returns (regular, bold) names.

    Each document embeds a subset of the glyphs it uses (asciiReadable off: not all of ASCII besides), taken from
    a lean copy of the font (_lean_font): about 5 KB a font instead of 19 KB."""
    regular, bold = next((r, b) for r, b in _CANDIDATES if r.exists() and b.exists())
    pdfmetrics.registerFont(TTFont('Portal', io.BytesIO(_lean_font(regular)), asciiReadable=False))
    pdfmetrics.registerFont(TTFont('Portal-Bold', io.BytesIO(_lean_font(bold)), asciiReadable=False))
    return 'Portal', 'Portal-Bold'


_NAMES_KEPT = range(7)  # copyright, family, style, unique ID, full name, version, PostScript name
_LICENCE = (14,)  # where the licence stands (its URL), once (Windows), besides the copyright (0)


def _lean_font(path: Path) -> bytes:
    """The font with the same outlines and metrics, less what ReportLab would copy into every subset unused: the
    name table's descriptions and licence text (its URL stays, once) and the TrueType hinting instructions (half of
    each glyph, plus fpgm/prep/cvt), which only snap outlines to a screen's pixel grid at small sizes."""
    data = path.read_bytes()
    (count,) = struct.unpack_from('>H', data, 4)
    tables = {}
    for index in range(count):
        tag, _checksum, offset, length = struct.unpack_from('>4sLLL', data, 12 + 16 * index)
        tables[tag.decode('latin-1')] = data[offset : offset + length]
    tables['name'] = _short_names(tables['name'])
    tables.update(_unhinted(tables))
    for tag in ('fpgm', 'prep', 'cvt '):
        tables.pop(tag, None)
    maker = TTFontMaker()
    for tag, table in tables.items():
        maker.add(tag, table)
    return bytes(maker.makeStream())


def _short_names(table: bytes) -> bytes:
    _format, count, strings = struct.unpack_from('>HHH', table)
    records, text = [], b''
    for index in range(count):
        platform, encoding, language, name_id, length, offset = struct.unpack_from('>6H', table, 6 + 12 * index)
        if name_id in _NAMES_KEPT or (name_id in _LICENCE and platform == 3):
            records.append(struct.pack('>6H', platform, encoding, language, name_id, length, len(text)))
            text += table[strings + offset : strings + offset + length]
    return struct.pack('>HHH', 0, len(records), 6 + 12 * len(records)) + b''.join(records) + text


def _unhinted(tables: dict[str, bytes]) -> dict[str, bytes]:
    """glyf without instructions, its loca (long format) and head (saying so)."""
    head, glyf = tables['head'], tables['glyf']
    (glyph_count,) = struct.unpack_from('>H', tables['maxp'], 4)
    if struct.unpack_from('>h', head, 50)[0]:
        offsets = list(struct.unpack_from(f'>{glyph_count + 1}L', tables['loca']))
    else:
        offsets = [2 * o for o in struct.unpack_from(f'>{glyph_count + 1}H', tables['loca'])]
    glyphs, loca, position = [], [], 0
    for start, end in pairwise(offsets):
        glyph = glyf[start:end]
        if len(glyph) >= 10:
            (contours,) = struct.unpack_from('>h', glyph)
            glyph = _simple_unhinted(glyph, contours) if contours >= 0 else _composite_unhinted(glyph)
        glyph += b'\0' * (-len(glyph) % 4)
        loca.append(position)
        glyphs.append(glyph)
        position += len(glyph)
    loca.append(position)
    return {
        'glyf': b''.join(glyphs),
        'loca': struct.pack(f'>{len(loca)}L', *loca),
        'head': head[:50] + struct.pack('>h', 1) + head[52:],
    }


def _simple_unhinted(glyph: bytes, contours: int) -> bytes:
    at = 10 + 2 * contours  # after the header and the contours' end points: instruction length, instructions
    (length,) = struct.unpack_from('>H', glyph, at)
    return glyph[:at] + b'\0\0' + glyph[at + 2 + length :]


_MORE_COMPONENTS, _HAVE_INSTRUCTIONS = 0x20, 0x100


def _composite_unhinted(glyph: bytes) -> bytes:
    at, flags = 10, _MORE_COMPONENTS
    while flags & _MORE_COMPONENTS:
        flags_at = at
        (flags,) = struct.unpack_from('>H', glyph, at)
        at += 4 + (4 if flags & 0x1 else 2)  # flags, glyph index, two arguments as words or bytes
        at += 2 if flags & 0x8 else 4 if flags & 0x40 else 8 if flags & 0x80 else 0  # scale, x/y scale or 2×2
    if not flags & _HAVE_INSTRUCTIONS:
        return glyph
    cut = bytearray(glyph[:at])  # the instructions follow the last component
    struct.pack_into('>H', cut, flags_at, flags & ~_HAVE_INSTRUCTIONS)
    return bytes(cut)
