"""Sending the mail outbox: rows queued with the change they confirm, delivered by a background task.

A row is claimed by pushing its `next_attempt_at` into the future (a lease): if the process dies while
sending, the row comes due again; on PostgreSQL `FOR UPDATE SKIP LOCKED` lets several instances send
without sending anything twice. SMTP failures are retried with growing pauses.
"""

import asyncio
import base64
import contextlib
import functools
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import aiosmtplib
import idna
from sqlalchemy import Engine, Row, bindparam, select, update

from domain.clock import Clock, later
from domain.model import OutboxMail

log = logging.getLogger('kundenportal.mail')
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12
BATCH = 50  # mails claimed at once

_MAIL = OutboxMail.__table__  # type: ignore[attr-defined]  # SQLModel does not type __table__
DUE = (
    select(
        _MAIL.c.id,
        _MAIL.c.recipient,
        _MAIL.c.subject,
        _MAIL.c.text,
        _MAIL.c.html,
        _MAIL.c.created_at,
        _MAIL.c.attempts,
        _MAIL.c.unsubscribe,
    )
    .where(_MAIL.c.status == 'queued', _MAIL.c.next_attempt_at <= bindparam('now'))
    .order_by(_MAIL.c.next_attempt_at, _MAIL.c.id)  # by due time (index ix_outboxmail_due)
)
LEASE_TAKEN = (  # only while still due: two processes on one SQLite file both read a mail as due (no row locks)
    update(_MAIL)
    .where(
        _MAIL.c.id.in_(bindparam('ids', expanding=True)),
        _MAIL.c.status == 'queued',
        _MAIL.c.next_attempt_at <= bindparam('now'),
    )
    .values(next_attempt_at=bindparam('until'))
    .returning(_MAIL.c.id)
)
SENT = (
    update(_MAIL)
    .where(_MAIL.c.id.in_(bindparam('ids', expanding=True)))
    .values(status='sent', sent_at=bindparam('now'), attempts=_MAIL.c.attempts + 1)
)
NOT_SENT = (
    update(_MAIL)
    # parameters named unlike the columns they set; a mail withdrawn meanwhile (an opt-out) stays withdrawn
    .where(_MAIL.c.id == bindparam('mail'), _MAIL.c.status == 'queued')
    .values(
        attempts=bindparam('tries'),
        last_error=bindparam('error'),
        status=bindparam('state'),
        next_attempt_at=bindparam('next'),
    )
)


class Outgoing(NamedTuple):
    """A mail ready for the wire: envelope addresses and the whole message as bytes (CRLF line ends)."""

    sender: str
    recipient: str
    subject: str
    message_id: str
    data: bytes


class Refused(str):
    """Why a mail was not sent, when the receiving server refused its mailbox for good: not tried again."""


class Transport(Protocol):
    async def send_all(self, messages: list[Outgoing]) -> list[str | None]:
        """Deliver the messages; per message None when it went out, else why not (a `Refused` for good)."""
        ...


class FolderTransport:
    """Demo mode: every mail becomes an .eml file in the outbox folder and a line in the log."""

    def __init__(self, folder: Path, clock: Clock) -> None:
        self.folder, self.clock = folder, clock

    async def send_all(self, messages: list[Outgoing]) -> list[str | None]:
        return await asyncio.to_thread(lambda: [self._write(message) for message in messages])  # off the loop

    def _write(self, message: Outgoing) -> str | None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f'{self.clock.now():%Y%m%d-%H%M%S}-{message.message_id.strip("<>").split("@")[0]}.eml'
            (self.folder / name).write_bytes(message.data)
        except OSError as error:
            return str(error)
        log.info('mail to %s written to %s: %s', message.recipient, self.folder / name, message.subject)
        return None


