"""The portal's background work, owned by one object that the composition root starts with the web server: the mail
outbox sender, an hourly clean-up of registrations nobody confirmed, a watch for settings saved by another instance,
SQLite's checkpoints, and, with the `collector` tuning on, the walk over what the garbage collector set aside."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from nicegui import app, run
from sqlalchemy import Engine

from domain.accounts import forget_old_throttles
from domain.bills import deliver_bill_copies
from domain.errors import DomainError
from domain.password_reset import send_requested_resets
from domain.registration import forget_unconfirmed
from domain.requests import forget_old_photos
from service import tuning
from service.runner import Portal
from service.tuning.collector import thaw_and_collect, thaw_due
from storage.database import checkpoint
from storage.documents import remove_stale_import_folders
from storage.information import run_information
from storage.mail import OutboxSender
from storage.reminders import run_reminders

RESET_POLL_SECONDS = 5.0  # other instances' requests; this instance's own wake the loop at once
IMPORT_FOLDER_AGE = timedelta(hours=6)  # an import page open longer than this has long timed out (idle logout)

log = logging.getLogger('kundenportal')

# The survivors of each full garbage collection are set aside and not walked again (service.tuning.collector);
# one collection walks them all, freeing the reference cycles among them: 10 minutes after the last one, once the
# process used less than 30 % of a core for 5 s, and after an hour in any case (every, latest, quiet).
THAW = (600.0, 3600.0, 0.3)


class Background:
    def __init__(self, engine: Engine, portal: Portal, sender: OutboxSender, mail_poll_seconds: float) -> None:
        self.engine, self.portal, self.sender, self.mail_poll_seconds = engine, portal, sender, mail_poll_seconds
        self.tasks: list[asyncio.Task] = []
        self.wake = asyncio.Event()  # set after every use case: a "Passwort vergessen?" request may be waiting

    def register(self) -> None:
        """Start with NiceGUI's start-up, stop at its shutdown (the tests start and stop the portal many times)."""
        app.on_startup(self._start)
        app.on_shutdown(self._stop)

    def _start(self) -> None:
        loops: list[Callable[[], Coroutine[Any, Any, None]]] = [
            lambda: self.sender.run_forever(self.mail_poll_seconds),
            self._hourly,
            self._resets,
            self._settings_watch,
            self._checkpoints,
        ]
        if 'collector' in tuning.active():
            loops.append(self._thaw)
        self.tasks = [asyncio.create_task(loop()) for loop in loops]

    def _stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.tasks = []

    async def _checkpoints(self) -> None:
        while True:
            await asyncio.sleep(2)
            try:
                await run.io_bound(checkpoint, self.engine)
            except Exception:
                log.warning('WAL checkpoint failed; next try in 2 s', exc_info=True)

    async def _settings_watch(self) -> None:  # another instance may have saved new settings
        while True:
            await asyncio.sleep(10)
            try:
                await run.io_bound(self.portal.apply_stored_settings)
            except Exception:
                log.exception('reading the saved settings failed; next try in 10 s')

    async def _thaw(self) -> None:  # what only the cyclic collector frees is kept for a limited time
        last = wall = time.monotonic()
        cpu = time.process_time()
        while True:
            await asyncio.sleep(5)
            share = (time.process_time() - cpu) / max(time.monotonic() - wall, 0.001)
            cpu, wall = time.process_time(), time.monotonic()
            if thaw_due(wall - last, share, *THAW):
                set_aside, freed, seconds = thaw_and_collect()
                log.info(
                    'full garbage collection over %d objects set aside: %d freed in %.0f ms',
                    set_aside,
                    freed,
                    seconds * 1000,
                )
                last = wall = time.monotonic()  # the walk's own CPU is not the portal being busy
                cpu = time.process_time()

    async def _resets(self) -> None:
        """ "Passwort vergessen?" is answered at once; the link or temporary password is made here, off the request
        path, so that nobody can tell known addresses by the time the answer takes."""
        while True:
            try:
                done = await self.portal.act(send_requested_resets)
            except DomainError:
                log.warning('working off password reset requests failed; next try in %s s', RESET_POLL_SECONDS)
                done = 0
            if not done:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=RESET_POLL_SECONDS)
                self.wake.clear()

    async def _hourly(self) -> None:
        while True:
            await self.hour()
            await asyncio.sleep(3600)

    async def hour(self) -> None:
        """The hourly work, each task on its own: one that keeps failing (a bill copy whose data is broken, a folder
        the portal may not remove) held back the tasks after it for good, a clean-up's retention among them, or
        ended the loop."""
        for task, use_case in (
            ('forgetting unconfirmed registrations', forget_unconfirmed),
            ('delivering bill copies', deliver_bill_copies),  # PDFs that came by a file import (the CLI)
            ('forgetting old counts and mail copies', forget_old_throttles),
        ):
            try:
                await self.portal.act(use_case)
            except DomainError:
                log.warning('%s failed; next try in an hour', task)
        try:  # meter photos 90 days after their decision (after the commit: a file left is no review's)
            for photo in await self.portal.act(forget_old_photos):
                if self.portal.files is not None:
                    await run.io_bound(self.portal.files.remove, photo)
        except (DomainError, OSError):
            log.warning('removing meter photos past their time failed; next try in an hour')
        try:  # billing information due today (§40b EnWG); another instance may make it too: never twice
            made = await run.io_bound(run_information, self.engine, self.portal.context(), self.portal.documents)
            if made is not None and made.made:
                log.info(made.describe())
                self.portal.mail_queued()
        except Exception:
            log.exception('making the billing information failed; next try in an hour')
        try:  # reading reminders due today (docs/domain.md §10), spread at the relay's rate; never twice
            reminded = await run.io_bound(run_reminders, self.engine, self.portal.context())
            if reminded is not None and reminded.queued:
                log.info(reminded.describe())
                self.portal.mail_queued()
        except Exception:
            log.exception('queuing the reading reminders failed; next try in an hour')
        try:
            removed = await run.io_bound(remove_stale_import_folders, IMPORT_FOLDER_AGE)
        except Exception:
            log.exception('removing upload folders of import pages left behind failed; next try in an hour')
            return
        if removed:
            log.info('removed %d upload folders of import pages left behind', removed)
