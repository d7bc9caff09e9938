"""A business customer's bill as an e-invoice (docs/domain.md §9): the UN/CEFACT Cross Industry Invoice (CII) XML of
EN 16931, as Factur-X/ZUGFeRD profile EN 16931 or, for a public body with a Leitweg-ID, as XRechnung 3.0.

The XML states exactly what the PDF shows: one line per cost position (quantity, unit, net price), the VAT
breakdown, the installments paid as prepaid amount and the result as amount due. A bill whose result is a credit
is a credit note (type 381) with the same amounts; its amount due is the credit, negative as on the PDF.
"""

import io
import logging
import re
import tempfile
import zlib
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, cast
from xml.etree import ElementTree as ET

from PIL import ImageCms
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, NumberObject

from domain import bill_layout
from domain.billing import BillDocument, Line
from domain.identifiers import normalise, working_price_name
from domain.profile import UtilityProfile

RSM = 'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100'
RAM = 'urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100'
UDT = 'urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100'
QDT = 'urn:un:unece:uncefact:data:standard:QualifiedDataType:100'
for _prefix, _uri in (('rsm', RSM), ('ram', RAM), ('udt', UDT), ('qdt', QDT)):
    ET.register_namespace(_prefix, _uri)

GUIDELINES = {
    'factur-x': 'urn:cen.eu:en16931:2017',
    'xrechnung': 'urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0',
}
PEPPOL_PROCESS = 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0'
INVOICE, CREDIT_NOTE = '380', '381'
UNITS = {'kWh': 'KWH', 'm³': 'MTQ'}  # UN/ECE Recommendation 20
DIRECT_DEBIT, SEPA_TRANSFER, CLEARING, NOT_DEFINED = '59', '58', '97', '1'  # UNTDID 4461


def type_code(bill: BillDocument) -> str:
    return CREDIT_NOTE if bill.result.balance < 0 else INVOICE


