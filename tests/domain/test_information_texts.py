"""The Abrechnungsinformation's PDF texts (docs/domain.md §9): what it says of an estimated reading and of the state
it shows, for gas as for electricity."""

import subprocess
from datetime import date
from decimal import Decimal

from domain.billing import PricePeriod, RegisterReadings, compute_bill
from domain.information import InformationDocument
from domain.information_layout import information_pdf
from tests.domain.test_einvoice import PROFILES


def gas_information(paid: str = '600') -> InformationDocument:
    """Gas read on 20.01. each year: the value at the year's start interpolated by degree-day weights (marked)."""
    register = RegisterReadings(
        '1.8.0', date(2025, 12, 31), Decimal(10950), 'estimated', date(2026, 6, 30), Decimal(11900), 'customer',
        Decimal(950), '7GAS0100000001',
    )  # fmt: skip
    kwh = Decimal(10304)
    so_far = compute_bill(
        kwh, 'gas', date(2026, 1, 1), date(2026, 6, 30), [PricePeriod(date(2025, 1, 1), Decimal('0.09'), Decimal(150))],
        Decimal('0.19'), Decimal(paid),
    )  # fmt: skip
    return InformationDocument(
        date(2026, 7, 1), '41000101', 'Erika Beispiel', ('Hauptstraße 1', '27749 Aue-Süd'), 'V00000001', 'gas',
        '7GAS0100000001', 'kWh', date(2026, 1, 1), date(2026, 12, 31), date(2026, 6, 30), (register,), kwh, True,
        so_far, Decimal('0.19'), Decimal(17600), Decimal(2000), Decimal(1800), Decimal(200), 6,
    )  # fmt: skip


def text_of(tmp_path, info: InformationDocument) -> str:
    (tmp_path / 'info.pdf').write_bytes(information_pdf(PROFILES['stadtwerke-a'], info))
    text = subprocess.run(
        ['pdftotext', '-layout', str(tmp_path / 'info.pdf'), '-'], capture_output=True, text=True, check=True
    ).stdout
    return ' '.join(text.split())


def test_a_gas_start_reading_between_two_readings_is_said_to_be_shared_by_the_season_not_by_days(tmp_path):
    """value_before_year shares gas (and heat) by degree-day weights (890 ‰ for 20.01.–31.12., not 345/365): the PDF
    told the customer it was "nach Tagen anteilig berechnet"."""
    text = text_of(tmp_path, gas_information())
    assert 'zum 31.12.2025 liegt zwischen zwei Ablesungen' in text
    assert 'nach Tagen' not in text


def test_the_state_shown_is_that_of_the_day_it_is_made_up_to_not_today(tmp_path):
    """Made on 01.07. up to 30.06., read days later: "Stand heute" named a day the figures are not of."""
    text = text_of(tmp_path, gas_information())
    assert 'Stand heute' not in text and 'Stand am 30.06.2026 (offen)' in text
    assert 'Stand am 30.06.2026 (Guthaben)' in text_of(tmp_path, gas_information(paid='5000'))
