"""The change feed's lock (PostgreSQL): a transaction that writes audit entries holds it shared from the insert to
its commit, the feed holds it alone while it reads; so the feed never answers a cursor above an id whose change is
still to commit (ids are taken in one order and committed in another). SQLite writes one transaction at a time."""

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

FEED_KEY = 0x4B50_4645  # "KPFE": one advisory lock of the portal's


def hold_changes(bind: Session | Connection, exclusive: bool = False) -> None:
    """Until the transaction ends: shared for a writer of audit entries, exclusive for the feed's read."""
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    if dialect.name == 'postgresql':
        lock = 'pg_advisory_xact_lock' if exclusive else 'pg_advisory_xact_lock_shared'
        bind.execute(text(f'SELECT {lock}(:key)'), {'key': FEED_KEY})
