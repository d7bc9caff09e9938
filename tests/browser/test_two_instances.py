"""Two instances against one PostgreSQL and one Redis: a customer's session survives the loss of the instance
it was on (what a proxy with sticky sessions does when an instance fails; docs/operations.md)."""

import json
import os
import shutil
import subprocess
import time

import pytest
import redis
from playwright.sync_api import Page, expect

from tests.browser.conftest import _wait_until_healthy, child_env, free_port, portal_command
from tests.browser.test_self_service_journeys import log_in
from tests.factories import make_customer, make_login

pytestmark = pytest.mark.browser


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which('redis-server')
    if server is None:
        if os.environ.get('CI'):
            raise AssertionError('redis-server is missing (.ci/run installs it)')
        pytest.skip('redis-server is not installed')
    port = free_port()
    process = subprocess.Popen(
        [
            server,
            '--port',
            str(port),
            '--bind',
            '127.0.0.1',
            '--save',
            '',
            '--appendonly',
            'no',
            '--dir',
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env=child_env(machine_clock=True),  # Redis keeps the machine's clock (libfaketime hangs redis-cli)
    )
    deadline = time.monotonic() + 10
    while _ping(port) != 'PONG':
        assert time.monotonic() < deadline, 'redis-server did not start'
        time.sleep(0.1)
    yield f'redis://127.0.0.1:{port}/0'
    process.terminate()
    process.wait(timeout=10)


def _ping(port: int) -> str:
    command = ['redis-cli', '-p', str(port), 'ping']
    try:
        answer = subprocess.run(command, capture_output=True, text=True, timeout=5, env=child_env(machine_clock=True))
    except subprocess.TimeoutExpired:
        return ''
    return answer.stdout.strip()


def _session_in_redis(redis_url: str) -> None:
    """Until a session's own storage in Redis holds its login. Not any key that mentions `user_id`: the login's
    ticket in the storage of the session before the login (pages/renewal.py) names it in its grant, and while
    NiceGUI had not yet deleted that one or written the new, the instance was killed with the session only in its
    memory (the browser on the other one then found no login: CI, twice)."""
    client = redis.Redis.from_url(redis_url)
    for _ in range(400):  # polled, not a timed wait: those never return under faketime (README)
        if any('user_id' in _stored(client, key) for key in client.scan_iter('nicegui:user-*')):
            return
        time.sleep(0.05)
    raise AssertionError(f'the login never reached Redis: {_everything(client)}')


def _stored(client: redis.Redis, key: bytes) -> dict:
    data = json.loads(client.get(key) or b'{}')
    return data if isinstance(data, dict) else {}


def _everything(client: redis.Redis) -> dict[str, list[str]]:
    """What each key in Redis holds (the names, not the values): for a failure's message."""
    return {key.decode(): sorted(_stored(client, key)) for key in client.scan_iter('nicegui:*')}


@pytest.mark.parametrize('database_url', ['postgresql'], indirect=True)
def test_a_session_survives_the_loss_of_its_instance(engine, database_url, redis_url, mail, browser: Page, tmp_path):
    customer = make_customer(engine, last_name='Ausfall')
    make_login(engine, [customer['id']], email='ausfall@example.org')
    processes = []

    def instance(name: str) -> str:
        port = free_port()
        env = child_env()
        env.update(
            {
                'KUNDENPORTAL_DATABASE_URL': database_url,
                'KUNDENPORTAL_REDIS_URL': redis_url,
                'KUNDENPORTAL_PORT': str(port),
                'KUNDENPORTAL_HOST': '127.0.0.1',
                'KUNDENPORTAL_BASE_URL': 'http://127.0.0.1',
                'KUNDENPORTAL_SMTP_HOST': '127.0.0.1',
                'KUNDENPORTAL_SMTP_PORT': str(mail.port),
                'KUNDENPORTAL_DATA_DIR': str(tmp_path / 'data'),
            }
        )
        log = (tmp_path / f'{name}.log').open('w')
        (tmp_path / name).mkdir()
        processes.append(
            subprocess.Popen(
                portal_command(),
                cwd=tmp_path / name,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        _wait_until_healthy(f'http://127.0.0.1:{port}', processes[-1], tmp_path / f'{name}.log')
        return f'http://127.0.0.1:{port}'

    try:
        first, second = instance('a'), instance('b')
        log_in(browser, first, 'ausfall@example.org')
        expect(browser.get_by_text('Ihre Verträge')).to_be_visible()
        _session_in_redis(redis_url)  # NiceGUI writes it there in the background: the loss comes after (under load
        # the instance was killed before, and the browser was logged out: what a loss in the login's first moment does)
        processes[0].kill()  # the instance the customer was on fails
        processes[0].wait(timeout=10)
        browser.goto(second + '/uebersicht')  # the proxy sends the browser to the other one
        try:
            expect(browser.get_by_text('Ihre Verträge')).to_be_visible()
        except AssertionError as failed:
            stored = _everything(redis.Redis.from_url(redis_url))
            raise AssertionError(f'the other instance showed {browser.url}; in Redis: {stored}') from failed
        assert browser.url.endswith('/uebersicht')  # still logged in: the session lives in Redis
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=10)
