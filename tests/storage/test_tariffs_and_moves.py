"""Tarif wechseln and Umzug melden on SQLite and PostgreSQL (docs/domain.md §8)."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from domain import contract_requests
from domain.cancellation import cancel
from domain.contracts import consumption_history, contract_details
from domain.errors import (
    DateOutOfRange,
    FieldRequired,
    NoRunningContract,
    NotAllowed,
    PostalCodeAbroadInvalid,
    PostalCodeInvalid,
    ReadingFormat,
    ReadingInFormat,
    ReadingLower,
    TariffChangePending,
    TooLong,
)
from domain.i18n import day
from domain.model import AuditEntry, Contract, ContractRequest, Price
from domain.moves import MoveForm, abroad, reading_field, report_move, six_months_after
from domain.moves import start as move_start
from domain.tariffs import change_tariff, earliest_start, starts, tariffs
from tests.factories import add_readings, add_tariff, mails_to, make_customer, make_login, set_meter, year_end
from tests.storage.conftest import NOW, meeting_after, run
from tests.storage.test_cancellation import declaration

TODAY = NOW.date()


def prices(engine, *rows: tuple[str, str, str]) -> None:
    with Session(engine) as session:
        for code, working, base in rows:
            session.add(
                Price(
                    tariff_code=code,
                    valid_from=date(TODAY.year - 1, 1, 1),
                    unit='kWh',
                    working_price_net=Decimal(working),
                    base_price_net_per_year=Decimal(base),
                    vat_rate=Decimal('0.19'),
                )
            )
        session.commit()


def oeko_dearer_from(engine, day: date) -> None:
    """STROM-OEKO at 0.30 net and 120.00 net a year from `day` (a price change already imported)."""
    with Session(engine) as session:
        session.add(
            Price(
                tariff_code='STROM-OEKO',
                valid_from=day,
                unit='kWh',
                working_price_net=Decimal('0.3000'),
                base_price_net_per_year=Decimal('120.00'),
                vat_rate=Decimal('0.19'),
            )
        )
        session.commit()


@pytest.fixture
def household(engine):
    """A customer with 3,000 kWh in the last whole billing year, on STROM-BASIS, and two other tariffs priced."""
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='erika@example.org')
    add_tariff(engine, customer['id'])  # STROM-BASIS: 0.2521 net, 121.01 net a year
    add_readings(engine, customer['meter_number'], (year_end(2), 10000), (year_end(1), 13000))
    prices(engine, ('STROM-OEKO', '0.2600', '110.00'), ('STROM-FIX24', '0.2400', '150.00'))
    return customer, login


@pytest.mark.parametrize(
    ('today', 'first'),
    [
        (date(2026, 12, 2), date(2027, 1, 1)),
        (date(2026, 12, 18), date(2027, 1, 1)),
        (date(2026, 12, 19), date(2027, 2, 1)),
        (date(2028, 2, 16), date(2028, 3, 1)),  # 29 February counts: 16 + 14 days is 1 March
        (date(2028, 2, 17), date(2028, 4, 1)),
    ],
)
def test_a_change_starts_on_the_first_of_a_month_at_least_14_days_ahead(today, first):
    assert earliest_start(today) == first
    assert starts(today)[0] == first and starts(today)[-1].day == 1 and len(starts(today)) == 6


def test_tariffs_are_offered_cheapest_first_at_the_customers_consumption(uow, context, household):
    customer, login = household
    [contract] = run(uow, tariffs, context(), login['id'], customer['id'])
    assert contract.consumption == Decimal(3000)
    # 3,000 kWh × gross working price + gross base price: 3000 × 0.2856 + 178.50, 3000 × 0.3000 + 144.00, …
    assert [(o.code, o.yearly_cost) for o in contract.offers] == [
        ('STROM-FIX24', Decimal('1035.30')),
        ('STROM-BASIS', Decimal('1044.00')),
        ('STROM-OEKO', Decimal('1059.10')),
    ]
    assert [o.current for o in contract.offers].count(True) == 1
    assert next(o for o in contract.offers if o.current).code == 'STROM-BASIS'
    assert next(o for o in contract.offers if o.code == 'STROM-OEKO').name == 'AueStrom Öko'


def test_a_tariff_change_is_requested_confirmed_and_shown_as_pending(uow, context, household, engine):
    customer, login = household
    [contract] = run(uow, tariffs, context(), login['id'], customer['id'])
    first = contract.starts[0]
    receipt = run(
        uow, change_tariff, context(), login['id'], customer['id'], contract.contract_number, 'STROM-OEKO', str(first)
    )
    rows = dict(receipt.rows)
    assert rows['Neuer Tarif'] == 'AueStrom Öko' and rows['Wechsel zum'] == day(first)
    assert receipt.reference.startswith('T-')
    [request] = run(uow, tariffs, context(), login['id'], customer['id'])[0].pending
    assert request.reference == receipt.reference
    assert 'Tarifwechsels' in mails_to(engine, 'erika@example.org')[-1].subject
    with Session(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == 'tariff_change_requested')).one()
    assert 'tariff_to="STROM-OEKO"' in entry.details and f'start="{first.isoformat()}"' in entry.details


def test_a_known_price_change_is_shown_and_a_change_states_the_prices_of_its_start(uow, context, household, engine):
    """STROM-OEKO costs more from the second start on: the offer named only today's price, and the declaration of a
    change starting then stated it too."""
    customer, login = household
    second = starts(TODAY)[1]
    oeko_dearer_from(engine, second)
    [contract] = run(uow, tariffs, context(), login['id'], customer['id'])
    oeko = next(o for o in contract.offers if o.code == 'STROM-OEKO')
    assert oeko.price.working_price_gross == Decimal('0.3094')  # today's, 0.26 net
    assert [(p.valid_from, p.working_price_gross, p.base_price_gross_per_year) for p in oeko.later] == [
        (second, Decimal('0.3570'), Decimal('142.80'))
    ]
    assert all(not o.later for o in contract.offers if o.code != 'STROM-OEKO')
    code, number = 'STROM-OEKO', contract.contract_number
    early = run(uow, change_tariff, context(), login['id'], customer['id'], number, code, str(starts(TODAY)[0]))
    assert dict(early.rows)['Arbeitspreis'] == '30,94 ct/kWh inkl. MwSt.'  # as the page shows it
    with Session(engine) as session:  # the first change was another day's: the second starts with the new price
        session.exec(select(ContractRequest)).one().status = 'accepted'
        session.commit()
    late = run(uow, change_tariff, context(), login['id'], customer['id'], number, code, str(second))
    rows = dict(late.rows)
    assert (rows['Arbeitspreis'], rows['Grundpreis']) == ('35,70 ct/kWh inkl. MwSt.', '142,80\xa0€ im Jahr inkl. MwSt.')
    assert rows['Jahreskosten bei Ihrem Verbrauch'] == '1.213,80\xa0€ (3.000 kWh)'  # 3000 × 0.3570 + 142.80


def test_a_reading_during_the_year_does_not_hide_the_year_from_the_history(uow, context, household, engine):
    """A customer's own reading in the summer lies between the year-end readings: the year is still 3,000 kWh, on
    /verbrauch and for the tariffs' yearly costs."""
    customer, login = household
    add_readings(engine, customer['meter_number'], (date(year_end(1).year, 6, 30), 11500), source='customer')
    [history] = run(uow, consumption_history, context(), login['id'], customer['id'])
    assert [(p.label, p.amount) for p in history.years] == [(str(year_end(1).year), 3000)]
    [contract] = run(uow, tariffs, context(), login['id'], customer['id'])
    assert contract.consumption == Decimal(3000)


