"""`kundenportal export changes`: what customers did, the kinds of the change feed, not the back office's own
actions (staff logins, tokens, settings, with staff addresses)."""

import csv
import io

from domain import api_tokens, profile_admin, staff
from domain.change_list import CHANGE_KINDS
from domain.model import AuditEntry
from service.cli import main
from tests import clock
from tests.storage.conftest import run


def test_export_changes_carries_only_the_kinds_of_the_change_feed(uow, context, capsys, monkeypatch, database_url):
    monkeypatch.setenv('KUNDENPORTAL_DATABASE_URL', database_url)
    run(uow, staff.create_staff, context(), 'cli', 'admin@stadtwerke.example', 'Ada Admin', 'admin')
    with uow() as u:
        admin = u.staff.by_email('admin@stadtwerke.example').id
        u.audit(AuditEntry(at=context().now, actor='user:1', action='paperless_on', details=''))
        u.commit()
    run(uow, api_tokens.create_token, context(), admin, 'SAP', 'write')
    base = context().profile
    values = {**profile_admin.current_values(base), 'short_name': 'SW'}
    run(uow, profile_admin.save_profile, context(), admin, base, values)
    capsys.readouterr()
    assert main(['export', 'changes', '--since', clock.today().isoformat()], clock) == 0
    actions = {row['action'] for row in csv.DictReader(io.StringIO(capsys.readouterr().out), delimiter=';')}
    assert actions == {'paperless_on'} and actions <= set(CHANGE_KINDS)
