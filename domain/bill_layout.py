"""The bill (everything § 40 EnWG asks for); its head and register table serve the Abrechnungsinformation too
(domain/information_layout.py)."""

import io
from decimal import ROUND_HALF_UP, Decimal

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from domain.billing import CENT, BillDocument, RegisterReadings, outcome
from domain.documents import (
    COMMODITY_TITLES,
    KIND_TITLES,
    OBIS_NAMES,
    SOURCES,
    Page,
    band,
    colour,
    day_text,
    euros,
    german,
    write,
)
from domain.identifiers import WITH_MALO, working_price_name
from domain.pdf_fonts import fonts
from domain.profile import UtilityProfile


def bill_title(bill: BillDocument) -> str:
    return f'{KIND_TITLES[bill.kind]} {COMMODITY_TITLES.get(bill.commodity, bill.commodity)}'


def bill_pdf(profile: UtilityProfile, bill: BillDocument) -> bytes:
    """The bill as one or two A4 pages with everything § 40 EnWG asks for; fonts embedded."""
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=fonts()[0], lang='de-DE')
    title = bill_title(bill)
    pdf.setTitle(f'{title} {bill.bill_number}')
    pdf.setAuthor(profile.name)
    pdf.setSubject(
        f'{title} {day_text(bill.period_start)} – {day_text(bill.period_end)}, Kundennummer {bill.customer_number}'
    )
    page = Page(pdf, profile)
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


def head(page: Page, name: str, address: tuple[str, ...], facts: list[tuple[str, str]], sender: bool = True) -> None:
    """The letterhead band, the window address (with the sender line above it) and the facts beside it."""
    pdf, p = page.pdf, page.profile
    height = A4[1]
    band(pdf, p, 24 * mm)
    y = height - 45 * mm
    if sender:
        pdf.setFont(page.regular, 7)
        write(pdf, page.left, y + 6 * mm, f'{p.name} · {p.street} · {p.postal_code} {p.city}')
    pdf.setFont(page.regular, 10)
    for line in (name, *address):
        write(pdf, page.left, y, line)
        y -= 4.8 * mm
    y = height - 45 * mm
    for label, value in facts:
        pdf.setFont(page.regular, 8)
        write(pdf, page.left + 105 * mm, y, label)
        pdf.setFont(page.bold, 9)
        pdf.drawRightString(page.right, y, value)
        y -= 4.8 * mm
    page.y = height - 80 * mm


def _letterhead(page: Page, bill: BillDocument, title: str) -> None:
    pdf = page.pdf
    facts = [
        ('Rechnungsnummer', bill.bill_number),
        ('Rechnungsdatum', day_text(bill.bill_date)),
        ('Kundennummer', bill.customer_number),
        ('Vertragsnummer', bill.contract_number),
    ]
    if bill.buyer_vat_id:
        facts.append(('Ihre USt-IdNr.', bill.buyer_vat_id))
    if bill.buyer_leitweg_id:
        facts.append(('Leitweg-ID', bill.buyer_leitweg_id))
    head(page, bill.customer_name, bill.customer_address, facts)
    pdf.setFont(page.bold, 14)
    write(pdf, page.left, page.y, title)
    page.y -= 6 * mm
    pdf.setFont(page.regular, 10)
    period = f'{day_text(bill.period_start)} bis {day_text(bill.period_end)}'
    write(pdf, page.left, page.y, f'Abrechnungszeitraum {period}')
    page.y -= 4 * mm
    if bill.replaces:
        page.y -= 2 * mm
        page.text(f'Diese Rechnung ersetzt die Rechnung Nr. {bill.replaces}.', 9, page.bold)