def test_monthly_readings_of_a_remote_meter_give_the_whole_year(uow, context, household, engine):
    """Read at every month's end (250 a month): the year runs from year end to year end, 3,000 kWh, not from the
    end of January to the end of November."""
    customer, login = household
    year = year_end(1).year
    monthly = [(date(year, month + 1, 1) - timedelta(days=1), 10000 + 250 * month) for month in range(1, 12)]
    add_readings(engine, customer['meter_number'], *monthly, source='remote')
    [history] = run(uow, consumption_history, context(), login['id'], customer['id'])
    assert [(p.label, p.start, p.end, p.amount) for p in history.years] == [
        (str(year), date(year, 1, 1), date(year, 12, 31), 3000)
    ]


@pytest.mark.parametrize(
    ('code', 'start', 'error'),
    [
        ('STROM-BASIS', None, NotAllowed),  # the tariff the contract has
        ('GAS-FIX24', None, NotAllowed),  # another commodity's
        ('UNBEKANNT', None, NotAllowed),
        ('STROM-OEKO', '', FieldRequired),
        ('STROM-OEKO', 'morgen', FieldRequired),
        ('STROM-OEKO', str(TODAY + timedelta(days=1)), NotAllowed),  # not one of the first days offered
    ],
)
def test_a_tariff_change_outside_the_offer_is_refused(uow, context, household, engine, code, start, error):
    customer, login = household
    [contract] = run(uow, tariffs, context(), login['id'], customer['id'])
    when = str(contract.starts[0]) if start is None else start
    with pytest.raises(error):
        run(uow, change_tariff, context(), login['id'], customer['id'], contract.contract_number, code, when)
    with Session(engine) as session:
        assert session.exec(select(ContractRequest)).all() == []


