"""The e-invoice XML (docs/domain.md §9) for every kind of bill the portal makes: each validates against the EN 16931
CII XSD and its totals are the bill's."""

from dataclasses import replace
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest

from domain.billing import BillDocument, PricePeriod, RegisterReadings, compute_bill
from domain.einvoice import RAM, RSM, cii_xml, delivered_problem, validate
from storage.settings import Settings

NS = {'ram': RAM, 'rsm': RSM}
PROFILES = {key: Settings(profile=key, demo=True).load_profile() for key in ('stadtwerke-a', 'wasserverband-c')}


def sample_bill(
    number: str = 'RE20270000001', commodity: str = 'electricity', paid: str = '1111', **fields
) -> BillDocument:
    """A business customer's annual bill: docs/domain.md §5's vector (3,200 kWh, a price change on 1 July)."""
    water = commodity == 'water'
    prices = [
        PricePeriod(date(2026, 1, 1), Decimal('2.15' if water else '0.2500'), Decimal('90' if water else '120.00')),
        PricePeriod(date(2026, 7, 1), Decimal('2.25' if water else '0.2650'), Decimal('90' if water else '120.00')),
    ]
    consumption = Decimal(120 if water else 3200)
    vat = Decimal('0.07' if water else '0.19')
    result = compute_bill(consumption, commodity, date(2026, 1, 1), date(2026, 12, 31), prices, vat, Decimal(paid))
    register = RegisterReadings(
        '1.8.0', date(2025, 12, 31), Decimal(45210), 'customer', date(2026, 12, 31), Decimal(45210) + consumption,
        'utility', consumption,
    )  # fmt: skip
    return BillDocument(
        number, date(2027, 1, 20), 'annual', '', '41000101', 'Bäckerei Beispiel GmbH',
        ('Hauptstraße 1', '27749 Aue-Süd'), 'V00000001', commodity, 'STROM-BASIS', date(2020, 1, 1), None, 4,
        date(2027, 3, 31), '' if water else '41373559241', 'Hauptstraße 1, 27749 Aue-Süd', '1EBZ0100000001',
        date(2026, 1, 1), date(2026, 12, 31), (register,), None, None, consumption, 'm³' if water else 'kWh', result,
        vat, date(2027, 2, 3), None, None, Decimal(94), 12, date(2027, 2, 15), 15,
        **{'einvoice': 'factur-x', 'buyer_vat_id': 'DE131234568', 'buyer_email': 'buchhaltung@example.org', **fields},
    )  # fmt: skip


VARIANTS = {
    'direct debit': ('stadtwerke-a', sample_bill(mandate_reference='MR-1', customer_iban='DE89370400440532013000')),
    'transfer': ('stadtwerke-a', sample_bill()),
    'credit to the account': ('stadtwerke-a', sample_bill(paid='3000', customer_iban='DE89370400440532013000')),
    'credit set off': ('stadtwerke-a', sample_bill(paid='3000')),
    'water at 7 %': ('wasserverband-c', sample_bill(commodity='water', paid='300')),
    'gas': ('stadtwerke-a', sample_bill(commodity='gas')),
    'correction': ('stadtwerke-a', replace(sample_bill('RE20270000002'), kind='correction', replaces='RE20270000001')),
    'xrechnung': (
        'wasserverband-c',
        sample_bill(einvoice='xrechnung', buyer_leitweg_id='04011000-1234512345-06', buyer_vat_id=''),
    ),
}


