"""The live calculation's projection (docs/domain.md §4) from the readings around the billing year's start."""

from datetime import date, datetime
from decimal import Decimal

from domain.billing import value_before_year
from domain.clock import BERLIN
from domain.installment import Basis, calculate
from domain.model import Contract, InstallmentPlan, Meter, MeterReading, Price
from domain.ports import Context
from storage.settings import Settings
from tests.factories import CHEAP_HASHER


def reading(day: date, value: int) -> MeterReading:
    return MeterReading(meter_id=7, obis='1.8.0', reading_date=day, value=Decimal(value), source='customer')


def test_annual_readings_taken_in_january_do_not_count_last_january_as_this_year():
    """A water association reads in December and January: the readings of 20.01.2025 (500 m³) and 20.01.2026
    (620 m³), then 720 m³ on 09.11.2026. The value at the year's start is interpolated (613 m³ on 31.12.2025), so
    107 m³ in 313 days project to 125 m³, not to the 257 m³ of 220 m³ counted from 1 January."""
    contract = Contract(
        id=1, contract_number='V1', customer_id=1, commodity='water', tariff_code='W', start_date=date(2020, 1, 1)
    )
    readings = [reading(date(2025, 1, 20), 500), reading(date(2026, 1, 20), 620), reading(date(2026, 11, 9), 720)]
    price = Price(
        tariff_code='W',
        valid_from=date(2025, 1, 1),
        unit='m3',
        working_price_net=Decimal('2.00'),
        base_price_net_per_year=Decimal('60'),
        vat_rate=Decimal('0.07'),
    )
    plan = InstallmentPlan(contract_id=1, valid_from=date(2026, 1, 1), amount=Decimal(25), due_day=15, per_year=12)
    basis = Basis([plan], [price], [Decimal(25)] * 10, [Meter(id=7, meter_number='M', contract_id=1)], {7: readings})
    profile = Settings(profile='wasserverband-c').load_profile()
    now = datetime(2026, 11, 10, 10, 0, tzinfo=BERLIN)
    view = calculate(Context(profile, 's', 'http://x', CHEAP_HASHER, now), contract, now.date(), basis)
    assert view is not None and view.basis == 'this_year'
    at_start = value_before_year((date(2025, 1, 20), Decimal(500)), (date(2026, 1, 20), Decimal(620)), date(2026, 1, 1))
    assert at_start == 500 + round(Decimal(120) * 345 / 365)
    assert view.projected_consumption == ((720 - at_start) / 313 * 365).quantize(Decimal('0.1'))


def test_the_value_at_the_years_start_is_the_reading_of_its_eve_when_there_is_one():
    assert (
        value_before_year((date(2025, 12, 31), Decimal(900)), (date(2026, 3, 1), Decimal(1000)), date(2026, 1, 1))
        == 900
    )
    # a lower value after it (a rollover, an exchange): nothing to share, the reading before stays the start
    assert (
        value_before_year((date(2025, 12, 20), Decimal(999000)), (date(2026, 2, 1), Decimal(200)), date(2026, 1, 1))
        == 999000
    )
    # a reading after the eve and none after it: the reading itself (nothing to interpolate towards)
    assert (
        value_before_year((date(2025, 6, 1), Decimal(900)), (date(2025, 6, 1), Decimal(900)), date(2026, 1, 1)) == 900
    )


def test_a_contract_s_first_year_projects_from_its_move_in_reading_taken_on_its_first_day():
    """Supply from 01.03.2026, the move-in reading of that day 1,000 kWh, 2,400 on 30.09.: 1,400 kWh in 214 days,
    so 2,001.9 kWh for the 306 days to the year's end (it was 0, for want of a reading before the first day)."""
    contract = Contract(
        id=1, contract_number='V1', customer_id=1, commodity='electricity', tariff_code='T', start_date=date(2026, 3, 1)
    )
    price = Price(
        tariff_code='T',
        valid_from=date(2025, 1, 1),
        unit='kWh',
        working_price_net=Decimal('0.2521'),
        base_price_net_per_year=Decimal('121.01'),
        vat_rate=Decimal('0.19'),
    )
    plan = InstallmentPlan(contract_id=1, valid_from=date(2026, 3, 1), amount=Decimal(60), due_day=15, per_year=12)
    readings = [reading(date(2026, 3, 1), 1000), reading(date(2026, 9, 30), 2400)]
    basis = Basis([plan], [price], [Decimal(60)] * 7, [Meter(id=7, meter_number='M', contract_id=1)], {7: readings})
    profile = Settings(profile='stadtwerke-a').load_profile()
    now = datetime(2026, 10, 1, 10, 0, tzinfo=BERLIN)
    view = calculate(Context(profile, 's', 'http://x', CHEAP_HASHER, now), contract, now.date(), basis)
    assert view is not None and view.basis == 'this_year' and view.projected_consumption == Decimal('2001.9')


