"""Column types that keep the domain's promises on every database: aware UTC instants and exact money."""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import DateTime, Numeric
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Stores UTC; always returns timezone-aware datetimes (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError('naive datetime given; the portal uses timezone-aware datetimes only')
        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == 'sqlite' else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator):
    """Decimal with two places, stored as text on SQLite (exact) and NUMERIC(14,2) elsewhere."""

    impl = Numeric(14, 2)  # digits in all and places: 12 before the point for money
    cache_ok = True
    places = Decimal('0.01')  # as the impl's scale: what a value is rounded to before it is stored

    def load_dialect_impl(self, dialect):
        from sqlalchemy import String

        return dialect.type_descriptor(String(32) if dialect.name == 'sqlite' else self.impl)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        quantised = Decimal(value).quantize(self.places, ROUND_HALF_UP)
        return str(quantised) if dialect.name == 'sqlite' else quantised

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(str(value)).quantize(self.places)


class Quantity(Money):
    """Consumption and meter values: Decimal with three places, 13 digits before the point (a meter may count with
    12, and an import takes values up to 10^12)."""

    impl = Numeric(16, 3)
    places = Decimal('0.001')


class Rate(Money):
    """Prices per unit and factors: Decimal with six places."""

    impl = Numeric(14, 6)
    places = Decimal('0.000001')