def _amount_box(page: Page, bill: BillDocument) -> None:
    pdf = page.pdf
    balance = bill.result.balance
    if balance > 0 and bill.mandate_reference:  # as the e-invoice says: the utility debits it
        label, detail = (
            'Nachzahlung',
            f'Wir ziehen {euros(balance)} zum {day_text(bill.due_date)} per SEPA-Lastschrift von Ihrem Konto ein '
            f'(Mandatsreferenz {bill.mandate_reference}).',
        )
    elif balance > 0:
        label, detail = 'Nachzahlung', f'Bitte zahlen Sie {euros(balance)} bis zum {day_text(bill.due_date)}.'
    elif balance < 0 and bill.next_installment is None and not bill.customer_iban:  # a final bill: as the e-invoice
        label, detail = (
            'Guthaben',
            f'Bitte teilen Sie uns Ihre Bankverbindung mit; wir überweisen Ihnen dann {euros(-balance)}.',
        )
    elif balance < 0:
        set_off = '' if bill.next_installment is None else ' oder verrechnen es mit dem nächsten Abschlag'  # final bill
        label, detail = (
            'Guthaben',
            f'Wir erstatten Ihnen {euros(-balance)} bis zum {day_text(bill.due_date)} auf Ihr Konto{set_off}.',
        )
    else:
        label, detail = 'Ausgeglichen', 'Ihre Abschläge decken die Kosten genau.'
    page.y -= 4 * mm
    pdf.setFillColor(colour('#eef4f8'))
    pdf.setStrokeColor(page.colour)
    pdf.roundRect(page.left, page.y - 16 * mm, page.right - page.left, 18 * mm, 2 * mm, stroke=1, fill=1)
    pdf.setFillColor(colors.black)
    pdf.setFont(page.bold, 13)
    write(pdf, page.left + 4 * mm, page.y - 5.5 * mm, f'{label}: {euros(abs(balance))}')
    pdf.setFont(page.regular, 9)
    write(pdf, page.left + 4 * mm, page.y - 12 * mm, detail)
    pdf.setStrokeColor(colors.black)
    page.y -= 20 * mm


def _supply(page: Page, bill: BillDocument) -> None:
    page.heading('Ihre Lieferstelle und Ihr Vertrag')
    term = 'unbefristet' if bill.contract_end is None else f'bis {day_text(bill.contract_end)}'
    rows = [
        ('Lieferstelle', bill.supply_address),
        *([('Marktlokations-ID (MaLo-ID)', bill.malo_id or '–')] if bill.commodity in WITH_MALO else []),
        ('Zählernummern' if ', ' in bill.meter_number else 'Zählernummer', bill.meter_number),
        ('Messstellenbetreiber', page.profile.name),
        ('Tarif', page.profile.tariff_name(bill.tariff_code)),
        ('Vertragsbeginn und Laufzeit', f'{day_text(bill.contract_start)}, {term}'),
        ('Kündigungsfrist', '1 Woche' if bill.notice_period_weeks == 1 else f'{bill.notice_period_weeks} Wochen'),
        (
            'Nächstmöglicher Kündigungstermin',
            day_text(bill.next_termination) if bill.next_termination else 'Vertrag beendet',
        ),
    ]
    for label, value in rows:
        page.need(5 * mm)
        page.pdf.setFont(page.regular, 8.5)
        write(page.pdf, page.left, page.y, label)
        write(page.pdf, page.left + 60 * mm, page.y, value)
        page.y -= 4.4 * mm


def _readings(page: Page, bill: BillDocument) -> None:
    page.heading('Zählerstände und Verbrauch')
    meters = list(dict.fromkeys(r.meter_number for r in bill.registers if r.meter_number))
    exchange_note(page, bill.registers)
    register_table(page, bill.registers, bill.commodity, bill.unit, 'Ende', [24, 24, 24, 24, 24, 50])
    for r in bill.registers:
        sources = (
            f'Anfangsstand {SOURCES.get(r.start_source, r.start_source)}, '
            f'Endstand {SOURCES.get(r.end_source, r.end_source)}.'
        )
        name = _register(r.obis, bill.commodity) + (f' (Zähler {r.meter_number})' if len(meters) > 1 else '')
        page.text(f'{name}: {sources}' if len(bill.registers) > 1 else sources, 8)
    if bill.commodity == 'gas' and bill.z_number and bill.calorific_value:
        volume = sum((r.consumption for r in bill.registers), Decimal(0))
        page.text(
            f'Umrechnung: {german(volume, 0)} m³ × Zustandszahl {german(bill.z_number, 4)} × Brennwert '
            f'{german(bill.calorific_value, 3)} kWh/m³ = {german(bill.consumption, 0)} kWh',
            8.5,
        )