PRICE = Price(
    tariff_code='T',
    valid_from=date(2020, 1, 1),
    unit='kWh',
    working_price_net=Decimal('0.25'),
    base_price_net_per_year=Decimal('120'),
    vat_rate=Decimal('0.19'),
)
ELECTRICITY = Contract(
    id=1, contract_number='V1', customer_id=1, commodity='electricity', tariff_code='T', start_date=date(2020, 1, 1)
)


def _on(meter_id: int, day: date, value: int) -> MeterReading:
    return MeterReading(meter_id=meter_id, obis='1.8.0', reading_date=day, value=Decimal(value), source='customer')


def _view(now: datetime, basis: Basis):
    profile = Settings(profile='stadtwerke-a').load_profile()
    view = calculate(Context(profile, 's', 'http://x', CHEAP_HASHER, now), ELECTRICITY, now.date(), basis)
    assert view is not None
    return view


def test_a_meter_removed_in_an_earlier_year_adds_nothing_to_this_year_s_projection():
    """The old meter (removed 30.06.2024) still added a whole year from its last two readings: the forecast, the
    year-end balance and the suggested installment about doubled."""
    old = Meter(id=7, meter_number='ALT', contract_id=1, removed_on=date(2024, 6, 30))
    new = Meter(id=8, meter_number='NEU', contract_id=1, installed_on=date(2024, 7, 1))
    readings = {
        7: [_on(7, date(2023, 6, 30), 10000), _on(7, date(2024, 6, 30), 13000)],
        8: [_on(8, date(2024, 7, 1), 0), _on(8, date(2025, 12, 31), 4500), _on(8, date(2026, 6, 30), 6000)],
    }
    plan = InstallmentPlan(contract_id=1, valid_from=date(2026, 1, 1), amount=Decimal(90), due_day=15, per_year=12)
    basis = Basis([plan], [PRICE], [Decimal(90)] * 6, [old, new], readings)
    view = _view(datetime(2026, 7, 1, 10, 0, tzinfo=BERLIN), basis)
    assert view.projected_consumption == Decimal('3024.9')  # 1,500 kWh in 181 days, for the year


def test_the_year_end_balance_counts_a_change_already_made_at_its_new_amount():
    """On 1 November the customer raised 90 € to 120 € from 15.11.; on 5 November a further change reaches 15.12.
    only: the 15.11. installment is paid at 120 €, not at 90 € (the balance was 30 € off)."""
    plans = [
        InstallmentPlan(contract_id=1, valid_from=date(2026, 1, 1), amount=Decimal(90), due_day=15, per_year=12),
        InstallmentPlan(contract_id=1, valid_from=date(2026, 11, 15), amount=Decimal(120), due_day=15, per_year=12),
    ]
    readings = {7: [_on(7, date(2024, 12, 31), 0), _on(7, date(2025, 12, 31), 3200)]}
    basis = Basis(plans, [PRICE], [Decimal(90)] * 10, [Meter(id=7, meter_number='M', contract_id=1)], readings)
    view = _view(datetime(2026, 11, 5, 10, 0, tzinfo=BERLIN), basis)
    assert view.first_due == date(2026, 12, 15)
    assert view.calculator.paid == Decimal(10 * 90 + 120)


PLAN_2025 = InstallmentPlan(contract_id=1, valid_from=date(2025, 1, 1), amount=Decimal(90), due_day=15, per_year=12)


