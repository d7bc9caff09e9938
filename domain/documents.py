"""Documents rendered with ReportLab: A4, the utility's colours, fonts embedded (€ and umlauts right).

DejaVu Sans is used where the system has it, otherwise Bitstream Vera, which ships with ReportLab, so that
a fresh installation renders the same documents without extra packages.
"""

import hashlib
import io
import os
import struct
import tempfile
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import reportlab
from PIL import Image
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontMaker
from reportlab.pdfgen.canvas import Canvas

from domain.billing import CENT, BillDocument
from domain.clock import BERLIN
from domain.contract_requests import Receipt
from domain.customer_data import MandateForm
from domain.i18n import t
from domain.identifiers import normalise
from domain.profile import UtilityProfile
from domain.readings import Submitted

if TYPE_CHECKING:
    from domain.information import InformationDocument

# Streams binary (Flate only) rather than ASCII85 on top: a quarter smaller and no encoding pass. PDF/A allows both.
rl_config.useA85 = 0

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


# The logo's box on the letterhead (_band): a larger image is scaled down to 300 dpi in it.
_LOGO_BOX = (45 * mm, 18 * mm)


@cache
def _logo(path: str, background: str) -> str:
    """The logo laid onto the band's colour as an RGB PNG file (made once per process): lossless, about a tenth of
    the JPEG it was for a drawn logo with flat colours (1.4 against 11 KB), and no transparency for ReportLab to mask
    in every document. Larger images are scaled down to 300 dpi in the box."""
    source = Path(path).read_bytes()
    with Image.open(io.BytesIO(source)) as image:
        fit = min(1.0, *(box / 72 * 300 / side for box, side in zip(_LOGO_BOX, image.size, strict=True)))
        layer = image.convert('RGBA')
    if fit < 1:
        layer = layer.resize((round(layer.width * fit), round(layer.height * fit)), Image.Resampling.LANCZOS)
    flat = Image.new('RGBA', layer.size, background)
    flat.alpha_composite(layer)
    encoded = io.BytesIO()
    flat.convert('RGB').save(encoded, 'PNG', optimize=True)
    digest = hashlib.sha256(encoded.getvalue()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f'kundenportal-logo-{digest}.png'
    if not target.exists():
        partial = target.with_suffix(f'.{os.getpid()}.part')
        partial.write_bytes(encoded.getvalue())
        os.replace(partial, target)
    return str(target)


def _band(pdf: Canvas, profile: UtilityProfile, band: float) -> None:
    """The coloured letterhead band: the utility's name, address and, where the profile names one, its logo."""
    regular, bold = fonts()
    width, height = A4
    pdf.setFillColor(colors.HexColor(profile.primary_color))
    pdf.rect(0, height - band, width, band, stroke=0, fill=1)
    if profile.bill.logo:
        pdf.drawImage(
            _logo(profile.bill.logo, profile.primary_color),
            width - 65 * mm,
            height - band + 3 * mm,
            45 * mm,
            band - 6 * mm,
            preserveAspectRatio=True,
            anchor='e',
        )
    pdf.setFillColor(colors.white)
    pdf.setFont(bold, 15)
    pdf.drawString(20 * mm, height - band + 13 * mm, profile.name)
    pdf.setFont(regular, 8)
    pdf.drawString(20 * mm, height - band + 7.5 * mm, f'{profile.street} · {profile.postal_code} {profile.city}')
    pdf.drawString(20 * mm, height - band + 3.5 * mm, f'Telefon {profile.phone} · {profile.email}')
    pdf.setFillColor(colors.black)


def _grouped_iban(iban: str) -> str:
    value = normalise(iban)
    return ' '.join(value[i : i + 4] for i in range(0, len(value), 4))


def sepa_mandate_pdf(profile: UtilityProfile, form: MandateForm) -> bytes:
    """The prefilled SEPA core direct-debit mandate for recurring payments, to sign on paper."""
    regular, bold = fonts()
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=fonts()[0], lang='de-DE')
    pdf.setTitle(f'SEPA-Lastschriftmandat {form.reference}')
    pdf.setAuthor(profile.name)
    pdf.setSubject('SEPA-Lastschriftmandat für wiederkehrende Zahlungen')
    width, height = A4
    left, right = 20 * mm, width - 20 * mm
    _band(pdf, profile, 24 * mm)
    y = height - 45 * mm
    pdf.setFont(bold, 14)
    pdf.drawString(left, y, 'SEPA-Lastschriftmandat')
    y -= 6 * mm
    pdf.setFont(regular, 10)
    pdf.drawString(left, y, 'für wiederkehrende Zahlungen (SEPA-Basislastschrift)')
    y -= 12 * mm
    rows = [
        ('Zahlungsempfänger', form.creditor_name),
        ('Anschrift', form.creditor_address),
        ('Gläubiger-Identifikationsnummer', form.creditor_id),
        ('Mandatsreferenz', form.reference),
        ('Kundennummer', form.customer_number),
    ]
    y = _rows(pdf, rows, left, y, regular, bold)
    y -= 6 * mm
    text = t('customer_data.mandate_text', 'de', **profile.names)
    pdf.setFont(regular, 10)
    for line in simpleSplit(text, regular, 10, right - left):
        pdf.drawString(left, y, line)
        y -= 5 * mm
    y -= 6 * mm
    rows = [
        ('Kontoinhaber (Name, Vorname)', form.holder),
        ('Anschrift', form.debtor_address),
        ('IBAN', _grouped_iban(form.iban) if form.iban else ''),
        ('Kreditinstitut', form.bank),
    ]
    y = _rows(pdf, rows, left, y, regular, bold, blank_lines=True)
    y -= 16 * mm
    pdf.line(left, y, left + 70 * mm, y)
    pdf.line(left + 90 * mm, y, right, y)
    pdf.setFont(regular, 8)
    pdf.drawString(left, y - 4 * mm, 'Ort, Datum')
    pdf.drawString(left + 90 * mm, y - 4 * mm, 'Unterschrift des Kontoinhabers')
    pdf.setFont(regular, 8)
    pdf.drawString(
        left,
        20 * mm,
        'Vor dem ersten Einzug und bei jeder Betragsänderung erhalten Sie 14 Tage vorher eine Vorabankündigung.',
    )
    pdf.drawString(
        left,
        16 * mm,
        f'Bitte unterschrieben senden an: {profile.name}, {profile.street}, {profile.postal_code} {profile.city}',
    )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _rows(
    pdf: Canvas, rows: list[tuple[str, str]], left: float, y: float, regular: str, bold: str, blank_lines: bool = False
) -> float:
    for label, value in rows:
        pdf.setFont(regular, 8)
        pdf.setFillColor(colors.HexColor('#555555'))
        pdf.drawString(left, y, label)
        pdf.setFillColor(colors.black)
        pdf.setFont(bold, 11)
        pdf.drawString(left, y - 5 * mm, value)
        if blank_lines:
            pdf.setStrokeColor(colors.HexColor('#999999'))
            pdf.line(left, y - 6.5 * mm, left + 170 * mm, y - 6.5 * mm)
            pdf.setStrokeColor(colors.black)
        y -= 12 * mm
    return y


