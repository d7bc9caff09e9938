"""Tuning tests: each patch is hit by the library's own code (a page built by NiceGUI, a websocket through uvicorn
and python-socketio, a full collection by CPython), and the portal works without it. They run the
real app.py through NiceGUI's `user` fixture on SQLite, with the page tests' fixtures."""

import ast
import asyncio
import gc
import re
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import socketio
import uvicorn
from nicegui import core

from tests.pages.conftest import db, events_see_their_page_request, portal_env, profile  # noqa: F401

QUERY = re.compile(r'query: (\{.*?\}),\n')  # the socket's query NiceGUI writes into the page (bench/browser_tab.py)


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    dropped = [item for item in items if Path(item.fspath).parent == here and '[postgresql' in item.nodeid]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in set(dropped)]


@pytest.fixture
async def served(user) -> AsyncIterator[str]:
    """The portal the `user` fixture started, also served by uvicorn on a loopback port: its base URL."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(core.app, host='127.0.0.1', port=port, lifespan='off', log_level='warning'))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f'http://127.0.0.1:{port}'
    server.should_exit = True
    await serving


async def open_tab(base: str, path: str = '/') -> tuple[socketio.AsyncClient, str]:
    """What a browser does: load the page over HTTP, then connect its websocket; the socket and the page's id."""
    async with aiohttp.ClientSession() as http, http.get(base + path) as answer:
        html = await answer.text()
    found = QUERY.search(html)
    assert found, f'no socket query in the page {path}'
    query = ast.literal_eval(found.group(1))
    params = {**query, 'document_id': str(uuid.uuid4()), 'tab_id': str(uuid.uuid4()), 'old_tab_id': ''}
    url = base + '?' + '&'.join(f'{k}={str(v).lower() if isinstance(v, bool) else v}' for k, v in params.items())
    tab = socketio.AsyncClient(reconnection=False)
    await tab.connect(url, socketio_path='/_nicegui_ws/socket.io', transports=['websocket'], wait_timeout=10)
    return tab, query['client_id']


async def close_tab(tab: socketio.AsyncClient) -> None:
    """Leave the page, and wait until the server has seen the socket go."""
    sid = tab.get_sid('/')
    await tab.disconnect()
    for _ in range(100):
        if not core.sio.manager.get_rooms(sid, '/'):
            return
        await asyncio.sleep(0.02)
    raise AssertionError('the server still holds the socket')


@pytest.fixture(autouse=True)
def production_tuning(monkeypatch):
    """Every tuning as in production (the page tests leave the collector out), and nothing set aside by the test
    run itself (tests/conftest.py sets the imports aside): the collector's counts start from nothing. Afterwards the
    imports are set aside again for the tests that follow."""
    monkeypatch.delenv('KUNDENPORTAL_TUNING_SKIP', raising=False)
    gc.unfreeze()
    yield
    gc.collect()
    gc.freeze()
