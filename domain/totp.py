"""Time-based one-time codes (RFC 6238) for the second factor of staff (mandatory) and customers (optional).

Secrets are stored sealed with AES-GCM under a key derived from the storage secret; a code is accepted for
the current, the previous or the next 30-second step, and each step only once (no replay).
"""

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass

import pyotp
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.identifiers import is_digits


@dataclass(frozen=True)
class Enrolment:
    secret: str  # for typing into an app without a camera
    uri: str  # otpauth:// for the QR code


def _key(secret: str) -> bytes:
    return hashlib.sha256(b'kundenportal/totp/' + secret.encode()).digest()


def seal(secret: str, plain: str) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(_key(secret)).encrypt(nonce, plain.encode(), b'totp')).decode()


def unseal(secret: str, sealed: str) -> str:
    raw = base64.b64decode(sealed)
    return AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], b'totp').decode()


def new_enrolment(storage_secret: str, account: str, issuer: str) -> tuple[Enrolment, str]:
    """A fresh secret: what the person sees, and the sealed form to store."""
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)
    return Enrolment(secret, uri), seal(storage_secret, secret)


def accepted_step(storage_secret: str, sealed: str, last_step: int, code: str, timestamp: float) -> int | None:
    """The 30-second step this code belongs to, if it is right and newer than `last_step`; else None."""
    plain = ''.join(ch for ch in code if is_digits(ch))
    if len(plain) != 6 or not sealed:
        return None
    totp = pyotp.TOTP(unseal(storage_secret, sealed))
    for offset in (0, -1, 1):
        step = int(timestamp) // 30 + offset
        if step > last_step and secrets.compare_digest(totp.at(step * 30), plain):
            return step
    return None