class SmtpTransport:
    """One connection per batch (at a peak, hundreds of confirmations a minute would otherwise each open one)."""

    def __init__(self, host: str, port: int, user: str = '', password: str = '', starttls: bool = False) -> None:
        self.options: dict[str, Any] = {
            'hostname': host,
            'port': port,
            'start_tls': starttls,
            'timeout': 30,
            **({'username': user, 'password': password} if user else {}),
        }

    async def send_all(self, messages: list[Outgoing]) -> list[str | None]:
        client = aiosmtplib.SMTP(**self.options)
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as error:
            return [str(error)] * len(messages)
        outcomes: list[str | None] = []
        try:
            for message in messages:
                try:
                    utf8 = not (message.sender + message.recipient).isascii()  # an address with umlauts
                    await client.sendmail(
                        message.sender, [message.recipient], message.data, mail_options=['SMTPUTF8'] if utf8 else None
                    )
                    outcomes.append(None)
                except aiosmtplib.SMTPRecipientsRefused as error:
                    outcomes.append(_refusal(error))
                except (aiosmtplib.SMTPException, OSError) as error:  # refused, or the connection broke
                    outcomes.append(str(error))
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
        return outcomes


def _refusal(error: aiosmtplib.SMTPRecipientsRefused) -> str:
    """A `Refused` when the mailbox does not exist or its name is not allowed (550, 551, 553, or 501 for an
    address's syntax, each with an address status 5.1.x, RFC 3463); else a reason to try again: a relay refusing for
    policy (550 5.7.1 "relaying denied", or Exim's bare "550 relay not permitted", also beside mails to its own
    domain that it takes) is the portal's configuration, which the operator mends, and the mail must go out then."""
    text = '; '.join(f'{r.code} {r.message}' for r in error.recipients)
    if not error.recipients or any(r.code not in (501, 550, 551, 553) for r in error.recipients):
        return text
    statuses = [re.match(r'5\.(\d{1,3})\.(\d{1,3})\b', r.message) for r in error.recipients]
    # 5.1.x is the address's status, except 5.1.7 and 5.1.8: the sender's (the portal's configuration)
    if all(status is not None and status.group(1) == '1' and status.group(2) not in ('7', '8') for status in statuses):
        return Refused(text)
    return text


