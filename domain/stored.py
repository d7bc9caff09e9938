"""The names under which the portal keeps documents in its documents folder: its own choice, never a name, number or
path that came from outside (an upload's file name, a bill number from the billing system)."""

import hashlib
import re
import secrets

# the utility's logo uploaded in the back office, named by its content (`logo.png`: as uploaded before 05.12.2026)
LOGO = re.compile(r'logo(-[0-9a-f]{16})?\.(png|jpg|jpeg)')
IMPORT_FOLDER_PREFIX = 'kp-import-'  # the back office's uploaded CSV files, in the system's temp folder
# a PDF beside bills.csv that its pdf_file names (and the back office's import takes): a plain name, no path
PDF_FILE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,98}\.pdf', re.IGNORECASE)


def bill_file(content: bytes, suffix: str = 'pdf') -> str:
    """A delivered bill PDF (or e-invoice XML), named by its content: the same file delivered again is the same."""
    return f'bills/{hashlib.sha256(content).hexdigest()[:40]}.{suffix}'


def inbox_file(customer_id: int) -> str:
    """A document staff put into a customer's inbox."""
    return f'inbox/{customer_id}-{secrets.token_hex(12)}.pdf'


def photo_file(content: bytes) -> str:
    """A meter photo (already re-encoded by the portal), named by its content."""
    return f'photos/{hashlib.sha256(content).hexdigest()[:40]}.jpg'


def logo_file(content: bytes, suffix: str) -> str:
    """The utility's logo uploaded in the back office (`.png`, `.jpg` or `.jpeg`), named by its content: stored
    beside the logo in use, it takes effect when the settings are saved (and audited), not at the upload."""
    name = f'logo-{hashlib.sha256(content).hexdigest()[:16]}{suffix.lower()}'
    if not LOGO.fullmatch(name):
        raise ValueError(f'not a logo file type: {suffix!r}')
    return name


def image_suffix(content: bytes) -> str | None:
    """`.png` or `.jpg` by the file's own signature (not by its name), else None."""
    if content.startswith(b'\x89PNG\r\n\x1a\n'):
        return '.png'
    if content.startswith(b'\xff\xd8\xff'):
        return '.jpg'
    return None
