"""service/tuning/guard.py and the off switch: outside the versions a patch was written for, or with
KUNDENPORTAL_TUNING=off, the libraries' own code runs untouched, and the portal works all the same."""

import asyncio
import gc
import logging

import pytest
import socketio
from nicegui import Client, core, outbox
from nicegui.props import Props
from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.pdfdoc import PDFArray, PDFImageXObject, PDFStreamFilterZCompress

from service import hardening, tuning
from service.tuning import guard
from storage.settings import Settings
from tests.factories import PASSWORD, make_customer, make_login
from tests.pages.conftest import log_in

EVERY = {patch.name for patch in tuning.patches()}


@pytest.fixture
def tuning_off(monkeypatch):
    monkeypatch.setenv('KUNDENPORTAL_TUNING', 'off')


@pytest.fixture
def another_version(monkeypatch, caplog):
    """Every library as a release no patch was written for."""
    caplog.set_level(logging.WARNING, logger='kundenportal')
    monkeypatch.setattr(guard, 'installed_version', lambda library: '99.1.0')
    monkeypatch.setattr(guard, '_warned', set())


async def test_with_tuning_off_nothing_is_patched_and_a_customer_logs_in_as_usual(tuning_off, user, db):
    make_login(db, [make_customer(db)['id']], email='erika@example.org')
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/zaehlerstand')
    await user.should_see('Zählerstand')
    await user.open('/anmelden/code')  # a page that only redirects (no login waits for a code): on to the overview
    await user.should_see('Ihre Verträge')
    assert_nothing_patched()


async def test_with_another_library_version_nothing_is_patched_and_one_warning_per_patch_is_logged(
    another_version, user, db, caplog
):
    make_login(db, [make_customer(db)['id']], email='erika@example.org')
    await log_in(user, 'erika@example.org', PASSWORD)
    await user.open('/zaehlerstand')
    await user.should_see('Zählerstand')
    await user.open('/anmelden/code')  # a page that only redirects (no login waits for a code): on to the overview
    await user.should_see('Ihre Verträge')
    assert_nothing_patched()
    records = caplog.get_records('setup') + caplog.get_records('call')  # the portal starts in the fixture's setup
    records = [r for r in records if r.getMessage().startswith('tuning ')]
    warned = [r.args[0] for r in records]
    # one each, however many pages were served; the security patch too is left off on a version it does not know
    assert sorted(warned) == sorted(EVERY | {hardening.PATCH.name}), warned
    assert core.sio.handlers['/']['log'] is not hardening.on_log
    assert any('written for nicegui 3.18.*, installed is 99.1.0' in r.getMessage() for r in records)


async def test_single_patches_can_be_left_off_and_one_that_needs_another_stays_off_with_it(monkeypatch, caplog):
    monkeypatch.setenv('KUNDENPORTAL_TUNING_SKIP', 'socket_rooms, element_cycles,sockets')
    settings = Settings()
    try:
        on = tuning.install(settings.tuning, settings.tuning_skipped)
        assert set(on) == EVERY - {'socket_rooms', 'element_cycles', 'collector'}
        assert type(core.sio.manager) is socketio.AsyncManager and 'collector' not in tuning.active()
        assert "tuning 'collector' left off: it needs element_cycles" in caplog.text
        assert 'KUNDENPORTAL_TUNING_SKIP names no such tuning: sockets' in caplog.text
    finally:
        tuning.uninstall()
    assert tuning.active() == frozenset()


def assert_nothing_patched() -> None:
    assert tuning.active() == frozenset()
    assert outbox.asyncio is asyncio
    assert type(core.sio.manager) is socketio.AsyncManager
    assert vars(Props)['__init__'].__module__ == 'nicegui.props' and '_change_handlers_with_args' not in vars(Props)
    assert vars(PDFImageXObject)['__init__'].__module__ == 'reportlab.pdfbase.pdfdoc'
    assert vars(PDFStreamFilterZCompress)['encode'].__module__ == 'reportlab.pdfbase.pdfdoc'
    assert vars(PDFArray)['format'].__module__ == 'reportlab.pdfbase.pdfdoc'
    assert pdfdoc.pdfdocEnc.__module__ == 'reportlab.pdfbase.pdfdoc'
    gc.collect()
    assert gc.get_freeze_count() == 0
    assert (core.sio.eio.ping_interval, core.sio.eio.ping_timeout) == (8, 4)  # NiceGUI's, from the reconnect time
    assert [c for c in Client.instances.values() if c.page.path == '/anmelden/code']  # NiceGUI keeps it


def test_each_patch_is_found_under_its_name():
    assert [patch.name for patch in tuning.patches()] == list(tuning.NAMES)
    assert set(tuning.DOCUMENTS) <= set(tuning.NAMES)