COMMODITY_TITLES = {'electricity': 'Strom', 'gas': 'Erdgas', 'water': 'Trinkwasser', 'heat': 'Fernwärme'}
KIND_TITLES = {'annual': 'Jahresverbrauchsabrechnung', 'final': 'Schlussrechnung', 'correction': 'Rechnungskorrektur'}
SOURCES = {
    'customer': 'von Ihnen abgelesen',
    'utility': 'von uns abgelesen',
    'remote': 'fernausgelesen',
    'estimated': 'geschätzt',
}
OBIS_NAMES = {'1.8.0': 'Eintarif', '1.8.1': 'HT', '1.8.2': 'NT'}


def _de(value: Decimal, places: int = 2) -> str:
    text = f'{value:,.{places}f}'
    return text.replace(',', '_').replace('.', ',').replace('_', '.')


def _eur(value: Decimal) -> str:
    return f'{_de(value)} €'


def _day(value: date) -> str:
    return value.strftime('%d.%m.%Y')


class _Page:
    """A small layout helper over one canvas: a cursor that moves down, with tables and headings."""

    def __init__(self, pdf: Canvas, profile: UtilityProfile) -> None:
        self.pdf, self.profile = pdf, profile
        self.regular, self.bold = fonts()
        self.left, self.right = 20 * mm, A4[0] - 20 * mm
        self.y = A4[1] - 20 * mm
        self.colour = colors.HexColor(profile.primary_color)
        self.outline: list[str] = []
        pdf.setViewerPreference('DisplayDocTitle', 'true')  # viewers and screen readers announce the title

    def need(self, height: float) -> None:
        if self.y - height < 25 * mm:
            self.footer()
            self.pdf.showPage()
            self.y = A4[1] - 20 * mm

    def footer(self) -> None:
        p = self.profile
        self.pdf.setFont(self.regular, 7)
        self.pdf.setFillColor(colors.HexColor('#555555'))
        self.pdf.drawString(self.left, 14 * mm, f'{p.name} · {p.street} · {p.postal_code} {p.city}')
        self.pdf.drawString(self.left, 10.5 * mm, f'Telefon {p.phone} · {p.email} · Gläubiger-ID {p.creditor_id}')
        legal = p.seller_line
        if legal:
            self.pdf.drawString(self.left, 7 * mm, legal)
        self.pdf.drawRightString(self.right, 14 * mm, f'Seite {self.pdf.getPageNumber()}')
        self.pdf.setFillColor(colors.black)

    def heading(self, text: str, keep: float = 16 * mm) -> None:
        """A heading never stands alone at the foot of a page: `keep` is room for what follows it. Each heading is
        also an outline entry (bookmark), the navigation that screen readers and viewers offer."""
        self.need(12 * mm + keep)
        key = f'h{len(self.outline)}'
        self.outline.append(key)
        self.pdf.bookmarkHorizontal(key, 0, self.y)
        self.pdf.addOutlineEntry(text, key, level=0)
        self.y -= 7 * mm
        self.pdf.setFont(self.bold, 11)
        self.pdf.setFillColor(self.colour)
        self.pdf.drawString(self.left, self.y, text)
        self.pdf.setFillColor(colors.black)
        self.y -= 5 * mm

    def text(self, text: str, size: float = 9, font: str = '') -> None:
        for line in simpleSplit(text, font or self.regular, size, self.right - self.left):
            self.need(5 * mm)
            self.pdf.setFont(font or self.regular, size)
            self.pdf.drawString(self.left, self.y, line)
            self.y -= size * 0.45 * mm

    def table(
        self, rows: Sequence[tuple[str, ...]], widths: list[float], bold_last: bool = False, header: bool = True
    ) -> None:
        """Columns after the first are right-aligned (amounts); the first row is the header."""
        for index, row in enumerate(rows):
            self.need(5 * mm)
            is_head = header and index == 0
            is_bold = is_head or (bold_last and index == len(rows) - 1)
            self.pdf.setFont(self.bold if is_bold else self.regular, 8.5)
            x = self.left
            for column, (cell, width) in enumerate(zip(row, widths, strict=True)):
                if column == 0:
                    self.pdf.drawString(x, self.y, cell)
                else:
                    self.pdf.drawRightString(x + width * mm, self.y, cell)
                x += width * mm
            if is_head or (bold_last and index == len(rows) - 2):
                self.pdf.setStrokeColor(colors.HexColor('#bbbbbb'))
                self.pdf.line(self.left, self.y - 1.5 * mm, self.left + sum(widths) * mm, self.y - 1.5 * mm)
                self.pdf.setStrokeColor(colors.black)
            self.y -= 4.6 * mm

    def bars(self, title: str, bars: list[tuple[str, Decimal]], unit: str) -> None:
        """A horizontal bar graphic with its values written beside the bars (readable without colour)."""
        self.need(8 * mm + len(bars) * 7 * mm)
        self.pdf.setFont(self.regular, 8.5)
        self.pdf.drawString(self.left, self.y, title)
        self.y -= 5 * mm
        top = max((value for _, value in bars), default=Decimal(1)) or Decimal(1)
        for index, (label, value) in enumerate(bars):
            width = float(value / top) * 95 * mm
            self.pdf.setFillColor(self.colour if index == 0 else colors.HexColor('#9fb9cc'))
            self.pdf.rect(self.left + 45 * mm, self.y - 1 * mm, max(width, 0.5), 4.5 * mm, stroke=0, fill=1)
            self.pdf.setFillColor(colors.black)
            self.pdf.drawString(self.left, self.y, label)
            self.pdf.drawString(self.left + 47 * mm + width, self.y, f'{_de(value, 0)} {unit}')
            self.y -= 6.5 * mm