@pytest.mark.parametrize('name', VARIANTS)
def test_every_kind_of_bill_validates_and_states_its_totals(name):
    profile_key, bill = VARIANTS[name]
    xml = cii_xml(PROFILES[profile_key], bill)
    validate(xml)
    root = ET.fromstring(xml)
    summation = root.find('.//ram:SpecifiedTradeSettlementHeaderMonetarySummation', NS)
    assert summation is not None
    totals = {child.tag.split('}')[1]: Decimal(child.text or '') for child in summation}
    result = bill.result
    assert totals == {
        'LineTotalAmount': result.net,
        'TaxBasisTotalAmount': result.net,
        'TaxTotalAmount': result.vat,
        'GrandTotalAmount': result.gross,
        'TotalPrepaidAmount': result.paid,
        'DuePayableAmount': result.balance,
    }
    lines = [Decimal(x.text or '') for x in root.iterfind('.//ram:LineTotalAmount', NS)][:-1]  # the last: header
    assert lines == [line.amount for line in result.lines] and sum(lines) == result.net
    assert root.findtext('rsm:ExchangedDocument/ram:TypeCode', namespaces=NS) == (
        '381' if result.balance < 0 else '380'
    )
    assert root.findtext('.//ram:RateApplicablePercent', namespaces=NS) == ('7' if 'water' in name else '19')
    units = {q.get('unitCode') for q in root.iterfind('.//ram:BilledQuantity', NS)}
    assert units == ({'MTQ', 'DAY'} if 'water' in name else {'KWH', 'DAY'})
    means = root.findtext('.//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode', namespaces=NS)
    expected = {'direct debit': '59', 'credit set off': '97'}.get(name, '58')
    assert means == expected


def test_a_base_price_line_is_the_days_at_the_yearly_price():
    root = ET.fromstring(cii_xml(PROFILES['stadtwerke-a'], sample_bill()))
    base = [item for item in root.iterfind('.//ram:IncludedSupplyChainTradeLineItem', NS)
            if (item.findtext('.//ram:Name', namespaces=NS) or '').startswith('Grundpreis')]  # fmt: skip
    assert [
        (
            item.findtext('.//ram:BilledQuantity', namespaces=NS),
            item.findtext('.//ram:ChargeAmount', namespaces=NS),
            item.findtext('.//ram:BasisQuantity', namespaces=NS),
            item.findtext('.//ram:LineTotalAmount', namespaces=NS),
        )
        for item in base
    ] == [('181', '120', '365', '59.51'), ('184', '120', '365', '60.49')]  # 181 / 365 × 120 € = 59.51 €


def test_a_delivered_xml_must_be_valid_and_carry_the_bills_number():
    xml = cii_xml(PROFILES['stadtwerke-a'], sample_bill('EXT-2026-2'))
    assert delivered_problem(xml, 'EXT-2026-2') == ''
    assert "not 'EXT-2026-3'" in delivered_problem(xml, 'EXT-2026-3')
    assert delivered_problem(b'<kein xml', 'EXT-2026-2').startswith('not an EN 16931 CII e-invoice')
    entity = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    assert delivered_problem(entity, 'EXT-2026-2').startswith('not an EN 16931 CII e-invoice')


def test_the_pdf_shows_each_line_s_quantity_as_the_xml_bills_it(tmp_path):
    """A consumption with decimals (gas in kWh, a remote meter): 1.613,4 kWh on the PDF, as in BilledQuantity."""
    import subprocess

    from domain.bill_layout import bill_pdf

    prices = [
        PricePeriod(date(2026, 1, 1), Decimal('0.2500'), Decimal('120.00')),
        PricePeriod(date(2026, 7, 1), Decimal('0.2650'), Decimal('120.00')),
    ]
    result = compute_bill(
        Decimal('3200.4'), 'electricity', date(2026, 1, 1), date(2026, 12, 31), prices, Decimal('0.19'), Decimal(1111)
    )
    bill = replace(sample_bill(), result=result, consumption=Decimal('3200.4'))
    profile = PROFILES['stadtwerke-a']
    (tmp_path / 'bill.pdf').write_bytes(bill_pdf(profile, bill))
    text = subprocess.run(
        ['pdftotext', '-layout', str(tmp_path / 'bill.pdf'), '-'], capture_output=True, text=True, check=True
    ).stdout
    billed = [q.text for q in ET.fromstring(cii_xml(profile, bill)).iterfind('.//ram:BilledQuantity', NS)][:2]
    assert billed == ['1587', '1613.4']
    assert '1.587 kWh' in text and '1.613,4 kWh' in text


