"""The mail outbox sent through a real SMTP server (aiosmtpd on loopback), and written to a folder in demo mode."""

import asyncio
import email
import socket
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, col, select

from domain.accounts import login
from domain.clock import SystemClock
from domain.errors import DomainError
from domain.model import OutboxMail
from domain.password_reset import request_password_reset, send_requested_resets
from domain.ports import MailMessage
from service.runner import Portal
from storage.mail import MAX_ATTEMPTS, FolderTransport, OutboxSender, SmtpTransport
from storage.settings import Settings
from storage.unit_of_work import SqlUnitOfWork
from tests import clock
from tests.factories import CHEAP_HASHER, PASSWORD, make_customer, make_login


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.connections: set[tuple] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith('refused@'):
            return '550 no such mailbox'
        if address.startswith('unknown@'):
            return '550 5.1.1 <unknown@example.org>: Recipient address rejected: User unknown'
        if address.startswith('syntax@'):  # e.g. a stray ';' the billing system's address kept (Postfix's answer)
            return '501 5.1.3 Bad recipient address syntax'
        if address.startswith('relay@'):  # the relay's policy: the portal's configuration, mended by the operator
            return '550 5.7.1 Relaying denied'
        if address.startswith('full@'):
            return '552 5.2.2 Mailbox full'
        if address.startswith('sender@'):  # the portal's sender address refused (reported at RCPT by some relays)
            return '550 5.1.8 <p@x.example>: Sender address rejected'
        if address.startswith('exim@'):  # Exim's default policy refusal: no address status
            return '550 relay not permitted'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        self.connections.add(session.peer)
        return '250 OK'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname='127.0.0.1', port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def queue(engine, *recipients: str) -> None:
    with SqlUnitOfWork(engine) as work:
        for recipient in recipients:
            work.queue_mail(
                MailMessage(recipient, 'Zählerstand erhalten', 'Guten Tag,\nÄnderung: 1.234,56 €', '<p>Guten Tag</p>'),
                clock.now(),
            )
        work.commit()


def statuses(engine) -> list[str]:
    with Session(engine) as session:
        return [m.status for m in session.exec(select(OutboxMail).order_by(col(OutboxMail.id)))]


async def test_queued_mails_are_delivered_by_smtp_with_text_and_html(engine, smtp_server):
    controller, inbox = smtp_server
    queue(engine, 'a@example.org', 'b@example.org')
    sender = OutboxSender(
        engine,
        SmtpTransport('127.0.0.1', controller.port),
        'Stadtwerke Mühlstadt <portal@stadtwerke.example>',
        SystemClock(),
    )
    assert await sender.send_due() == 2
    assert statuses(engine) == ['sent', 'sent']
    message = inbox.messages[0]
    assert message['To'] == 'a@example.org' and message['Subject'] == 'Zählerstand erhalten'
    assert message['From'] == 'Stadtwerke Mühlstadt <portal@stadtwerke.example>'
    assert message.get_body(('plain',)).get_content().strip().endswith('1.234,56 €')
    assert '<p>Guten Tag</p>' in message.get_body(('html',)).get_content()
    assert await sender.send_due() == 0  # nothing is sent twice


async def test_a_batch_goes_out_over_one_connection_and_a_refused_address_fails_alone(engine, smtp_server):
    controller, inbox = smtp_server
    queue(engine, 'a@example.org', 'refused@example.org', 'c@example.org')
    sender = OutboxSender(
        engine, SmtpTransport('127.0.0.1', controller.port), 'portal@stadtwerke.example', SystemClock()
    )
    assert await sender.send_due() == 2
    assert [m['To'] for m in inbox.messages] == ['a@example.org', 'c@example.org']
    assert len(inbox.connections) == 1
    assert statuses(engine) == ['sent', 'queued', 'sent']  # without an address status: tried again (a policy's?)
    with Session(engine) as session:
        refused = session.exec(select(OutboxMail).where(OutboxMail.recipient == 'refused@example.org')).one()
        assert refused.attempts == 1 and refused.last_error == '550 no such mailbox'
        sent = session.exec(select(OutboxMail).where(OutboxMail.status == 'sent')).all()
        assert [(m.attempts, m.sent_at is not None, m.last_error) for m in sent] == [(1, True, '')] * 2


async def test_only_a_mailbox_refused_for_good_is_given_up_at_once(engine, smtp_server):
    controller, _ = smtp_server
    queue(engine, 'unknown@example.org', 'relay@example.org', 'full@example.org', 'a@example.org', 'syntax@x.org')
    sender = OutboxSender(engine, SmtpTransport('127.0.0.1', controller.port), 'p@x.example', SystemClock())
    assert await sender.send_due() == 1
    assert statuses(engine) == ['failed', 'queued', 'queued', 'sent', 'failed']  # policy, a full mailbox: again
    with Session(engine) as session:
        errors = [m.last_error for m in session.exec(select(OutboxMail).order_by(col(OutboxMail.id)))]
    assert errors[0] == '550 5.1.1 <unknown@example.org>: Recipient address rejected: User unknown'
    assert errors[1:3] == ['550 5.7.1 Relaying denied', '552 5.2.2 Mailbox full']
    assert errors[4] == '501 5.1.3 Bad recipient address syntax'


