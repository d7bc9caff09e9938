"""What a queue with a bounded wait keeps, for the page queue and the hashing threads."""

import logging
import time

log = logging.getLogger('kundenportal')


class Backlog:
    """What a queue with a bounded wait keeps (`pages.admission.PageQueue`, `service.runner.HashingQueue`): how long
    one job takes, a moving average of the last ones; how many visitors were asked to come back, said in the log at
    most once per 10 s rather than once per visitor."""

    def __init__(self, what: str, come_back: str, estimate: float) -> None:
        self.what, self.come_back = what, come_back  # in the log line: 'pages', 'in 30 s'
        self.seconds = estimate
        self.turned_away = 0
        self._warned_at = -60.0

    def took(self, seconds: float) -> None:
        self.seconds = 0.9 * self.seconds + 0.1 * seconds

    def turn_away(self, waiting: int) -> None:
        self.turned_away += 1
        if time.monotonic() - self._warned_at > 10:
            log.warning(
                '%s: %s waiting; %s visitors asked to come back %s so far',
                self.what,
                waiting,
                self.turned_away,
                self.come_back,
            )
            self._warned_at = time.monotonic()
