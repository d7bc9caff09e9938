"""The bill's texts per commodity: water is not energy (no MaLo-ID, €/m³), tariffs by the name customers know."""

import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal

from domain.bill_layout import bill_pdf
from tests.domain.test_einvoice import PROFILES, sample_bill


def pdf_text(tmp_path, profile_key: str, bill) -> str:
    (tmp_path / 'bill.pdf').write_bytes(bill_pdf(PROFILES[profile_key], bill))
    return subprocess.run(
        ['pdftotext', '-layout', str(tmp_path / 'bill.pdf'), '-'], capture_output=True, text=True, check=True
    ).stdout


def water_bill(**changes):
    return replace(sample_bill(commodity='water', paid='300'), tariff_code='WASSER', **changes)


def test_a_water_bill_has_no_malo_id_row(tmp_path):
    """Market locations exist in the energy market only; an imported water contract may still carry one."""
    for bill in (water_bill(malo_id='41373559241'), water_bill()):
        text = pdf_text(tmp_path, 'wasserverband-c', bill)
        assert 'Jahresverbrauchsabrechnung Trinkwasser' in text
        assert 'MaLo' not in text and 'Marktlokation' not in text and '41373559241' not in text


def test_an_electricity_bill_keeps_its_malo_id_row(tmp_path):
    assert 'Marktlokations-ID (MaLo-ID)' in pdf_text(tmp_path, 'stadtwerke-a', sample_bill())


def test_a_water_bill_states_the_working_price_in_euros_per_cubic_metre(tmp_path):
    """As the contract page and the price sheet (domain.contracts.unit_price): 2,1500 €/m³, not 215,00 ct/m³."""
    text = pdf_text(tmp_path, 'wasserverband-c', water_bill())
    assert 'ct/m³' not in text and '€/m³' in text
    assert 'ct/kWh' in pdf_text(tmp_path, 'stadtwerke-a', sample_bill())


def test_water_s_price_per_cubic_metre_is_the_mengenpreis_on_the_bill_and_in_its_e_invoice(tmp_path):
    """Water is not energy: its price per m³ was called "Arbeitspreis" on the bill and "Arbeitspreis Trinkwasser"
    in the e-invoice line."""
    from xml.etree import ElementTree as ET

    from domain.einvoice import RAM, cii_xml

    text = pdf_text(tmp_path, 'wasserverband-c', water_bill())
    assert 'Mengenpreis' in text and 'Arbeitspreis' not in text
    names = [n.text for n in ET.fromstring(cii_xml(PROFILES['wasserverband-c'], water_bill())).iter(f'{{{RAM}}}Name')]
    assert 'Mengenpreis Trinkwasser' in names and not any('Arbeitspreis' in (n or '') for n in names)
    assert 'Arbeitspreis' in pdf_text(tmp_path, 'stadtwerke-a', sample_bill())


def test_the_bill_names_the_tariff_as_the_customer_knows_it(tmp_path):
    text = pdf_text(tmp_path, 'stadtwerke-a', sample_bill())
    assert 'AueStrom Basis' in text and 'STROM-BASIS' not in text


def test_a_water_bill_does_not_name_its_register_with_the_electricity_tariffs_words(tmp_path):
    text = pdf_text(tmp_path, 'wasserverband-c', water_bill())
    assert 'Eintarif' not in text and 'Zählwerk' in text
    assert 'Eintarif' in pdf_text(tmp_path, 'stadtwerke-a', sample_bill())


def test_the_gas_bill_s_co2_tonnes_and_cost_are_rounded_half_up(tmp_path):
    """2,500 kWh × 0.201 t/MWh = 0.5025 t: shown 0,502 t (half to even), and its cost reckoned from the rounded tonnes
    (27,61 €); 0,503 t and 0.5025 × 55 € = 27.6375 → 27,64 €."""
    bill = replace(sample_bill(commodity='gas'), consumption=Decimal(2500))
    text = ' '.join(pdf_text(tmp_path, 'stadtwerke-a', bill).split())
    assert 'entspricht 0,503 t CO₂' in text
    assert 'rund 27,64 € CO₂-Kosten' in text


def test_the_comparison_names_a_billing_year_that_is_not_a_calendar_year_by_both_its_years(tmp_path):
    bill = replace(
        sample_bill(), period_start=date(2025, 10, 1), period_end=date(2026, 9, 30), previous_consumption=Decimal(3000)
    )
    text = ' '.join(pdf_text(tmp_path, 'stadtwerke-a', bill).split())
    assert '2025/26 (dieser Zeitraum)' in text
    calendar_year = replace(sample_bill(), previous_consumption=Decimal(3000))
    assert f'{calendar_year.period_start:%Y} (dieser Zeitraum)' in ' '.join(
        pdf_text(tmp_path, 'stadtwerke-a', calendar_year).split()
    )


def test_a_notice_of_one_week_is_named_in_the_singular(tmp_path):
    """The import takes notice periods of 0 to 104 weeks: the bill said „Kündigungsfrist 1 Wochen“."""
    text = ' '.join(pdf_text(tmp_path, 'stadtwerke-a', replace(sample_bill(), notice_period_weeks=1)).split())
    assert 'Kündigungsfrist 1 Woche ' in text
    assert 'Kündigungsfrist 4 Wochen' in ' '.join(pdf_text(tmp_path, 'stadtwerke-a', sample_bill()).split())
