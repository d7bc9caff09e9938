"""service/tuning/pings.py: a tab's websocket is told engine.io's own ping times, not those NiceGUI derives from
the reconnect time."""

from service.tuning.pings import INTERVAL_SECONDS, TIMEOUT_SECONDS
from tests.tuning.conftest import close_tab, open_tab


async def test_a_tab_connecting_is_told_to_expect_a_ping_every_25_s_and_to_answer_within_20_s(served):
    tab, _ = await open_tab(served)
    try:
        assert (tab.eio.ping_interval, tab.eio.ping_timeout) == (INTERVAL_SECONDS, TIMEOUT_SECONDS) == (25, 20)
    finally:
        await close_tab(tab)