def bill_title(bill: BillDocument) -> str:
    return f'{KIND_TITLES[bill.kind]} {COMMODITY_TITLES.get(bill.commodity, bill.commodity)}'


def bill_pdf(profile: UtilityProfile, bill: BillDocument) -> bytes:
    """The bill as one or two A4 pages with everything § 40 EnWG asks for; fonts embedded."""
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=fonts()[0], lang='de-DE')
    title = bill_title(bill)
    pdf.setTitle(f'{title} {bill.bill_number}')
    pdf.setAuthor(profile.name)
    pdf.setSubject(f'{title} {_day(bill.period_start)} – {_day(bill.period_end)}, Kundennummer {bill.customer_number}')
    page = _Page(pdf, profile)
    _letterhead(page, bill, title)
    _amount_box(page, bill)
    _supply(page, bill)
    _readings(page, bill)
    _calculation(page, bill)
    _comparison(page, bill)
    _installment(page, bill)
    _disclosures(page, bill)
    page.footer()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _letterhead(page: _Page, bill: BillDocument, title: str) -> None:
    pdf, p = page.pdf, page.profile
    height = A4[1]
    _band(pdf, p, 24 * mm)
    y = height - 45 * mm
    pdf.setFont(page.regular, 7)
    pdf.drawString(page.left, y + 6 * mm, f'{p.name} · {p.street} · {p.postal_code} {p.city}')
    pdf.setFont(page.regular, 10)
    for line in (bill.customer_name, *bill.customer_address):
        pdf.drawString(page.left, y, line)
        y -= 4.8 * mm
    facts = [
        ('Rechnungsnummer', bill.bill_number),
        ('Rechnungsdatum', _day(bill.bill_date)),
        ('Kundennummer', bill.customer_number),
        ('Vertragsnummer', bill.contract_number),
    ]
    if bill.buyer_vat_id:
        facts.append(('Ihre USt-IdNr.', bill.buyer_vat_id))
    if bill.buyer_leitweg_id:
        facts.append(('Leitweg-ID', bill.buyer_leitweg_id))
    y = height - 45 * mm
    for label, value in facts:
        pdf.setFont(page.regular, 8)
        pdf.drawString(page.left + 105 * mm, y, label)
        pdf.setFont(page.bold, 9)
        pdf.drawRightString(page.right, y, value)
        y -= 4.8 * mm
    page.y = height - 80 * mm
    pdf.setFont(page.bold, 14)
    pdf.drawString(page.left, page.y, title)
    page.y -= 6 * mm
    pdf.setFont(page.regular, 10)
    pdf.drawString(page.left, page.y, f'Abrechnungszeitraum {_day(bill.period_start)} bis {_day(bill.period_end)}')
    page.y -= 4 * mm
    if bill.replaces:
        page.y -= 2 * mm
        page.text(f'Diese Rechnung ersetzt die Rechnung Nr. {bill.replaces}.', 9, page.bold)


