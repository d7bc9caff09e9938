"""The portal's hourly work (service/background.py): each task on its own."""

from datetime import timedelta

from sqlmodel import Session, col, select

from domain.bills import deliver_bill_copies
from domain.model import ReviewItem
from service.background import Background
from service.runner import Portal, Unexpected
from storage.documents import FolderFiles
from storage.settings import Settings
from storage.unit_of_work import SqlUnitOfWork
from tests import clock
from tests.factories import CHEAP_HASHER, make_customer


def _portal(engine, tmp_path, **extra) -> Portal:
    return Portal(
        profile=Settings(profile='stadtwerke-a').load_profile(),
        secret='test-secret',
        base_url='http://portal.test',
        hasher=CHEAP_HASHER,
        unit_of_work=lambda: SqlUnitOfWork(engine),
        mail_queued=lambda: None,
        documents=tmp_path,
        **extra,
    )


async def test_an_hourly_task_that_keeps_failing_holds_back_none_of_the_others(engine, tmp_path, monkeypatch):
    """A bill copy whose data is broken failed every hour, and the clean-up after it (old counts, mail copies kept
    90 days) never ran again; a folder the portal may not remove ended the hourly loop for good."""
    portal = _portal(engine, tmp_path)
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
    assert ran == ['forget_unconfirmed', 'deliver_bill_copies', 'forget_old_throttles', 'forget_old_photos']


async def test_a_meter_photo_goes_90_days_after_its_decision_unless_another_review_still_needs_it(engine, tmp_path):
    """A photo of the customer's meter (their home) was kept for good, though staff see it only while they decide:
    90 days after the decision (a question about it) the file goes and the review says so; the same photo sent with
    a reading still open, or decided lately, stays."""
    portal = _portal(engine, tmp_path, files=FolderFiles(tmp_path))
    customer = make_customer(engine)
    long_ago, lately = clock.now() - timedelta(days=91), clock.now() - timedelta(days=89)
    photos = {name: f'photos/{name * 40}.jpg' for name in 'abcd'}
    for relative in photos.values():
        portal.files.store(relative, b'jpeg')
    with Session(engine) as session:
        for name, status, decided in (
            ('a', 'accepted', long_ago),  # alone and old: goes
            ('b', 'rejected', long_ago),  # also sent with a reading still open: stays
            ('b', 'open', None),
            ('c', 'accepted', lately),  # decided 89 days ago: stays
            ('d', 'accepted', long_ago),  # also with a review decided lately: stays
            ('d', 'accepted', lately),
        ):
            details = f'meter=X date=2026-01-05 readings= 1.8.0=99999 photo={photos[name]}'
            at = clock.now() - timedelta(days=100)
            session.add(
                ReviewItem(
                    customer_id=customer['id'],
                    kind='implausible_reading',
                    created_at=at,
                    details=details,
                    status=status,
                    decided_at=decided,
                )
            )
        session.commit()
    await Background(engine, portal, sender=None, mail_poll_seconds=1).hour()
    assert sorted(name for name, relative in photos.items() if portal.files.locate(relative)) == ['b', 'c', 'd']
    with Session(engine) as session:
        details = [i.details.split()[-1] for i in session.exec(select(ReviewItem).order_by(col(ReviewItem.id)))]
    kept = {name: f'photo={relative}' for name, relative in photos.items()}
    assert details == ['photo=removed', 'photo=removed', kept['b'], kept['c'], 'photo=removed', kept['d']]


async def test_the_photo_of_a_reading_the_customer_replaced_goes_too(engine, tmp_path):
    """A reading under review that its customer replaced the same day withdraws its review (domain/readings.py): the
    review is closed without a decision time, and its photo was kept for good, the one thing the 90 days end."""
    portal = _portal(engine, tmp_path, files=FolderFiles(tmp_path))
    customer = make_customer(engine)
    photo = f'photos/{"e" * 40}.jpg'
    portal.files.store(photo, b'jpeg')
    with Session(engine) as session:
        session.add(
            ReviewItem(
                customer_id=customer['id'],
                kind='implausible_reading',
                created_at=clock.now() - timedelta(days=100),
                details=f'meter=X date=2026-01-05 readings=1 1.8.0=99999 photo={photo}',
                status='withdrawn',
            )
        )
        session.commit()
    await Background(engine, portal, sender=None, mail_poll_seconds=1).hour()
    assert portal.files.locate(photo) is None
    with Session(engine) as session:
        assert session.exec(select(ReviewItem)).one().details.endswith('photo=removed')