def test_a_meter_exchanged_on_the_year_s_eve_leaves_last_year_s_rate_to_its_successor():
    """Removed 31.12.2025, its successor installed that day at 0 and not read since: the old meter's 3,000 kWh of the
    year before are the forecast (a first fix counted nothing: 0 kWh, an installment of little more than the base)."""
    old = Meter(id=7, meter_number='ALT', contract_id=1, removed_on=date(2025, 12, 31))
    new = Meter(id=8, meter_number='NEU', contract_id=1, installed_on=date(2025, 12, 31))
    readings = {
        7: [_on(7, date(2024, 12, 31), 10000), _on(7, date(2025, 12, 31), 13000)],
        8: [_on(8, date(2025, 12, 31), 0)],
    }
    basis = Basis([PLAN_2025], [PRICE], [Decimal(90)] * 2, [old, new], readings)
    view = _view(datetime(2026, 3, 1, 10, 0, tzinfo=BERLIN), basis)
    assert (view.projected_consumption, view.basis) == (Decimal('3000.0'), 'last_year')


def test_meters_exchanged_within_the_year_are_added_up_then_projected():
    """Removed on 01.01.2026 after 8 kWh, its successor 1,500 kWh by 01.07.: 1,508 kWh in 182 days, about 3,024 for
    the year (each meter projected alone, the old one's day made 2,920 kWh more)."""
    old = Meter(id=7, meter_number='ALT', contract_id=1, removed_on=date(2026, 1, 1))
    new = Meter(id=8, meter_number='NEU', contract_id=1, installed_on=date(2026, 1, 1))
    readings = {
        7: [_on(7, date(2024, 12, 31), 10000), _on(7, date(2025, 12, 31), 13000), _on(7, date(2026, 1, 1), 13008)],
        8: [_on(8, date(2026, 1, 1), 0), _on(8, date(2026, 7, 1), 1500)],
    }
    basis = Basis([PLAN_2025], [PRICE], [Decimal(90)] * 6, [old, new], readings)
    view = _view(datetime(2026, 7, 2, 10, 0, tzinfo=BERLIN), basis)
    assert (view.projected_consumption, view.basis) == (Decimal('3024.3'), 'this_year')


def test_an_exchange_whose_old_part_cannot_be_counted_takes_last_year_s_rate():
    """The old meter's removal reading below its start (a rollover, a typing error): its half year cannot be counted,
    and the new meter's 750 kWh since 01.07. spread over the whole year so far made about 1,000 kWh, not 3,000."""
    old = Meter(id=7, meter_number='ALT', contract_id=1, removed_on=date(2026, 7, 1))
    new = Meter(id=8, meter_number='NEU', contract_id=1, installed_on=date(2026, 7, 1))
    readings = {
        7: [_on(7, date(2024, 12, 31), 10000), _on(7, date(2025, 12, 31), 13000), _on(7, date(2026, 7, 1), 500)],
        8: [_on(8, date(2026, 7, 1), 0), _on(8, date(2026, 10, 1), 750)],
    }
    basis = Basis([PLAN_2025], [PRICE], [Decimal(90)] * 9, [old, new], readings)
    view = _view(datetime(2026, 10, 2, 10, 0, tzinfo=BERLIN), basis)
    assert (view.projected_consumption, view.basis) == (Decimal('3000.0'), 'last_year')


def test_an_exchange_without_the_removal_reading_takes_last_year_s_rate():
    old = Meter(id=7, meter_number='ALT', contract_id=1, removed_on=date(2026, 7, 1))
    new = Meter(id=8, meter_number='NEU', contract_id=1, installed_on=date(2026, 7, 1))
    readings = {
        7: [_on(7, date(2024, 12, 31), 10000), _on(7, date(2025, 12, 31), 13000)],
        8: [_on(8, date(2026, 7, 1), 0), _on(8, date(2026, 10, 1), 750)],
    }
    basis = Basis([PLAN_2025], [PRICE], [Decimal(90)] * 9, [old, new], readings)
    view = _view(datetime(2026, 10, 2, 10, 0, tzinfo=BERLIN), basis)
    assert (view.projected_consumption, view.basis) == (Decimal('3000.0'), 'last_year')


