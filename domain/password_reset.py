"""The "Passwort vergessen?" path: the request (taken at once, worked off by the background so that known and unknown
addresses are answered alike), the mail with a link or a temporary password, and the new password set by the link."""

from datetime import timedelta

from domain import i18n, mail_budget, throttle, tokens
from domain.accounts import audit_entry, known_of, set_password
from domain.errors import EmailInvalid, TokenInvalid
from domain.identifiers import normalise_email
from domain.mails import compose
from domain.model import PortalUser, ResetRequest, id_of
from domain.passwords import check_password
from domain.ports import Context, UnitOfWork
from domain.running import hashing

TEMPORARY_PASSWORD_VALID = timedelta(hours=24)  # as its mail says (mail.temporary_password)


def request_password_reset(uow: UnitOfWork, ctx: Context, email: str) -> None:
    """Only takes the request: whether a login exists is looked at later, off the request path
    (`send_requested_resets`), so that known and unknown addresses are answered alike and in the same time.
    Throttled per client address and per target address, whether it exists or not."""
    email = normalise_email(email)[:300]
    if '@' not in email:  # empty or a typo: decided by the form alone (as at the login), so it tells nobody anything
        raise EmailInvalid()
    throttle.count_request(uow, f'reset:{ctx.address}', throttle.RESET_PER_ADDRESS, ctx.now, 'email')  # found or not
    mail_budget.spend(uow, ctx, email)
    request = ResetRequest(email=email, requested_at=ctx.now, address=ctx.address[:64], language=i18n.current())
    uow.resets.add(request)
    uow.commit()


def send_requested_resets(uow: UnitOfWork, ctx: Context, limit: int = 50) -> int:
    """The background's part of "Passwort vergessen?": a link or a temporary password for every requested address
    that has an active login; the requests are gone afterwards. Returns how many were worked off."""
    requests = uow.resets.claim(limit)
    for request in requests:
        user = uow.users.by_email(request.email)
        if user is not None:  # held and read again: a new login email confirmed meanwhile revoked every reset link
            user = uow.users.hold(id_of(user))
        if user is not None and user.state == 'active' and user.email == request.email:
            with i18n.using(request.language):  # as the visitor asked: the background has no visitor
                send_reset_mail(uow, ctx, user)
            entry = audit_entry(ctx, user, 'password_reset_requested')
            entry.address = request.address
            uow.audit(entry)
    uow.commit()
    return len(requests)


@hashing
def reset_password(uow: UnitOfWork, ctx: Context, plain: str, password: str, repeat: str) -> str:
    token = uow.tokens.find('reset', tokens.digest(ctx.secret, plain))
    if token is None or not tokens.is_usable(token.expires_at, token.used_at, ctx.now):
        raise TokenInvalid()
    user = uow.users.get(token.user_id)
    assert user is not None
    check_password(ctx.profile.password, password, repeat, known=known_of(uow, user))
    hashed = ctx.hasher.hash(password)  # before the first write: no lock is held while hashing
    if not uow.tokens.claim(token, ctx.now):  # the same link twice at once: only one sets the password
        raise TokenInvalid()
    set_password(uow, ctx, user, password, hashed)
    uow.audit(audit_entry(ctx, user, 'password_reset'))
    uow.commit()
    return user.email


def reset_token_is_usable(uow: UnitOfWork, ctx: Context, plain: str) -> bool:
    token = uow.tokens.find('reset', tokens.digest(ctx.secret, plain))
    return token is not None and tokens.is_usable(token.expires_at, token.used_at, ctx.now)


def send_reset_mail(uow: UnitOfWork, ctx: Context, user: PortalUser, language: str | None = None) -> None:
    """A reset link, or (profile `temporary_password`) a temporary password that works once within 24 hours;
    until it is used the current password and every session stay valid: whoever knows an address must not be
    able to lock its owner out. In `language` (staff send it in German, not their pages' language), else the
    current one."""
    assert user.id is not None
    uow.tokens.revoke(user.id, ('reset', 'temporary_password'), ctx.now)
    if ctx.profile.reset.method == 'temporary_password':
        temporary = tokens.new_temporary_password()
        uow.tokens.add(
            tokens.stored(ctx.secret, user.id, 'temporary_password', temporary, ctx.now, TEMPORARY_PASSWORD_VALID)
        )
        uow.queue_mail(
            compose(ctx, user.email, 'temporary_password', language, password=temporary, link=ctx.base_url + '/'),
            ctx.now,
        )
        return
    plain = tokens.new_link_token()
    days = ctx.profile.reset.link_valid_days
    uow.tokens.add(tokens.stored(ctx.secret, user.id, 'reset', plain, ctx.now, timedelta(days=days)))
    link = f'{ctx.base_url}/passwort-neu/{plain}'
    uow.queue_mail(compose(ctx, user.email, 'reset', language, link=link, days=days), ctx.now)