def exchange_note(page: Page, registers: tuple[RegisterReadings, ...]) -> None:
    """Over a meter exchanged in the period, which rows are whose: "Zähler … bis 30.06.2026, Zähler … ab 01.07.2026"."""
    meters = list(dict.fromkeys(r.meter_number for r in registers if r.meter_number))
    if len(meters) < 2:
        return
    ends = {r.meter_number: r.end_date for r in registers}
    starts = {r.meter_number: r.start_date for r in reversed(registers)}
    spans = [
        ' '.join(
            part
            for part in (
                f'Zähler {number}',
                f'ab {day_text(starts[number])}' if index else '',
                f'bis {day_text(ends[number])}' if index < len(meters) - 1 else '',
            )
            if part
        )
        for index, number in enumerate(meters)
    ]
    page.text(f'Zählerwechsel im Abrechnungszeitraum: {", ".join(spans)}.', 8.5)


def _register(obis: str, commodity: str) -> str:
    """A register as the bill names it: the electricity tariff's words (Eintarif, HT, NT) for electricity only;
    a water or gas meter's one register is just its Zählwerk."""
    if commodity == 'electricity':
        return OBIS_NAMES.get(obis, obis)
    return 'Zählwerk' if obis == '1.8.0' else obis


def register_table(
    page: Page,
    registers: tuple[RegisterReadings, ...],
    commodity: str,
    unit: str,
    end_label: str,
    widths: list[float],
    marked: bool = False,
) -> None:
    """Start and end reading and consumption per register, in the meter's unit; `marked`: an estimated reading (the
    end where none was taken, the start interpolated at the year's beginning) says so in its cell."""
    meter_unit = 'm³' if commodity in ('gas', 'water') else unit
    rows = [('Zählwerk', 'Anfang', 'Stand', end_label, 'Stand', f'Verbrauch {meter_unit}')]
    for r in registers:
        estimated = ' (geschätzt)' if marked and r.end_source == 'estimated' else ''
        start_estimated = ' (geschätzt)' if marked and r.start_source == 'estimated' else ''
        rows.append(
            (
                _register(r.obis, commodity),
                day_text(r.start_date),
                german(r.start_value, 0) + start_estimated,
                day_text(r.end_date),
                german(r.end_value, 0) + estimated,
                german(r.consumption, 0),
            )
        )
    page.table(rows, widths)


def _calculation(page: Page, bill: BillDocument) -> None:
    page.heading('Ihre Kosten', keep=24 * mm)
    rows = [('Position', 'Zeitraum', 'Menge', 'Preis netto', 'Betrag netto')]
    for line in bill.result.lines:
        period = f'{line.start:%d.%m.}–{line.end:%d.%m.%Y}'
        if line.kind == 'energy':
            rows.append(
                (
                    working_price_name(bill.commodity),
                    period,
                    f'{_quantity(line.quantity)} {bill.unit}',
                    f'{_price(line.unit_price * 100, 2)} ct/{bill.unit}'
                    if bill.unit == 'kWh'
                    else f'{_price(line.unit_price, 4)} €/{bill.unit}',  # water: as its price sheet, €/m³
                    euros(line.amount),
                )
            )
        else:
            rows.append(
                (
                    'Grundpreis',
                    period,
                    f'{german(line.quantity, 0)} Tage',
                    f'{euros(line.unit_price)}/Jahr',
                    euros(line.amount),
                )
            )
    result = bill.result
    rows += [
        ('Summe netto', '', '', '', euros(result.net)),
        (f'Umsatzsteuer {german(bill.vat_rate * 100, 0)} %', '', '', '', euros(result.vat)),
        ('Rechnungsbetrag brutto', '', '', '', euros(result.gross)),
        ('abzüglich gezahlter Abschläge', '', '', '', euros(-result.paid)),
        (outcome(result.balance), '', '', '', euros(abs(result.balance))),
    ]
    page.table(rows, [46, 40, 28, 28, 28], bold_last=True)


