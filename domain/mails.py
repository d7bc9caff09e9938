"""Mail texts: German plain text plus an HTML part, both made from one catalogue entry.

Every mail names the utility and how to reach it, and says what to do if the customer did not ask for
the change: a confirmation mail is also the customer's alarm bell.
"""

import html
import re

from domain.i18n import current, t, using
from domain.ports import Context, MailMessage

# a link ends before the punctuation that follows it in a sentence: „(…/);“, „…/agb.“ or „…/agb“ (a link to the
# page with the punctuation did not exist)
_URL = re.compile(r'(https?://\S+?)(?=[.,;:!?)\]“”»]*(?:\s|$))')


# Mails that confirm a change of the login or the customer's data: they say what to do if it was not theirs. The
# others (a link asked for, a reading received, a bill) do not: a reset mail says itself that it may be ignored.
CHANGES = frozenset(
    {
        'password_changed',
        'email_changed_old',
        'second_factor_on',
        'second_factor_off',
        'profile_deleted',
        'customer_added',
        'customer_removed',
        'installment_changed',
        'contact_data_changed',
        'bank_changed',
        'bank_changed_no_mandate',
        'bank_changed_mandate_ended',
        'mandate_revoked',
        'information_interval',
        'reminders_off',
        'reminders_on',
    }
)


class Typed(str):
    """A mail param that a visitor or customer wrote (see `compose`)."""


def compose(ctx: Context, recipient: str, name: str, language: str | None = None, **params: object) -> MailMessage:
    """The mail `name` in the current language, or in `language`: a staff member's action writes to the customer in
    the customer's language as far as it is known (German, the portal's binding language, where it is not), never in
    the language the clerk's pages are shown in. A param given as `Typed` is text a visitor or customer wrote (the
    public cancellation form mails any address typed): an address in it is shown as text, never made a link in a
    mail from the utility (a phishing relay); only the links the mail has without such text are."""
    if language is not None and language != current():
        with using(language):
            return compose(ctx, recipient, name, None, **params)
    subject = t(f'mail.{name}.subject', **{**ctx.profile.names, 'utility': ctx.profile.short_name, **params})
    text = _text(ctx, name, params)
    typed = [key for key, value in params.items() if isinstance(value, Typed)]
    ours = _text(ctx, name, {**params, **dict.fromkeys(typed, '')}) if typed else text
    links = set(_URL.findall(html.escape(ours)))
    html_part = _to_html(text, ctx.profile.primary_color, current(), links)
    return MailMessage(recipient=recipient, subject=subject, text=text, html=html_part)


def _text(ctx: Context, name: str, params: dict[str, object]) -> str:
    profile = ctx.profile
    body = t(f'mail.{name}.body', **{**profile.names, **params})
    footer = t(
        'mail.footer',
        **profile.names,
        phone=profile.phone,
        email=profile.email,
        street=profile.street,
        postal_code=profile.postal_code,
        city=profile.city,
        base_url=ctx.base_url,
    )
    if name in CHANGES:
        body = f'{body}\n\n{t("mail.not_you", phone=profile.phone)}'
    return f'{t("mail.greeting")}\n\n{body}\n\n{footer}\n'


def _to_html(text: str, color: str, language: str, links: set[str]) -> str:
    """`links`: the (escaped) addresses to link; any other is shown as text."""

    def link(match: re.Match[str]) -> str:
        url = match.group(1)
        return f'<a href="{url}" style="color:{color}">{url}</a>' if url in links else url

    paragraphs = []
    for block in text.strip().split('\n\n'):
        escaped = html.escape(block)
        linked = _URL.sub(link, escaped)
        paragraphs.append('<p>' + linked.replace('\n', '<br>') + '</p>')
    return (
        f'<!doctype html><html lang="{language}"><body style="font-family:Arial,sans-serif;font-size:16px;'
        f'line-height:1.5;color:#1a1a1a;max-width:40em">{"".join(paragraphs)}</body></html>'
    )
