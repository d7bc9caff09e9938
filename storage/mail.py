"""Sending the mail outbox: rows queued with the change they confirm, delivered by a background task.

A row is claimed by pushing its `next_attempt_at` into the future (a lease): if the process dies while
sending, the row comes due again; on PostgreSQL `FOR UPDATE SKIP LOCKED` lets several instances send
without sending anything twice. SMTP failures are retried with growing pauses.
"""

import asyncio
import contextlib
import logging
from datetime import timedelta
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.model import OutboxMail
from domain.types import utcnow

log = logging.getLogger('kundenportal.mail')
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12


class Transport(Protocol):
    async def send_all(self, messages: list[Message]) -> list[str | None]:
        """Deliver the messages; per message None when it went out, else why not."""
        ...


class FolderTransport:
    """Demo mode: every mail becomes an .eml file in the outbox folder and a line in the log."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send_all(self, messages: list[Message]) -> list[str | None]:
        return await asyncio.to_thread(lambda: [self._write(message) for message in messages])  # off the loop

    def _write(self, message: Message) -> str | None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f'{utcnow():%Y%m%d-%H%M%S}-{message["Message-ID"].strip("<>").split("@")[0]}.eml'
            (self.folder / name).write_bytes(bytes(message))
        except OSError as error:
            return str(error)
        log.info('mail to %s written to %s: %s', message['To'], self.folder / name, message['Subject'])
        return None


class SmtpTransport:
    """One connection per batch (at a peak, hundreds of confirmations a minute would otherwise each open one)."""

    def __init__(self, host: str, port: int, user: str = '', password: str = '', starttls: bool = False) -> None:
        self.options: dict[str, Any] = {'hostname': host, 'port': port, 'start_tls': starttls, 'timeout': 30,
                        **({'username': user, 'password': password} if user else {})}

    async def send_all(self, messages: list[Message]) -> list[str | None]:
        client = aiosmtplib.SMTP(**self.options)
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as error:
            return [str(error)] * len(messages)
        outcomes: list[str | None] = []
        try:
            for message in messages:
                try:
                    await client.send_message(message)
                    outcomes.append(None)
                except (aiosmtplib.SMTPException, OSError) as error:  # refused, or the connection broke
                    outcomes.append(str(error))
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
        return outcomes


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
        """Send what is due now; returns how many mails went out. The outcome of a batch is written in one
        transaction (at a peak every confirmation's own write would queue behind the customers' submissions); a
        process that dies in between sends that batch again when the lease runs out."""
        mails = await asyncio.to_thread(self._claim, batch)
        if not mails:
            return 0
        messages = await asyncio.to_thread(lambda: [self._message(mail) for mail in mails])
        outcomes = await self.transport.send_all(messages)
        await asyncio.to_thread(self._record, [(mail.id, error) for mail, error in zip(mails, outcomes, strict=True)])
        return sum(error is None for error in outcomes)

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

    def _record(self, outcomes: list[tuple[int | None, str | None]]) -> None:
        now = utcnow()
        errors = dict(outcomes)
        with Session(self.engine) as session:
            for mail in session.exec(select(OutboxMail).where(col(OutboxMail.id).in_(list(errors)))):
                error = errors[mail.id]
                mail.attempts += 1
                if error is None:
                    mail.status, mail.sent_at = 'sent', now
                    continue
                mail.last_error = error[:500]
                mail.next_attempt_at = now + timedelta(seconds=min(30 * 2 ** mail.attempts, 3600))
                if mail.attempts >= MAX_ATTEMPTS:
                    mail.status = 'failed'
                log.warning('mail %s to %s not sent (attempt %s): %s', mail.id, mail.recipient, mail.attempts, error)
            session.commit()

    def _message(self, mail: OutboxMail) -> Message:
        """Text and HTML alternatives. Built with the classic MIME classes: a third of the time of `EmailMessage`
        with its parsing header registry, which counts when a reading deadline queues hundreds a minute."""
        message = MIMEMultipart('alternative')
        name, address = parseaddr(self.sender)
        message['From'] = formataddr((name, address), charset='utf-8')
        message['To'] = mail.recipient
        message['Subject'] = Header(mail.subject, 'utf-8')
        message['Date'] = formatdate(mail.created_at.timestamp(), localtime=False)
        message['Message-ID'] = make_msgid(idstring=f'outbox{mail.id}', domain='kundenportal.local')
        message.attach(MIMEText(mail.text, 'plain', 'utf-8'))
        message.attach(MIMEText(mail.html, 'html', 'utf-8'))
        return message
