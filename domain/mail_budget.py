"""A few mails per hour, per target address and per login (docs/security.md, mail flooding): a button like "E-Mail
erneut senden" or a form that mails any address must not let anyone flood a mailbox or make the utility's relay a
spam source. Each mail a visitor can cause spends from the budgets of its recipient and of the login asking; once
one is spent, the visitor is told from when the next mail is possible."""

from datetime import timedelta

from domain.clock import local_time
from domain.errors import MailBudgetSpent
from domain.ports import Context, UnitOfWork
from domain.throttle import MAIL_OF_LOGIN, ThrottlePolicy

MAILS_PER_HOUR = ThrottlePolicy(3, timedelta(hours=1), timedelta(hours=1))


def spend(uow: UnitOfWork, ctx: Context, recipient: str, user_id: int | None = None, field: str = 'email') -> None:
    """Spend one mail to `recipient` (and of the login `user_id`); MailBudgetSpent (with the time the next one is
    possible) when a budget is used up. Nothing is spent then."""
    keys = [f'mail:to:{recipient.lower()}'] + ([MAIL_OF_LOGIN.format(user_id)] if user_id is not None else [])
    states = [(key, uow.throttles.state(key)) for key in keys]
    locked = [state.locked_until for _, state in states if state.is_locked(ctx.now) and state.locked_until]
    if locked:
        raise MailBudgetSpent(field, at=local_time(max(locked)))
    for key, state in states:
        state.record_failure(MAILS_PER_HOUR, ctx.now)
        uow.throttles.save(key, state)


def available(uow: UnitOfWork, ctx: Context, recipient: str) -> bool:
    """Whether a mail to `recipient` may go out now, without spending (for answers that must not differ)."""
    return not uow.throttles.state(f'mail:to:{recipient.lower()}').is_locked(ctx.now)
