"""What the composition root hands every page module: the utility's rules and a way to run use cases."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from nicegui import run

from domain.errors import DomainError, StorageUnavailable
from domain.i18n import using
from domain.ports import Context, PasswordHasher, UnitOfWork
from domain.profile import UtilityProfile
from pages import language

log = logging.getLogger('kundenportal')
T = TypeVar('T')


class Unexpected(DomainError):
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
    export: Callable[[str, date], str] | None = None  # CSV for the billing system (kind, since), from storage
    importer: Callable[[Path, bool, str], Any] | None = None  # (folder, check_only, actor) → ImportResult
    base_profile: UtilityProfile | None = None  # the profile file; `profile` adds the settings saved by admins
    profile_version: int = 0

    async def act(self, use_case: Callable[..., T], *args: Any, address: str = '') -> T:
        """Run a use case (`use_case(uow, ctx, *args)`) off the event loop; mails queued by it go out soon."""
        context = Context(self.profile, self.secret, self.base_url, self.hasher, address)
        result = await self._run(lambda uow: use_case(uow, context, *args))
        self.mail_queued()
        return result

    async def read(self, query: Callable[..., T], *args: Any) -> T:
        """Run a read-only query (`query(uow, *args)`) off the event loop."""
        return await self._run(lambda uow: query(uow, *args))

    async def _run(self, work: Callable[[UnitOfWork], T]) -> T:
        chosen = language.current()  # read here: the worker thread has no browser

        def in_transaction() -> T:
            with using(chosen), self.unit_of_work() as uow:
                return work(uow)
        try:
            return await run.io_bound(in_transaction)
        except StorageUnavailable as error:
            log.warning('database unavailable: %s', error.__cause__)
            raise
        except DomainError:
            raise
        except Exception as error:
            log.exception('use case failed')
            raise Unexpected() from error
