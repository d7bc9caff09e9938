"""E-invoices for business customers (docs/domain.md §9): the billing run makes each business customer's bill a
Factur-X/ZUGFeRD EN 16931 PDF/A-3 with its CII XML embedded and stored beside it, a public body's an XRechnung;
every XML validates against the EN 16931 CII XSD and states the amounts the PDF shows."""

import io
import re
import subprocess
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest
from facturx import get_xml_from_pdf
from pypdf import PdfReader
from sqlmodel import Session

from domain.billing import from_json
from domain.clock import BERLIN
from domain.einvoice import RAM, InvalidEInvoice, validate
from domain.model import BankAccount
from storage.bill_run import correct, run
from tests.storage.test_billing_run import bills, config, electricity, pdf_text, pinned_clock  # noqa: F401

NS = {'ram': RAM, 'rsm': 'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100'}
GERMAN = str.maketrans({'.': ',', ',': '.'})


def german(amount: str) -> str:
    value = Decimal(amount)
    return f'{abs(value):,.2f}'.translate(GERMAN) + ' €'


def mandate(engine, customer_id: int, iban: str = 'DE89370400440532013000', granted: bool = True) -> None:
    at = datetime(2025, 3, 1, tzinfo=BERLIN)
    with Session(engine) as session:
        session.add(
            BankAccount(
                customer_id=customer_id,
                holder='Beispiel GmbH',
                iban=iban,
                mandate_reference='MR-41000101-1' if granted else '',
                mandate_granted_at=at if granted else None,
                created_at=at,
            )
        )
        session.commit()


def the_bill(engine, config):  # noqa: F811
    [bill] = bills(engine)
    pdf = (config.documents / bill.pdf_path).read_bytes()
    xml = (config.documents / bill.xml_path).read_bytes() if bill.xml_path else b''
    return bill, pdf, xml


def totals(xml: bytes) -> dict[str, str]:
    root = ET.fromstring(xml)
    summation = root.find('.//ram:SpecifiedTradeSettlementHeaderMonetarySummation', NS)
    assert summation is not None
    return {child.tag.split('}')[1]: child.text or '' for child in summation}


def test_a_business_customer_gets_a_factur_x_pdf_a3_whose_xml_states_the_pdfs_amounts(engine, config):  # noqa: F811
    customer = electricity(engine, company='Bäckerei Beispiel GmbH', vat_id='DE131234568')
    mandate(engine, customer['id'])
    assert run(config, workers=1, progress=None).errors == []
    bill, pdf, xml = the_bill(engine, config)
    assert bill.xml_path == f'bills/{bill.bill_number}.xml'
    validate(xml)
    filename, embedded = get_xml_from_pdf(pdf, check_xsd=True)
    assert (filename, embedded) == ('factur-x.xml', xml)  # the round trip: the PDF carries the stored XML
    root = ET.fromstring(xml)
    assert root.findtext('.//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID', namespaces=NS) == (
        'urn:cen.eu:en16931:2017'
    )
    assert root.findtext('rsm:ExchangedDocument/ram:TypeCode', namespaces=NS) == '380'
    amounts = totals(xml)
    assert amounts == {
        'LineTotalAmount': '944.20',
        'TaxBasisTotalAmount': '944.20',
        'TaxTotalAmount': '179.40',
        'GrandTotalAmount': '1123.60',
        'TotalPrepaidAmount': '1111.00',
        'DuePayableAmount': '12.60',
    }
    text = pdf_text(config.documents / bill.pdf_path)  # pdftotext opens it and reads the same amounts
    for amount in amounts.values():
        assert german(amount) in text
    lines = [line.text for line in root.iterfind('.//ram:SpecifiedTradeSettlementLineMonetarySummation/*', NS)]
    assert [german(a) for a in lines if a] == ['396,75 €', '427,45 €', '59,51 €', '60,49 €']
    assert all(german(a) in text for a in lines if a)
    # paid by the SEPA mandate: creditor ID, mandate reference and the debited IBAN
    assert root.findtext('.//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode', namespaces=NS) == '59'
    assert root.findtext('.//ram:CreditorReferenceID', namespaces=NS) == config.profile.creditor_id
    assert root.findtext('.//ram:DirectDebitMandateID', namespaces=NS) == 'MR-41000101-1'
    assert root.findtext('.//ram:PayerPartyDebtorFinancialAccount/ram:IBANID', namespaces=NS) == (
        'DE89370400440532013000'
    )
    buyer = root.find('.//ram:BuyerTradeParty', NS)
    assert buyer is not None
    assert buyer.findtext('ram:Name', namespaces=NS) == 'Bäckerei Beispiel GmbH'
    assert buyer.findtext('ram:SpecifiedTaxRegistration/ram:ID', namespaces=NS) == 'DE131234568'
    assert buyer.findtext('.//ram:PostcodeCode', namespaces=NS) == '27749'
    seller = root.find('.//ram:SellerTradeParty', NS)
    assert seller is not None and seller.findtext('ram:SpecifiedTaxRegistration/ram:ID', namespaces=NS) == (
        'DE181234567'
    )
    assert 'Ihre USt-IdNr.' in text and 'DE131234568' in text and 'USt-IdNr. DE181234567' in text