def test_a_meter_with_a_year_of_its_own_at_zero_does_not_take_a_predecessor_s_rate():
    """A vacant flat: the successor's year at 0 kWh is its own year; the rate of a meter removed in 2023 was taken."""
    old = Meter(id=7, meter_number='ALT', contract_id=1, removed_on=date(2023, 6, 30))
    new = Meter(id=8, meter_number='NEU', contract_id=1, installed_on=date(2023, 6, 30))
    readings = {
        7: [_on(7, date(2022, 6, 30), 10000), _on(7, date(2023, 6, 30), 14000)],
        8: [_on(8, date(2023, 6, 30), 0), _on(8, date(2024, 12, 31), 0), _on(8, date(2025, 12, 31), 0)],
    }
    basis = Basis([PLAN_2025], [PRICE], [Decimal(90)] * 2, [old, new], readings)
    view = _view(datetime(2026, 3, 1, 10, 0, tzinfo=BERLIN), basis)
    assert view.projected_consumption == 0


def test_an_electricity_meter_carrying_gas_factors_is_not_converted():
    """The import takes Zustandszahl and Brennwert on any meter; only gas is converted (3,000 kWh made 31,350)."""
    meter = Meter(id=7, meter_number='M', contract_id=1, z_number=Decimal('0.95'), calorific_value=Decimal('11'))
    readings = {7: [_on(7, date(2024, 12, 31), 0), _on(7, date(2025, 12, 31), 3000)]}
    basis = Basis([PLAN_2025], [PRICE], [Decimal(90)] * 2, [meter], readings)
    view = _view(datetime(2026, 3, 1, 10, 0, tzinfo=BERLIN), basis)
    assert view.projected_consumption == Decimal('3000.0')


def test_a_planned_exchange_later_in_the_year_does_not_discard_this_year_s_readings():
    """The exchange is in the master data for 15.10.; on 01.09. the old meter is read (3,000 kWh in 243 days): its
    readings were set aside for last year's rate, as if both meters had served this year."""
    old = Meter(id=7, meter_number='ALT', contract_id=1, removed_on=date(2026, 10, 15))
    new = Meter(id=8, meter_number='NEU', contract_id=1, installed_on=date(2026, 10, 15))
    readings = {
        7: [_on(7, date(2024, 12, 31), 10000), _on(7, date(2025, 12, 31), 13000), _on(7, date(2026, 8, 31), 16000)],
        8: [],
    }
    basis = Basis([PLAN_2025], [PRICE], [Decimal(90)] * 8, [old, new], readings)
    view = _view(datetime(2026, 9, 1, 10, 0, tzinfo=BERLIN), basis)
    # same meter without the planned successor in the data:
    alone = _view(
        datetime(2026, 9, 1, 10, 0, tzinfo=BERLIN), Basis([PLAN_2025], [PRICE], [Decimal(90)] * 8, [old], readings)
    )
    assert alone.basis == 'this_year'
    assert (view.projected_consumption, view.basis) == (alone.projected_consumption, 'this_year')


def test_a_first_year_with_a_planned_exchange_is_not_projected_at_zero():
    """No year before to fall back on: the forecast was 0 kWh and the suggested installment the minimum."""
    contract = Contract(
        id=1, contract_number='V1', customer_id=1, commodity='electricity', tariff_code='T', start_date=date(2026, 3, 1)
    )
    old = Meter(id=7, meter_number='ALT', contract_id=1, installed_on=date(2026, 3, 1), removed_on=date(2026, 11, 1))
    new = Meter(id=8, meter_number='NEU', contract_id=1, installed_on=date(2026, 11, 1))
    readings = {7: [_on(7, date(2026, 3, 1), 1000), _on(7, date(2026, 9, 30), 2400)], 8: []}
    plan = InstallmentPlan(contract_id=1, valid_from=date(2026, 3, 1), amount=Decimal(60), due_day=15, per_year=12)
    basis = Basis([plan], [PRICE], [Decimal(60)] * 7, [old, new], readings)
    profile = Settings(profile='stadtwerke-a').load_profile()
    now = datetime(2026, 10, 1, 10, 0, tzinfo=BERLIN)
    view = calculate(Context(profile, 's', 'http://x', CHEAP_HASHER, now), contract, now.date(), basis)
    assert view is not None
    assert view.basis == 'this_year' and view.projected_consumption > 2000


