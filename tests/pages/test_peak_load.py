"""At a login peak the password hashing queues in order of arrival and each visitor sees their place; only beyond
minutes of queue are visitors asked to come back."""

import asyncio
import logging
import threading

import pytest
from nicegui import app
from nicegui.app.app import prune_user_storage

from domain.errors import Busy, VisitorGone
from service.runner import HashingQueue
from tests.factories import PASSWORD, make_customer, make_login
from tests.pages.conftest import button, field


@pytest.fixture
def new_queue():
    """Makes hashing queues whose threads end with the test, as app.py closes the portal's at its shutdown."""
    made: list[HashingQueue] = []

    def new(**options) -> HashingQueue:
        made.append(HashingQueue(**options))
        return made[-1]

    yield new
    for queue in made:
        queue.close()


async def test_jobs_beyond_the_expected_wait_are_turned_away_and_the_queue_recovers(new_queue):
    queue = new_queue(threads=1, max_wait=1.5, estimate=1.0)
    release = threading.Event()
    first = asyncio.create_task(queue.run(release.wait))
    await asyncio.sleep(0.05)  # its thread has taken it
    second = asyncio.create_task(queue.run(lambda: 'second'))
    third = asyncio.create_task(queue.run(lambda: 'third'))
    await asyncio.sleep(0.05)
    assert queue.waiting == 3 and queue.wait_expected() == 2.0  # two queued behind the running one, 1 s each
    for _ in range(3):
        with pytest.raises(Busy):
            await queue.run(lambda: 'fourth')
    assert queue.turned_away == 3
    release.set()
    assert await first is True and await second == 'second' and await third == 'third'
    assert queue.waiting == 0
    assert queue.seconds < 1.0  # learnt from the jobs: these were quicker than the estimate
    assert await queue.run(lambda: 'later') == 'later'


async def test_a_waiting_job_is_told_its_place_and_runs_in_order_of_arrival(monkeypatch, new_queue):
    monkeypatch.setattr(HashingQueue, 'TELL_SECONDS', 0.05)
    queue = new_queue(threads=1, estimate=4.0)
    release, ran = threading.Event(), []
    told: dict[str, list[tuple[int, float]]] = {'second': [], 'third': [], 'fourth': []}

    def job(name: str):
        return lambda: ran.append(name)

    first = asyncio.create_task(queue.run(release.wait))
    await asyncio.sleep(0.05)
    waiting = {
        name: asyncio.create_task(
            queue.run(job(name), lambda place, seconds, name=name: told[name].append((place, seconds)))
        )
        for name in told
    }
    await asyncio.sleep(0.3)
    assert [told[name][-1] for name in told] == [(1, 4.0), (2, 8.0), (3, 12.0)]  # place, seconds: one job 4 s
    waiting['third'].cancel()  # the visitor closed the tab before the turn came
    await asyncio.sleep(0.3)
    assert told['fourth'][-1] == (2, 8.0)  # moved up
    release.set()
    await first
    await asyncio.gather(waiting['second'], waiting['fourth'])
    assert ran == ['second', 'fourth']  # in order of arrival; the job of the closed tab never ran
    assert told['second'][-1] == told['fourth'][-1] == (0, 0.0)  # told that the turn has come
    assert queue.waiting == 0 and queue.wait_expected() == 0


async def test_the_job_of_a_visitor_who_left_before_the_turn_is_not_run(new_queue):
    queue = new_queue(threads=1)
    release, ran = threading.Event(), []
    first = asyncio.create_task(queue.run(release.wait))
    await asyncio.sleep(0.05)
    left = asyncio.create_task(queue.run(lambda: ran.append('hashed'), gone=lambda: True))
    stayed = asyncio.create_task(queue.run(lambda: ran.append('stayed'), gone=lambda: False))
    await asyncio.sleep(0.05)
    release.set()
    await first
    with pytest.raises(VisitorGone):
        await left
    await stayed
    assert ran == ['stayed'] and queue.waiting == 0


async def test_a_failing_job_leaves_the_queue_and_its_error_reaches_the_caller(new_queue):
    queue = new_queue(threads=1)

    def fails() -> None:
        raise ValueError('broken')

    with pytest.raises(ValueError):
        await queue.run(fails)
    assert queue.waiting == 0


async def test_at_a_login_peak_the_login_page_shows_the_place_in_the_queue_and_logs_in_when_its_turn_comes(
    user, db, monkeypatch
):
    make_login(db, [make_customer(db)['id']], email='erika@example.org')
    gate = asyncio.Event()
    queued = HashingQueue.run

    async def a_long_queue(self, work, waiting=None, gone=None):
        waiting(37, 21.0)  # as HashingQueue._tell says it
        await gate.wait()
        waiting(0, 0.0)
        return await queued(self, work, gone=gone)

    monkeypatch.setattr(HashingQueue, 'run', a_long_queue)
    await user.open('/')
    field(user, 'E-Mail-Adresse').type('erika@example.org')
    field(user, 'Passwort').type(PASSWORD)
    button(user, 'Anmelden').click()
    await user.should_see('Sie sind an Position 37, etwa 20 Sekunden.', retries=50)
    await user.should_see('Bitte lassen Sie diese Seite geöffnet: Sie werden automatisch angemeldet.')
    gate.set()
    await user.should_see('Ihre Verträge', retries=50)


async def test_beyond_minutes_of_queue_the_login_page_asks_to_try_again_in_a_minute(user, db, monkeypatch):
    make_login(db, [make_customer(db)['id']], email='erika@example.org')
    monkeypatch.setattr(HashingQueue, 'wait_expected', lambda self: 600.0)
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

    async def run_after_gate(self, work, waiting=None, gone=None):
        arrived.set()
        await gate.wait()
        try:
            return await queued(self, work, waiting)
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


async def test_the_hashing_threads_end_with_the_portal():
    """app.py closes the queue at NiceGUI's shutdown: nothing of a stopped portal stays behind in its process."""
    before = set(threading.enumerate())
    queue = HashingQueue(threads=2)
    assert await queue.run(lambda: 'hashed') == 'hashed'
    started = [t for t in threading.enumerate() if t not in before and t.name.startswith('kp-hashing')]
    assert started
    queue.close()
    for thread in started:
        thread.join(2)
    assert not any(thread.is_alive() for thread in started)
    with pytest.raises(Busy):  # as at a peak: "please try again in a moment", no error logged
        await queue.run(lambda: 'after the shutdown')
