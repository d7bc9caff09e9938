"""pages/admission.py: pages wait their turn in order of arrival; a visitor who would wait too long is asked to come
back shortly, with a page that reloads itself."""

import asyncio
import time
from collections.abc import Callable

from pages import styles
from pages.admission import RETRY_SECONDS, PageQueue


class Pages:
    """An ASGI app whose pages take as long as the test says; records who was inside when."""

    def __init__(self) -> None:
        self.inside, self.most = 0, 0
        self.entered: list[str] = []
        self.release: dict[str, asyncio.Event] = {}
        self.when_done: dict[str, Callable[[], object]] = {}  # path → called as the page's answer has gone out

    async def __call__(self, scope, receive, send) -> None:
        self.inside += 1
        self.most = max(self.most, self.inside)
        self.entered.append(scope['path'])
        await self.release.setdefault(scope['path'], asyncio.Event()).wait()
        await send({'type': 'http.response.start', 'status': 200, 'headers': []})
        await send({'type': 'http.response.body', 'body': b'page'})
        self.inside -= 1
        if scope['path'] in self.when_done:
            self.when_done[scope['path']]()


async def get(queue: PageQueue, path: str, method: str = 'GET', kind: str = 'http') -> list[dict]:
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {'type': 'http.request'}

    await queue({'type': kind, 'method': method, 'path': path}, receive, send)
    return sent


async def rounds(n: int = 5) -> None:
    """Lets the loop run the tasks just created up to where they wait, without waiting any clock time."""
    for _ in range(n):
        await asyncio.sleep(0)


async def test_pages_are_built_a_few_at_a_time_in_order_of_arrival():
    pages = Pages()
    queue = PageQueue(pages, concurrent=2)
    requests = []
    for n in range(6):
        requests.append(asyncio.create_task(get(queue, f'/page-{n}')))
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)
    assert pages.entered == ['/page-0', '/page-1'] and len(queue.waiting) == 4
    for n in (1, 0, 2, 3, 4, 5):
        pages.release.setdefault(f'/page-{n}', asyncio.Event()).set()
        await asyncio.sleep(0.01)
    answers = await asyncio.gather(*requests)
    assert pages.entered == [f'/page-{n}' for n in range(6)] and pages.most == 2
    assert all(answer[0]['status'] == 200 for answer in answers)
    assert queue.busy == 0 and not queue.waiting


async def test_nicegui_files_its_socket_our_stylesheet_the_api_the_session_start_and_forms_posted_do_not_wait():
    pages = Pages()
    queue = PageQueue(pages, concurrent=1)
    first = asyncio.create_task(get(queue, '/uebersicht'))
    await asyncio.sleep(0.01)
    for path, method in (
        ('/_nicegui/3.18.0/static/quasar.js', 'GET'),
        (f'{styles.PREFIX}utilities-0123456789abcdef.css', 'GET'),
        ('/api/v1/readings', 'GET'),
        ('/healthz', 'GET'),
        ('/anmelden/weiter', 'GET'),
        ('/abmelden', 'POST'),
    ):
        pages.release.setdefault(path, asyncio.Event()).set()
        answer = await asyncio.wait_for(get(queue, path, method), 1)
        assert answer[0]['status'] == 200
    pages.release['/uebersicht'].set()
    await first


async def test_a_visitor_who_would_wait_too_long_gets_a_page_that_reloads_itself():
    pages = Pages()
    queue = PageQueue(pages, concurrent=1, max_wait=1.0, estimate=0.4)
    first = asyncio.create_task(get(queue, '/uebersicht'))
    await asyncio.sleep(0.01)
    waiting = [asyncio.create_task(get(queue, f'/wait-{n}')) for n in range(3)]
    await asyncio.sleep(0.01)
    assert len(queue.waiting) == 3  # 3 × 0.4 s > 1 s: the next one is turned away
    answer = await get(queue, '/zaehlerstand')
    start, body = answer
    headers = dict(start['headers'])
    assert start['status'] == 503 and headers[b'retry-after'] == str(RETRY_SECONDS).encode()
    text = body['body'].decode()
    assert 'Einen Moment bitte' in text and f'content="{RETRY_SECONDS}"' in text and 'lang="de"' in text
    assert queue.turned_away == 1 and '/zaehlerstand' not in pages.entered
    for path in ('/uebersicht', '/wait-0', '/wait-1', '/wait-2'):
        pages.release.setdefault(path, asyncio.Event()).set()
    await asyncio.gather(first, *waiting)
    assert queue.busy == 0


