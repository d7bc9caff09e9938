"""Repositories around logging in that are not the login itself: "Passwort vergessen?" requests waiting for the
background, and the browsers a login is known from."""

from datetime import datetime

from sqlmodel import Session, col, delete, select

from domain.model import KnownDevice, ResetRequest


class SqlResets:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, request: ResetRequest) -> None:
        self.session.add(request)
        self.session.info['queued'] = True  # work for the reset loop (SqlUnitOfWork.commit)

    def claim(self, limit: int) -> list[ResetRequest]:
        query = select(ResetRequest).order_by(col(ResetRequest.id)).limit(limit).with_for_update(skip_locked=True)
        requests = list(self.session.exec(query))
        if requests:
            self.session.exec(delete(ResetRequest).where(col(ResetRequest.id).in_([r.id for r in requests])))
        return requests


class SqlDevices:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, user_id: int, digest: str) -> KnownDevice | None:
        query = select(KnownDevice).where(KnownDevice.user_id == user_id, KnownDevice.digest == digest)
        return self.session.exec(query).first()

    def remember(self, user_id: int, digest: str, at: datetime) -> None:
        known = self.find(user_id, digest)
        if known is None:
            self.session.add(KnownDevice(user_id=user_id, digest=digest, created_at=at, last_used_at=at))
        else:
            known.last_used_at = at
            self.session.add(known)
