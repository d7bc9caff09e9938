"""Sending the mail outbox: rows queued with the change they confirm, delivered by a background task.

A row is claimed by pushing its `next_attempt_at` into the future (a lease): if the process dies while
sending, the row comes due again; on PostgreSQL `FOR UPDATE SKIP LOCKED` lets several instances send
without sending anything twice. SMTP failures are retried with growing pauses.
"""

import asyncio
import contextlib
import logging
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

import aiosmtplib
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.model import OutboxMail
from domain.types import utcnow

log = logging.getLogger('kundenportal.mail')
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12


class Transport(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class FolderTransport:
    """Demo mode: every mail becomes an .eml file in the outbox folder and a line in the log."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f'{utcnow():%Y%m%d-%H%M%S}-{message["Message-ID"].strip("<>").split("@")[0]}.eml'
        (self.folder / name).write_bytes(bytes(message))
        log.info('mail to %s written to %s: %s', message['To'], self.folder / name, message['Subject'])


class SmtpTransport:
    def __init__(self, host: str, port: int, user: str = '', password: str = '', starttls: bool = False) -> None:
        self.options = {'hostname': host, 'port': port, 'start_tls': starttls, 'timeout': 30,
                        **({'username': user, 'password': password} if user else {})}

    async def send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(message, **self.options)


class OutboxSender:
    def __init__(self, engine: Engine, transport: Transport, sender: str) -> None:
        self.engine, self.transport, self.sender = engine, transport, sender
        self.wake = asyncio.Event()

    async def run_forever(self, poll_seconds: float) -> None:
        while True:
            try:
                await self.send_due()
            except Exception:  # the loop must survive a database hiccup; the rows stay queued
                log.warning('mail outbox: sending failed, will retry', exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=poll_seconds)
            self.wake.clear()

    async def send_due(self, batch: int = 50) -> int:
        """Send what is due now; returns how many mails went out."""
        mails = await asyncio.to_thread(self._claim, batch)
        sent = 0
        for mail in mails:
            try:
                await self.transport.send(self._message(mail))
            except (aiosmtplib.SMTPException, OSError) as error:
                await asyncio.to_thread(self._failed, mail.id, str(error))
                continue
            await asyncio.to_thread(self._sent, mail.id)
            sent += 1
        return sent

    def _claim(self, batch: int) -> list[OutboxMail]:
        now = utcnow()
        with Session(self.engine, expire_on_commit=False) as session:
            query = (select(OutboxMail).where(OutboxMail.status == 'queued', col(OutboxMail.next_attempt_at) <= now)
                     .order_by(col(OutboxMail.id)).limit(batch).with_for_update(skip_locked=True))
            mails = list(session.exec(query))
            for mail in mails:
                mail.next_attempt_at = now + LEASE
            session.commit()
            return mails

    def _sent(self, mail_id: int | None) -> None:
        with Session(self.engine) as session:
            mail = session.get(OutboxMail, mail_id)
            if mail is not None:
                mail.status, mail.sent_at, mail.attempts = 'sent', utcnow(), mail.attempts + 1
                session.commit()

    def _failed(self, mail_id: int | None, error: str) -> None:
        with Session(self.engine) as session:
            mail = session.get(OutboxMail, mail_id)
            if mail is None:
                return
            mail.attempts += 1
            mail.last_error = error[:500]
            mail.next_attempt_at = utcnow() + timedelta(seconds=min(30 * 2 ** mail.attempts, 3600))
            if mail.attempts >= MAX_ATTEMPTS:
                mail.status = 'failed'
            log.warning('mail %s to %s not sent (attempt %s): %s', mail.id, mail.recipient, mail.attempts, error)
            session.commit()

    def _message(self, mail: OutboxMail) -> EmailMessage:
        message = EmailMessage()
        message['From'] = self.sender
        message['To'] = mail.recipient
        message['Subject'] = mail.subject
        message['Date'] = formatdate(mail.created_at.timestamp(), localtime=False)
        message['Message-ID'] = make_msgid(idstring=f'outbox{mail.id}', domain='kundenportal.local')
        message.set_content(mail.text)
        message.add_alternative(mail.html, subtype='html')
        return message