def test_the_pdf_is_marked_pdf_a3_with_an_output_intent_and_embedded_fonts(engine, config):  # noqa: F811
    electricity(engine, company='Bäckerei Beispiel GmbH')
    run(config, workers=1, progress=None)
    bill, pdf, _ = the_bill(engine, config)
    assert pdf.startswith(b'%PDF-1.6') and pdf.count(b'%PDF-') == 1  # one document, its header first
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer['/Root']
    [intent] = root['/OutputIntents']
    assert intent.get_object()['/S'] == '/GTS_PDFA1'
    assert len(intent.get_object()['/DestOutputProfile'].get_object().get_data()) > 100  # the sRGB ICC profile
    metadata = root['/Metadata'].get_object().get_data()
    assert b'<pdfaid:part>3</pdfaid:part>' in metadata and b'<pdfaid:conformance>B</pdfaid:conformance>' in metadata
    assert b'EN 16931' in metadata
    fonts = subprocess.run(
        ['pdffonts', str(config.documents / bill.pdf_path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts and all(re.search(r'\byes\s+yes\s+(yes|no)\s+\d+\s+\d+$', line) for line in fonts)  # emb, sub


def test_a_credit_is_a_credit_note_paid_to_the_customers_account(engine, config):  # noqa: F811
    customer = electricity(engine, end=45210 + 1000, company='Bäckerei Beispiel GmbH')
    mandate(engine, customer['id'], granted=False)
    run(config, workers=1, progress=None)
    bill, _, xml = the_bill(engine, config)
    validate(xml)
    root = ET.fromstring(xml)
    assert root.findtext('rsm:ExchangedDocument/ram:TypeCode', namespaces=NS) == '381'
    amounts = totals(xml)
    assert Decimal(amounts['DuePayableAmount']) == bill.balance < 0
    text = pdf_text(config.documents / bill.pdf_path)
    assert f'Guthaben: {german(amounts["DuePayableAmount"])}' in text
    assert german(amounts['GrandTotalAmount']) in text and german(amounts['TotalPrepaidAmount']) in text
    assert root.findtext('.//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode', namespaces=NS) == '58'
    assert root.findtext('.//ram:PayeePartyCreditorFinancialAccount/ram:IBANID', namespaces=NS) == (
        'DE89370400440532013000'
    )
    assert root.find('.//ram:DirectDebitMandateID', NS) is None


def test_a_public_body_with_a_leitweg_id_gets_an_xrechnung(engine, config):  # noqa: F811
    electricity(engine, company='Gemeinde Aue-Süd', leitweg_id='04011000-1234512345-06')
    run(config, workers=1, progress=None)
    bill, pdf, xml = the_bill(engine, config)
    validate(xml)
    root = ET.fromstring(xml)
    assert root.findtext('.//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID', namespaces=NS) == (
        'urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0'
    )
    assert root.findtext('.//ram:BuyerReference', namespaces=NS) == '04011000-1234512345-06'
    assert root.find('.//ram:BuyerTradeParty/ram:URIUniversalCommunication/ram:URIID', NS).get('schemeID') == '0204'
    # no mandate: a transfer to the utility's account
    assert root.findtext('.//ram:PayeePartyCreditorFinancialAccount/ram:IBANID', namespaces=NS) == (
        config.profile.seller.iban
    )
    assert get_xml_from_pdf(pdf, check_xsd=True)[1] == xml
    assert 'Leitweg-ID' in pdf_text(config.documents / bill.pdf_path)


def test_a_correction_names_the_bill_it_replaces_and_a_consumer_keeps_the_plain_pdf(engine, config):  # noqa: F811
    electricity(engine, company='Bäckerei Beispiel GmbH')
    electricity(engine)
    run(config, workers=1, progress=None)
    business, consumer = bills(engine)
    assert consumer.xml_path == '' and not (config.documents / f'bills/{consumer.bill_number}.xml').exists()
    plain = (config.documents / consumer.pdf_path).read_bytes()
    assert '/OutputIntents' not in PdfReader(io.BytesIO(plain)).trailer['/Root']
    assert from_json(consumer.details).einvoice == ''
    corrected = correct(engine, config, business.bill_number)
    xml = (config.documents / f'bills/{corrected.bill_number}.xml').read_bytes()
    validate(xml)
    root = ET.fromstring(xml)
    assert root.findtext('.//ram:InvoiceReferencedDocument/ram:IssuerAssignedID', namespaces=NS) == (
        business.bill_number
    )


def test_an_xml_breaking_the_schema_is_refused():
    with pytest.raises(InvalidEInvoice):
        validate(
            b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>'
        )


def test_no_e_invoice_without_the_sellers_tax_id_the_run_says_why(engine, config):  # noqa: F811
    electricity(engine, company='Bäckerei Beispiel GmbH')
    seller = config.profile.seller.model_copy(update={'vat_id': '', 'tax_number': ''})
    broken = replace(config, profile=config.profile.model_copy(update={'seller': seller}))
    summary = run(broken, workers=1, progress=None)
    assert summary.bills == 0 and 'USt-IdNr. oder Steuernummer des Versorgers fehlt' in summary.errors[0][1]
    assert run(config, workers=1, progress=None).bills == 1  # fixed in the settings: the run again bills it


def test_a_tax_number_alone_does_not_identify_the_seller_of_an_e_invoice(engine, config):  # noqa: F811
    """EN 16931 BR-CO-26: the seller's identifier, legal registration or VAT ID; a tax number is none of them."""
    electricity(engine, company='Bäckerei Beispiel GmbH')
    update = {'vat_id': '', 'tax_number': '201/123/45678', 'commercial_register': ''}
    seller = config.profile.seller.model_copy(update=update)
    summary = run(
        replace(config, profile=config.profile.model_copy(update={'seller': seller})), workers=1, progress=None
    )
    assert summary.bills == 0 and 'Steuernummer allein genügt nach EN 16931 nicht' in summary.errors[0][1]
    registered = config.profile.seller.model_copy(update={**update, 'commercial_register': 'Amtsgericht Aue, HRA 1'})
    assert run(replace(config, profile=config.profile.model_copy(update={'seller': registered})), workers=1).bills == 1


@pytest.mark.parametrize('business', [False, True])
def test_a_back_payment_under_a_sepa_mandate_is_announced_as_a_debit(engine, config, business):  # noqa: F811
    """The bill said "Bitte zahlen Sie 12,60 €" to every customer, while the e-invoice (and the utility) debits it
    under the mandate: a customer who paid as asked paid twice. Now the PDF announces the debit, for consumers too."""
    customer = electricity(engine, company='Beispiel GmbH', vat_id='DE123456789') if business else electricity(engine)
    mandate(engine, customer['id'])
    assert run(config, workers=1, progress=None).errors == []
    bill, _, xml = the_bill(engine, config)
    text = ' '.join(pdf_text(config.documents / bill.pdf_path).split())
    assert 'Wir ziehen 12,60 € zum' in text and 'per SEPA-Lastschrift von Ihrem Konto ein' in text
    assert '(Mandatsreferenz MR-41000101-1)' in text and 'Bitte zahlen Sie' not in text
    assert bool(xml) == business


def test_without_a_mandate_in_force_the_bill_asks_for_a_transfer(engine, config):  # noqa: F811
    customer = electricity(engine)
    mandate(engine, customer['id'], granted=False)
    run(config, workers=1, progress=None)
    bill, _, _ = the_bill(engine, config)
    assert 'Bitte zahlen Sie 12,60 €' in ' '.join(pdf_text(config.documents / bill.pdf_path).split())


def test_an_even_bill_under_a_mandate_needs_the_utility_s_account_like_any_transfer(engine, config):  # noqa: F811
    """An even bill names the utility's account as its payment means (no debit): without the utility's IBAN the
    run wrote an empty <ram:IBANID/> (EN 16931 BR-50) instead of saying what is missing."""
    from datetime import date

    from sqlmodel import select

    from domain.model import Contract, Payment

    customer = electricity(engine, company='Bäckerei Beispiel GmbH', vat_id='DE131234568')
    mandate(engine, customer['id'])
    with Session(engine) as session:  # 1.111 € paid and 12,60 € more: the gross
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        session.add(Payment(contract_id=contract.id, paid_on=date(2026, 12, 1), amount=Decimal('12.60')))
        session.commit()
    seller = config.profile.seller.model_copy(update={'iban': '', 'bic': ''})
    summary = run(replace(config, profile=config.profile.model_copy(update={'seller': seller})), workers=1)
    assert summary.bills == 0
    assert 'IBAN des Versorgers für die Überweisung fehlt' in summary.errors[0][1]
    run(config, workers=1, progress=None)  # with the account: the bill says it is settled, and names the account
    _, _, xml = the_bill(engine, config)
    assert totals(xml)['DuePayableAmount'] == '0.00'
    iban = ET.fromstring(xml).findtext('.//ram:PayeePartyCreditorFinancialAccount/ram:IBANID', namespaces=NS)
    assert iban == config.profile.seller.iban.replace(' ', '')