async def test_a_visitor_who_leaves_while_waiting_or_just_as_the_turn_comes_keeps_no_one_waiting():
    pages = Pages()
    queue = PageQueue(pages, concurrent=1)
    first = asyncio.create_task(get(queue, '/a'))
    await asyncio.sleep(0.01)
    gone = asyncio.create_task(get(queue, '/gone'))
    late = asyncio.create_task(get(queue, '/late'))
    after = asyncio.create_task(get(queue, '/after'))
    await asyncio.sleep(0.01)
    gone.cancel()  # left while waiting
    await asyncio.sleep(0.01)
    # /late leaves just as its turn comes: the turn is handed over after /a is done, the cancel runs before /late
    pages.when_done['/a'] = lambda: asyncio.get_running_loop().call_soon(late.cancel)
    pages.release['/a'].set()
    await asyncio.wait_for(first, 1)
    await asyncio.sleep(0.01)
    assert late.cancelled()
    pages.release.setdefault('/after', asyncio.Event()).set()
    assert (await asyncio.wait_for(after, 1))[0]['status'] == 200
    assert pages.entered == ['/a', '/after'] and queue.busy == 0 and not queue.waiting


async def test_a_visitor_whose_turn_does_not_come_within_the_longest_wait_is_asked_to_come_back():
    pages = Pages()
    queue = PageQueue(pages, concurrent=1, max_wait=0.3, estimate=0.001)  # promised: one page in a millisecond
    first = asyncio.create_task(get(queue, '/slow'))
    await rounds()
    waiting = asyncio.create_task(get(queue, '/waiting'))
    await rounds()  # no clock time: on a loaded machine a sleep of 10 ms may outlast the longest wait
    assert len(queue.waiting) == 1 and not waiting.done()
    start, body = await asyncio.wait_for(waiting, 1)
    assert start['status'] == 503 and b'Einen Moment bitte' in body['body']
    assert queue.turned_away == 1 and not queue.waiting and '/waiting' not in pages.entered
    pages.release['/slow'].set()
    await first
    assert queue.busy == 0
    pages.release.setdefault('/next', asyncio.Event()).set()
    assert (await asyncio.wait_for(get(queue, '/next'), 1))[0]['status'] == 200


async def test_the_wait_is_estimated_from_pages_done_while_others_wait_including_the_loop_s_rounds_between():
    """Pages that take no time themselves, on a loop busy with other work for 20 ms a round (logins, websocket
    messages at a peak): a page whose turn has come starts a round later, so the queue moves a page per round."""
    pages = Pages()
    queue = PageQueue(pages, concurrent=1, estimate=0.0001)
    busy = True

    async def other_work():
        while busy:
            time.sleep(0.02)
            await asyncio.sleep(0)

    for n in range(1, 21):
        pages.release.setdefault(f'/page-{n}', asyncio.Event()).set()  # built at once when their turn comes
    first = asyncio.create_task(get(queue, '/page-0'))
    await asyncio.sleep(0.01)
    requests = [asyncio.create_task(get(queue, f'/page-{n}')) for n in range(1, 21)]
    await asyncio.sleep(0.01)
    assert len(queue.waiting) == 20
    worker = asyncio.create_task(other_work())
    pages.release['/page-0'].set()
    await asyncio.gather(first, *requests)
    busy = False
    await worker
    assert 0.012 < queue.seconds < 0.1  # 20 ms a page (more on a loaded machine), from 0.1 ms: ~88 % of the way
    assert queue.wait_expected() == 0 and queue.busy == 0
