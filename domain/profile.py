"""The utility profile: every rule in which utilities differ, read from a TOML file.

A profile reproduces one utility's published rules (docs/domain.md §1): how its customers identify
themselves, how an email address is confirmed, the password policy, how a forgotten password is replaced
and whether customers may delete their own login.
"""

import calendar
import re
import tomllib
from datetime import timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SecondIdentifier = Literal['meter', 'bill']
_MONTH_DAY = re.compile(r'^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$')


def is_month_day(value: str) -> bool:
    """MM-DD of a day that exists (in a leap year: 02-29 counts, 02-30 and 04-31 do not)."""
    if not _MONTH_DAY.match(value):
        return False
    month, day = (int(part) for part in value.split('-'))
    return day <= calendar.monthrange(2028, month)[1]


def repeats_a_group(pattern: str) -> bool:
    """Whether the pattern repeats a group (`(…)+`, `(…)*`, `(…){2,}`): the shape of patterns that backtrack
    exponentially, `(\\d+)+$` on 30 digits and an x ran for minutes on every registration. `(…)?` stays allowed."""
    if re.search(r'\(\?[a-zA-Z-]*x', pattern):  # verbose mode: a space or a comment may stand before the `+`
        return True
    escaped = in_class = False
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == '\\':
            escaped = True
        elif in_class:
            in_class = char != ']'
        elif char == '[':
            in_class = True
        elif char == ')' and pattern[index + 1 : index + 2] in ('*', '+', '{'):
            return True
    return False


MAX_NUMBER_LENGTH = 40  # no utility's customer or contract-account number is longer


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra='forbid')


class AccountIdRule(_Section):
    label: str = 'Kundennummer'
    pattern: str
    hint: str
    number_template: str = '{:08d}'
    label_en: str = 'Customer number'  # the label and hint on the English pages
    hint_en: str = ''

    def label_in(self, language: str) -> str:
        return self.label_en if language == 'en' and self.label_en else self.label

    def hint_in(self, language: str) -> str:
        return self.hint_en if language == 'en' and self.hint_en else self.hint

    @field_validator('pattern')
    @classmethod
    def _safe(cls, pattern: str) -> str:
        """A pattern that compiles and repeats no group: the profile file's and the back office's alike (a saved one
        is checked on saving; one from before that check or from the file is refused here, not used)."""
        try:
            re.compile(pattern)
        except re.error as error:  # no ValueError: pydantic would not name the field
            raise ValueError(f'not a regular expression: {error}') from None
        if repeats_a_group(pattern):
            raise ValueError('a pattern that repeats a group backtracks for minutes: repeat single characters')
        return pattern

    def matches(self, normalised: str) -> bool:
        """Whether the number has the utility's format; a number longer than any customer number is none (a
        visitor's 100,000 characters were handed to the pattern)."""
        return len(normalised) <= MAX_NUMBER_LENGTH and re.fullmatch(self.pattern, normalised) is not None

    def make(self, serial: int) -> str:
        """A customer number in this utility's format (demo data and tests)."""
        return self.number_template.format(serial)


class RegistrationRule(_Section):
    second_identifiers: tuple[SecondIdentifier, ...] = ('meter',)
    requires_annual_bill: bool = False
    confirmation: Literal['link', 'pin'] = 'link'
    link_valid_hours: int = Field(default=48, ge=1, le=168)
    pin_valid_minutes: int = Field(default=15, ge=5, le=60)
    pin_resend_after_minutes: int = Field(default=5, ge=1, le=60)
    meter_hint: str = ''  # the utility's own words for the meter number (e.g. its water meters); else the catalogue's
    meter_hint_en: str = ''  # the same on the English pages; else the catalogue's
    former_user_names: bool = False  # the utility's earlier portal had user names, which do not carry over

    def meter_hint_in(self, language: str) -> str:
        """The utility's own hint for the meter number in `language` ('' if it has none there)."""
        return self.meter_hint_en if language == 'en' else self.meter_hint

    @property
    def confirmation_valid_for(self) -> timedelta:
        if self.confirmation == 'pin':
            return timedelta(minutes=self.pin_valid_minutes)
        return timedelta(hours=self.link_valid_hours)


class PasswordRule(_Section):
    min_length: int = Field(default=8, ge=8, le=64)
    require_classes: bool = False