def _el(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    prefix, name = tag.split(':')
    element = ET.SubElement(parent, f'{{{RSM if prefix == "rsm" else RAM}}}{name}', attributes)
    if text is not None:
        element.text = text
    return element


def _date(parent: ET.Element, tag: str, value: date) -> None:
    holder = _el(parent, tag)
    ET.SubElement(holder, f'{{{UDT}}}DateTimeString', {'format': '102'}).text = value.strftime('%Y%m%d')


def _amount(value: Decimal) -> str:
    return f'{value:.2f}'


def _number(value: Decimal) -> str:
    """A quantity or price as the plain decimal it is (no exponent, no trailing zeros beyond what it has)."""
    text = format(value.normalize(), 'f')
    return text if text not in ('-0', '') else '0'


def _period(parent: ET.Element, start: date, end: date) -> None:
    period = _el(parent, 'ram:BillingSpecifiedPeriod')
    _date(period, 'ram:StartDateTime', start)
    _date(period, 'ram:EndDateTime', end)


def _address(parent: ET.Element, street: str, postal_code: str, city: str) -> None:
    address = _el(parent, 'ram:PostalTradeAddress')
    _el(address, 'ram:PostcodeCode', postal_code)
    _el(address, 'ram:LineOne', street)
    _el(address, 'ram:CityName', city)
    _el(address, 'ram:CountryID', 'DE')


def _line(parent: ET.Element, index: int, line: Line, bill: BillDocument) -> None:
    item = _el(parent, 'ram:IncludedSupplyChainTradeLineItem')
    _el(_el(item, 'ram:AssociatedDocumentLineDocument'), 'ram:LineID', str(index))
    commodity = bill_layout.COMMODITY_TITLES.get(bill.commodity, bill.commodity)
    per_unit = working_price_name(bill.commodity)  # water's is the Mengenpreis
    name = f'{per_unit} {commodity}' if line.kind == 'energy' else f'Grundpreis {commodity}'
    _el(_el(item, 'ram:SpecifiedTradeProduct'), 'ram:Name', name)
    price = _el(_el(item, 'ram:SpecifiedLineTradeAgreement'), 'ram:NetPriceProductTradePrice')
    _el(price, 'ram:ChargeAmount', _number(line.unit_price))
    if line.kind == 'energy':
        unit = UNITS.get(bill.unit, 'C62')
    else:  # the base price is per year: billed per day, the price's base quantity the year's days
        unit = 'DAY'
        _el(price, 'ram:BasisQuantity', str(bill.result.days_of_year(bill.period_start)), unitCode='DAY')
    _el(_el(item, 'ram:SpecifiedLineTradeDelivery'), 'ram:BilledQuantity', _number(line.quantity), unitCode=unit)
    settlement = _el(item, 'ram:SpecifiedLineTradeSettlement')
    tax = _el(settlement, 'ram:ApplicableTradeTax')
    _el(tax, 'ram:TypeCode', 'VAT')
    _el(tax, 'ram:CategoryCode', 'S')
    _el(tax, 'ram:RateApplicablePercent', _number(bill.vat_rate * 100))
    _period(settlement, line.start, line.end)
    summation = _el(settlement, 'ram:SpecifiedTradeSettlementLineMonetarySummation')
    _el(summation, 'ram:LineTotalAmount', _amount(line.amount))


def _seller(agreement: ET.Element, profile: UtilityProfile) -> None:
    seller, party = profile.seller, _el(agreement, 'ram:SellerTradeParty')
    _el(party, 'ram:Name', seller.legal_name or profile.name)
    if seller.commercial_register:
        _el(_el(party, 'ram:SpecifiedLegalOrganization'), 'ram:ID', seller.commercial_register)
    contact = _el(party, 'ram:DefinedTradeContact')
    _el(contact, 'ram:PersonName', 'Kundenservice')
    _el(_el(contact, 'ram:TelephoneUniversalCommunication'), 'ram:CompleteNumber', profile.phone)
    _el(_el(contact, 'ram:EmailURIUniversalCommunication'), 'ram:URIID', profile.email)
    _address(party, profile.street, profile.postal_code, profile.city)
    _el(_el(party, 'ram:URIUniversalCommunication'), 'ram:URIID', profile.email, schemeID='EM')
    if seller.vat_id:
        _el(_el(party, 'ram:SpecifiedTaxRegistration'), 'ram:ID', seller.vat_id, schemeID='VA')
    if seller.tax_number:
        _el(_el(party, 'ram:SpecifiedTaxRegistration'), 'ram:ID', seller.tax_number, schemeID='FC')


def _buyer(agreement: ET.Element, bill: BillDocument) -> None:
    party = _el(agreement, 'ram:BuyerTradeParty')
    _el(party, 'ram:ID', bill.customer_number)
    _el(party, 'ram:Name', bill.customer_name)
    street, place = (*bill.customer_address, '', '')[:2]
    postal_code, _, city = place.partition(' ')
    _address(party, street, postal_code, city)
    if bill.buyer_leitweg_id:  # a public body is reached by its Leitweg-ID (Peppol scheme 0204)
        _el(_el(party, 'ram:URIUniversalCommunication'), 'ram:URIID', bill.buyer_leitweg_id, schemeID='0204')
    elif bill.buyer_email:
        _el(_el(party, 'ram:URIUniversalCommunication'), 'ram:URIID', bill.buyer_email, schemeID='EM')
    if bill.buyer_vat_id:
        _el(_el(party, 'ram:SpecifiedTaxRegistration'), 'ram:ID', bill.buyer_vat_id, schemeID='VA')


def _payment(settlement: ET.Element, profile: UtilityProfile, bill: BillDocument) -> str:
    """The payment means, and the terms' text: a debit under the SEPA mandate, a transfer to the utility, or for a
    credit a transfer to the customer's account (or set off against the next installment when there is none; a final
    bill has no next installment: the customer is asked for an account)."""
    means = _el(settlement, 'ram:SpecifiedTradeSettlementPaymentMeans')
    balance = bill.result.balance
    if balance > 0 and bill.mandate_reference:  # as the PDF: an even bill debits nothing
        _el(means, 'ram:TypeCode', DIRECT_DEBIT)
        _el(_el(means, 'ram:PayerPartyDebtorFinancialAccount'), 'ram:IBANID', normalise(bill.customer_iban))
        return 'Der Betrag wird per SEPA-Lastschrift eingezogen.'
    if balance < 0 and bill.customer_iban:
        _el(means, 'ram:TypeCode', SEPA_TRANSFER)
        _el(_el(means, 'ram:PayeePartyCreditorFinancialAccount'), 'ram:IBANID', normalise(bill.customer_iban))
        return 'Das Guthaben wird auf Ihr Konto überwiesen.'
    if balance < 0 and bill.next_installment is None:  # a final bill: no installment comes to set it off against
        _el(means, 'ram:TypeCode', NOT_DEFINED)
        return 'Bitte teilen Sie uns Ihre Bankverbindung mit; wir überweisen Ihnen das Guthaben.'
    if balance < 0:
        _el(means, 'ram:TypeCode', CLEARING)
        return 'Das Guthaben wird mit dem nächsten Abschlag verrechnet.'
    _el(means, 'ram:TypeCode', SEPA_TRANSFER)
    _el(_el(means, 'ram:PayeePartyCreditorFinancialAccount'), 'ram:IBANID', normalise(profile.seller.iban))
    if profile.seller.bic:
        _el(_el(means, 'ram:PayeeSpecifiedCreditorFinancialInstitution'), 'ram:BICID', profile.seller.bic)
    if balance == 0:
        return 'Der Rechnungsbetrag ist mit Ihren Abschlägen beglichen.'
    return f'Bitte überweisen Sie den Betrag unter Angabe der Rechnungsnummer {bill.bill_number}.'


def cii_xml(profile: UtilityProfile, bill: BillDocument) -> bytes:
    """The bill's CII XML (UTF-8), Factur-X EN 16931 or XRechnung as `bill.einvoice` says."""
    root = ET.Element(f'{{{RSM}}}CrossIndustryInvoice')
    context = _el(root, 'rsm:ExchangedDocumentContext')
    if bill.einvoice == 'xrechnung':
        _el(_el(context, 'ram:BusinessProcessSpecifiedDocumentContextParameter'), 'ram:ID', PEPPOL_PROCESS)
    _el(_el(context, 'ram:GuidelineSpecifiedDocumentContextParameter'), 'ram:ID', GUIDELINES[bill.einvoice])
    document = _el(root, 'rsm:ExchangedDocument')
    _el(document, 'ram:ID', bill.bill_number)
    _el(document, 'ram:TypeCode', type_code(bill))
    _date(document, 'ram:IssueDateTime', bill.bill_date)
    note = _el(document, 'ram:IncludedNote')  # the seller's legal details (subject REG)
    _el(note, 'ram:Content', profile.seller_line or profile.name)
    _el(note, 'ram:SubjectCode', 'REG')
    if bill.replaces:
        replaced = f'Diese Rechnung ersetzt die Rechnung Nr. {bill.replaces}.'
        _el(_el(document, 'ram:IncludedNote'), 'ram:Content', replaced)
    transaction = _el(root, 'rsm:SupplyChainTradeTransaction')
    for index, line in enumerate(bill.result.lines, 1):
        _line(transaction, index, line, bill)
    agreement = _el(transaction, 'ram:ApplicableHeaderTradeAgreement')
    if bill.buyer_leitweg_id:
        _el(agreement, 'ram:BuyerReference', bill.buyer_leitweg_id)
    _seller(agreement, profile)
    _buyer(agreement, bill)
    _el(_el(agreement, 'ram:ContractReferencedDocument'), 'ram:IssuerAssignedID', bill.contract_number)
    _el(transaction, 'ram:ApplicableHeaderTradeDelivery')
    settlement = _el(transaction, 'ram:ApplicableHeaderTradeSettlement')
    if bill.mandate_reference and bill.result.balance > 0:
        _el(settlement, 'ram:CreditorReferenceID', profile.creditor_id)
    _el(settlement, 'ram:PaymentReference', bill.bill_number)
    _el(settlement, 'ram:InvoiceCurrencyCode', 'EUR')
    terms_text = _payment(settlement, profile, bill)
    result = bill.result
    tax = _el(settlement, 'ram:ApplicableTradeTax')
    _el(tax, 'ram:CalculatedAmount', _amount(result.vat))
    _el(tax, 'ram:TypeCode', 'VAT')
    _el(tax, 'ram:BasisAmount', _amount(result.net))
    _el(tax, 'ram:CategoryCode', 'S')
    _el(tax, 'ram:RateApplicablePercent', _number(bill.vat_rate * 100))
    _period(settlement, bill.period_start, bill.period_end)
    terms = _el(settlement, 'ram:SpecifiedTradePaymentTerms')
    _el(terms, 'ram:Description', terms_text)
    _date(terms, 'ram:DueDateDateTime', bill.due_date)
    if bill.mandate_reference and result.balance > 0:
        _el(terms, 'ram:DirectDebitMandateID', bill.mandate_reference)
    totals = _el(settlement, 'ram:SpecifiedTradeSettlementHeaderMonetarySummation')
    _el(totals, 'ram:LineTotalAmount', _amount(result.net))
    _el(totals, 'ram:TaxBasisTotalAmount', _amount(result.net))
    _el(totals, 'ram:TaxTotalAmount', _amount(result.vat), currencyID='EUR')
    _el(totals, 'ram:GrandTotalAmount', _amount(result.gross))
    _el(totals, 'ram:TotalPrepaidAmount', _amount(result.paid))
    _el(totals, 'ram:DuePayableAmount', _amount(result.balance))
    if bill.replaces:
        _el(_el(settlement, 'ram:InvoiceReferencedDocument'), 'ram:IssuerAssignedID', bill.replaces)
    return ET.tostring(root, encoding='utf-8', xml_declaration=True)


class InvalidEInvoice(ValueError):
    """The XML breaks the EN 16931 schema: a defect of ours, reported by the billing run, never sent."""


def validate(xml: bytes) -> Any:
    """Check the XML against the EN 16931 CII XSD that the factur-x package ships (XRechnung CII uses the same);
    returns the parsed root (lxml). Parsed without entities and without the network: the XML may come from outside
    (the API)."""
    from facturx import xml_check_xsd  # imported when needed: 0.2 s and 40 MB that most processes never use
    from lxml import etree

    # factur-x logs a schema error at ERROR before raising it; the caller gets it as InvalidEInvoice and reports it
    # where it belongs (a 422 to the billing system, an error line of the billing run)
    logging.getLogger('factur-x').setLevel(logging.CRITICAL)

    try:
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False))
        xml_check_xsd(root, flavor='factur-x', level='en16931')
    except Exception as error:  # lxml's syntax error, or factur-x's bare Exception with the schema's message
        raise InvalidEInvoice(str(error).splitlines()[0][:300]) from error
    return root


