"""service/tuning/pdf_objects.py: ReportLab's own saving of a document writes its texts and number arrays through
the patch, and the PDF is the same byte for byte as ReportLab alone writes it."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from reportlab import rl_config
from reportlab.pdfbase import pdfdoc

from domain.bill_layout import bill_pdf
from domain.contract_requests import Receipt
from domain.customer_documents import receipt_pdf
from service import tuning
from service.tuning import pdf_objects
from storage.settings import Settings
from tests.domain.test_einvoice import sample_bill

PROFILE = Settings(profile='stadtwerke-a', demo=True).load_profile()
WATER = Settings(profile='wasserverband-c', demo=True).load_profile()


RECEIPT = Receipt(
    'K-000017',
    'Kündigung',
    datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
    (('Vertrag', 'V-100200'), ('Kündigung zum', '31.01.2027'), ('Grund', 'Umzug ins Ausland')),
    'kunde@example.org',
)


def documents() -> list[bytes]:
    """Bills (a back-payment, a credit, water) and a receipt, as ReportLab writes them."""
    return [
        bill_pdf(PROFILE, sample_bill('RE20270000001')),
        bill_pdf(PROFILE, replace(sample_bill(paid='3000'), bill_number='RE20270000002')),
        bill_pdf(WATER, sample_bill('RE20270000003', commodity='water')),
        receipt_pdf(PROFILE, RECEIPT, 'Wir melden uns binnen fünf Werktagen.'),
    ]


def test_documents_are_written_through_the_patch_the_same_byte_for_byte(monkeypatch):
    monkeypatch.setattr(rl_config, 'invariant', 1)  # no date or random document id: two renderings compare equal
    tuning.uninstall()
    alone = documents()
    before = dict(pdf_objects.stats)
    try:
        assert tuning.install(only=('pdf_objects',)) == ['pdf_objects']
        tuned = documents()
    finally:
        tuning.uninstall()
    assert tuned == alone
    texts, arrays, names = (pdf_objects.stats[k] - before[k] for k in ('texts', 'arrays', 'names'))
    assert texts > 1000 and arrays >= 8  # names and numbers; each font subset's widths, the pages' boxes
    assert names > 400  # every dictionary's keys
    counted = dict(pdf_objects.stats)
    assert documents() == alone and pdf_objects.stats == counted  # taken out again


@pytest.mark.parametrize('value', ['/Type', '1 0 obj\n', 'Grüße € – ‚Zählerstand‘', '\x17', '', b'%PDF-1.4'], ids=repr)
def test_a_text_is_encoded_as_reportlab_s_codec_encodes_it(value):
    alone = pdfdoc.pdfdocEnc(value)
    try:
        tuning.install(only=('pdf_objects',))
        assert pdfdoc.pdfdocEnc(value) == alone
    finally:
        tuning.uninstall()


def test_what_the_codec_refuses_it_still_refuses():
    try:
        tuning.install(only=('pdf_objects',))
        with pytest.raises(UnicodeEncodeError):
            pdfdoc.pdfdocEnc('Zeile\x1aEnde')
    finally:
        tuning.uninstall()


@pytest.mark.parametrize(
    'sequence',
    [[], [0], [612, 792.0], list(range(25)), [317.87109375] * 10, [1, True], [1, 'x'], [0.5, pdfdoc.PDFName('A')]],
    ids=repr,
)
def test_an_array_is_written_as_reportlab_writes_it(sequence):
    document = pdfdoc.PDFDocument(invariant=1)
    alone = pdfdoc.PDFArray(sequence).format(document)
    try:
        tuning.install(only=('pdf_objects',))
        assert pdfdoc.PDFArray(sequence).format(document) == alone
    finally:
        tuning.uninstall()
