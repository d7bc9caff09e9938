"""What a logged-in customer sees first: whose account this is and which contracts it has.

Every read checks that the customer belongs to the login: a customer id in a session or a URL is a
claim, not a permission.
"""

from dataclasses import dataclass
from datetime import date

from domain.errors import NotAllowed
from domain.i18n import t
from domain.identifiers import WITH_MALO
from domain.ports import UnitOfWork


@dataclass(frozen=True)
class CustomerChoice:
    customer_id: int
    customer_number: str
    name: str
    street: str = ''

    @property
    def label(self) -> str:
        """What the switcher shows: one person often has several accounts, told apart by the address."""
        return f'{self.customer_number} – {self.name}' + (f', {self.street}' if self.street else '')


@dataclass(frozen=True)
class MeterView:
    meter_number: str
    kind: str
    registers: str


@dataclass(frozen=True)
class ContractView:
    contract_number: str
    commodity: str
    tariff_code: str
    start_date: date
    end_date: date | None
    malo_id: str
    meters: tuple[MeterView, ...]


@dataclass(frozen=True)
class CustomerOverview:
    customer_number: str
    name: str
    address: str
    contracts: tuple[ContractView, ...]


def customer_choices(uow: UnitOfWork, user_id: int) -> list[CustomerChoice]:
    choices = []
    for customer_id in uow.users.customer_ids(user_id):
        customer = uow.customers.get(customer_id)
        if customer is not None:
            street = f'{customer.street} {customer.house_number}'.strip()
            choices.append(CustomerChoice(customer_id, customer.customer_number, customer.display_name, street))
    return sorted(choices, key=lambda c: c.customer_number)


def ensure_owner(uow: UnitOfWork, user_id: int, customer_id: int) -> None:
    if customer_id not in uow.users.customer_ids(user_id):
        raise NotAllowed()


def customer_overview(uow: UnitOfWork, user_id: int, customer_id: int) -> CustomerOverview:
    ensure_owner(uow, user_id, customer_id)
    customer = uow.customers.get(customer_id)
    assert customer is not None
    contracts = uow.customers.contracts(customer_id)
    meters = uow.customers.meters([c.id for c in contracts if c.id is not None])
    views = tuple(
        ContractView(
            c.contract_number,
            t(f'commodity.{c.commodity}'),
            c.tariff_code,
            c.start_date,
            c.end_date,
            c.malo_id if c.commodity in WITH_MALO else '',
            tuple(
                MeterView(m.meter_number, t(f'meter_kind.{m.kind}'), m.registers)
                for m in meters
                if m.contract_id == c.id
            ),
        )
        for c in contracts
    )
    return CustomerOverview(customer.customer_number, customer.display_name, customer.address, views)
