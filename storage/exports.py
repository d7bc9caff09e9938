"""The queries behind the exports for the billing system (domain.exports)."""

from datetime import datetime

from sqlmodel import Session, col, select

from domain.model import AuditEntry, Contract, Customer, Meter, MeterReading


class SqlExports:
    def __init__(self, session: Session) -> None:
        self.session = session

    def submitted_readings(self, since: datetime) -> list[tuple[MeterReading, Meter, Contract]]:
        query = (
            select(MeterReading, Meter, Contract)
            .join(Meter, col(MeterReading.meter_id) == Meter.id)
            .join(Contract, col(Meter.contract_id) == Contract.id)
            .where(MeterReading.source == 'customer', col(MeterReading.submitted_at) >= since)
            .order_by(col(MeterReading.submitted_at))
        )
        return [(reading, meter, contract) for reading, meter, contract in self.session.exec(query)]

    def changes(self, since: datetime, kinds: tuple[str, ...]) -> list[tuple[AuditEntry, str | None]]:
        query = (
            select(AuditEntry, col(Customer.customer_number))
            .outerjoin(Customer, col(AuditEntry.customer_id) == Customer.id)
            .where(col(AuditEntry.at) >= since, col(AuditEntry.action).in_(kinds))
            .order_by(col(AuditEntry.id))
        )
        return [(entry, number) for entry, number in self.session.exec(query)]