def _amount_box(page: _Page, bill: BillDocument) -> None:
    pdf = page.pdf
    balance = bill.result.balance
    if balance > 0:
        label, detail = 'Nachzahlung', f'Bitte zahlen Sie {_eur(balance)} bis zum {_day(bill.due_date)}.'
    elif balance < 0:
        label, detail = (
            'Guthaben',
            (
                f'Wir erstatten Ihnen {_eur(-balance)} bis zum {_day(bill.due_date)} '
                'auf Ihr Konto oder verrechnen es mit dem nächsten Abschlag.'
            ),
        )
    else:
        label, detail = 'Ausgeglichen', 'Ihre Abschläge decken die Kosten genau.'
    page.y -= 4 * mm
    pdf.setFillColor(colors.HexColor('#eef4f8'))
    pdf.setStrokeColor(page.colour)
    pdf.roundRect(page.left, page.y - 16 * mm, page.right - page.left, 18 * mm, 2 * mm, stroke=1, fill=1)
    pdf.setFillColor(colors.black)
    pdf.setFont(page.bold, 13)
    pdf.drawString(page.left + 4 * mm, page.y - 5.5 * mm, f'{label}: {_eur(abs(balance))}')
    pdf.setFont(page.regular, 9)
    pdf.drawString(page.left + 4 * mm, page.y - 12 * mm, detail)
    pdf.setStrokeColor(colors.black)
    page.y -= 20 * mm


