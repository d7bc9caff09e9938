"""The contract requests customers declared (cancellation, move, tariff change), for staff and the API."""

from sqlmodel import Session, col, select

from domain.model import ContractRequest
from storage.claims import claimed


class SqlContractRequests:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, request: ContractRequest) -> None:
        self.session.add(request)
        self.session.flush()  # the id is the reference the customer gets

    def get(self, request_id: int) -> ContractRequest | None:
        return self.session.get(ContractRequest, request_id)

    def claim(self, request_id: int, status: str) -> bool:
        return claimed(self.session, ContractRequest, request_id, status)

    def listing(self, status: str | None, limit: int, oldest_first: bool = False) -> list[ContractRequest]:
        order = col(ContractRequest.id) if oldest_first else col(ContractRequest.id).desc()
        query = select(ContractRequest).order_by(order).limit(limit)
        if status is not None:
            query = query.where(ContractRequest.status == status)
        return list(self.session.exec(query))

    def of_customer(self, customer_id: int) -> list[ContractRequest]:
        query = select(ContractRequest).where(ContractRequest.customer_id == customer_id)
        return list(self.session.exec(query.order_by(col(ContractRequest.id))))