def test_a_bill_settled_by_its_installments_announces_no_debit_under_the_mandate():
    """Installments paid exactly the gross: the XML said "Der Betrag wird per SEPA-Lastschrift eingezogen" with the
    mandate (BT-89) and creditor id, where the PDF rightly says nothing is debited."""
    gross = sample_bill().result.gross
    bill = sample_bill(paid=str(gross), mandate_reference='MR-1', customer_iban='DE89370400440532013000')
    assert bill.result.balance == 0
    xml = cii_xml(PROFILES['stadtwerke-a'], bill)
    validate(xml)
    root = ET.fromstring(xml)
    assert root.findtext('.//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode', namespaces=NS) == '58'
    assert root.find('.//ram:DirectDebitMandateID', NS) is None and root.find('.//ram:CreditorReferenceID', NS) is None
    terms = root.findtext('.//ram:SpecifiedTradePaymentTerms/ram:Description', namespaces=NS)
    assert terms == 'Der Rechnungsbetrag ist mit Ihren Abschlägen beglichen.'


def test_the_pdf_shows_each_line_s_net_price_as_the_xml_bills_it(tmp_path):
    """A net price derived from a gross one has up to six places (32 ct/kWh gross: 0.268908 €/kWh net). The PDF
    rounded it to 26,89 ct/kWh while the XML bills 0.268908 and the line's 426,76 € is 1.587 kWh × 26,8908 ct (at
    26,89 ct it would be 426,74 €): the PDF's price and the e-invoice's disagreed."""
    import subprocess

    from domain.bill_layout import bill_pdf

    for commodity, working, shown in (
        ('electricity', '0.268908', '26,8908 ct/kWh'),
        ('water', '2.149533', '2,149533 €/m³'),  # 2,30 € gross at 7 %
    ):
        prices = [PricePeriod(date(2026, 1, 1), Decimal(working), Decimal('120.00'))]
        consumption = Decimal(1587)
        result = compute_bill(
            consumption, commodity, date(2026, 1, 1), date(2026, 12, 31), prices, Decimal('0.19'), Decimal(1111)
        )
        bill = replace(
            sample_bill(commodity=commodity), result=result, consumption=consumption, vat_rate=Decimal('0.19')
        )
        profile = PROFILES['stadtwerke-a']
        (tmp_path / 'bill.pdf').write_bytes(bill_pdf(profile, bill))
        text = subprocess.run(
            ['pdftotext', '-layout', str(tmp_path / 'bill.pdf'), '-'], capture_output=True, text=True, check=True
        ).stdout
        price = ET.fromstring(cii_xml(profile, bill)).findtext('.//ram:ChargeAmount', namespaces=NS)
        assert price == working
        assert shown in text, commodity
    assert '120,00 €/Jahr' in text  # a price with fewer places keeps the usual ones


def test_a_final_bill_s_credit_is_not_set_off_against_an_installment_that_no_longer_comes(tmp_path):
    """A contract ended on 31.12.: its Schlussrechnung has no next installment. Without the customer's IBAN the
    e-invoice said "Das Guthaben wird mit dem nächsten Abschlag verrechnet" (payment means 97, clearing) and the PDF
    offered to set it off against the next installment: there is none, the credit must be paid out."""
    import subprocess

    from domain.bill_layout import bill_pdf

    bill = replace(
        sample_bill(paid='3000'),
        kind='final',
        contract_end=date(2026, 12, 31),
        next_termination=None,
        next_installment=None,
        next_installment_first_due=None,
    )
    assert bill.result.balance < 0
    profile = PROFILES['stadtwerke-a']
    xml = cii_xml(profile, bill)
    validate(xml)
    root = ET.fromstring(xml)
    terms = root.findtext('.//ram:SpecifiedTradePaymentTerms/ram:Description', namespaces=NS) or ''
    assert 'Abschlag' not in terms
    assert root.findtext('.//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode', namespaces=NS) != '97'
    (tmp_path / 'bill.pdf').write_bytes(bill_pdf(profile, bill))
    text = subprocess.run(
        ['pdftotext', '-layout', str(tmp_path / 'bill.pdf'), '-'], capture_output=True, text=True, check=True
    ).stdout
    assert 'Schlussrechnung' in text and 'nächsten Abschlag' not in text and 'Bankverbindung' in text