class ResetRule(_Section):
    method: Literal['link', 'temporary_password'] = 'link'
    link_valid_days: int = Field(default=7, ge=1, le=30)


class DeletionRule(_Section):
    self_service: bool = False


class BillsRule(_Section):
    online_from_year: int = Field(default=2000, ge=1990, le=2100)


class SessionRule(_Section):
    # ASVS 3.3.2 (level 2): at most 30 idle minutes; the warning opens in the last minute, so at least 5
    idle_minutes: int = Field(default=15, ge=5, le=30)


class ReadingsRule(_Section):
    """When customers may enter readings and which values pass without a second look (docs/domain.md §3)."""

    period_start: str = ''  # 'MM-DD'; empty: readings are accepted all year
    period_end: str = ''
    plausible_low: Decimal = Field(default=Decimal('0.5'), ge=0, lt=1)  # of the expected consumption
    plausible_high: Decimal = Field(default=Decimal('2.0'), gt=1, le=100)
    # reading reminders (docs/domain.md §10), only where there is a reading period: mailed at most this many a
    # minute, what the SMTP relay allows; 0: no reminders
    reminder_mails_per_minute: int = Field(default=600, ge=0, le=100_000)

    @model_validator(mode='after')
    def _period_days(self) -> 'ReadingsRule':
        for day in (self.period_start, self.period_end):
            if day and not is_month_day(day):
                raise ValueError(f'{day!r} is no day of the year as MM-DD')
        if bool(self.period_start) != bool(self.period_end):
            raise ValueError('the reading period needs both period_start and period_end, or neither')
        return self


class InstallmentRule(_Section):
    """Limits for changing the Abschlag (monthly installment) online (docs/domain.md §4)."""

    raise_percent: int = Field(default=100, ge=0, le=100_000)
    lower_percent: int = Field(default=20, ge=0, le=100)  # a larger reduction goes to staff review
    minimum: Decimal = Field(default=Decimal('5'), ge=0, le=Decimal('999999.99'))
    rounding: Literal['up', 'nearest', 'cents'] = 'up'
    # a change applies from the first due date at least this far ahead
    notice_days: int = Field(default=14, ge=0, le=60)


class BillRule(_Section):
    """What the portal's own bills show and how they are numbered (docs/domain.md §5)."""

    # series per year: RE2026 + 7 digits; the bill number names its PDF file, so letters, digits, - and _ only
    number_prefix: str = Field(default='RE', pattern=r'^[A-Za-z0-9_-]{0,10}$')
    logo: str = ''  # path to a PNG or JPEG, relative to the profile file or absolute
    fuel_mix: dict[str, int] = Field(
        default_factory=lambda: {
            'Erneuerbare Energien (EEG)': 58,
            'Erdgas': 14,
            'Kohle': 22,
            'Kernkraft': 0,
            'Sonstige fossile': 6,
        }
    )

    @field_validator('fuel_mix')
    @classmethod
    def _shares(cls, mix: dict[str, int]) -> dict[str, int]:
        if any(not 0 <= share <= 100 for share in mix.values()) or (mix and sum(mix.values()) != 100):
            raise ValueError('the fuel mix needs shares from 0 to 100 that add up to 100')
        return mix

    co2_g_per_kwh: int = Field(default=268, ge=0, le=2000)
    nuclear_waste_mg_per_kwh: Decimal = Field(default=Decimal('0.0'), ge=0, le=100)
    gas_co2_t_per_mwh: Decimal = Field(default=Decimal('0.201'), ge=0, le=1)
    co2_price_per_t: Decimal = Field(default=Decimal('55'), ge=0, le=1000)
    group_average: dict[str, Decimal] = Field(
        default_factory=lambda: {
            'electricity': Decimal(2500),
            'gas': Decimal(12000),
            'water': Decimal(90),
            'heat': Decimal(9000),
        }
    )


class SellerRule(_Section):
    """What every bill says about the utility as the seller (§14 UStG) and what an e-invoice's XML carries
    (docs/domain.md §9): the VAT ID or tax number, the commercial register where it has one, and the account
    for transfers."""

    legal_name: str = ''  # e.g. "Stadtwerke Aue GmbH"; empty: the profile's name
    vat_id: str = ''  # USt-IdNr. (BT-31)
    tax_number: str = ''  # Steuernummer (BT-32), where there is no VAT ID
    commercial_register: str = ''  # e.g. "Amtsgericht Oldenburg, HRB 1234" (a public body has none)
    management: str = ''  # e.g. "Geschäftsführer: Anna Beispiel"
    iban: str = ''  # the utility's account for transfers (BT-84)
    bic: str = ''
    bank: str = ''


