"""The Abrechnungsinformation (§40b EnWG) as a PDF, in the bill's layout (domain/bill_layout.py)."""

import io
from decimal import Decimal
from typing import TYPE_CHECKING

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from domain.bill_layout import exchange_note, head, register_table
from domain.documents import COMMODITY_TITLES, Page, day_text, euros, german, write
from domain.installment_rules import WEIGHTED
from domain.pdf_fonts import fonts
from domain.profile import UtilityProfile

if TYPE_CHECKING:
    from domain.information import InformationDocument


def information_pdf(profile: UtilityProfile, info: 'InformationDocument') -> bytes:
    """An Abrechnungsinformation (§40b EnWG) in the bill's layout: the billing year so far and its projected result;
    no demand for payment."""
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=fonts()[0], lang='de-DE')
    commodity = COMMODITY_TITLES.get(info.commodity, info.commodity)
    pdf.setTitle(f'Abrechnungsinformation {commodity} bis {day_text(info.through)}')
    pdf.setAuthor(profile.name)
    pdf.setSubject(f'Abrechnungsinformation, Kundennummer {info.customer_number}, Vertrag {info.contract_number}')
    page = Page(pdf, profile)
    facts = [
        ('Datum', day_text(info.made_on)),
        ('Kundennummer', info.customer_number),
        ('Vertragsnummer', info.contract_number),
        ('Zählernummern' if ', ' in info.meter_number else 'Zählernummer', info.meter_number),
    ]
    head(page, info.customer_name, info.customer_address, facts, sender=False)
    pdf.setFont(page.bold, 14)
    write(pdf, page.left, page.y, f'Abrechnungsinformation {commodity}')
    page.y -= 6 * mm
    pdf.setFont(page.regular, 10)
    year = f'{day_text(info.period_start)} bis {day_text(info.period_end)}'
    write(pdf, page.left, page.y, f'Ihr Abrechnungsjahr {year}, Stand {day_text(info.through)}')
    page.y -= 6 * mm
    page.text(
        'Diese Information ist keine Rechnung und keine Zahlungsaufforderung. Abgerechnet wird mit Ihrer '
        'Jahresrechnung nach dem Ende des Abrechnungsjahres.',
        9,
        page.bold,
    )
    page.heading('Ihr Verbrauch bis jetzt')
    exchange_note(page, info.registers)
    register_table(page, info.registers, info.commodity, info.unit, 'Stand am', [24, 22, 34, 22, 34, 34], marked=True)
    if any(r.end_source == 'estimated' for r in info.registers):
        page.text(
            f'Für den {day_text(info.through)} liegt kein abgelesener Zählerstand vor: er ist aus Ihrem bisherigen '
            'Verbrauch geschätzt. Melden Sie gern Ihren Zählerstand im Kundenportal.',
            8,
        )
    shared = 'nach der Jahreszeit gewichtet' if info.commodity in WEIGHTED else 'nach Tagen'  # as value_before_year
    for start in sorted({r.start_date for r in info.registers if r.start_source == 'estimated'}):
        page.text(
            f'Der Zählerstand zum {day_text(start)} liegt zwischen zwei Ablesungen: Er ist {shared} anteilig '
            'berechnet, damit nur der Verbrauch seit Beginn des Abrechnungsjahres zählt.',
            8,
        )
    page.heading('Ihre Kosten bis jetzt (zu den aktuellen Preisen)', keep=24 * mm)
    so_far = info.so_far
    costs: list[tuple[str, str]] = [
        ('Position', 'Betrag'),
        (f'Verbrauch {german(info.consumption, 0)} {info.unit} und Grundpreis, netto', euros(so_far.net)),
        (f'Umsatzsteuer {german(info.vat_rate * 100, 0)} %', euros(so_far.vat)),
        ('Kosten brutto', euros(so_far.gross)),
        ('gezahlte Abschläge', euros(so_far.paid)),
        (f'Stand am {day_text(info.through)} ({_state(so_far.balance)})', euros(abs(so_far.balance))),
    ]
    page.table(costs, [130, 40], bold_last=True)
    page.heading('Voraussichtliches Ergebnis Ihres Abrechnungsjahres', keep=24 * mm)
    result = info.projected_result
    outcome = 'Nachzahlung' if result > 0 else 'Guthaben' if result < 0 else 'ausgeglichen'
    projection: list[tuple[str, str]] = [
        ('Position', 'Betrag'),
        (
            f'erwarteter Jahresverbrauch {german(info.projected_consumption, 0)} {info.unit}, Kosten brutto',
            euros(info.projected_gross),
        ),
        ('Abschläge im Abrechnungsjahr (gezahlt und noch fällig)', euros(info.installments)),
        (f'voraussichtlich {outcome}', euros(abs(result))),
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


def _state(balance: Decimal) -> str:
    return 'Guthaben' if balance < 0 else 'offen' if balance > 0 else 'ausgeglichen'
