"""Which numbers identify a customer at registration (docs/domain.md §1): a meter removed long ago no longer does."""

from datetime import timedelta

import pytest

from domain import registration
from domain.errors import IdentifiersDoNotMatch
from domain.identification import Identifiers
from tests.factories import PASSWORD, make_customer, set_meter


@pytest.mark.parametrize(('removed_days_ago', 'identifies'), [(90, True), (800, False)])
def test_a_removed_meter_s_number_identifies_only_for_a_year_after(engine, uow, context, removed_days_ago, identifies):
    """Exchanged since the last annual bill, the old number on that bill still works; removed two years ago, it is on
    papers that may have passed to others (as only the last bill's number identifies)."""
    customer = make_customer(engine)
    set_meter(engine, customer['meter_number'], removed_on=context().today - timedelta(days=removed_days_ago))
    ids = Identifiers(customer['customer_number'], customer['meter_number'])
    with uow() as work:
        if identifies:
            registration.register(work, context(), ids, 'neu@example.org', PASSWORD, PASSWORD)
        else:
            with pytest.raises(IdentifiersDoNotMatch):
                registration.register(work, context(), ids, 'neu@example.org', PASSWORD, PASSWORD)
