"""The use-case runner that pages/ and api/ share: the utility's rules, the clock, and a way to run a use case in
a unit of work (on the hashing threads, else in a worker thread), handed to
every page module and the API by the composition root (app.py)."""

import asyncio
import bisect
import itertools
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from nicegui import run

from domain import staff
from domain.accounts import session_is_valid
from domain.clock import Clock, SystemClock
from domain.errors import Busy, DomainError, SessionEnded, StorageUnavailable, VisitorGone, reference
from domain.i18n import using
from domain.ports import Context, DocumentFiles, PasswordHasher, UnitOfWork
from domain.profile import UtilityProfile
from domain.profile_admin import effective_profile, stored
from domain.running import way_of
from service.backlog import Backlog

log = logging.getLogger('kundenportal')
T = TypeVar('T')


# Told (place in the queue, seconds expected) while a job waits, and (0, 0) when its turn has come.
Waiting = Callable[[int, float], None]


class HashingQueue(Backlog):
    """Threads of their own for the use cases that hash, taken in order of arrival.

    At a login peak these use cases would fill NiceGUI's shared thread pool and every page's database reads would
    queue behind them, so they get one thread per core (more would not hash faster: argon2 releases the GIL and
    uses the core fully). A job that has to wait is told its place and an honest estimate every `TELL_SECONDS`
    (the login page shows "Sie sind an Position 37, etwa 20 Sekunden") and runs when its turn comes: nobody is sent
    away to come back later, which made a burst last longer than the queue needs (`bench/load.py`,
    docs/operations.md "Login bursts"). Only beyond `max_wait` (minutes, a queue no visitor would sit through) is a
    visitor asked to try again (`Busy`). A job whose visitor has gone before its turn (the tab closed) is dropped
    unhashed.
    """

    TELL_SECONDS = 1.0

    def __init__(self, threads: int = os.cpu_count() or 1, max_wait: float = 300.0, estimate: float = 0.2) -> None:
        super().__init__('password hashing', 'in a minute', estimate)
        self.threads, self.max_wait = threads, max_wait
        self.waiting = 0  # jobs handed over and not finished
        self._queued: list[int] = []  # the tickets of the jobs not yet started, in order of arrival
        self._tickets = itertools.count(1)
        self._told: dict[int, Waiting] = {}  # the queued jobs whose visitors were told a place
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix='kp-hashing')
        self.closed = False

    def close(self) -> None:
        """At the portal's shutdown: its threads end (a job not yet started is dropped), so that nothing of this
        portal stays behind in a process that starts another (the tests start and stop the portal hundreds of times;
        each left its threads and, through them, its engine and pages behind)."""
        self.closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    def wait_expected(self) -> float:
        """How long a job handed over now would wait before its thread takes it."""
        return len(self._queued) * self.seconds / self.threads

    def place(self, ticket: int) -> tuple[int, float]:
        """The queued job's place in the line (1: next) and the seconds until its turn, as far as foreseen: one
        job's time, per thread, for itself and each one ahead (0, 0 once it runs)."""
        ahead = self._index(ticket)
        if ahead is None:
            return 0, 0.0
        return ahead + 1, (ahead + 1) * self.seconds / self.threads

    def _index(self, ticket: int) -> int | None:
        """Where the ticket stands among the queued ones (None: not queued, i.e. started or gone)."""
        at = bisect.bisect_left(self._queued, ticket)
        return at if at < len(self._queued) and self._queued[at] == ticket else None

    async def run(
        self, work: Callable[[], T], waiting: Waiting | None = None, gone: Callable[[], bool] | None = None
    ) -> T:
        """`work` on a hashing thread when its turn comes; not at all if by then `gone()` (the visitor's tab was
        closed while waiting: NiceGUI does not cancel its handler), which raises `VisitorGone`."""
        if self.closed:  # the portal is shutting down: as at a peak, the visitor is asked to try again shortly
            raise Busy()
        if self.wait_expected() > self.max_wait:
            self.turn_away(self.waiting)
            raise Busy()
        loop = asyncio.get_running_loop()
        ticket = next(self._tickets)
        self._queued.append(ticket)

        def timed() -> T:
            loop.call_soon_threadsafe(self._started, ticket)
            if gone is not None and gone():
                raise VisitorGone()
            started = time.perf_counter()
            try:
                return work()
            finally:
                self.took(time.perf_counter() - started)

        self.waiting += 1
        telling = asyncio.create_task(self._tell(ticket, waiting)) if waiting is not None else None
        try:
            return await loop.run_in_executor(self._pool, timed)
        finally:
            self.waiting -= 1
            self._started(ticket)  # cancelled before its turn: the pool drops the job, and so does the queue
            if telling is not None:
                telling.cancel()

    def _started(self, ticket: int) -> None:
        at = self._index(ticket)
        if at is not None:
            del self._queued[at]
        told = self._told.pop(ticket, None)
        if told is not None:  # the visitor saw a place: now it is their turn
            told(0, 0.0)

    async def _tell(self, ticket: int, waiting: Waiting) -> None:
        """Tell the waiting visitor their place when it changes, after a first moment (most jobs start at once)."""
        told = 0
        while True:
            await asyncio.sleep(self.TELL_SECONDS / 2 if not told else self.TELL_SECONDS)
            place, seconds = self.place(ticket)
            if not place:  # its turn has come (`_started` says so to a visitor who saw a place)
                return
            if place != told:
                waiting(place, seconds)
                self._told[ticket] = waiting
                told = place


