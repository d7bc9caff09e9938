"""At a login peak the password hashing queues; beyond a bounded wait visitors are asked to come back."""

import asyncio
import logging
import threading

import pytest
from nicegui import app
from nicegui.app.app import prune_user_storage

from domain.errors import Busy
from service.runner import HashingQueue
from tests.factories import PASSWORD, make_customer, make_login
from tests.pages.conftest import button, field


async def test_jobs_beyond_the_expected_wait_are_turned_away_and_the_queue_recovers():
    queue = HashingQueue(threads=1, max_wait=1.5, estimate=1.0)
    release = threading.Event()
    first = asyncio.create_task(queue.run(release.wait))
    second = asyncio.create_task(queue.run(lambda: 'second'))
    await asyncio.sleep(0.05)
    assert queue.waiting == 2 and queue.wait_expected() == 2.0
    for _ in range(3):
        with pytest.raises(Busy):
            await queue.run(lambda: 'third')
    assert queue.turned_away == 3
    release.set()
    assert await first is True and await second == 'second'
    assert queue.waiting == 0
    assert queue.seconds < 1.0  # learnt from the jobs: these were quicker than the estimate
    assert await queue.run(lambda: 'later') == 'later'


async def test_a_failing_job_leaves_the_queue_and_its_error_reaches_the_caller():
    queue = HashingQueue(threads=1)

    def fails() -> None:
        raise ValueError('broken')

    with pytest.raises(ValueError):
        await queue.run(fails)
    assert queue.waiting == 0


async def test_at_a_login_peak_the_login_page_asks_to_try_again_in_a_minute(user, db, monkeypatch):
    make_login(db, [make_customer(db)['id']], email='erika@example.org')
    monkeypatch.setattr(HashingQueue, 'wait_expected', lambda self: 60.0)
    await user.open('/')
    field(user, 'E-Mail-Adresse').type('erika@example.org')
    field(user, 'Passwort').type(PASSWORD)
    button(user, 'Anmelden').click()
    await user.should_see('Gerade sind sehr viele Kundinnen und Kunden gleichzeitig im Kundenportal', retries=50)
    monkeypatch.undo()
    button(user, 'Anmelden').click()
    await user.should_see('Ihre Verträge', retries=50)


async def test_a_login_that_finishes_after_its_tab_has_gone_ends_quietly(user, db, monkeypatch, caplog):
    """The tab lost its connection while the login queued; NiceGUI deleted it and pruned its session storage."""
    caplog.set_level(logging.INFO, logger='kundenportal')
    make_login(db, [make_customer(db)['id']], email='erika@example.org')
    arrived, gate, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()
    queued = HashingQueue.run

    async def run_after_gate(self, work):
        arrived.set()
        await gate.wait()
        try:
            return await queued(self, work)
        finally:
            finished.set()

    monkeypatch.setattr(HashingQueue, 'run', run_after_gate)
    await user.open('/')
    field(user, 'E-Mail-Adresse').type('erika@example.org')
    field(user, 'Passwort').type(PASSWORD)
    button(user, 'Anmelden').click()
    await asyncio.wait_for(arrived.wait(), 10)
    session_id = user.client.request.session['id']
    user.client.delete()
    await prune_user_storage(force=True)
    assert session_id not in app.storage._users
    gate.set()
    await asyncio.wait_for(finished.wait(), 10)
    await asyncio.sleep(0.2)
    assert 'login finished after its tab had gone' in caplog.text
    assert 'should be created' not in caplog.text and session_id not in app.storage._users
