"""Documents rendered with ReportLab: A4, the utility's colours, fonts embedded (domain/pdf_fonts.py): the shared
letterhead band, page helper and German number formats. The bill and the billing information are laid out in
domain/bill_layout.py, the SEPA mandate and the confirmations the customer saves in domain/customer_documents.py."""

import hashlib
import io
import os
import tempfile
import warnings
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from pathlib import Path

from PIL import Image
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from domain.i18n import t
from domain.pdf_fonts import fonts
from domain.profile import UtilityProfile

# Streams binary (Flate only) rather than ASCII85 on top: a quarter smaller and no encoding pass. PDF/A allows both.
rl_config.useA85 = 0

# The logo's box on the letterhead (band): a larger image is scaled down to 300 dpi in it.
_LOGO_BOX = (45 * mm, 18 * mm)
LOGO_PIXELS = 25_000_000  # far more than a letterhead's 45 × 18 mm at 300 dpi needs


def usable_logo(content: bytes) -> bool:
    """Whether the file is a PNG or JPEG every letterhead can draw: it decodes, and not above LOGO_PIXELS (a 76 KB
    PNG of 20,000² pixels, or one with a PNG's first bytes and no image after them, made every PDF fail)."""
    try:
        with (
            warnings.catch_warnings(action='error', category=Image.DecompressionBombWarning),
            Image.open(io.BytesIO(content), formats=('PNG', 'JPEG')) as image,
        ):
            if image.width * image.height > LOGO_PIXELS:
                return False
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        return False
    return True


def _logo(path: str, background: str) -> str:
    """The logo laid onto the band's colour (`_flat_logo`), made again when the file changed: an uploaded logo keeps
    its name (logo.png) when it is replaced."""
    found = Path(path).stat()
    return _flat_logo(path, background, found.st_mtime_ns, found.st_size)


@cache
def _flat_logo(path: str, background: str, modified: int, size: int) -> str:
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


