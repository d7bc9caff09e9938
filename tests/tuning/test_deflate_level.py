"""service/tuning/deflate_level.py: ReportLab's own saving of a bill deflates every stream through the patch, at the
quicker level, and each stream holds the same bytes as ReportLab alone writes."""

import io
import zlib

from pypdf import PdfReader
from pypdf.generic import StreamObject

from domain.bill_layout import bill_pdf
from service import tuning
from service.tuning import deflate_level
from storage.settings import Settings
from tests.domain.test_einvoice import sample_bill

PROFILE = Settings(profile='stadtwerke-a', demo=True).load_profile()


def streams(pdf: bytes) -> list[bytes]:
    """Every stream of the PDF, inflated."""
    reader = PdfReader(io.BytesIO(pdf))
    objects = (reader.get_object(number) for number in range(1, int(reader.trailer['/Size'])))  # type: ignore[call-overload]
    return [found.get_data() for found in objects if isinstance(found, StreamObject)]


def test_every_stream_of_a_bill_is_deflated_at_the_quicker_level_and_inflates_the_same():
    bill = sample_bill('RE20270000001')
    tuning.uninstall()
    alone = bill_pdf(PROFILE, bill)
    before = deflate_level.stats['streams']
    try:
        assert tuning.install(only=('deflate_level',)) == ['deflate_level']
        tuned = bill_pdf(PROFILE, bill)
    finally:
        tuning.uninstall()
    assert streams(tuned) == streams(alone)
    content = next(stream for stream in streams(tuned) if b' Tf ' in stream)  # the first page's text
    assert zlib.compress(content, deflate_level.LEVEL) in tuned and zlib.compress(content) not in tuned
    flate = alone.count(b'/FlateDecode')  # the logo's image is compressed once by ReportLab's image code
    assert deflate_level.stats['streams'] - before == flate - 1
    counted = deflate_level.stats['streams']
    again = bill_pdf(PROFILE, bill)
    assert deflate_level.stats['streams'] == counted and zlib.compress(content) in again  # taken out again
