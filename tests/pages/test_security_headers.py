"""Security headers on pages, downloads and the API (first part of the hardening issue)."""

import hashlib
import re

import pytest

from pages.styles import STYLESHEET


async def test_every_answer_carries_the_security_headers(user):
    for path in ('/', '/verwaltung', '/api/v1/openapi.json', '/healthz', '/rechnungen/RE1.pdf', '/anmelden/weiter'):
        answer = await user.http_client.get(path)
        headers = answer.headers
        assert "frame-ancestors 'none'" in headers['content-security-policy'], path
        assert "object-src 'none'" in headers['content-security-policy']
        assert headers['x-content-type-options'] == 'nosniff' and headers['referrer-policy'] == 'same-origin'
        assert headers['x-frame-options'] == 'DENY'
        assert 'strict-transport-security' not in headers  # only behind TLS


async def test_the_session_cookie_is_httponly_and_samesite(user):
    answer = await user.http_client.get('/')
    cookie = answer.headers.get('set-cookie', '')
    assert 'httponly' in cookie.lower() and 'samesite=lax' in cookie.lower()


async def test_pages_and_api_answers_are_never_cached_and_the_socket_is_same_origin_only(user):
    for path in ('/', '/uebersicht', '/api/v1/openapi.json', '/rechnungen/RE1.pdf', '/anmelden/weiter?t=x'):
        headers = (await user.http_client.get(path)).headers
        assert headers['cache-control'] == 'no-store', path
        policy = dict(part.strip().split(' ', 1) for part in headers['content-security-policy'].split(';'))
        assert policy['connect-src'] == "'self'"  # no other ws:/wss: host
    script = (await user.http_client.get('/')).text.split('/_nicegui/', 1)[1].split('"', 1)[0]
    assert 'no-store' not in (await user.http_client.get('/_nicegui/' + script)).headers.get('cache-control', '')


async def test_pages_link_the_stylesheet_made_ahead_which_browsers_keep_for_a_year(user):
    page = (await user.http_client.get('/')).text
    assert 'tailwindcss' not in page  # no compiler in the customer's browser (pages.styles)
    address = re.findall(r'<link rel="stylesheet" href="(/_kp/utilities-[0-9a-f]{16}\.css)">', page)
    assert address == [f'/_kp/utilities-{hashlib.sha256(STYLESHEET.read_bytes()).hexdigest()[:16]}.css']  # new → new
    answer = await user.http_client.get(address[0])
    assert answer.headers['content-type'].startswith('text/css') and answer.text == STYLESHEET.read_text()
    assert 'max-age=31536000' in answer.headers['cache-control']


@pytest.fixture
def behind_tls(monkeypatch):
    monkeypatch.setenv('KUNDENPORTAL_BASE_URL', 'https://portal.test')  # before the `user` fixture starts the app


async def test_behind_tls_the_session_cookie_has_the_host_prefix_and_is_secure(behind_tls, user):
    cookie = (await user.http_client.get('/')).headers.get('set-cookie', '')
    assert cookie.startswith('__Host-session=') and 'secure' in cookie.lower() and 'path=/' in cookie.lower()
    assert 'domain=' not in cookie.lower()
    assert 'strict-transport-security' in (await user.http_client.get('/')).headers