def _half_up(value: Decimal) -> Decimal:
    from decimal import ROUND_HALF_UP

    return value.quantize(Decimal('0.01'), ROUND_HALF_UP)


@pytest.mark.parametrize('paid', ['0', '1000', '3000'])
def test_the_xml_sums_add_up_by_an_independent_reckoning_over_many_lines_in_a_leap_year(paid):
    """Twelve price changes in 2028 (366 days), prices with half cents: BR-CO-10 … BR-CO-16 and BR-S-08/09 checked
    from the XML's own figures, each line as quantity × price ÷ base quantity rounded half up."""
    prices = [
        PricePeriod(date(2028, month, 1), Decimal('0.2345') + Decimal('0.0005') * month, Decimal('119.99'))
        for month in range(1, 13)
    ]
    result = compute_bill(
        Decimal('3333'), 'electricity', date(2028, 1, 1), date(2028, 12, 31), prices, Decimal('0.19'), Decimal(paid)
    )
    bill = replace(
        sample_bill(), result=result, period_start=date(2028, 1, 1), period_end=date(2028, 12, 31),
        bill_date=date(2028, 12, 31), due_date=date(2029, 1, 14), consumption=Decimal('3333'),
    )  # fmt: skip
    xml = cii_xml(PROFILES['stadtwerke-a'], bill)
    validate(xml)
    root = ET.fromstring(xml)
    lines = []
    for item in root.iterfind('.//ram:IncludedSupplyChainTradeLineItem', NS):
        quantity = Decimal(item.findtext('.//ram:BilledQuantity', namespaces=NS) or '')
        price = Decimal(item.findtext('.//ram:ChargeAmount', namespaces=NS) or '')
        basis = Decimal(item.findtext('.//ram:BasisQuantity', namespaces=NS) or '1')
        amount = Decimal(item.findtext('.//ram:LineTotalAmount', namespaces=NS) or '')
        assert amount == _half_up(quantity * price / basis)
        lines.append(amount)
    assert len(lines) == 24 and sum(1 for x in root.iter() if x.text == '366' and x.get('unitCode') == 'DAY') == 12

    def total(name: str) -> Decimal:
        return Decimal(root.findtext(f'.//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{name}', '', NS))

    tax = root.find('rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax', NS)
    assert tax is not None
    basis, vat = Decimal(tax.findtext('ram:BasisAmount', '', NS)), Decimal(tax.findtext('ram:CalculatedAmount', '', NS))
    assert total('LineTotalAmount') == sum(lines) == basis == total('TaxBasisTotalAmount')  # BR-CO-10, 13, S-08
    assert vat == _half_up(basis * Decimal(tax.findtext('ram:RateApplicablePercent', '', NS)) / 100)  # BR-S-09
    assert total('TaxTotalAmount') == vat and total('GrandTotalAmount') == basis + vat  # BR-CO-14, 15
    due, prepaid = total('DuePayableAmount'), total('TotalPrepaidAmount')
    assert due == total('GrandTotalAmount') - prepaid == basis + vat - Decimal(paid)  # BR-CO-16
    amounts = [x.text or '' for x in root.iter() if x.tag.endswith('Amount') and 'Line' in x.tag]
    assert all(len(text.split('.')[-1]) == 2 for text in amounts)  # cents, never more places
