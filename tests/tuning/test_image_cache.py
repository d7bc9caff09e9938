"""service/tuning/image_cache.py: ReportLab's own drawImage, as the bill's letterhead calls it, takes the logo made
once, and the image in the PDF is the same as ReportLab alone makes it."""

import io
from dataclasses import replace
from typing import cast

from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from domain.bill_layout import bill_pdf
from service import tuning
from service.tuning import image_cache
from storage.settings import Settings
from tests.domain.test_einvoice import sample_bill

PROFILE = Settings(profile='stadtwerke-a', demo=True).load_profile()  # the demo utility with a PNG logo


def logo_in(pdf: bytes) -> tuple[dict[str, object], bytes]:
    """The first page's one image: its dictionary and its pixels."""
    resources = cast(DictionaryObject, PdfReader(io.BytesIO(pdf)).pages[0]['/Resources'].get_object())
    xobjects = cast(DictionaryObject, resources['/XObject'].get_object())
    images = [x.get_object() for x in xobjects.values() if x.get_object()['/Subtype'] == '/Image']
    assert len(images) == 1
    return {key: value for key, value in images[0].items()}, images[0].get_data()


def test_the_bill_s_logo_is_made_once_and_the_same_as_reportlab_makes_it():
    assert PROFILE.bill.logo
    tuning.uninstall()
    alone = [bill_pdf(PROFILE, sample_bill(number)) for number in ('RE20270000001', 'RE20270000002')]
    before = dict(image_cache.stats)
    try:
        assert tuning.install(only=('image_cache',)) == ['image_cache']
        tuned = [bill_pdf(PROFILE, sample_bill(number)) for number in ('RE20270000001', 'RE20270000002')]
        credit = bill_pdf(PROFILE, replace(sample_bill(paid='3000'), bill_number='RE20270000003'))
    finally:
        tuning.uninstall()
    assert image_cache.stats['made'] - before['made'] == 1  # installing starts with nothing kept
    assert image_cache.stats['reused'] - before['reused'] >= 2
    expected = logo_in(alone[0])
    assert logo_in(alone[1]) == expected
    assert all(logo_in(pdf) == expected for pdf in [*tuned, credit])
    assert expected[0]['/Filter'] == ['/FlateDecode'] and '/SMask' not in expected[0]  # flattened, as documents.py


def test_a_masked_or_unknown_image_is_left_to_reportlab(tmp_path):
    assert image_cache._key(str(tmp_path / 'missing.png'), None) is None
    assert image_cache._key(PROFILE.bill.logo, 'auto') is None  # a soft mask belongs to its own document
    assert image_cache._key(PROFILE.bill.logo, None) is not None