def _flat(working: str = '0.30') -> Price:
    """A price given gross (VAT 0), 120 € a year."""
    return Price(
        tariff_code='T',
        valid_from=date(2020, 1, 1),
        unit='kWh',
        working_price_net=Decimal(working),
        base_price_net_per_year=Decimal('120'),
        vat_rate=Decimal(0),
    )


def _contract(commodity: str = 'electricity', start: date = date(2020, 1, 1), end: date | None = None) -> Contract:
    return Contract(
        id=1, contract_number='V1', customer_id=1, commodity=commodity, tariff_code='T', start_date=start, end_date=end
    )


def _view_of(now: datetime, contract: Contract, basis: Basis):
    view = calculate(
        Context(Settings(profile='stadtwerke-a').load_profile(), 's', 'http://x', CHEAP_HASHER, now),
        contract,
        now.date(),
        basis,
    )
    assert view is not None
    return view


METER = [Meter(id=7, meter_number='M', contract_id=1)]
LAST_YEAR = {7: [_on(7, date(2024, 12, 31), 0), _on(7, date(2025, 12, 31), 3650)]}


def test_a_contract_ending_in_june_projects_half_a_year_s_base_price():
    """The live calculation for a contract ending 30.06.: 1,810 kWh at 0.30 € and 181 days of the 120 € base price
    (a whole year's base price made the projected cost 60.49 € too high)."""
    plan = InstallmentPlan(contract_id=1, valid_from=date(2026, 1, 1), amount=Decimal(60), due_day=15, per_year=12)
    basis = Basis([plan], [_flat()], [Decimal(60)] * 2, METER, LAST_YEAR)
    view = _view_of(datetime(2026, 3, 1, 10, 0, tzinfo=BERLIN), _contract(end=date(2026, 6, 30)), basis)
    assert view.projected_consumption == Decimal('1810.0')
    assert view.calculator.projected_cost == Decimal('602.51')  # 543.00 + 120 × 181/365


def test_eleven_installments_a_contract_ending_in_june_keeps_its_june_installment():
    """With 11 installments the billing month (December) has none; the month the contract's part of the year ends in
    lost its installment instead (remaining 3 in March, and in May nothing left to change)."""
    plan = InstallmentPlan(contract_id=1, valid_from=date(2026, 1, 1), amount=Decimal(60), due_day=15, per_year=11)
    ending = _contract(end=date(2026, 6, 30))
    march = _view_of(
        datetime(2026, 3, 1, 10, 0, tzinfo=BERLIN),
        ending,
        Basis([plan], [_flat()], [Decimal(60)] * 2, METER, LAST_YEAR),
    )
    assert march.calculator.remaining == 4  # 15.03., 15.04., 15.05., 15.06.
    may = _view_of(
        datetime(2026, 5, 20, 10, 0, tzinfo=BERLIN),
        ending,
        Basis([plan], [_flat()], [Decimal(60)] * 4, METER, LAST_YEAR),
    )
    assert may.first_due == date(2026, 6, 15)


def test_gas_is_projected_from_last_year_s_rate_by_degree_day_weights():
    """Last year's rate was shared by days, this year's by degree-day weights (docs/domain.md §4): half a year of gas
    (a contract ending 30 June) was 181/365 of a year, not 584 ‰; and in January, from the last two readings of
    30 September and 31 December, the autumn's rate was taken for the whole year (+43 %)."""
    from domain.installment_rules import weight_share

    gas_meter = [Meter(id=7, meter_number='G', contract_id=1, z_number=Decimal(1), calorific_value=Decimal(1))]
    plan = InstallmentPlan(contract_id=1, valid_from=date(2026, 1, 1), amount=Decimal(60), due_day=15, per_year=12)
    year = {7: [_on(7, date(2024, 12, 31), 0), _on(7, date(2025, 12, 31), 10000)]}
    basis = Basis([plan], [_flat('0.10')], [Decimal(60)] * 2, gas_meter, year)
    view = _view_of(datetime(2026, 3, 1, 10, 0, tzinfo=BERLIN), _contract('gas', end=date(2026, 6, 30)), basis)
    half = 10000 * weight_share(date(2026, 1, 1), date(2026, 6, 30))
    assert view.basis == 'last_year' and view.projected_consumption == half.quantize(Decimal('0.1'))
    autumn = {7: [_on(7, date(2024, 12, 31), 0), _on(7, date(2025, 9, 30), 6400), _on(7, date(2025, 12, 31), 10000)]}
    view = _view_of(
        datetime(2026, 1, 10, 10, 0, tzinfo=BERLIN),
        _contract('gas'),
        Basis([plan], [_flat('0.10')], [], gas_meter, autumn),
    )
    assert view.basis == 'last_year' and view.projected_consumption == Decimal('10000.0')


