"""Security headers on pages, downloads and the API (first part of the hardening issue)."""


async def test_every_answer_carries_the_security_headers(user):
    for path in ('/', '/verwaltung', '/api/v1/openapi.json', '/healthz', '/rechnungen/RE1.pdf'):
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