class Unexpected(DomainError):
    """A use case failed for a reason nobody foresaw: the customer sees a generic message with a reference number,
    the log has the details under the same number."""

    key = 'error.unexpected'


@dataclass
class Portal:
    profile: UtilityProfile
    secret: str
    base_url: str
    hasher: PasswordHasher
    unit_of_work: Callable[[], UnitOfWork]
    mail_queued: Callable[[], None]
    demo: bool = False
    documents: Path = Path('data/documents')
    files: DocumentFiles | None = None  # the documents folder (storage.documents.FolderFiles)
    max_upload: int = 200 * 2**20  # the back office's CSV import, bytes (KUNDENPORTAL_MAX_UPLOAD_MB)
    importer: Callable[[Path, bool, str], Any] | None = None  # (folder, check_only, actor) → ImportResult
    base_profile: UtilityProfile | None = None  # the profile file; `profile` adds the settings saved by admins
    profile_version: int = 0
    hashing: HashingQueue = field(default_factory=HashingQueue)
    clock: Clock = field(default_factory=SystemClock)
    # The visitor's UI language for texts made inside a use case (mails); pages hand in theirs (app.py).
    language: Callable[[], str] = lambda: 'de'

    async def act(
        self,
        use_case: Callable[..., T],
        *args: Any,
        address: str = '',
        login: tuple[int, int] | None = None,
        staff_login: tuple[int, int] | None = None,
        waiting: Waiting | None = None,
        gone: Callable[[], bool] | None = None,
    ) -> T:
        """Run a use case (`use_case(uow, ctx, *args)`) the way it declares (`domain.running`): in a worker thread or
        on the hashing threads; mails it queued go out soon (`_run`). With `login` (user id, session epoch) or
        `staff_login` (staff id, session epoch), only while that login is valid, checked in the use case's
        transaction (`SessionEnded` otherwise): one trip to the database instead of two. `waiting` is told the
        place in the hashing queue while the use case waits there, and `gone` whether its visitor has left meanwhile
        (`HashingQueue.run`)."""
        result = await self._run(
            lambda uow: use_case(uow, self.context(address), *args),
            hashing=way_of(use_case) == 'hashing',
            login=login,
            staff_login=staff_login,
            waiting=waiting,
            gone=gone,
        )
        return result

    def apply_stored_settings(self) -> None:
        """Lay the admin's saved settings over the profile file when their version changed (or at start)."""
        with self.unit_of_work() as uow:
            version, overrides = stored(uow)
        if version == self.profile_version:
            return
        try:
            self.profile = effective_profile(self.base_profile or self.profile, overrides, self.files)
        except ValueError:
            log.exception('saved settings do not fit the profile file any more; using the file as it is')
        self.profile_version = version

    async def read(
        self,
        query: Callable[..., T],
        *args: Any,
        login: tuple[int, int] | None = None,
        staff_login: tuple[int, int] | None = None,
    ) -> T:
        """Run a read-only query (`query(uow, *args)`) as `act` runs a use case; `login` and `staff_login` as for
        `act`."""
        return await self._run(lambda uow: query(uow, *args), login=login, staff_login=staff_login)

    def context(self, address: str = '') -> Context:
        """Who acts (`address`, for throttling), under which rules, and when: now, by the portal's clock."""
        return Context(self.profile, self.secret, self.base_url, self.hasher, self.clock.now(), address)

    async def _run(
        self,
        work: Callable[[UnitOfWork], T],
        hashing: bool = False,
        login: tuple[int, int] | None = None,
        staff_login: tuple[int, int] | None = None,
        waiting: Waiting | None = None,
        gone: Callable[[], bool] | None = None,
    ) -> T:
        chosen = self.language()  # read here: the worker thread has no browser
        queued: list[bool] = []  # whether the committed transaction queued a mail or a reset request

        def in_transaction() -> T:
            with using(chosen), self.unit_of_work() as uow:
                try:
                    if login is not None and not session_is_valid(uow, *login):
                        raise SessionEnded()
                    if staff_login is not None and staff.staff_session(uow, *staff_login) is None:
                        raise SessionEnded()
                    return work(uow)
                finally:
                    queued.append(uow.queued)

        try:
            if hashing:
                return await self.hashing.run(in_transaction, waiting, gone)
            # NiceGUI answers None for a call cancelled or cut off by the app stopping (NiceGUI 4 will raise
            # CancelledError instead); boxed, a use case's own None result stays apart from that answer
            done = await run.io_bound(lambda: (in_transaction(),))
            if done is None:
                raise asyncio.CancelledError()
            return done[0]
        except StorageUnavailable as error:
            log.warning('database unavailable: %s', error.__cause__)
            raise
        except DomainError:
            raise
        except Exception as error:
            number = reference()
            log.exception('use case failed [reference %s]', number)
            raise Unexpected(reference=number) from error
        finally:
            # Only then: woken after every use case, the mail sender and the reset loop each ran a transaction per
            # login at a peak, a sixth of the event loop's time (py-spy of bench/load.py's login phase)
            if any(queued):
                self.mail_queued()