async def test_a_refusal_without_an_address_status_or_of_the_sender_is_tried_again(engine, smtp_server):
    """Exim refuses relaying with a bare "550 relay not permitted", also beside mails to its own domain, which it
    takes: every mail of the batch, or every customer's beside one to the utility, was given up, and none went out
    once the operator had mended the relay. A rejected sender is the portal's configuration too."""
    controller, _ = smtp_server
    queue(engine, 'service@example.org', 'exim@example.org', 'exim@example.net', 'sender@example.org')
    sender = OutboxSender(engine, SmtpTransport('127.0.0.1', controller.port), 'p@x.example', SystemClock())
    assert await sender.send_due() == 1
    assert statuses(engine) == ['sent', 'queued', 'queued', 'queued']


async def test_a_mail_refused_at_its_last_attempt_is_given_up(engine, smtp_server):
    controller, _ = smtp_server
    queue(engine, 'relay@example.org')
    with Session(engine) as session:
        mail = session.exec(select(OutboxMail)).one()
        mail.attempts = MAX_ATTEMPTS - 1
        session.add(mail)
        session.commit()
    assert (
        await OutboxSender(engine, SmtpTransport('127.0.0.1', controller.port), 'p@x.example', SystemClock()).send_due()
        == 0
    )
    assert statuses(engine) == ['failed']


async def test_mails_wait_while_smtp_is_down_and_go_out_when_it_is_back(engine, smtp_server):
    controller, inbox = smtp_server
    queue(engine, 'a@example.org')
    down = OutboxSender(engine, SmtpTransport('127.0.0.1', free_port()), 'portal@stadtwerke.example', SystemClock())
    assert await down.send_due() == 0
    with Session(engine) as session:
        mail = session.exec(select(OutboxMail)).one()
        assert (mail.status, mail.attempts) == ('queued', 1) and mail.last_error
        mail.next_attempt_at = clock.now()  # the retry pause has passed
        session.add(mail)
        session.commit()
    up = OutboxSender(engine, SmtpTransport('127.0.0.1', controller.port), 'portal@stadtwerke.example', SystemClock())
    assert await up.send_due() == 1
    assert [m['To'] for m in inbox.messages] == ['a@example.org']


@pytest.mark.parametrize(
    ('failed_at', 'pause'),
    [
        (datetime(2027, 10, 31, 1, 10, tzinfo=UTC), 60),  # 02:10 the second time: the pause was an hour in the past
        (datetime(2027, 10, 31, 0, 59, 30, tzinfo=UTC), 60),  # 02:59:30 summer time: it was 3,660 s
    ],
)
async def test_a_mail_failed_in_the_repeated_hour_waits_its_pause_in_real_time(engine, failed_at, pause):
    """The pause was added to the wall clock: in the hour the clocks go back every retry was due at once, and the
    twelve tries of a password reset's mail were spent within half a minute of the relay being down."""
    with clock.travel(failed_at, tick=False):
        queue(engine, 'a@example.org')
        down = OutboxSender(engine, SmtpTransport('127.0.0.1', free_port()), 'portal@stadtwerke.example', SystemClock())
        assert await down.send_due() == 0
    with Session(engine) as session:
        mail = session.exec(select(OutboxMail)).one()
    assert (mail.next_attempt_at - failed_at).total_seconds() == pause


async def test_a_claimed_mail_is_not_claimed_again_by_a_second_sender(engine, smtp_server):
    queue(engine, 'a@example.org')
    first = OutboxSender(engine, SmtpTransport('127.0.0.1', smtp_server[0].port), 'p@x.example', SystemClock())
    second = OutboxSender(engine, SmtpTransport('127.0.0.1', smtp_server[0].port), 'p@x.example', SystemClock())
    assert len(first._claim(10)) == 1
    assert second._claim(10) == []


async def test_the_background_sender_wakes_up_when_a_mail_is_queued(engine, smtp_server):
    controller, inbox = smtp_server
    sender = OutboxSender(engine, SmtpTransport('127.0.0.1', controller.port), 'p@x.example', SystemClock())
    task = asyncio.create_task(sender.run_forever(poll_seconds=60))
    await asyncio.sleep(0.1)
    queue(engine, 'wach@example.org')
    sender.wake.set()
    for _ in range(50):
        if inbox.messages:
            break
        await asyncio.sleep(0.05)
    task.cancel()
    assert [m['To'] for m in inbox.messages] == ['wach@example.org']


