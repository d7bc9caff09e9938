"""argon2id password hashing (argon2-cffi), upgraded on login when the parameters change.

The parameters are one of the equivalent argon2id settings of the OWASP Password Storage Cheat Sheet, the one for
a small server: m = 19 MiB, t = 2, p = 1 (ASVS 2.4.1, 2.4.4; docs/security.md). argon2-cffi's own default (m = 64
MiB, t = 3, p = 4) costs a 2-core server more than twice the CPU per login for no stronger a standard, and its four
lanes take both cores from everyone else during a login burst. Hashes made with other parameters (argon2-cffi's
default, which the portal used until December 2026) are rehashed at the next successful login.
"""

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

TIME_COST = 2
MEMORY_COST = 19 * 1024  # KiB
PARALLELISM = 1


class Argon2Hasher:
    def __init__(
        self, time_cost: int = TIME_COST, memory_cost: int = MEMORY_COST, parallelism: int = PARALLELISM
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    @property
    def dummy_hash(self) -> str:
        """A hash to verify against for unknown emails, so that both answers take the same time."""
        if not hasattr(self, '_dummy'):
            self._dummy = self._hasher.hash('no such login')
        return self._dummy
