"""One-time secrets (activation links, PINs, reset links, email-change links, temporary passwords).

The plain value goes to the customer by mail; only a keyed digest is stored, so a copy of the database
gives nobody a usable link or PIN. Tokens are single use and expire.
"""

import hashlib
import hmac
import secrets
import string
from datetime import datetime, timedelta

from domain.clock import later
from domain.model import OneTimeToken

PIN_DIGITS = 6
_TEMP_ALPHABET = string.ascii_letters + string.digits


def new_link_token() -> str:
    return secrets.token_urlsafe(32)


def new_pin() -> str:
    return ''.join(secrets.choice(string.digits) for _ in range(PIN_DIGITS))


def new_temporary_password() -> str:
    """Twelve letters and digits plus a fixed tail, so it passes every profile's password policy."""
    return ''.join(secrets.choice(_TEMP_ALPHABET) for _ in range(12)) + 'a1A!'


def digest(secret: str, plain: str) -> str:
    """Keyed hash of a token: a PIN has only a million values, so a plain hash would be guessable."""
    return hmac.new(secret.encode(), plain.strip().encode(), hashlib.sha256).hexdigest()


def is_usable(expires_at: datetime, used_at: datetime | None, now: datetime) -> bool:
    return used_at is None and now < expires_at


def stored(
    secret: str, user_id: int, purpose: str, plain: str, now: datetime, valid: timedelta, payload: str = ''
) -> OneTimeToken:
    """What is kept of a one-time secret sent by mail: its keyed digest (never the plain value), valid from `now`
    for `valid`."""
    return OneTimeToken(
        user_id=user_id,
        purpose=purpose,
        digest=digest(secret, plain),
        payload=payload,
        created_at=now,
        expires_at=later(now, valid),
    )