async def test_demo_mode_writes_eml_files_to_the_outbox_folder(engine, tmp_path):
    queue(engine, 'demo@example.org')
    sender = OutboxSender(
        engine, FolderTransport(tmp_path / 'outbox', SystemClock()), 'portal@stadtwerke.example', SystemClock()
    )
    assert await sender.send_due() == 1
    [file] = list((tmp_path / 'outbox').glob('*.eml'))
    assert email.message_from_bytes(file.read_bytes(), policy=default)['To'] == 'demo@example.org'


async def test_the_mail_sender_and_the_reset_loop_are_woken_only_by_a_use_case_that_queued_work(engine):
    """Woken after every use case, both ran a transaction per login at a login peak (py-spy, bench/load.py)."""
    woken: list[str] = []
    portal = Portal(
        profile=Settings(profile='stadtwerke-a').load_profile(),
        secret='test-secret',
        base_url='http://portal.test',
        hasher=CHEAP_HASHER,
        unit_of_work=lambda: SqlUnitOfWork(engine),
        mail_queued=lambda: woken.append('woken'),
    )
    make_login(engine, [make_customer(engine)['id']], email='erika@example.org')
    with pytest.raises(DomainError):
        await portal.act(login, 'erika@example.org', 'falsch-falsch-1', '')
    await portal.act(login, 'erika@example.org', PASSWORD, '')
    assert woken == []  # a login queues nothing
    await portal.act(request_password_reset, 'erika@example.org')
    assert woken == ['woken']  # the reset request: work for the reset loop
    await portal.act(send_requested_resets)
    assert woken == ['woken', 'woken']  # its mail: work for the sender
    await portal.act(send_requested_resets)
    assert woken == ['woken', 'woken']  # nothing left: the reset loop does not wake itself (it once ran back to back)


async def test_the_sender_keeps_the_relays_rate(engine, smtp_server):
    """A backlog (reminders queued while the sender was busy) goes out no faster than the relay allows."""
    controller = smtp_server[0]
    with Session(engine) as session:
        for n in range(70):
            session.add(
                OutboxMail(
                    created_at=datetime.now(UTC),
                    recipient=f'r{n}@example.org',
                    subject='Erinnerung',
                    text='Text',
                    html='<p>Text</p>',
                    next_attempt_at=datetime.now(UTC) - timedelta(minutes=5),
                )
            )
        session.commit()
    sender = OutboxSender(
        engine, SmtpTransport('127.0.0.1', controller.port), 'p@x.example', SystemClock(), per_minute=lambda: 600
    )
    started = time.monotonic()
    sent = 0
    while sent < 70:
        sent += await sender.send_due()
        await asyncio.sleep(0.05)
    assert time.monotonic() - started >= 1.8  # a batch at once, then 10 a second: the last 20 take two seconds


async def test_a_reminder_withdrawn_during_a_failed_attempt_stays_withdrawn(engine):
    """The customer opts out while the sender holds the reminder (lease taken, status still 'queued'); the relay
    refuses it for now: the failed attempt wrote 'queued' over 'withdrawn', and the reminder went out on the retry."""
    stop = 'http://portal.test/erinnerungen-abbestellen/1/abc'
    with SqlUnitOfWork(engine) as work:
        work.queue_mail(
            MailMessage('a@example.org', 'Erinnerung', 'Text', '<p>Text</p>', unsubscribe=stop), clock.now()
        )
        work.commit()

    class OptOutDuringSend:
        async def send_all(self, messages):
            with SqlUnitOfWork(engine) as work:  # the opt-out, committed meanwhile
                assert work.reminders.withdraw(stop) == 1
                work.commit()
            return ['421 try again later' for _ in messages]

    await OutboxSender(engine, OptOutDuringSend(), 'p@x.example', SystemClock()).send_due()
    with Session(engine) as session:
        assert session.exec(select(OutboxMail)).one().status == 'withdrawn'


async def test_a_mail_to_a_domain_with_an_umlaut_goes_out_through_a_relay_without_smtputf8(engine):
    """The forms take „kunde@müller.example“ as a login address; a relay that does not offer SMTPUTF8 (many do not)
    got nothing: the client refused the mail itself ("SMTPUTF8 is not supported") and it was tried again for six
    hours in vain. An ASCII mailbox at an internationalised domain needs no SMTPUTF8: its domain's A-label does, in
    IDNA 2008 as DENIC registers „straße“ (the standard library's IDNA 2003 codec sent to „strasse“, another domain)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname='127.0.0.1', port=free_port(), enable_SMTPUTF8=False)
    controller.start()
    try:
        queue(engine, 'kunde@müller.example')
        queue(engine, 'kunde@straße.example')
        sender = OutboxSender(
            engine, SmtpTransport('127.0.0.1', controller.port), 'portal@stadtwerke.example', SystemClock()
        )
        assert await sender.send_due() == 2
    finally:
        controller.stop()
    assert statuses(engine) == ['sent', 'sent']
    assert sorted(message['To'] for message in inbox.messages) == [
        'kunde@xn--mller-kva.example',
        'kunde@xn--strae-oqa.example',
    ]
    assert inbox.messages[0]['Subject'] == 'Zählerstand erhalten'
