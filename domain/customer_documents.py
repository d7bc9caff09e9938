"""The documents a customer saves from the portal: the prefilled SEPA mandate to sign, and the confirmations of a
submitted meter reading and of a declaration as received (Kündigung, Umzug, Tarifwechsel). Laid out with the shared
helpers of domain/documents.py."""

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from domain.clock import BERLIN
from domain.contract_requests import Receipt
from domain.customer_data import MandateForm
from domain.documents import COMMODITY_TITLES, Page, band, colour, day_text, wrapped, write
from domain.i18n import t
from domain.identifiers import normalise
from domain.pdf_fonts import fonts
from domain.profile import UtilityProfile
from domain.readings import Submitted


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
    band(pdf, profile, 24 * mm)
    y = height - 45 * mm
    pdf.setFont(bold, 14)
    write(pdf, left, y, 'SEPA-Lastschriftmandat')
    y -= 6 * mm
    pdf.setFont(regular, 10)
    write(pdf, left, y, 'für wiederkehrende Zahlungen (SEPA-Basislastschrift)')
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
    for line in wrapped(text, regular, 10, right - left):
        write(pdf, left, y, line)
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
    write(pdf, left, y - 4 * mm, 'Ort, Datum')
    write(pdf, left + 90 * mm, y - 4 * mm, 'Unterschrift des Kontoinhabers')
    pdf.setFont(regular, 8)
    write(
        pdf,
        left,
        20 * mm,
        'Vor dem ersten Einzug und bei jeder Betragsänderung erhalten Sie 14 Tage vorher eine Vorabankündigung.',
    )
    write(
        pdf,
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
        pdf.setFillColor(colour('#555555'))
        write(pdf, left, y, label)
        pdf.setFillColor(colors.black)
        pdf.setFont(bold, 11)
        write(pdf, left, y - 5 * mm, value)
        if blank_lines:
            pdf.setStrokeColor(colour('#999999'))
            pdf.line(left, y - 6.5 * mm, left + 170 * mm, y - 6.5 * mm)
            pdf.setStrokeColor(colors.black)
        y -= 12 * mm
    return y


def _confirmation(
    profile: UtilityProfile, title: str, subject: str, heading: str, language: str = 'de'
) -> tuple[io.BytesIO, Canvas, Page]:
    """The start of a one-page confirmation in `language`: document title and subject (read out by screen readers,
    in the voice of its declared language), the utility's band, the heading."""
    buffer = io.BytesIO()
    declared = 'en-GB' if language == 'en' else 'de-DE'
    pdf = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=fonts()[0], lang=declared)
    pdf.setTitle(title)
    pdf.setAuthor(profile.name)
    pdf.setSubject(subject)
    page = Page(pdf, profile, language)
    band(pdf, profile, 24 * mm, language)
    page.y = A4[1] - 45 * mm
    pdf.setFont(page.bold, 14)
    write(pdf, page.left, page.y, heading)
    page.y -= 10 * mm
    return buffer, pdf, page


def reading_confirmation_pdf(profile: UtilityProfile, reading: Submitted, language: str = 'de') -> bytes:
    """The receipt for a submitted meter reading: what was stored, when, and how it was judged; in the visitor's
    `language`, as the values it lists (`Submitted.lines`)."""

    def say(key: str, **params: object) -> str:
        return t(f'reading_pdf.{key}', language, **params)

    buffer, pdf, page = _confirmation(
        profile,
        say('title', meter=reading.meter_number, date=day_text(reading.reading_date)),
        say('subject', customer=reading.customer_number),
        say('heading'),
        language,
    )
    received = reading.submitted_at.astimezone(BERLIN)
    commodity = t(f'commodity.{reading.commodity}', language) if reading.commodity in COMMODITY_TITLES else ''
    rows = [
        (say('customer'), reading.customer_name),
        (say('customer_number'), reading.customer_number),
        (say('contract_number'), reading.contract_number),
        (say('commodity'), commodity or reading.commodity),
        (say('meter_number'), reading.meter_number),
        (say('reading_date'), day_text(reading.reading_date)),
        (say('received'), say('received_at', date=f'{received:%d.%m.%Y}', time=f'{received:%H:%M}')),
    ]
    for label, value in rows:
        pdf.setFont(page.regular, 9)
        write(pdf, page.left, page.y, label)
        pdf.setFont(page.bold, 10)
        write(pdf, page.left + 45 * mm, page.y, value)
        page.y -= 5.5 * mm
    page.heading(say('values'))
    for line in reading.lines:
        page.text(line, 10)
    if reading.flagged:
        page.heading(say('check'))
        page.text(say('flagged', reason=reading.reason), 9)
    page.heading(say('note_heading'))
    page.text(say('note'), 9)
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
        write(pdf, page.left, page.y, label)
        page.y -= 4.5 * mm
        page.text(value, 10, page.bold)
        page.y -= 2 * mm
    page.heading('Hinweis')
    page.text(note, 9)
    page.footer()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
