"""The reading reminders' run (docs/domain.md §10): each portal once an hour, and `kundenportal remind`: the
reminder due today for every self-read meter, in transactions of CHUNK meters; spread over time at the profile's
rate (`readings.reminder_mails_per_minute`) through the mail queue, so that confirmations due now go first."""

import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from domain.clock import later
from domain.ports import Context
from domain.reminders import due, remind
from storage.unit_of_work import SqlUnitOfWork

CHUNK = 1000


@dataclass
class ReminderSummary:
    kind: str = ''
    queued: int = 0
    meters: int = 0
    seconds: float = 0.0
    sending_minutes: float = 0.0

    def describe(self) -> str:
        if not self.kind:
            return 'Reading reminders: none due today.'
        return (
            f'Reading reminders ({self.kind}): {self.queued} queued for {self.meters} self-read meters in '
            f'{self.seconds:.1f} s; sent over {self.sending_minutes:.0f} min at the relay rate.'
        )


def run_reminders(engine: Engine, context: Context) -> ReminderSummary:
    started = time.perf_counter()
    rule = context.profile.readings
    today_due = due(rule, context.today)
    summary = ReminderSummary()
    if today_due is None:
        return summary
    summary.kind = today_due.kind
    gap = 60.0 / rule.reminder_mails_per_minute
    after = 0
    while True:
        with SqlUnitOfWork(engine) as uow:
            period = (today_due.start, today_due.end)
            targets = uow.reminders.targets(after, CHUNK, period, today_due.kind, context.today)
            if not targets:
                break
            first_slot = later(context.now, timedelta(seconds=summary.queued * gap))
            summary.queued += remind(uow, context, today_due, targets, first_slot, gap)
        summary.meters += len(targets)
        after = targets[-1].meter_id
    summary.seconds = time.perf_counter() - started
    summary.sending_minutes = summary.queued * gap / 60
    return summary
