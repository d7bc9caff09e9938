"""Throttling of guesses (login, registration pairs, PINs) per key within a time window.

Registration asks for two numbers that together identify a customer; without a limit the form would
be an oracle. The key is what is guessed against (an email, a client address), never whether it exists,
so locking an unknown email answers exactly like locking a known one. The counts' repository protocol
(`ThrottleRepository`, which storage.logins implements) is here rather than in domain.ports, which imports it.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    window: timedelta
    lockout: timedelta


# Wrong passwords for one account from all addresses together: many, as from a botnet, hold the account back for a
# while, except for a browser it has logged in from before (KnownDevice) that gives the right password.
LOGIN_PER_ACCOUNT = ThrottlePolicy(20, timedelta(minutes=15), timedelta(minutes=15))
LOGIN_PER_ADDRESS = ThrottlePolicy(30, timedelta(minutes=15), timedelta(minutes=15))
REGISTRATION_PER_ADDRESS = ThrottlePolicy(10, timedelta(hours=1), timedelta(hours=1))
# Wrong pairs for one customer number from all addresses together (a botnet working through meter numbers): its
# registration waits an hour (the form says how long), as a locked login does.
REGISTRATION_PER_NUMBER = ThrottlePolicy(20, timedelta(hours=1), timedelta(hours=1))
PIN_PER_USER = ThrottlePolicy(5, timedelta(minutes=15), timedelta(minutes=15))
RESET_PER_ADDRESS = ThrottlePolicy(10, timedelta(hours=1), timedelta(hours=1))
READING_CODE_PER_ADDRESS = ThrottlePolicy(10, timedelta(hours=1), timedelta(hours=1))
# Messages through the contact form: each one lands in the staff's queue and sends a confirmation mail
CONTACT_PER_LOGIN = ThrottlePolicy(10, timedelta(hours=1), timedelta(hours=1))


@dataclass(frozen=True)
class GrowingDelay:
    """For one account from one address: `free` misses cost nothing, then each waits twice as long as the one
    before (`first`, up to `longest`); misses older than `window` are forgotten. A victim is not locked out by
    others' guesses, and a guesser from one address is slowed down to a handful of tries an hour."""

    free: int
    first: timedelta
    longest: timedelta
    window: timedelta


LOGIN_PER_ACCOUNT_AND_ADDRESS = GrowingDelay(3, timedelta(seconds=15), timedelta(minutes=15), timedelta(hours=1))


@dataclass
class ThrottleState:
    failures: int = 0
    window_start: datetime | None = None
    locked_until: datetime | None = None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def minutes_left(self, now: datetime) -> int:
        if not self.is_locked(now):
            return 0
        assert self.locked_until is not None
        return max(1, -(-int((self.locked_until - now).total_seconds()) // 60))

    def record_delay(self, policy: GrowingDelay, now: datetime) -> None:
        now = now.astimezone(UTC)  # real time: in UTC, an hour is an hour on the nights the clocks change
        if self.window_start is None or now - self.window_start > policy.window:
            self.window_start, self.failures = now, 0
        self.failures += 1
        if self.failures > policy.free:
            delay = policy.first * 2 ** min(self.failures - policy.free - 1, 16)
            self.locked_until = now + min(delay, policy.longest)

    def record_failure(self, policy: ThrottlePolicy, now: datetime) -> None:
        now = now.astimezone(UTC)  # real time, as in record_delay
        if self.window_start is None or now - self.window_start > policy.window:
            self.window_start, self.failures = now, 0
        self.failures += 1
        if self.failures >= policy.max_failures:
            self.locked_until = now + policy.lockout
            self.window_start, self.failures = None, 0


def count_request(uow: 'Throttled', key: str, policy: ThrottlePolicy, now: datetime, field: str) -> None:
    """A request that counts whatever its outcome (a reset, a cancellation, a lost-access request from one
    address): refused with the minutes to wait while `key` is locked, else counted. No commit."""
    from domain.errors import TooManyAttempts

    state = uow.throttles.state(key)
    if state.is_locked(now):
        raise TooManyAttempts(field, minutes=state.minutes_left(now))
    state.record_failure(policy, now)
    uow.throttles.save(key, state)


def forgive(uow: 'Throttled', key: str, seen: ThrottleState) -> None:
    """After a right password: the misses counted on `key` are forgotten. Written (under the lock) only where
    `seen`, the state looked at before the hash, held something: a login with nothing to forgive writes nothing."""
    if seen != ThrottleState():
        uow.throttles.state(key)
        uow.throttles.save(key, ThrottleState())


# the counts kept per login id: forgotten with the login (SQLite gives a deleted login's id to the next one made)
CONTACT_OF_LOGIN = 'contact:login:{}'
CODE_OF_LOGIN = 'login:code:{}'
MAIL_OF_LOGIN = 'mail:login:{}'
OF_LOGIN = (CONTACT_OF_LOGIN, CODE_OF_LOGIN, MAIL_OF_LOGIN)


class ThrottleRepository(Protocol):
    def state(self, key: str) -> ThrottleState:
        """For a change: nobody else counts on this key until the transaction ends."""
        ...

    def peek(self, key: str) -> ThrottleState:
        """Only to look: no lock taken, nothing written (a key never counted is an empty state)."""
        ...

    def save(self, key: str, state: ThrottleState) -> None: ...
    def prune(self, before: datetime) -> int: ...
    def starting(self, prefix: str) -> list[ThrottleState]:
        """Every state whose key starts with `prefix`, only to look (e.g. a login's holds from every address)."""
        ...

    def forget_starting(self, prefix: str) -> None:
        """Forget every count whose key starts with `prefix`."""
        ...


class Throttled(Protocol):
    """What the counting needs of a unit of work (domain.ports.UnitOfWork has it): its throttles."""

    throttles: ThrottleRepository