def test_no_change_starts_on_or_after_the_contracts_end(uow, context, household, engine):
    """A known end (from the billing system, or the customer's own open cancellation with its date) bounds the starts
    offered and taken: a change beginning after the contract has ended would change nothing. A visitor's declaration
    by customer number alone does not: anyone who knows the number could take the tariff change away."""
    customer, login = household
    [offered] = run(uow, tariffs, context(), login['id'], customer['id'])
    second, third = offered.starts[1], offered.starts[2]
    form = declaration(customer['customer_number'], next_possible=False, on_date=day(third))
    run(uow, cancel, context(address='198.51.100.7'), form)  # a visitor's: anyone may, staff check it
    [contract] = run(uow, tariffs, context(), login['id'], customer['id'])
    assert contract.ends is None and contract.starts == offered.starts
    run(uow, cancel, context(), form, login['id'])  # the customer's own, logged in
    [contract] = run(uow, tariffs, context(), login['id'], customer['id'])
    assert contract.ends == third and contract.starts == offered.starts[:2]
    with pytest.raises(NotAllowed):
        run(
            uow,
            change_tariff,
            context(),
            login['id'],
            customer['id'],
            contract.contract_number,
            'STROM-OEKO',
            str(third),
        )
    with Session(engine) as session:
        stored = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        stored.end_date = second - timedelta(days=1)  # the billing system knows an earlier end
        session.add(stored)
        session.commit()
    [contract] = run(uow, tariffs, context(), login['id'], customer['id'])
    assert contract.ends == second - timedelta(days=1) and contract.starts == offered.starts[:1]


def test_a_foreign_contract_is_not_changed(uow, context, household, engine):
    customer, login = household
    stranger = make_customer(engine)
    [contract] = run(uow, tariffs, context(), login['id'], customer['id'])
    with pytest.raises(NotAllowed):
        run(uow, change_tariff, context(), login['id'], stranger['id'], contract.contract_number, 'STROM-OEKO', '')