def delivered_problem(xml: bytes, bill_number: str) -> str:
    """Why an e-invoice delivered by the billing system (API `POST /bills`) cannot be kept, or ''."""
    try:
        root = validate(xml)
    except InvalidEInvoice as error:
        return f'not an EN 16931 CII e-invoice: {error}'
    encoding = (root.getroottree().docinfo.encoding or '').upper()
    if encoding not in ('UTF-8', 'UTF8'):  # as XRechnung asks; a second parser took Shift_JIS for an error (a 500)
        return f'the XML is encoded in {encoding or "an unknown encoding"}, not UTF-8'
    number = root.findtext(f'{{{RSM}}}ExchangedDocument/{{{RAM}}}ID')
    if number != bill_number:
        return f'the XML is invoice {number!r}, not {bill_number!r}'
    return ''


def embed(pdf: bytes, xml: bytes, title: str, subject: str, author: str) -> bytes:
    """The PDF as Factur-X/ZUGFeRD: the XML embedded as factur-x.xml (relationship Data) and the PDF/A-3 XMP
    metadata; the PDF must already carry its output intent and embedded fonts (bill_layout.bill_pdf)."""
    from facturx import generate_from_file

    validate(xml)
    metadata = {'author': author, 'keywords': 'Factur-X, ZUGFeRD, Rechnung', 'title': title, 'subject': subject}
    # Through files: factur-x 7.8's generate_from_binary writes the new PDF after the old one into the same
    # temporary file (two PDFs in one, the header not at the start).
    with tempfile.TemporaryDirectory(prefix='kundenportal-einvoice-') as folder:
        source, target = Path(folder) / 'bill.pdf', Path(folder) / 'e-invoice.pdf'
        source.write_bytes(pdf)
        generate_from_file(
            str(source),
            xml,
            flavor='factur-x',
            level='en16931',
            check_xsd=False,
            pdf_metadata=metadata,
            lang='de-DE',
            output_pdf_file=str(target),
        )
        return target.read_bytes()


