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
        'installment_changed',
        'contact_data_changed',
        'bank_changed',
        'bank_changed_no_mandate',
        'mandate_revoked',
        'information_interval',
        'reminders_off',
        'reminders_on',
    }
)


def compose(ctx: Context, recipient: str, name: str, language: str | None = None, **params: object) -> MailMessage:
    """The mail `name` in the current language, or in `language`: a staff member's action writes to the customer in
    the customer's language as far as it is known (German, the portal's binding language, where it is not), never in
    the language the clerk's pages are shown in."""
    if language is not None and language != current():
        with using(language):
            return compose(ctx, recipient, name, None, **params)
    profile = ctx.profile
    subject = t(f'mail.{name}.subject', **{**profile.names, 'utility': profile.short_name, **params})
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
    text = f'{t("mail.greeting")}\n\n{body}\n\n{footer}\n'
    return MailMessage(
        recipient=recipient, subject=subject, text=text, html=_to_html(text, profile.primary_color, current())
    )


def _to_html(text: str, color: str, language: str) -> str:
    paragraphs = []
    for block in text.strip().split('\n\n'):
        escaped = html.escape(block)
        linked = _URL.sub(lambda m: f'<a href="{m.group(1)}" style="color:{color}">{m.group(1)}</a>', escaped)
        paragraphs.append('<p>' + linked.replace('\n', '<br>') + '</p>')
    return (
        f'<!doctype html><html lang="{language}"><body style="font-family:Arial,sans-serif;font-size:16px;'
        f'line-height:1.5;color:#1a1a1a;max-width:40em">{"".join(paragraphs)}</body></html>'
    )
