"""Foto des Zählers (issue 23): a photo a customer adds to a reading they confirmed although it looked implausible.

What a phone sends (JPEG, PNG, HEIC) is opened by its content, never its name, turned upright, scaled down and
saved again as a new JPEG: nothing of the original file reaches staff, in particular no metadata (GPS position,
device, time) and no bytes a viewer might trip over.
"""

import io

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from domain.errors import PhotoTooLarge, PhotoUnreadable

MAX_BYTES = 10 * 2**20
MAX_SIDE = 2000  # pixels: enough to read a meter's digits
FORMATS = ('JPEG', 'PNG', 'HEIF')

pillow_heif.register_heif_opener()


def clean_photo(content: bytes) -> bytes:
    """The photo as a fresh JPEG without metadata, at most MAX_SIDE pixels a side; PhotoTooLarge or PhotoUnreadable
    for what is not a photo of up to 10 MB in one of FORMATS."""
    if len(content) > MAX_BYTES:
        raise PhotoTooLarge(max_mb=MAX_BYTES // 2**20)
    try:
        with Image.open(io.BytesIO(content), formats=FORMATS) as image:
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            picture = upright.convert('RGB')
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        raise PhotoUnreadable() from None
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    picture.save(out, 'JPEG', quality=85, optimize=True)  # no exif=…: nothing of the original's metadata
    return out.getvalue()
