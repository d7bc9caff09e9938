"""Foto des Zählers: whatever a phone sends comes out as a fresh JPEG, upright, small, without metadata."""

import io

import pytest
from PIL import Image

from domain.errors import PhotoTooLarge, PhotoUnreadable
from domain.photos import MAX_BYTES, clean_photo


def photo(kind: str, size=(3000, 1500), orientation: int = 1) -> bytes:
    image = Image.new('RGB', size, 'white')
    exif = Image.Exif()
    exif[0x010F] = 'Kamera-Hersteller'  # Make
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, kind, exif=exif.tobytes()) if kind != 'PNG' else image.save(out, kind)
    return out.getvalue()


@pytest.mark.parametrize('kind', ['JPEG', 'PNG', 'HEIF'])
def test_a_phone_photo_becomes_a_small_jpeg_without_metadata(kind):
    cleaned = Image.open(io.BytesIO(clean_photo(photo(kind))))
    assert cleaned.format == 'JPEG' and cleaned.size == (2000, 1000)
    assert dict(cleaned.getexif()) == {} and 'exif' not in cleaned.info


def test_a_photo_taken_sideways_is_turned_upright():
    cleaned = Image.open(io.BytesIO(clean_photo(photo('JPEG', orientation=6))))  # 6: rotate 90° to view
    assert cleaned.size == (1000, 2000)


@pytest.mark.parametrize('content', [b'%PDF-1.7 not a photo', b'', b'\xff\xd8\xff broken jpeg', b'GIF89a' + b'0' * 50])
def test_what_is_not_a_photo_is_refused(content):
    with pytest.raises(PhotoUnreadable):
        clean_photo(content)


def test_more_than_ten_megabytes_is_refused_before_it_is_opened():
    with pytest.raises(PhotoTooLarge):
        clean_photo(b'\xff\xd8\xff' + b'0' * MAX_BYTES)


def test_a_small_file_claiming_a_huge_picture_is_refused_before_it_is_decoded():
    """144 megapixels in a few hundred KB: decoded whole (a 20 KB PNG of 13,000² took 1.1 GB), for anybody with a
    reading code. A phone's 50-megapixel JPEG is still taken, decoded at the size it is scaled to."""
    for size in ((12000, 12000), (10000, 7000)):  # above Pillow's own limit, and above the portal's only
        bomb = io.BytesIO()
        Image.new('1', size).save(bomb, 'PNG')
        assert len(bomb.getvalue()) < MAX_BYTES
        with pytest.raises(PhotoTooLarge) as refused:
            clean_photo(bomb.getvalue())
        assert refused.value.params['max_megapixels'] == 60
    phone = io.BytesIO()
    Image.new('RGB', (8160, 6120), 'white').save(phone, 'JPEG', quality=50)  # 49.9 megapixels
    with Image.open(io.BytesIO(clean_photo(phone.getvalue()))) as cleaned:
        assert max(cleaned.size) == 2000