def _supply(page: _Page, bill: BillDocument) -> None:
    page.heading('Ihre Lieferstelle und Ihr Vertrag')
    term = 'unbefristet' if bill.contract_end is None else f'bis {_day(bill.contract_end)}'
    rows = [
        ('Lieferstelle', bill.supply_address),
        ('Marktlokations-ID (MaLo-ID)', bill.malo_id or '–'),
        ('Zählernummer', bill.meter_number),
        ('Messstellenbetreiber', page.profile.name),
        ('Tarif', bill.tariff_code),
        ('Vertragsbeginn und Laufzeit', f'{_day(bill.contract_start)}, {term}'),
        ('Kündigungsfrist', f'{bill.notice_period_weeks} Wochen'),
        (
            'Nächstmöglicher Kündigungstermin',
            _day(bill.next_termination) if bill.next_termination else 'Vertrag beendet',
        ),
    ]
    for label, value in rows:
        page.need(5 * mm)
        page.pdf.setFont(page.regular, 8.5)
        page.pdf.drawString(page.left, page.y, label)
        page.pdf.drawString(page.left + 60 * mm, page.y, value)
        page.y -= 4.4 * mm


def _readings(page: _Page, bill: BillDocument) -> None:
    page.heading('Zählerstände und Verbrauch')
    meter_unit = 'm³' if bill.commodity in ('gas', 'water') else bill.unit
    rows = [('Zählwerk', 'Anfang', 'Stand', 'Ende', 'Stand', f'Verbrauch {meter_unit}')]
    for r in bill.registers:
        rows.append(
            (
                OBIS_NAMES.get(r.obis, r.obis),
                _day(r.start_date),
                _de(r.start_value, 0),
                _day(r.end_date),
                _de(r.end_value, 0),
                _de(r.consumption, 0),
            )
        )
    page.table(rows, [24, 24, 24, 24, 24, 50])
    for r in bill.registers:
        page.text(
            f'{OBIS_NAMES.get(r.obis, r.obis)}: Anfangsstand {SOURCES.get(r.start_source, r.start_source)}, '
            f'Endstand {SOURCES.get(r.end_source, r.end_source)}.',
            8,
        )
    if bill.commodity == 'gas' and bill.z_number and bill.calorific_value:
        volume = sum((r.consumption for r in bill.registers), Decimal(0))
        page.text(
            f'Umrechnung: {_de(volume, 0)} m³ × Zustandszahl {_de(bill.z_number, 4)} × Brennwert '
            f'{_de(bill.calorific_value, 3)} kWh/m³ = {_de(bill.consumption, 0)} kWh',
            8.5,
        )


def _calculation(page: _Page, bill: BillDocument) -> None:
    page.heading('Ihre Kosten', keep=24 * mm)
    rows = [('Position', 'Zeitraum', 'Menge', 'Preis netto', 'Betrag netto')]
    for line in bill.result.lines:
        period = f'{line.start:%d.%m.}–{line.end:%d.%m.%Y}'
        if line.kind == 'energy':
            rows.append(
                (
                    'Arbeitspreis',
                    period,
                    f'{_de(line.quantity, 0)} {bill.unit}',
                    f'{_de(line.unit_price * 100, 2)} ct/{bill.unit}',
                    _eur(line.amount),
                )
            )
        else:
            rows.append(
                (
                    'Grundpreis',
                    period,
                    f'{_de(line.quantity, 0)} Tage',
                    f'{_eur(line.unit_price)}/Jahr',
                    _eur(line.amount),
                )
            )
    result = bill.result
    rows += [
        ('Summe netto', '', '', '', _eur(result.net)),
        (f'Umsatzsteuer {_de(bill.vat_rate * 100, 0)} %', '', '', '', _eur(result.vat)),
        ('Rechnungsbetrag brutto', '', '', '', _eur(result.gross)),
        ('abzüglich gezahlter Abschläge', '', '', '', _eur(-result.paid)),
        ('Nachzahlung' if result.balance >= 0 else 'Guthaben', '', '', '', _eur(abs(result.balance))),
    ]
    page.table(rows, [46, 40, 28, 28, 28], bold_last=True)


