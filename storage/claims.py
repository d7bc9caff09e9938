"""Claims by a conditional UPDATE: of two transactions that read a row at the same moment (the same answer, code or
link sent twice at once), only the one whose UPDATE still finds the row as it read it may go on. On PostgreSQL the
second waits for the first's row lock and then finds the row changed, on SQLite it waits for the write lock; a plain
read of the row let both through."""

from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, SQLModel


def claimed(session: Session, table: type[SQLModel], row_id: int, status: str) -> bool:
    """`UPDATE … SET status WHERE id AND status = 'open'`: one of two answers given at the same moment settles it."""
    statement = update(table).where(table.id == row_id, table.status == 'open').values(status=status)  # type: ignore[attr-defined]
    return session.execute(statement).rowcount == 1  # type: ignore[attr-defined]


def set_once(session: Session, row: SQLModel, field: str, value: Any, still: ColumnElement[bool]) -> bool:
    """`UPDATE … SET field = value WHERE id AND still`: True for the one transaction that set it; the loaded `row`
    then shows the value as stored (no second write at the commit)."""
    table = type(row)
    statement = (
        update(table)
        .where(table.id == row.id, still)  # type: ignore[attr-defined]
        .values({field: value})
        .execution_options(synchronize_session=False)
    )
    if session.execute(statement).rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(row, field, value)
    return True