def test_a_new_contract_with_only_its_move_in_reading_is_reckoned_from_its_plan():
    """No reading since the move-in and no year before: the year was projected at 0 kWh "from the last billing
    year", the suggested installment the base price alone (12 € instead of 60 €), the result a large credit. With
    nothing to project from, the year is as the plan has it: its installments, no suggestion to change them."""
    plan = InstallmentPlan(contract_id=1, valid_from=date(2026, 3, 1), amount=Decimal(60), due_day=15, per_year=12)
    basis = Basis([plan], [_flat()], [], METER, {7: [_on(7, date(2026, 3, 1), 1000)]})
    view = _view_of(datetime(2026, 3, 10, 10, 0, tzinfo=BERLIN), _contract(start=date(2026, 3, 1)), basis)
    assert view.basis == 'none'
    assert view.calculator.projected_cost == 10 * Decimal(60)  # 15.03. to 15.12.
    assert view.calculator.suggested == 60 and view.calculator.balance(Decimal(60)) == 0


def test_a_plan_announced_with_its_own_calendar_counts_on_its_own_due_dates():
    """The billing system announced 80 € from 01.06. with due day 1 and 11 a year: from June that is 6 due dates
    (01.06.–01.11.), not the 7 of today's plan's calendar (15.06.–15.12.); and 12 a year announced after 11 counts its
    December. It is no change already made ("Bereits beauftragt"): keeping the amount is none either."""

    def view_of(*plans: tuple[date, int, int, int]):
        stored = [
            InstallmentPlan(contract_id=1, valid_from=d, amount=Decimal(a), due_day=dd, per_year=n)
            for d, a, dd, n in plans
        ]
        return _view_of(
            datetime(2026, 2, 1, 10, 0, tzinfo=BERLIN),
            _contract(),
            Basis(stored, [_flat()], [Decimal(92)], METER, LAST_YEAR),
        )

    view = view_of((date(2026, 1, 1), 92, 15, 12), (date(2026, 6, 1), 80, 1, 11))
    assert view.first_due == date(2026, 2, 15) and view.calculator.remaining == 4  # 15.02.–15.05.
    assert view.calculator.paid == 92 + 6 * 80
    assert view.pending is None and view.announced is not None and view.announced.valid_from == date(2026, 6, 1)
    view = view_of((date(2026, 1, 1), 92, 15, 11), (date(2026, 6, 15), 80, 15, 12))
    assert view.calculator.remaining == 4 and view.calculator.paid == 92 + 7 * 80