def _comparison(page: _Page, bill: BillDocument) -> None:
    page.heading('Ihr Verbrauch im Vergleich', keep=24 * mm)
    bars = [(f'{bill.period_start:%Y} (dieser Zeitraum)', bill.consumption)]
    if bill.previous_consumption is not None:
        bars.append(('Vorjahreszeitraum', bill.previous_consumption))
    page.bars('Verbrauch dieses und des Vorjahreszeitraums', bars, bill.unit)
    if bill.previous_consumption:
        change = (bill.consumption - bill.previous_consumption) / bill.previous_consumption * 100
        page.text(f'Veränderung zum Vorjahr: {"+" if change > 0 else ""}{_de(change, 1)} %', 8.5)
        page.y -= 3 * mm
    if bill.group_average is not None:
        page.bars(
            'Vergleich mit einem durchschnittlichen Haushalt derselben Verbrauchergruppe',
            [('Ihr Verbrauch', bill.consumption), ('Durchschnitt', bill.group_average)],
            bill.unit,
        )


def _installment(page: _Page, bill: BillDocument) -> None:
    if bill.next_installment is None or bill.next_installment_first_due is None:
        return
    page.heading('Ihr Abschlag ab dem nächsten Abrechnungszeitraum')
    page.text(
        f'{bill.next_installment_per_year} Abschläge zu je {_eur(bill.next_installment)}, fällig jeweils am '
        f'{bill.next_installment_due_day}. eines Monats, erstmals am {_day(bill.next_installment_first_due)}. '
        'Im Kundenportal können Sie den Abschlag anpassen.',
        9,
    )


def _disclosures(page: _Page, bill: BillDocument) -> None:
    p = page.profile
    if bill.commodity == 'electricity':
        page.heading('Stromkennzeichnung (§ 42 EnWG)')
        page.text(
            'Energieträgermix: '
            + ', '.join(f'{name} {share} %' for name, share in p.bill.fuel_mix.items())
            + f'. CO₂-Emissionen {p.bill.co2_g_per_kwh} g/kWh, radioaktiver Abfall '
            f'{_de(p.bill.nuclear_waste_mg_per_kwh, 1)} mg/kWh.',
            8,
        )
    if bill.commodity == 'gas':
        page.heading('CO₂-Kosten (BEHG)')
        tonnes = (bill.consumption / 1000 * p.bill.gas_co2_t_per_mwh).quantize(Decimal('0.001'))
        cost = (tonnes * p.bill.co2_price_per_t).quantize(CENT)
        page.text(
            f'Ihr Verbrauch von {_de(bill.consumption, 0)} kWh entspricht {_de(tonnes, 3)} t CO₂. Bei einem '
            f'CO₂-Preis von {_eur(p.bill.co2_price_per_t)} je Tonne sind darin rund {_eur(cost)} '
            'CO₂-Kosten (netto) enthalten.',
            8,
        )
    if bill.commodity in ('electricity', 'gas', 'heat'):
        page.heading('Fragen, Beschwerden, Schlichtung')
        page.text(
            f'Bei Fragen und Beschwerden wenden Sie sich bitte zuerst an uns: {p.name}, {p.street}, '
            f'{p.postal_code} {p.city}, Telefon {p.phone}, {p.email}. Hilft Ihnen unsere Antwort nicht weiter, '
            'können Sie die Schlichtungsstelle Energie e. V., Friedrichstraße 133, 10117 Berlin, '
            'Telefon 030 2757240-0, www.schlichtungsstelle-energie.de, anrufen. Allgemeine Informationen '
            'gibt der Verbraucherservice Energie der Bundesnetzagentur, Postfach 8001, 53105 Bonn, '
            'Telefon 030 22480-500, verbraucherservice-energie@bnetza.de.',
            8,
        )
    else:
        page.heading('Fragen und Beschwerden')
        page.text(
            f'Bitte wenden Sie sich an uns: {p.name}, {p.street}, {p.postal_code} {p.city}, Telefon {p.phone}, '
            f'{p.email}. Diese Rechnung ist acht Jahre lang im Kundenportal abrufbar.',
            8,
        )