def expected(factor: int = 1) -> str:
    """A reading today `factor` times what 3,000 kWh a year since the last year's end make expectable."""
    return str(13000 + factor * 3000 * (TODAY - year_end(1)).days // 365 + (factor > 1))


def move(customer, **changes) -> MoveForm:
    fields = {
        'move_out': day(TODAY),
        'readings': {reading_field(customer['meter_number'], '1.8.0'): expected()},
        'street': 'Neue Straße',
        'house_number': '7',
        'postal_code': '27751',
        'city': 'Aue-Nord',
        **changes,
    }
    return MoveForm(**fields)


def test_a_move_inside_the_supply_area_continues_there(uow, context, household, engine):
    customer, login = household
    begin = run(uow, move_start, context(), login['id'], customer['id'])
    assert [m.meter_number for m in begin.meters] == [customer['meter_number']] and '27751' in begin.supply_postal_codes
    form = move(customer, continue_supply=True, move_in=day(TODAY), new_meter='1 EBZ 99', reading_in='42')
    receipt = run(uow, report_move, context(), login['id'], customer['id'], form)
    rows = dict(receipt.rows)
    assert receipt.reference.startswith('U-')
    assert rows['Zählerstände bei Auszug'] == f'{customer["meter_number"]}: {int(expected()):,} kWh'.replace(',', '.')
    assert rows['Neue Anschrift (für die Schlussrechnung)'] == 'Neue Straße 7, 27751 Aue-Nord'
    assert rows['Belieferung'] == f'an der neuen Adresse fortsetzen ab dem {day(TODAY)}'
    assert rows['Zählernummer an der neuen Adresse'] == '1EBZ99'
    with Session(engine) as session:
        request = session.exec(select(ContractRequest)).one()
    assert request.kind == 'move' and request.effective == TODAY
    assert json.loads(request.content)['continue'] == 'yes'
    assert 'Umzugsmeldung' in mails_to(engine, 'erika@example.org')[-1].subject


def test_a_move_under_a_customer_number_whose_contracts_have_ended_is_refused(uow, context, household, engine):
    """All contracts ended: the form offered no meter and took the move as a request nobody could carry out."""
    customer, login = household
    with Session(engine) as session:
        for contract in session.exec(select(Contract).where(Contract.customer_id == customer['id'])):
            contract.end_date = TODAY - timedelta(days=1)
            session.add(contract)
        session.commit()
    assert not run(uow, move_start, context(), login['id'], customer['id']).running
    with pytest.raises(NoRunningContract):
        run(uow, report_move, context(), login['id'], customer['id'], move(customer, readings={}))
    with Session(engine) as session:
        assert session.exec(select(ContractRequest)).first() is None


def test_a_move_out_reading_below_the_last_after_a_known_meter_exchange_is_taken(uow, context, household, engine):
    """§8 checks move readings as §3 does, and §3 takes a lower value after an exchange the master data know (the
    reading page does); the move refused it, so the customer could not report the move at all."""
    customer, login = household
    # after the last reading (31.12.), whatever today is: 30 days back put it before that reading in January
    set_meter(engine, customer['meter_number'], installed_on=year_end(1) + timedelta(days=1))
    form = move(customer, readings={reading_field(customer['meter_number'], '1.8.0'): '300'})
    rows = dict(run(uow, report_move, context(), login['id'], customer['id'], form).rows)
    assert rows['Zählerstände bei Auszug'] == f'{customer["meter_number"]}: 300 kWh'


def with_notice(engine, customer, weeks: int) -> None:
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract.notice_period_weeks = weeks
        session.add(contract)
        session.commit()


def test_a_move_out_of_the_area_ends_the_contract_with_six_weeks_notice(uow, context, household, engine):
    customer, login = household
    with_notice(engine, customer, 12)  # a longer ordinary notice: the move's six weeks apply
    form = move(customer, postal_code='10115', city='Berlin', continue_supply=True)
    rows = dict(run(uow, report_move, context(), login['id'], customer['id'], form).rows)
    ends = TODAY + timedelta(weeks=6)  # the move-out is today: six weeks from today
    assert (
        rows['Belieferung'] == f'endet zum {day(ends)} (die neue Anschrift liegt außerhalb unseres Versorgungsgebiets)'
    )


def test_a_move_abroad_names_the_final_bill_s_address_there_and_ends_the_contract(uow, context, household, engine):
    """The final bill's address (§40b(1) EnWG: free of charge) took German postal codes only: a customer moving to
    Vienna or Venlo could not report the move at all. The country is named in capitals on the address's last line, and
    a wish to be supplied there (the box was hidden) is no wish for a supply abroad."""
    customer, login = household
    form = move(
        customer, street='Praterstraße', postal_code='1020', city='Wien', country='Österreich', continue_supply=True
    )
    rows = dict(run(uow, report_move, context(), login['id'], customer['id'], form).rows)
    assert rows['Neue Anschrift (für die Schlussrechnung)'] == 'Praterstraße 7, 1020 Wien, ÖSTERREICH'
    assert rows['Belieferung'].endswith('(die neue Anschrift liegt außerhalb unseres Versorgungsgebiets)')
    with Session(engine) as session:
        fields = json.loads(session.exec(select(ContractRequest)).one().content)
    assert fields['continue'] == 'no' and fields['new_address'].endswith('1020 Wien, ÖSTERREICH')
    assert not abroad('') and not abroad(' deutschland ') and not abroad('Germany') and abroad('Niederlande')


def test_a_future_move_may_leave_the_readings_for_later_and_an_unexpected_one_is_marked(uow, context, household):
    customer, login = household
    later = move(customer, move_out=day(TODAY + timedelta(days=60)), readings={})
    rows = dict(run(uow, report_move, context(), login['id'], customer['id'], later).rows)
    assert rows['Zählerstände bei Auszug'] == 'keine angegeben'
    odd = move(customer, readings={reading_field(customer['meter_number'], '1.8.0'): expected(3)})
    rows = dict(run(uow, report_move, context(), login['id'], customer['id'], odd).rows)
    assert rows['Hinweis'].startswith('Ein Zählerstand liegt außerhalb des erwarteten Bereichs')


@pytest.mark.parametrize(
    ('changes', 'error', 'field'),
    [
        ({'move_out': day(TODAY - timedelta(weeks=7))}, DateOutOfRange, 'move_out'),
        ({'move_out': day(TODAY + timedelta(days=200))}, DateOutOfRange, 'move_out'),
        ({'readings': {}}, FieldRequired, 'out_{meter}_1.8.0'),  # the move-out is today: the reading is due
        ({'readings': {'out_{meter}_1.8.0': '12,5'}}, ReadingFormat, 'out_{meter}_1.8.0'),
        ({'readings': {'out_{meter}_1.8.0': '12000'}}, ReadingLower, 'out_{meter}_1.8.0'),
        ({'postal_code': '2775'}, PostalCodeInvalid, 'postal_code'),
        ({'postal_code': '2775', 'country': 'Deutschland'}, PostalCodeInvalid, 'postal_code'),
        ({'postal_code': '1010/Wien', 'country': 'Österreich'}, PostalCodeAbroadInvalid, 'postal_code'),
        ({'country': 'Ö' * 61}, TooLong, 'country'),
        ({'street': ''}, FieldRequired, 'street'),
        ({'continue_supply': True, 'move_in': ''}, FieldRequired, 'move_in'),
        ({'continue_supply': True, 'move_in': day(TODAY), 'reading_in': '1,5'}, ReadingInFormat, 'reading_in'),
    ],
)
def test_bad_move_input_is_named_at_its_field(uow, context, household, engine, changes, error, field):
    customer, login = household
    meter = customer['meter_number']
    if 'readings' in changes:
        changes = {**changes, 'readings': {k.format(meter=meter): v for k, v in changes['readings'].items()}}
    with pytest.raises(error) as raised:
        run(uow, report_move, context(), login['id'], customer['id'], move(customer, **changes))
    assert raised.value.field == field.format(meter=meter)
    with Session(engine) as session:
        assert session.exec(select(ContractRequest)).all() == []


def test_staff_settle_a_move_like_any_request(uow, context, clerk, household, engine):
    customer, login = household
    receipt = run(uow, report_move, context(), login['id'], customer['id'], move(customer))
    with uow() as u:
        [row] = contract_requests.for_staff(u, clerk)
    assert row.reference == receipt.reference and row.title == 'Umzugsmeldung'
    assert ('Neue Anschrift', 'Neue Straße 7, 27751 Aue-Nord') in row.rows
    run(uow, contract_requests.staff_answer, context(), clerk, row.request_id, True, 'Schlussrechnung folgt.')
    assert 'Ihrer Umzugsmeldung vom' in mails_to(engine, 'erika@example.org')[-1].text


def test_the_latest_move_out_is_six_calendar_months_ahead(uow, context, household):
    customer, login = household
    latest = six_months_after(TODAY)
    assert run(uow, move_start, context(), login['id'], customer['id']).latest == latest
    run(uow, report_move, context(), login['id'], customer['id'], move(customer, move_out=day(latest), readings={}))
    with pytest.raises(DateOutOfRange):
        later = move(customer, move_out=day(latest + timedelta(days=1)), readings={})
        run(uow, report_move, context(), login['id'], customer['id'], later)


def test_a_cancellation_staff_accepted_still_bounds_the_tariff_change_and_is_the_contracts_term(
    uow, context, clerk, household, engine
):
    """Open, the customer's own cancellation bounded the change; accepted by staff, it no longer did (changes after
    the end were offered and taken), and the contract page said "unbefristet" until the billing system's end date."""
    customer, login = household
    [offered] = run(uow, tariffs, context(), login['id'], customer['id'])
    third = offered.starts[2]
    on_date = declaration(customer['customer_number'], next_possible=False, on_date=day(third))
    run(uow, cancel, context(), on_date, login['id'])
    assert run(uow, tariffs, context(), login['id'], customer['id'])[0].ends == third
    [details] = run(uow, contract_details, context(), login['id'], customer['id'])
    assert details.confirmed_end is None  # open: the page says "in Bearbeitung"
    [request] = _requests(engine)
    run(uow, contract_requests.staff_answer, context(), clerk, request.id, True, 'Ihr Vertrag endet wie gewünscht.')
    [accepted] = run(uow, tariffs, context(), login['id'], customer['id'])
    assert accepted.ends == third and accepted.starts == offered.starts[:2]
    [details] = run(uow, contract_details, context(), login['id'], customer['id'])
    assert details.end_date is None and details.confirmed_end == third


def test_a_move_out_of_the_area_bounds_the_tariff_change(uow, context, household, engine):
    """The receipt said "endet zum …" (six weeks), and the tariff page offered changes after it."""
    customer, login = household
    with_notice(engine, customer, 12)
    receipt = run(uow, report_move, context(), login['id'], customer['id'], move(customer, postal_code='10115'))
    ends = TODAY + timedelta(weeks=6)
    assert dict(receipt.rows)['Belieferung'].startswith(f'endet zum {day(ends)}')
    [contract] = run(uow, tariffs, context(), login['id'], customer['id'])
    # whatever today is: the starts before that end, of the six offered otherwise (some fall after it, always)
    assert contract.ends == ends and contract.starts == tuple(first for first in starts(TODAY) if first < ends)


def test_a_second_tariff_change_for_a_contract_waits_for_the_first(uow, context, household, engine):
    """Two open changes for one contract (the page showed the first as in progress and still offered every tariff)
    contradict each other: the second is refused, naming the first."""
    customer, login = household
    [contract] = run(uow, tariffs, context(), login['id'], customer['id'])
    first = str(contract.starts[0])
    number = contract.contract_number
    receipt = run(uow, change_tariff, context(), login['id'], customer['id'], number, 'STROM-OEKO', first)
    with pytest.raises(TariffChangePending) as refused:
        run(uow, change_tariff, context(), login['id'], customer['id'], number, 'STROM-FIX24', first)
    assert refused.value.params == {'reference': receipt.reference}
    assert [json.loads(r.content)['tariff_to'] for r in _requests(engine)] == ['STROM-OEKO']


def _requests(engine) -> list[ContractRequest]:
    with Session(engine) as session:
        return list(session.exec(select(ContractRequest).order_by(col(ContractRequest.id))))


def test_an_extraordinary_cancellation_to_the_next_possible_date_bounds_the_tariff_change(uow, context, household):
    """Its end is staff's to decide (no date stored), yet no later than the ordinary notice's: the tariff page
    offered, and took, changes after that."""
    customer, login = household
    sudden = declaration(customer['customer_number'], extraordinary=True, reason='Preiserhöhung')
    run(uow, cancel, context(), sudden, login['id'])
    [contract] = run(uow, tariffs, context(), login['id'], customer['id'])
    ordinary = TODAY + timedelta(weeks=4)  # the household's notice period
    assert contract.ends == ordinary and contract.starts == tuple(first for first in starts(TODAY) if first < ordinary)


def test_two_tariff_changes_sent_at_the_same_moment_store_one(household, context, engine):
    """Two tabs: both looked for an open change before either had stored one, and both were stored. With the
    contract held, the second looks only after the first is stored (and the first waits 2 s for it in vain)."""
    from concurrent.futures import ThreadPoolExecutor

    from storage.unit_of_work import SqlUnitOfWork

    customer, login = household
    looked: list[bool] = []

    Meeting = meeting_after('contract_requests.of_customer', looked)

    with SqlUnitOfWork(engine) as work:
        [contract] = tariffs(work, context(), login['id'], customer['id'])

    def change(code: str):
        try:
            with Meeting(engine) as work:
                number, first = contract.contract_number, str(contract.starts[0])
                return change_tariff(work, context(), login['id'], customer['id'], number, code, first)
        except Exception as refused:
            return refused

    with ThreadPoolExecutor(2) as pool:
        answers = [done.result() for done in [pool.submit(change, code) for code in ('STROM-OEKO', 'STROM-FIX24')]]
    assert sorted(type(answer).__name__ for answer in answers) == ['Receipt', 'TariffChangePending']
    assert len(_requests(engine)) == 1


def test_gross_prices_and_the_yearly_cost_round_half_up(uow, context, engine):
    """Net 0.2550 € × 1.19 = 0.30345 € and 121.50 € × 1.19 = 144.585 € showed as 0.3034 and 144.58 € (half to even),
    the yearly cost 31 ct low."""
    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='erika@example.org')
    add_tariff(engine, customer['id'], working_net='0.2550', base_net='121.50')
    add_readings(engine, customer['meter_number'], (year_end(2), 10000), (year_end(1), 13000))
    [contract] = run(uow, tariffs, context(), login['id'], customer['id'])
    own = next(o for o in contract.offers if o.current)
    assert (own.price.working_price_gross, own.price.base_price_gross_per_year) == (
        Decimal('0.3035'),
        Decimal('144.59'),
    )
    assert own.yearly_cost == Decimal('1055.09')  # 3,000 × 0.3035 + 144.59


