"""The portal's hourly work (service/background.py): each task on its own."""

from domain.bills import deliver_bill_copies
from service.background import Background
from service.runner import Portal, Unexpected
from storage.settings import Settings
from storage.unit_of_work import SqlUnitOfWork
from tests.factories import CHEAP_HASHER


async def test_an_hourly_task_that_keeps_failing_holds_back_none_of_the_others(engine, tmp_path, monkeypatch):
    """A bill copy whose data is broken failed every hour, and the clean-up after it (old counts, mail copies kept
    90 days) never ran again; a folder the portal may not remove ended the hourly loop for good."""
    portal = Portal(
        profile=Settings(profile='stadtwerke-a').load_profile(),
        secret='test-secret',
        base_url='http://portal.test',
        hasher=CHEAP_HASHER,
        unit_of_work=lambda: SqlUnitOfWork(engine),
        mail_queued=lambda: None,
        documents=tmp_path,
    )
    ran: list[str] = []
    act = portal.act

    async def failing_copies(use_case, *args, **kwargs):
        ran.append(use_case.__name__)
        if use_case is deliver_bill_copies:
            raise Unexpected(reference='ABCD-1234')
        return await act(use_case, *args, **kwargs)

    def not_allowed(_age):
        raise PermissionError('/tmp/kp-import-x')

    monkeypatch.setattr(portal, 'act', failing_copies)
    monkeypatch.setattr('service.background.remove_stale_import_folders', not_allowed)
    await Background(engine, portal, sender=None, mail_poll_seconds=1).hour()
    assert ran == ['forget_unconfirmed', 'deliver_bill_copies', 'forget_old_throttles']