def information_pdf(profile: UtilityProfile, info: 'InformationDocument') -> bytes:
    """An Abrechnungsinformation (§40b EnWG) in the bill's layout: the billing year so far and its projected result;
    no demand for payment."""
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=fonts()[0], lang='de-DE')
    commodity = COMMODITY_TITLES.get(info.commodity, info.commodity)
    pdf.setTitle(f'Abrechnungsinformation {commodity} bis {_day(info.through)}')
    pdf.setAuthor(profile.name)
    pdf.setSubject(f'Abrechnungsinformation, Kundennummer {info.customer_number}, Vertrag {info.contract_number}')
    page = _Page(pdf, profile)
    height = A4[1]
    _band(pdf, profile, 24 * mm)
    y = height - 45 * mm
    pdf.setFont(page.regular, 10)
    for line in (info.customer_name, *info.customer_address):
        pdf.drawString(page.left, y, line)
        y -= 4.8 * mm
    y = height - 45 * mm
    for label, value in (
        ('Datum', _day(info.made_on)),
        ('Kundennummer', info.customer_number),
        ('Vertragsnummer', info.contract_number),
        ('Zählernummer', info.meter_number),
    ):
        pdf.setFont(page.regular, 8)
        pdf.drawString(page.left + 105 * mm, y, label)
        pdf.setFont(page.bold, 9)
        pdf.drawRightString(page.right, y, value)
        y -= 4.8 * mm
    page.y = height - 80 * mm
    pdf.setFont(page.bold, 14)
    pdf.drawString(page.left, page.y, f'Abrechnungsinformation {commodity}')
    page.y -= 6 * mm
    pdf.setFont(page.regular, 10)
    year = f'{_day(info.period_start)} bis {_day(info.period_end)}'
    pdf.drawString(page.left, page.y, f'Ihr Abrechnungsjahr {year}, Stand {_day(info.through)}')
    page.y -= 6 * mm
    page.text(
        'Diese Information ist keine Rechnung und keine Zahlungsaufforderung. Abgerechnet wird mit Ihrer '
        'Jahresrechnung nach dem Ende des Abrechnungsjahres.',
        9,
        page.bold,
    )
    page.heading('Ihr Verbrauch bis jetzt')
    meter_unit = 'm³' if info.commodity in ('gas', 'water') else info.unit
    rows = [('Zählwerk', 'Anfang', 'Stand', 'Stand am', 'Stand', f'Verbrauch {meter_unit}')]
    for r in info.registers:
        rows.append(
            (
                OBIS_NAMES.get(r.obis, r.obis),
                _day(r.start_date),
                _de(r.start_value, 0),
                _day(r.end_date),
                _de(r.end_value, 0) + (' (geschätzt)' if r.end_source == 'estimated' else ''),
                _de(r.consumption, 0),
            )
        )
    page.table(rows, [24, 24, 24, 24, 34, 40])
    if info.estimated:
        page.text(
            f'Für den {_day(info.through)} liegt kein abgelesener Zählerstand vor: er ist aus Ihrem bisherigen '
            'Verbrauch geschätzt. Melden Sie gern Ihren Zählerstand im Kundenportal.',
            8,
        )
    page.heading('Ihre Kosten bis jetzt (zu den aktuellen Preisen)', keep=24 * mm)
    so_far = info.so_far
    costs: list[tuple[str, str]] = [
        ('Position', 'Betrag'),
        (f'Verbrauch {_de(info.consumption, 0)} {info.unit} und Grundpreis, netto', _eur(so_far.net)),
        (f'Umsatzsteuer {_de(info.vat_rate * 100, 0)} %', _eur(so_far.vat)),
        ('Kosten brutto', _eur(so_far.gross)),
        ('gezahlte Abschläge', _eur(so_far.paid)),
        ('Stand heute' + (' (Guthaben)' if so_far.balance < 0 else ' (offen)'), _eur(abs(so_far.balance))),
    ]
    page.table(costs, [130, 40], bold_last=True)
    page.heading('Voraussichtliches Ergebnis Ihres Abrechnungsjahres', keep=24 * mm)
    result = info.projected_result
    outcome = 'Nachzahlung' if result > 0 else 'Guthaben' if result < 0 else 'ausgeglichen'
    projection: list[tuple[str, str]] = [
        ('Position', 'Betrag'),
        (
            f'erwarteter Jahresverbrauch {_de(info.projected_consumption, 0)} {info.unit}, Kosten brutto',
            _eur(info.projected_gross),
        ),
        ('Abschläge im Abrechnungsjahr (gezahlt und noch fällig)', _eur(info.installments)),
        (f'voraussichtlich {outcome}', _eur(abs(result))),
    ]
    page.table(projection, [130, 40], bold_last=True)
    page.text(
        'Der erwartete Jahresverbrauch ist aus Ihrem bisherigen Verbrauch hochgerechnet (Gas und Wärme nach der '
        'Jahreszeit gewichtet). Im Kundenportal können Sie Ihren Abschlag anpassen.',
        8,
    )
    page.footer()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _confirmation(profile: UtilityProfile, title: str, subject: str, heading: str) -> tuple[io.BytesIO, Canvas, _Page]:
    """The start of a one-page confirmation: document title and subject (read out by screen readers), the
    utility's band, the heading."""
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=fonts()[0], lang='de-DE')
    pdf.setTitle(title)
    pdf.setAuthor(profile.name)
    pdf.setSubject(subject)
    page = _Page(pdf, profile)
    _band(pdf, profile, 24 * mm)
    page.y = A4[1] - 45 * mm
    pdf.setFont(page.bold, 14)
    pdf.drawString(page.left, page.y, heading)
    page.y -= 10 * mm
    return buffer, pdf, page