class OutboxSender:
    """Sends the outbox, by due time, never faster than `per_minute()` mails a minute (what the SMTP relay allows,
    the profile's `readings.reminder_mails_per_minute`; 0: as fast as it can). With several instances each keeps
    that rate."""

    def __init__(
        self, engine: Engine, transport: Transport, sender: str, clock: Clock, per_minute: Callable[[], int] = int
    ) -> None:
        self.engine, self.transport, self.sender, self.clock = engine, transport, sender, clock
        self.per_minute = per_minute
        self.wake = asyncio.Event()
        self._tokens, self._filled = float(BATCH), time.monotonic()  # a token bucket: one mail a token

    async def run_forever(self, poll_seconds: float) -> None:
        while True:
            try:
                while await self.send_due() == BATCH:  # a backlog (reminders, a peak) drains without pauses
                    pass
            except Exception:  # the loop must survive a database hiccup; the rows stay queued
                log.warning('mail outbox: sending failed, will retry', exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=poll_seconds)
            self.wake.clear()

    async def send_due(self, batch: int = BATCH) -> int:
        """Send what is due now; returns how many mails went out. The outcome of a batch is written in one
        transaction (at a peak every confirmation's own write would queue behind the customers' submissions); a
        process that dies in between sends that batch again when the lease runs out."""
        allowed = min(batch, self._allowance())
        if allowed < 1:
            return 0
        mails = await asyncio.to_thread(self._claim, allowed)
        if not mails:
            return 0
        self._tokens -= len(mails)
        messages = await asyncio.to_thread(lambda: [self._message(mail) for mail in mails])
        outcomes = await self.transport.send_all(messages)
        await asyncio.to_thread(self._record, list(zip(mails, outcomes, strict=True)))
        return sum(error is None for error in outcomes)

    def _allowance(self) -> int:
        """Mails the relay's rate allows now: the bucket fills at the rate, holding at most a second's worth (or
        a batch)."""
        rate = self.per_minute()
        if rate <= 0:
            return BATCH
        now = time.monotonic()
        self._tokens = min(max(float(BATCH), rate / 60), self._tokens + (now - self._filled) * rate / 60)
        self._filled = now
        return int(self._tokens)

    def _claim(self, batch: int) -> list[Row]:
        """The due mails (id, recipient, subject, text, html, created_at, attempts), their lease taken. Plain
        statements, not ORM objects: at a peak the sender claims batches of fifty while customers submit."""
        now = self.clock.now()
        with self.engine.begin() as db:
            mails = list(db.execute(DUE.limit(batch).with_for_update(skip_locked=True), {'now': now}))
            if not mails:
                return mails
            lease = {'ids': [mail.id for mail in mails], 'now': now, 'until': later(now, LEASE)}
            taken = set(db.execute(LEASE_TAKEN, lease).scalars())  # the other process's lease meanwhile: not ours
            return [mail for mail in mails if mail.id in taken]

    def _record(self, outcomes: list[tuple[Row, str | None]]) -> None:
        now = self.clock.now()
        with self.engine.begin() as db:
            sent = [mail.id for mail, error in outcomes if error is None]
            if sent:
                db.execute(SENT, {'ids': sent, 'now': now})
            for mail, error in outcomes:
                if error is None:
                    continue
                attempts = mail.attempts + 1
                given_up = isinstance(error, Refused) or attempts >= MAX_ATTEMPTS
                db.execute(
                    NOT_SENT,
                    {
                        'mail': mail.id,
                        'tries': attempts,
                        'error': error[:500],
                        'state': 'failed' if given_up else 'queued',
                        'next': later(now, timedelta(seconds=min(30 * 2**attempts, 3600))),  # real seconds
                    },
                )
                log.warning(
                    'mail %s to %s not sent (attempt %s%s): %s',
                    *(mail.id, mail.recipient, attempts, ', given up' if given_up else '', error),
                )

    def _message(self, mail: Row) -> Outgoing:
        """Text and HTML alternatives, each base64 in UTF-8. Written out directly: the email package's MIME
        classes and generator are slow enough to count when a reading deadline queues hundreds a minute (figures in
        docs/operations.md)."""
        boundary = f'=_kundenportal_{uuid.uuid4().hex}'
        recipient = _on_the_wire(mail.recipient)
        message_id = f'<outbox{mail.id}.{uuid.uuid4().hex[:16]}@kundenportal.local>'
        # a bulk mail (reminders) carries its one-click opt-out, as large mail providers ask of bulk senders
        unsubscribe = (
            f'List-Unsubscribe: <{mail.unsubscribe}>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n'
            if mail.unsubscribe
            else ''
        )
        head = (
            f'From: {_from_header(self.sender)}\r\nTo: {recipient}\r\nSubject: {_subject(mail.subject)}\r\n'
            f'Date: {formatdate(mail.created_at.timestamp(), localtime=False)}\r\nMessage-ID: {message_id}\r\n'
            f'{unsubscribe}MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'
        )
        parts = [
            f'--{boundary}\r\nContent-Type: text/{kind}; charset="utf-8"\r\n'
            f'Content-Transfer-Encoding: base64\r\n\r\n'
            + base64.encodebytes(body.encode()).decode('ascii').replace('\n', '\r\n')
            for kind, body in (('plain', mail.text), ('html', mail.html))
        ]
        data = (head + ''.join(parts) + f'--{boundary}--\r\n').encode()
        return Outgoing(parseaddr(self.sender)[1], recipient, mail.subject, message_id, data)


def _on_the_wire(address: str) -> str:
    """An ASCII mailbox at an internationalised domain with the domain's A-label („kunde@müller.de“ →
    „kunde@xn--mller-kva.de“): it needs no SMTPUTF8, which many relays do not offer (RFC 5890, 6531). A mailbox
    with non-ASCII letters has no such form and needs SMTPUTF8. IDNA 2008, as DENIC registers: Python's own "idna"
    codec (IDNA 2003) writes „straße.de“ as „strasse.de“, someone else's domain."""
    local, at, domain = address.rpartition('@')
    if not at or domain.isascii() or not local.isascii():
        return address
    try:
        return f'{local}@{idna.encode(domain, uts46=True).decode("ascii")}'
    except idna.IDNAError:  # not a domain IDNA can write: as it is, the relay answers
        return address


@functools.lru_cache(maxsize=64)
def _from_header(sender: str) -> str:
    return formataddr(parseaddr(sender), charset='utf-8')


@functools.lru_cache(maxsize=256)
def _subject(subject: str) -> str:
    """RFC 2047 encoded words, folded (the subjects are a handful of texts: worked out once each)."""
    return Header(subject, 'utf-8').encode(linesep='\r\n')