class NameCases(_Section):
    """How the utility's name reads in German running text, with its article: names decline ("die Stadtwerke
    Aue", "von den Stadtwerken Aue"; "der Wasserverband", "des Wasserverbands"), and a text must never put an
    article of its own before the name (tests/domain/test_profiles_and_texts.py renders every text for every
    profile)."""

    nominative: str  # die Stadtwerke Aue · der Wasserverband Charlottental
    genitive: str  # der Stadtwerke Aue · des Wasserverbands Charlottental
    dative: str  # den Stadtwerken Aue · dem Wasserverband Charlottental
    accusative: str  # die Stadtwerke Aue · den Wasserverband Charlottental


class TariffInfo(_Section):
    """A tariff as the customer sees it when choosing (docs/domain.md §8); its prices come from the price import."""

    name: str
    commodity: Literal['electricity', 'gas', 'water', 'heat']
    description: str = ''
    description_en: str = ''  # the same on the English pages; empty: the German one

    def describe(self, language: str) -> str:
        return self.description_en if language == 'en' and self.description_en else self.description


class UtilityProfile(_Section):
    key: str
    name: str
    short_name: str
    name_cases: NameCases
    primary_color: str = '#00588f'
    secondary_color: str = '#8bb42d'
    street: str
    postal_code: str
    city: str
    phone: str
    email: str
    creditor_id: str
    account_id: AccountIdRule
    registration: RegistrationRule = Field(default_factory=RegistrationRule)
    password: PasswordRule = Field(default_factory=PasswordRule)
    reset: ResetRule = Field(default_factory=ResetRule)
    profile_deletion: DeletionRule = Field(default_factory=DeletionRule)
    bills: BillsRule = Field(default_factory=BillsRule)
    session: SessionRule = Field(default_factory=SessionRule)
    readings: ReadingsRule = Field(default_factory=ReadingsRule)
    installment: InstallmentRule = Field(default_factory=InstallmentRule)
    bill: BillRule = Field(default_factory=BillRule)
    seller: SellerRule = Field(default_factory=SellerRule)
    tariffs: dict[str, TariffInfo] = Field(default_factory=dict)  # tariff code → name and description
    # Where the utility supplies (a move within it may continue the contract); empty: staff decide per request
    supply_postal_codes: tuple[str, ...] = ()

    @classmethod
    def from_toml(cls, text: str) -> 'UtilityProfile':
        return cls.model_validate(tomllib.loads(text))

    @property
    def names(self) -> dict[str, str]:
        """The name for the texts: `utility` as it is (subjects, English), `utility_nom` … `utility_acc` declined."""
        cases = self.name_cases
        return {
            'utility': self.name,
            'utility_nom': cases.nominative,
            'utility_gen': cases.genitive,
            'utility_dat': cases.dative,
            'utility_acc': cases.accusative,
        }

    def tariff_name(self, code: str) -> str:
        """The tariff as customers know it ('AueStrom Basis'); the billing system's code where the profile has none."""
        known = self.tariffs.get(code)
        return known.name if known else code

    @property
    def seller_line(self) -> str:
        """The seller's legal details every bill states (§14 UStG, §35a GmbHG): name, tax ID, register, management."""
        return self.seller_line_with('USt-IdNr.', 'Steuernr.')

    def seller_line_with(self, vat_id: str, tax_number: str) -> str:
        """`seller_line` with the tax IDs' names in another language (an English visitor's documents)."""
        seller = self.seller
        tax = f'{vat_id} {seller.vat_id}' if seller.vat_id else ''
        if not tax and seller.tax_number:
            tax = f'{tax_number} {seller.tax_number}'
        parts = (seller.legal_name, tax, seller.commercial_register, seller.management)
        return ' · '.join(part for part in parts if part)

    @property
    def accepts_bill_number(self) -> bool:
        return 'bill' in self.registration.second_identifiers

    @property
    def accepts_meter_number(self) -> bool:
        return 'meter' in self.registration.second_identifiers