def reading_confirmation_pdf(profile: UtilityProfile, reading: Submitted) -> bytes:
    """The receipt for a submitted meter reading: what was stored, when, and how it was judged."""
    buffer, pdf, page = _confirmation(
        profile,
        f'Bestätigung Zählerstand {reading.meter_number} vom {_day(reading.reading_date)}',
        f'Zählerstandsmeldung, Kundennummer {reading.customer_number}',
        'Bestätigung Ihrer Zählerstandsmeldung',
    )
    received = reading.submitted_at.astimezone(BERLIN)
    rows = [
        ('Kunde', reading.customer_name),
        ('Kundennummer', reading.customer_number),
        ('Vertragsnummer', reading.contract_number),
        ('Sparte', COMMODITY_TITLES.get(reading.commodity, reading.commodity)),
        ('Zählernummer', reading.meter_number),
        ('Ablesedatum', _day(reading.reading_date)),
        ('Eingegangen am', f'{received:%d.%m.%Y um %H:%M} Uhr'),
    ]
    for label, value in rows:
        pdf.setFont(page.regular, 9)
        pdf.drawString(page.left, page.y, label)
        pdf.setFont(page.bold, 10)
        pdf.drawString(page.left + 45 * mm, page.y, value)
        page.y -= 5.5 * mm
    page.heading('Gemeldete Werte')
    for line in reading.lines:
        page.text(line, 10)
    if reading.flagged:
        page.heading('Prüfung')
        page.text(
            'Der Wert liegt außerhalb des erwarteten Bereichs. Sie haben ihn bestätigt; wir prüfen ihn mit Ihrer '
            f'Begründung: „{reading.reason}“',
            9,
        )
    page.heading('Hinweis')
    page.text(
        'Wir verwenden diesen Zählerstand für Ihre nächste Abrechnung. Bewahren Sie diese Bestätigung bitte auf, '
        'bis Sie Ihre Rechnung erhalten haben.',
        9,
    )
    page.footer()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def receipt_pdf(profile: UtilityProfile, receipt: Receipt, note: str) -> bytes:
    """A declaration as received (Kündigung, Umzug, Tarifwechsel): what was declared, when it was received, the
    reference. The customer saves it as proof (§312k(2) BGB for a cancellation)."""
    buffer, pdf, page = _confirmation(
        profile,
        f'{receipt.title} {receipt.reference} – Eingangsbestätigung',
        f'{receipt.title}, eingegangen am {receipt.received_at.astimezone(BERLIN):%d.%m.%Y %H:%M} Uhr',
        f'{receipt.title} – Eingangsbestätigung',
    )
    page.heading('Ihre Erklärung, wie sie bei uns eingegangen ist')
    for label, value in receipt.rows:
        page.need(11 * mm)
        pdf.setFont(page.regular, 9)
        pdf.drawString(page.left, page.y, label)
        page.y -= 4.5 * mm
        page.text(value, 10, page.bold)
        page.y -= 2 * mm
    page.heading('Hinweis')
    page.text(note, 9)
    page.footer()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
