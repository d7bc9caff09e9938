"""Browser journeys: the real app.py in a subprocess, mail through a real SMTP server (aiosmtpd on loopback),
pages driven in Debian's headless Chromium with Playwright. Controls are found by their accessible names.
"""

import email
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from email.policy import default
from pathlib import Path

import pytest
import time_machine
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from tests import clock

ROOT = Path(__file__).resolve().parents[2]
expect.set_options(timeout=30_000)  # as the pages' timeouts below: the suite's workers share two cores

CHROMIUM = os.environ.get('KUNDENPORTAL_TEST_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
]


def pytest_collection_modifyitems(config, items):
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does)"
        if os.environ.get('CI'):
            raise pytest.UsageError(message)
        for item in items:
            if 'browser' in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=message))


class MailCatcher:
    """An SMTP server's handler that keeps every message and lets a test wait for the next one to an address."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return '250 OK'

    def wait_for(self, recipient: str, subject_part: str, timeout: float = 40) -> str:
        """The plain text of the first mail to `recipient` whose subject contains `subject_part`. Polls with
        `time.sleep`: under `faketime` a condition's timed wait would never end (tests/clock.py)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                for message in self.messages:
                    if message['To'] == recipient and subject_part in message['Subject']:
                        self.messages.remove(message)
                        body = message.get_body(('plain',))
                        assert body is not None, f'no plain-text part in the mail to {recipient}'
                        return body.get_content()
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f'no mail "{subject_part}" to {recipient}; got '
                        f'{[(m["To"], m["Subject"]) for m in self.messages]}'
                    )
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def mail():
    catcher = MailCatcher()
    controller = Controller(catcher, hostname='127.0.0.1', port=free_port())
    controller.start()
    catcher.port = controller.port
    yield catcher
    controller.stop()


@pytest.fixture
def start_portal(database_url, mail, tmp_path):
    """Start app.py with a profile; returns its base URL. The server is stopped after the test."""
    processes = []

    def start(profile: str) -> str:
        port = free_port()
        base = f'http://127.0.0.1:{port}'
        # the portal as in production: every tuning on (the page tests leave the collector out)
        env = child_env()
        env.update(
            {
                'KUNDENPORTAL_DATABASE_URL': database_url,
                'KUNDENPORTAL_PROFILE': profile,
                'KUNDENPORTAL_PORT': str(port),
                'KUNDENPORTAL_HOST': '127.0.0.1',
                'KUNDENPORTAL_BASE_URL': base,
                'KUNDENPORTAL_SMTP_HOST': '127.0.0.1',
                'KUNDENPORTAL_SMTP_PORT': str(mail.port),
                'KUNDENPORTAL_DATA_DIR': str(tmp_path / 'data'),
                'KUNDENPORTAL_MAIL_POLL_SECONDS': '0.2',
            }
        )
        log = (tmp_path / f'server-{port}.log').open('w')
        process = subprocess.Popen(
            portal_command(),
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        _wait_until_healthy(base, process, tmp_path / f'server-{port}.log')
        return base

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def child_env(machine_clock: bool = False) -> dict[str, str]:
    """The environment for a portal the tests start, without the test's own variables. `machine_clock` (for
    Chromium): also without Debian's `faketime` (its LD_PRELOAD), which a calendar-edge run puts around pytest; the
    portal keeps it, so that its clock and the test's agree (tests/pinned_app.py), the browser needs none."""
    drop = ('PYTEST_CURRENT_TEST', 'KUNDENPORTAL_TUNING_SKIP')
    env = {k: v for k, v in os.environ.items() if k not in drop}
    if machine_clock:
        env = {k: v for k, v in env.items() if k != 'LD_PRELOAD' and not k.startswith('FAKETIME')}
    return env


def portal_command() -> list[str]:
    """app.py in a process of its own, its clock starting where the test's stands (tests/pinned_app.py)."""
    wall = time_machine.escape_hatch.time.time()  # the real time, to add the seconds the process takes to start
    return [sys.executable, str(ROOT / 'tests' / 'pinned_app.py'), clock.now().isoformat(), repr(wall)]


def _wait_until_healthy(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90  # a loaded runner (or a calendar-edge run under faketime) starts slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f'the portal exited:\n{log.read_text()}')
        try:
            with urllib.request.urlopen(base + '/healthz', timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f'the portal did not start:\n{log.read_text()}')


@pytest.fixture
def browser(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / 'chromium'),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={'width': 1280, 'height': 900},
            locale='de-DE',
            env=child_env(machine_clock=True),
        )
        # generous: four workers share two cores with a portal and a Chromium each, and a page can wait its turn
        context.set_default_timeout(30000)
        context.set_default_navigation_timeout(30000)
        yield context.new_page()
        context.close()


def link_in(text: str, path: str) -> str:
    match = re.search(rf'(https?://\S+{re.escape(path)}\S+)', text)
    assert match, f'no link to {path} in:\n{text}'
    return match.group(1)