@lru_cache(maxsize=4096)
def wrapped(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """`simpleSplit`'s lines, kept: a bill's legal texts, notes and disclosures are the same for every bill of a
    profile, and measuring their words again was a twelfth of a bill's rendering."""
    return tuple(simpleSplit(text, font, size, width))


@cache
def colour(value: str) -> colors.Color:
    """A '#rrggbb' colour, parsed once."""
    return colors.HexColor(value)


def write(pdf: Canvas, x: float, y: float, text: str) -> None:
    """`Canvas.drawString` without measuring the string: the same text operators, but drawString first measures
    every string it draws (for right-to-left text, which these documents never have), a twentieth of a bill's
    rendering. Right-aligned text still goes through `drawRightString`, which needs the width."""
    line = pdf.beginText(x, y)
    line.textLine(text)
    pdf.drawText(line)


def band(pdf: Canvas, profile: UtilityProfile, band: float, language: str = 'de') -> None:
    """The coloured letterhead band: the utility's name, address and, where the profile names one, its logo."""
    regular, bold = fonts()
    width, height = A4
    pdf.setFillColor(colour(profile.primary_color))
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
    write(pdf, 20 * mm, height - band + 13 * mm, profile.name)
    pdf.setFont(regular, 8)
    write(pdf, 20 * mm, height - band + 7.5 * mm, f'{profile.street} · {profile.postal_code} {profile.city}')
    write(pdf, 20 * mm, height - band + 3.5 * mm, f'{t("document.phone", language)} {profile.phone} · {profile.email}')
    pdf.setFillColor(colors.black)


def warm_up(profile: UtilityProfile) -> None:
    """Load what every document of `profile` uses (the fonts, the letterhead's logo) into this process: a billing
    run's worker does it while the run still reads what to bill, instead of in its first bill."""
    pdf = Canvas(io.BytesIO(), pagesize=A4, pageCompression=1, initialFontName=fonts()[0], lang='de-DE')
    band(pdf, profile, 24 * mm)
    pdf.showPage()
    pdf.save()


COMMODITY_TITLES = {'electricity': 'Strom', 'gas': 'Erdgas', 'water': 'Trinkwasser', 'heat': 'Fernwärme'}
KIND_TITLES = {'annual': 'Jahresverbrauchsabrechnung', 'final': 'Schlussrechnung', 'correction': 'Rechnungskorrektur'}
SOURCES = {
    'customer': 'von Ihnen abgelesen',
    'utility': 'von uns abgelesen',
    'remote': 'fernausgelesen',
    'estimated': 'geschätzt',
}
OBIS_NAMES = {'1.8.0': 'Eintarif', '1.8.1': 'HT', '1.8.2': 'NT'}


def german(value: Decimal, places: int = 2) -> str:
    """`1234.5` → `1.234,50`; rounded half up (DIN 1333), as i18n's numbers."""
    text = f'{Decimal(value).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):,.{places}f}'
    return text.replace(',', '_').replace('.', ',').replace('_', '.')


def euros(value: Decimal) -> str:
    return f'{german(value)} €'


def day_text(value: date) -> str:
    return value.strftime('%d.%m.%Y')


class Page:
    """A small layout helper over one canvas: a cursor that moves down, with tables and headings."""

    def __init__(self, pdf: Canvas, profile: UtilityProfile, language: str = 'de') -> None:
        self.pdf, self.profile, self.language = pdf, profile, language
        self.regular, self.bold = fonts()
        self.left, self.right = 20 * mm, A4[0] - 20 * mm
        self.y = A4[1] - 20 * mm
        self.colour = colour(profile.primary_color)
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
        self.pdf.setFillColor(colour('#555555'))
        write(self.pdf, self.left, 14 * mm, f'{p.name} · {p.street} · {p.postal_code} {p.city}')
        phone, creditor = t('document.phone', self.language), t('document.creditor_id', self.language)
        write(self.pdf, self.left, 10.5 * mm, f'{phone} {p.phone} · {p.email} · {creditor} {p.creditor_id}')
        legal = p.seller_line_with(t('document.vat_id', self.language), t('document.tax_number', self.language))
        if legal:
            write(self.pdf, self.left, 7 * mm, legal)
        self.pdf.drawRightString(
            self.right, 14 * mm, t('document.page', self.language, number=self.pdf.getPageNumber())
        )
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
        write(self.pdf, self.left, self.y, text)
        self.pdf.setFillColor(colors.black)
        self.y -= 5 * mm

    def text(self, text: str, size: float = 9, font: str = '') -> None:
        for line in wrapped(text, font or self.regular, size, self.right - self.left):
            self.need(5 * mm)
            self.pdf.setFont(font or self.regular, size)
            write(self.pdf, self.left, self.y, line)
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
                    write(self.pdf, x, self.y, cell)
                else:
                    self.pdf.drawRightString(x + width * mm, self.y, cell)
                x += width * mm
            if is_head or (bold_last and index == len(rows) - 2):
                self.pdf.setStrokeColor(colour('#bbbbbb'))
                self.pdf.line(self.left, self.y - 1.5 * mm, self.left + sum(widths) * mm, self.y - 1.5 * mm)
                self.pdf.setStrokeColor(colors.black)
            self.y -= 4.6 * mm

    def bars(self, title: str, bars: list[tuple[str, Decimal]], unit: str) -> None:
        """A horizontal bar graphic with its values written beside the bars (readable without colour)."""
        self.need(8 * mm + len(bars) * 7 * mm)
        self.pdf.setFont(self.regular, 8.5)
        write(self.pdf, self.left, self.y, title)
        self.y -= 5 * mm
        top = max((value for _, value in bars), default=Decimal(1)) or Decimal(1)
        for index, (label, value) in enumerate(bars):
            width = float(value / top) * 95 * mm
            self.pdf.setFillColor(self.colour if index == 0 else colour('#9fb9cc'))
            self.pdf.rect(self.left + 45 * mm, self.y - 1 * mm, max(width, 0.5), 4.5 * mm, stroke=0, fill=1)
            self.pdf.setFillColor(colors.black)
            write(self.pdf, self.left, self.y, label)
            write(self.pdf, self.left + 47 * mm + width, self.y, f'{german(value, 0)} {unit}')
            self.y -= 6.5 * mm
