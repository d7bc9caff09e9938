"""Foto des Zählers (issue 23): a photo a customer adds to a reading they confirmed although it looked implausible.

What a phone sends (JPEG, PNG, HEIC) is opened by its content, never its name, turned upright, scaled down and
saved again as a new JPEG: nothing of the original file reaches staff, in particular no metadata (GPS position,
device, time) and no bytes a viewer might trip over.
"""

import io
import warnings

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from domain.errors import PhotoTooLarge, PhotoUnreadable

MAX_BYTES = 10 * 2**20
MAX_SIDE = 2000  # pixels: enough to read a meter's digits
MAX_PIXELS = 60_000_000  # a phone's 50-megapixel photo; a small file may claim far more (13,000² in 20 KB: 1.1 GB)
FORMATS = ('JPEG', 'PNG', 'HEIF')

pillow_heif.register_heif_opener()


def clean_photo(content: bytes) -> bytes:
    """The photo as a fresh JPEG without metadata, at most MAX_SIDE pixels a side; PhotoTooLarge or PhotoUnreadable
    for what is not a photo of up to 10 MB in one of FORMATS."""
    if len(content) > MAX_BYTES:
        raise PhotoTooLarge(max_mb=MAX_BYTES // 2**20, max_megapixels=MAX_PIXELS // 10**6)
    too_large = PhotoTooLarge(max_mb=MAX_BYTES // 2**20, max_megapixels=MAX_PIXELS // 10**6)
    try:
        with (
            warnings.catch_warnings(action='error', category=Image.DecompressionBombWarning),  # Pillow's own limit
            Image.open(io.BytesIO(content), formats=FORMATS) as image,
        ):
            if image.width * image.height > MAX_PIXELS:  # read from the header: refused before it is decoded
                raise too_large
            image.draft('RGB', (MAX_SIDE, MAX_SIDE))  # a JPEG is decoded at the size it is scaled to anyway
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            picture = upright.convert('RGB')
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise too_large from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise PhotoUnreadable() from None
    picture.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    picture.save(out, 'JPEG', quality=85, optimize=True)  # no exif=…: nothing of the original's metadata
    return out.getvalue()