def test_the_yearly_cost_rounds_half_up(uow, context, engine):
    """1,006 kWh × 0.2975 € + 142.80 € = 442.085 € showed as 442.08 €."""
    other = make_customer(engine)
    login = make_login(engine, [other['id']], email='halb@example.org')
    add_tariff(engine, other['id'], working_net='0.25', base_net='120')
    add_readings(engine, other['meter_number'], (year_end(2), 10000), (year_end(1), 11006))
    [contract] = run(uow, tariffs, context(), login['id'], other['id'])
    own = next(o for o in contract.offers if o.current)
    assert own.yearly_cost == Decimal('442.09')


def test_a_move_out_reading_below_a_bill_s_estimated_end_is_taken_as_the_reading_page_takes_it(uow, context, engine):
    """The bill's closing estimate is no value read: the reading page takes a real reading below it, the move
    refused the same value as lower than the last reading, and the customer could not report the move."""
    from domain.readings import submit_reading

    customer = make_customer(engine)
    login = make_login(engine, [customer['id']], email='umzug@example.org')
    add_tariff(engine, customer['id'])
    add_readings(engine, customer['meter_number'], (year_end(2), 10000))
    add_readings(engine, customer['meter_number'], (year_end(1), 13000), source='estimated')  # the bill's guess
    value = '12800'
    form = move(customer, readings={reading_field(customer['meter_number'], '1.8.0'): value})
    rows = dict(run(uow, report_move, context(), login['id'], customer['id'], form).rows)
    assert rows['Zählerstände bei Auszug'] == f'{customer["meter_number"]}: 12.800 kWh'
    run(
        uow,
        submit_reading,
        context(),
        login['id'],
        customer['id'],
        customer['meter_number'],
        {'1.8.0': value},
        day(TODAY),
        True,
        'x',
    )


