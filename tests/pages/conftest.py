"""Page tests: NiceGUI's simulated `user` on the real app.py, with a fresh database and profile per test."""

import asyncio
from pathlib import Path

import pytest
from nicegui import ui
from nicegui.testing import User
from nicegui.testing.user_interaction import UserInteraction
from sqlalchemy import create_engine

# Every use case a page calls runs on SQLite and PostgreSQL in tests/storage; page tests check the pages, so they
# run on SQLite, except where the page's own path to the database is the point (API, registration, login).
BOTH_DATABASES = {
    'test_api',
    'test_registration',
    'test_login',
    'test_hostile_requests',
    'test_downloads_need_the_session',
}


def pytest_collection_modifyitems(config, items):
    pages = Path(__file__).parent
    dropped = [
        item
        for item in items
        if Path(item.fspath).parent == pages
        and '[postgresql' in item.nodeid
        and Path(item.fspath).stem not in BOTH_DATABASES
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in set(dropped)]


def pytest_configure(config):
    config.addinivalue_line('markers', 'profile(key): the utility profile the app runs with')


@pytest.fixture
def profile(request) -> str:
    marker = request.node.get_closest_marker('profile')
    return marker.args[0] if marker else 'stadtwerke-a'


@pytest.fixture(autouse=True)
def portal_env(monkeypatch, database_url, profile, tmp_path):
    """The app reads these when the `user` fixture runs app.py: set them first."""
    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', database_url)
    monkeypatch.setenv('KUNDENPORTAL_PROFILE', profile)
    monkeypatch.setenv('KUNDENPORTAL_DATA_DIR', str(tmp_path / 'data'))


@pytest.fixture(autouse=True)
def events_see_their_page_request(monkeypatch):
    """In a browser NiceGUI runs each event handler with the request of the page it belongs to (so
    app.storage.user is that page's session); the simulated user runs handlers in the test's own context.
    Do as the browser does, so that handlers see the session the page was built for (it changes at login)."""
    from nicegui import storage
    from nicegui.testing import user_interaction

    original = user_interaction.events.handle_event

    def handle_event(handler, arguments, *args, **kwargs):
        client = getattr(arguments, 'client', None)
        if client is not None and client.request is not None:
            storage.request_contextvar.set(client.request)
        return original(handler, arguments, *args, **kwargs)

    monkeypatch.setattr(user_interaction.events, 'handle_event', handle_event)


@pytest.fixture
def db(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def field(user: User, name: str) -> UserInteraction:
    """The input whose accessible name (label) is exactly `name`."""
    found = {e for e in user.find(ui.input).elements if e.props.get('label') == name}
    assert found, f'no field named {name!r}'
    return UserInteraction(user, found, name)


def button(user: User, name: str) -> UserInteraction:
    found = {e for e in user.find(ui.button).elements if e.text == name or e.props.get('aria-label') == name}
    assert found, f'no button named {name!r}'
    return UserInteraction(user, found, name)


def error_at(user: User, name: str) -> str:
    [element] = [e for e in user.find(ui.input).elements if e.props.get('label') == name]
    return element.error or ''


async def log_in(user: User, email: str, password: str) -> None:
    await user.open('/')
    field(user, 'E-Mail-Adresse').type(email)
    field(user, 'Passwort').type(password)
    button(user, 'Anmelden').click()
    await user.should_see('Ihre Verträge', retries=50)
    follow_session(user)


def follow_session(user: User) -> None:
    """The login gave the browser a new session id; let the test's own code (`with user: app.storage.user`)
    see the session of the page now open, as the browser's next requests do."""
    from nicegui import storage

    assert user.client is not None, 'no page open'
    storage.request_contextvar.set(user.client.request)


async def submit_for_error(user: User, button_name: str, field_name: str) -> str:
    """Click and wait for the handler's answer at the field (the previous error is cleared first). Where a page
    has several fields of that name (each sensitive change asks for `Aktuelles Passwort`), at any of them."""
    elements = [e for e in user.find(ui.input).elements if e.props.get('label') == field_name]
    assert elements, f'no field named {field_name!r}'
    for element in elements:
        element.error = None
    button(user, button_name).click()
    for _ in range(100):
        for element in elements:
            if element.error:
                return element.error
        await asyncio.sleep(0.05)
    raise AssertionError(f'no error appeared at {field_name!r}')


async def see(user: User, text: str) -> None:
    """should_see with time for a handler that hashes a password or talks to the database."""
    await user.should_see(text, retries=50)


async def mail_arrives(engine, recipient: str):
    """The newest mail to `recipient`, waiting for it: "Passwort vergessen?" answers at once and the portal's
    background writes the mail a moment later (so that the answer's time tells nothing)."""
    from tests.factories import mails_to

    for _ in range(200):
        mails = mails_to(engine, recipient)
        if mails:
            return mails[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f'no mail to {recipient}')


@pytest.fixture
def otto(db):
    """A customer with a login (otto@example.org), two years of readings and an installment of 92 € paid so far."""
    from tests.factories import add_readings, add_tariff, make_customer, make_login, portal_today, year_end

    customer = make_customer(db, last_name='Otto')
    add_readings(db, customer['meter_number'], (year_end(2), 10000), (year_end(), 13200))
    add_tariff(db, customer['id'], amount='92', paid_months=portal_today().month - 1)
    login = make_login(db, [customer['id']], email='otto@example.org')
    return customer, login


@pytest.fixture
def anna(db):
    """A customer with a login (anna@example.org) and readings to 31.12. of last year: 10 kWh a day."""
    from tests.factories import add_readings, make_customer, make_login, year_end

    customer = make_customer(db, last_name='Ablesung')
    add_readings(db, customer['meter_number'], (year_end(2), 10000), (year_end(), 13650))
    login = make_login(db, [customer['id']], email='anna@example.org')
    return customer, login
