"""Documents rendered with ReportLab: A4, the utility's colours, fonts embedded (€ and umlauts right).

DejaVu Sans is used where the system has it, otherwise Bitstream Vera, which ships with ReportLab, so that
a fresh installation renders the same documents without extra packages.
"""

import io
from functools import cache
from pathlib import Path

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from domain.customer_data import MandateForm
from domain.i18n import t
from domain.identifiers import normalise
from domain.profile import UtilityProfile

_CANDIDATES = [(Path('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'),
                Path('/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf')),
               (Path(reportlab.__file__).parent / 'fonts' / 'Vera.ttf',
                Path(reportlab.__file__).parent / 'fonts' / 'VeraBd.ttf')]


@cache
def fonts() -> tuple[str, str]:
    """Register the embedded fonts once; returns (regular, bold) names."""
    regular, bold = next((r, b) for r, b in _CANDIDATES if r.exists() and b.exists())
    pdfmetrics.registerFont(TTFont('Portal', str(regular)))
    pdfmetrics.registerFont(TTFont('Portal-Bold', str(bold)))
    return 'Portal', 'Portal-Bold'


def _grouped_iban(iban: str) -> str:
    value = normalise(iban)
    return ' '.join(value[i:i + 4] for i in range(0, len(value), 4))


def sepa_mandate_pdf(profile: UtilityProfile, form: MandateForm) -> bytes:
    """The prefilled SEPA core direct-debit mandate for recurring payments, to sign on paper."""
    regular, bold = fonts()
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f'SEPA-Lastschriftmandat {form.reference}')
    pdf.setAuthor(profile.name)
    pdf.setSubject('SEPA-Lastschriftmandat für wiederkehrende Zahlungen')
    width, height = A4
    left, right = 20 * mm, width - 20 * mm
    pdf.setFillColor(colors.HexColor(profile.primary_color))
    pdf.rect(0, height - 28 * mm, width, 28 * mm, stroke=0, fill=1)
    pdf.setFillColor(colors.white)
    pdf.setFont(bold, 16)
    pdf.drawString(left, height - 17 * mm, profile.name)
    pdf.setFont(regular, 9)
    pdf.drawString(left, height - 23 * mm, f'{profile.street} · {profile.postal_code} {profile.city} · '
                                           f'Telefon {profile.phone} · {profile.email}')
    pdf.setFillColor(colors.black)
    y = height - 45 * mm
    pdf.setFont(bold, 14)
    pdf.drawString(left, y, 'SEPA-Lastschriftmandat')
    y -= 6 * mm
    pdf.setFont(regular, 10)
    pdf.drawString(left, y, 'für wiederkehrende Zahlungen (SEPA-Basislastschrift)')
    y -= 12 * mm
    rows = [('Zahlungsempfänger', form.creditor_name), ('Anschrift', form.creditor_address),
            ('Gläubiger-Identifikationsnummer', form.creditor_id), ('Mandatsreferenz', form.reference),
            ('Kundennummer', form.customer_number)]
    y = _rows(pdf, rows, left, y, regular, bold)
    y -= 6 * mm
    text = t('customer_data.mandate_text', creditor=form.creditor_name)
    pdf.setFont(regular, 10)
    for line in simpleSplit(text, regular, 10, right - left):
        pdf.drawString(left, y, line)
        y -= 5 * mm
    y -= 6 * mm
    rows = [('Kontoinhaber (Name, Vorname)', form.holder), ('Anschrift', form.debtor_address),
            ('IBAN', _grouped_iban(form.iban) if form.iban else ''), ('Kreditinstitut', form.bank)]
    y = _rows(pdf, rows, left, y, regular, bold, blank_lines=True)
    y -= 16 * mm
    pdf.line(left, y, left + 70 * mm, y)
    pdf.line(left + 90 * mm, y, right, y)
    pdf.setFont(regular, 8)
    pdf.drawString(left, y - 4 * mm, 'Ort, Datum')
    pdf.drawString(left + 90 * mm, y - 4 * mm, 'Unterschrift des Kontoinhabers')
    pdf.setFont(regular, 8)
    pdf.drawString(left, 20 * mm, 'Vor dem ersten Einzug und bei jeder Betragsänderung erhalten Sie 14 Tage vorher '
                                  'eine Vorabankündigung.')
    pdf.drawString(left, 16 * mm, f'Bitte unterschrieben senden an: {profile.name}, {profile.street}, '
                                  f'{profile.postal_code} {profile.city}')
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _rows(pdf: Canvas, rows: list[tuple[str, str]], left: float, y: float, regular: str, bold: str,
          blank_lines: bool = False) -> float:
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