def test_a_move_out_of_the_area_ends_a_contract_no_later_than_its_own_notice_allows(uow, context, household, engine):
    """§41b(5) EnWG's six weeks are a household's right on a move, not a longer notice: a Grundversorgung contract
    (two weeks, §20 StromGVV) moved out of the area today was confirmed as ending in six weeks, four weeks after an
    ordinary cancellation on the same day would have ended it."""
    customer, login = household
    with_notice(engine, customer, 2)
    receipt = run(uow, report_move, context(), login['id'], customer['id'], move(customer, postal_code='10115'))
    ends = TODAY + timedelta(weeks=2)  # the move-out is today: the contract's own two weeks from today
    assert dict(receipt.rows)['Belieferung'].startswith(f'endet zum {day(ends)} ')
    assert json.loads(_requests(engine)[0].content)['effective'] == ends.isoformat()
    assert run(uow, tariffs, context(), login['id'], customer['id'])[0].ends == ends


def test_a_move_out_before_the_supply_began_is_refused(uow, context, engine):
    """A customer supplied since ten days (the move-in) reported a move-out twenty days ago (a mistyped month): it was
    received and confirmed, with a move-out reading of a day nobody read the meter for them."""
    began = TODAY - timedelta(days=10)
    customer = make_customer(engine, contract_start=began, with_bill=False)
    login = make_login(engine, [customer['id']], email='erika@example.org')
    assert run(uow, move_start, context(), login['id'], customer['id']).earliest == began
    form = move(customer, move_out=day(TODAY - timedelta(days=20)), readings={
        reading_field(customer['meter_number'], '1.8.0'): '100'
    })  # fmt: skip
    with pytest.raises(DateOutOfRange) as refused:
        run(uow, report_move, context(), login['id'], customer['id'], form)
    assert refused.value.field == 'move_out' and refused.value.params['earliest'] == day(began)
    assert _requests(engine) == []