def test_gas_counted_in_cubic_metres_without_its_factors_is_not_projected_as_kwh():
    """A gas meter imported without Zustandszahl and Brennwert: 1,000 m³ were projected as 1,000 kWh and the
    suggested installment fell to a tenth of the real cost. Like the bill run, the page does not take m³ for kWh:
    the year is as the plan has it, and the text says why; an earlier meter without them is no basis either."""
    plan = InstallmentPlan(contract_id=1, valid_from=date(2026, 1, 1), amount=Decimal(60), due_day=15, per_year=12)
    year = {7: [_on(7, date(2024, 12, 31), 0), _on(7, date(2025, 12, 31), 1000), _on(7, date(2026, 2, 28), 1150)]}
    bare = [Meter(id=7, meter_number='G', contract_id=1)]
    view = _view_of(
        datetime(2026, 3, 1, 10, 0, tzinfo=BERLIN),
        _contract('gas'),
        Basis([plan], [_flat('0.10')], [Decimal(60)] * 2, bare, year),
    )
    assert (view.basis, view.projected_consumption) == ('unconverted', 0)
    assert view.calculator.projected_cost == 12 * Decimal(60)  # the plan's year, no suggestion to lower it
    assert view.calculator.suggested == Decimal(60)
    old = Meter(id=7, meter_number='ALT', contract_id=1, removed_on=date(2025, 12, 31))
    new = Meter(
        id=8,
        meter_number='NEU',
        contract_id=1,
        installed_on=date(2025, 12, 31),
        z_number=Decimal('0.95'),
        calorific_value=Decimal('11'),
    )
    exchanged = {7: year[7][:2], 8: [_on(8, date(2025, 12, 31), 0)]}
    view = _view_of(
        datetime(2026, 3, 1, 10, 0, tzinfo=BERLIN),
        _contract('gas'),
        Basis([plan], [_flat('0.10')], [], [old, new], exchanged),
    )
    assert view.basis == 'unconverted'
    converted = Basis(
        [plan], [_flat('0.10')], [], [new], {8: [_on(8, date(2024, 12, 31), 0), _on(8, date(2025, 12, 31), 1000)]}
    )
    assert _view_of(datetime(2026, 3, 1, 10, 0, tzinfo=BERLIN), _contract('gas'), converted).basis == 'last_year'


def test_gas_read_each_january_starts_the_year_at_its_degree_day_share_of_last_year():
    """Gas read on 20.01.2025 (0 m³) and 20.01.2026 (1,200 m³, 12,000 kWh), then on 09.11.2026 at last year's pace
    by degree-day weights (1,976 m³). The value on 31.12.2025 is 890 ‰ of the year's 1,200 m³ (1,068 m³), not
    345/365 (1,134 m³): the same use as last year is projected at about 12,000 kWh, not 11,138 (7 % too low, the
    suggested installment with it)."""
    meter = Meter(id=7, meter_number='M', contract_id=1, z_number=Decimal(1), calorific_value=Decimal(10))
    readings = {7: [_on(7, date(2025, 1, 20), 0), _on(7, date(2026, 1, 20), 1200), _on(7, date(2026, 11, 9), 1976)]}
    plan = InstallmentPlan(contract_id=1, valid_from=date(2020, 1, 1), amount=Decimal(110), due_day=15, per_year=12)
    basis = Basis([plan], [_flat('0.10')], [Decimal(110)] * 10, [meter], readings)
    view = _view_of(datetime(2026, 11, 10, 10, 0, tzinfo=BERLIN), _contract('gas'), basis)
    assert view is not None and view.basis == 'this_year'
    assert abs(view.projected_consumption - 12000) < 20
    january = (date(2025, 1, 20), Decimal(0)), (date(2026, 1, 20), Decimal(1200))
    assert value_before_year(*january, date(2026, 1, 1), 'gas') == 1068
    assert value_before_year(*january, date(2026, 1, 1)) == 1134  # electricity and water: by days


def test_an_installment_paid_early_at_the_old_amount_counts_once_after_a_raise():
    """As above, but the customer's standing order paid 90 € on 10 November for the 15.11. installment, raised to
    120 €: what is paid beyond the dues before today pays 90 € of it, the rest (30 €) is still due. The 90 € paid
    ahead were counted a second time, as the whole 120 € were added too (the balance 90 € too favourable)."""
    plans = [
        InstallmentPlan(contract_id=1, valid_from=date(2026, 1, 1), amount=Decimal(90), due_day=15, per_year=12),
        InstallmentPlan(contract_id=1, valid_from=date(2026, 11, 15), amount=Decimal(120), due_day=15, per_year=12),
    ]
    readings = {7: [_on(7, date(2024, 12, 31), 0), _on(7, date(2025, 12, 31), 3200)]}
    basis = Basis(plans, [PRICE], [Decimal(90)] * 11, [Meter(id=7, meter_number='M', contract_id=1)], readings)
    view = _view(datetime(2026, 11, 12, 10, 0, tzinfo=BERLIN), basis)
    assert view.first_due == date(2026, 12, 15)
    assert view.calculator.paid == Decimal(10 * 90 + 120)