def bill_files(profile: UtilityProfile, bill: BillDocument) -> tuple[bytes, bytes]:
    """The bill's PDF and, for a business customer, its e-invoice XML (b'' for a consumer's bill), which the PDF
    then carries embedded as Factur-X/ZUGFeRD EN 16931 on PDF/A-3 (docs/domain.md §9)."""
    pdf = bill_layout.bill_pdf(profile, bill)
    if not bill.einvoice:
        return pdf, b''
    xml = cii_xml(profile, bill)
    title = f'{bill_layout.bill_title(bill)} {bill.bill_number}'
    subject = f'E-Rechnung {bill.bill_number} vom {bill.bill_date:%d.%m.%Y}, Kundennummer {bill.customer_number}'
    embedded = embed(pdf, xml, title, subject, profile.seller.legal_name or profile.name)
    return with_output_intent(embedded), xml


@cache
def _srgb() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile('sRGB')).tobytes()


def with_output_intent(pdf: bytes) -> bytes:
    """PDF/A's output intent (the colours, DeviceRGB throughout, are meant as sRGB) added as an incremental update
    (PDF 1.7, 7.5.6): ReportLab writes only the catalog entries it knows, and pypdf has no public way to add an
    object. The update appends the ICC profile, the intent and the catalog with /OutputIntents, and an xref section
    pointing back to the original one."""
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer.raw_get('/Root')
    size = int(cast(NumberObject, reader.trailer['/Size']))
    icc, intent = size, size + 1
    catalog = DictionaryObject(cast(DictionaryObject, reader.trailer['/Root']))
    catalog[NameObject('/OutputIntents')] = ArrayObject([IndirectObject(intent, 0, reader)])
    serialised = io.BytesIO()
    catalog.write_to_stream(serialised)
    profile = zlib.compress(_srgb())
    condition = b'(sRGB IEC61966-2.1)'
    bodies = {
        icc: b'<< /N 3 /Filter /FlateDecode /Length %d >>\nstream\n%b\nendstream' % (len(profile), profile),
        intent: b'<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier %b /Info %b '
        b'/RegistryName (http://www.color.org) /DestOutputProfile %d 0 R >>' % (condition, condition, icc),
        root.idnum: serialised.getvalue(),
    }
    out = bytearray(pdf if pdf.endswith(b'\n') else pdf + b'\n')
    offsets = {}
    for number, body in bodies.items():
        offsets[number] = len(out)
        generation = root.generation if number == root.idnum else 0
        out += b'%d %d obj\n%b\nendobj\n' % (number, generation, body)
    xref = len(out)
    out += b'xref\n%d 1\n%010d %05d n \n%d 2\n' % (root.idnum, offsets[root.idnum], root.generation, icc)
    out += b'%010d 00000 n \n%010d 00000 n \n' % (offsets[icc], offsets[intent])
    trailer = DictionaryObject(reader.trailer)
    trailer[NameObject('/Size')] = NumberObject(size + 2)
    trailer[NameObject('/Prev')] = NumberObject(int(re.findall(rb'startxref\s+(\d+)', pdf[-1024:])[-1]))
    serialised = io.BytesIO()
    trailer.write_to_stream(serialised)
    out += b'trailer\n%b\nstartxref\n%d\n%%%%EOF\n' % (serialised.getvalue(), xref)
    return bytes(out)