def test_a_move_out_after_the_contracts_agreed_end_does_not_confirm_supply_beyond_it(uow, context, household, engine):
    """A contract ending on 26.12. (its term, or a cancellation) with a move out of the area on 05.01.: the receipt
    said "Belieferung endet zum 05.01.", promising ten days of supply the contract no longer has."""
    customer, login = household
    end = TODAY + timedelta(days=20)
    with Session(engine) as session:
        contract = session.exec(select(Contract).where(Contract.customer_id == customer['id'])).one()
        contract.end_date = end
        session.add(contract)
        session.commit()
    form = move(customer, move_out=day(TODAY + timedelta(days=30)), readings={}, postal_code='10115', city='Berlin')
    receipt = run(uow, report_move, context(), login['id'], customer['id'], form)
    assert dict(receipt.rows)['Belieferung'].startswith(f'endet zum {day(end)} ')
    assert json.loads(_requests(engine)[0].content)['effective'] == end.isoformat()


def test_a_move_out_after_the_customers_own_cancellation_ends_with_the_cancellation(uow, context, household, engine):
    """Cancelled to a date first, then a move out of the area reported for a later day: the move's receipt named the
    later day as the end of the supply."""
    customer, login = household
    end = TODAY + timedelta(weeks=8)
    dated = declaration(customer['customer_number'], next_possible=False, on_date=day(end))
    run(uow, cancel, context(), dated, login['id'])
    later = move(customer, move_out=day(end + timedelta(days=10)), readings={}, postal_code='10115', city='Berlin')
    receipt = run(uow, report_move, context(), login['id'], customer['id'], later)
    assert dict(receipt.rows)['Belieferung'].startswith(f'endet zum {day(end)} ')


def test_a_visitors_ordinary_cancellation_staff_accepted_is_the_contracts_term_as_on_the_tariff_page(
    uow, context, clerk, household, engine
):
    """Cancelled without a login "zum nächstmöglichen Zeitpunkt" (ordinary: four weeks from the day it came) and
    accepted by staff: the tariff page said "Dieser Vertrag endet am …", the contract page "Laufzeit: unbefristet",
    with the notice "in Bearbeitung" gone, as if the cancellation had never been."""
    customer, login = household
    run(uow, cancel, context(), declaration(customer['customer_number']))
    [request] = _requests(engine)
    run(uow, contract_requests.staff_answer, context(), clerk, request.id, True, 'Ihr Vertrag endet fristgerecht.')
    ends = TODAY + timedelta(weeks=4)
    assert run(uow, tariffs, context(), login['id'], customer['id'])[0].ends == ends
    [details] = run(uow, contract_details, context(), login['id'], customer['id'])
    assert details.confirmed_end == ends