def _quantity(value: Decimal) -> str:
    """A line's quantity with the decimals it has (up to three: gas in kWh, a remote meter's readings), so that
    the PDF shows the figure the e-invoice bills (1.613,4 kWh, not 1.613)."""
    exponent = value.normalize().as_tuple().exponent
    return german(value, min(max(-exponent, 0), 3) if isinstance(exponent, int) else 0)


def _price(value: Decimal, places: int) -> str:
    """A net unit price with at least `places` decimals and all that it has (a net price from a gross one: 26,8908
    ct/kWh, not 26,89): quantity × price is the line's amount, and the price is the one the e-invoice bills."""
    exponent = value.normalize().as_tuple().exponent
    return german(value, max(-exponent, places) if isinstance(exponent, int) else places)


def _comparison(page: Page, bill: BillDocument) -> None:
    page.heading('Ihr Verbrauch im Vergleich', keep=24 * mm)
    start, end = bill.period_start, bill.period_end  # a billing year to September: 2025/26, not 2025
    years = f'{start:%Y}' if start.year == end.year else f'{start:%Y}/{end:%y}'
    bars = [(f'{years} (dieser Zeitraum)', bill.consumption)]
    share = f' (anteilig, {bill.compared_days} Tage)' if bill.compared_days else ''  # a part of the year
    if bill.previous_consumption is not None:
        bars.append((f'Vorjahreszeitraum{share}', bill.previous_consumption))
    page.bars('Verbrauch dieses und des Vorjahreszeitraums', bars, bill.unit)
    if bill.previous_consumption:
        change = (bill.consumption - bill.previous_consumption) / bill.previous_consumption * 100
        page.text(f'Veränderung zum Vorjahr: {"+" if change > 0 else ""}{german(change, 1)} %', 8.5)
        page.y -= 3 * mm
    if bill.group_average is not None:
        page.bars(
            'Vergleich mit einem durchschnittlichen Haushalt derselben Verbrauchergruppe',
            [('Ihr Verbrauch', bill.consumption), (f'Durchschnitt{share}', bill.group_average)],
            bill.unit,
        )


def _installment(page: Page, bill: BillDocument) -> None:
    if bill.next_installment is None or bill.next_installment_first_due is None:
        return
    page.heading('Ihr Abschlag ab dem nächsten Abrechnungszeitraum')
    page.text(
        f'{bill.next_installment_per_year} Abschläge zu je {euros(bill.next_installment)}, fällig jeweils am '
        f'{bill.next_installment_due_day}. eines Monats, erstmals am {day_text(bill.next_installment_first_due)}. '
        'Im Kundenportal können Sie den Abschlag anpassen.',
        9,
    )


def _disclosures(page: Page, bill: BillDocument) -> None:
    p = page.profile
    if bill.commodity == 'electricity':
        page.heading('Stromkennzeichnung (§ 42 EnWG)')
        page.text(
            'Energieträgermix: '
            + ', '.join(f'{name} {share} %' for name, share in p.bill.fuel_mix.items())
            + f'. CO₂-Emissionen {p.bill.co2_g_per_kwh} g/kWh, radioaktiver Abfall '
            f'{german(p.bill.nuclear_waste_mg_per_kwh, 1)} mg/kWh.',
            8,
        )
    if bill.commodity == 'gas':
        page.heading('CO₂-Kosten (BEHG)')
        tonnes = bill.consumption / 1000 * p.bill.gas_co2_t_per_mwh  # shown to three places, half up
        cost = (tonnes * p.bill.co2_price_per_t).quantize(CENT, ROUND_HALF_UP)  # of the exact tonnes
        page.text(
            f'Ihr Verbrauch von {german(bill.consumption, 0)} kWh entspricht {german(tonnes, 3)} t CO₂. Bei einem '
            f'CO₂-Preis von {euros(p.bill.co2_price_per_t)} je Tonne sind darin rund {euros(cost)} '
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
