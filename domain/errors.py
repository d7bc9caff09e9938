"""Named domain exceptions. Each carries a catalogue key, the form field it concerns, and parameters.

Pages show `t(error.key, **error.params)` next to `error.field`; nothing else of an exception reaches a
customer.
"""

import secrets


def reference() -> str:
    """A failure's reference number, in the customer's message and in the log: short enough to read out on the
    phone (`7F3A-19C2`)."""
    code = secrets.token_hex(4).upper()
    return f'{code[:4]}-{code[4:]}'


class DomainError(Exception):
    key = 'error.generic'
    field: str | None = None

    def __init__(self, field: str | None = None, **params: object) -> None:
        super().__init__(self.key)
        if field is not None:
            self.field = field
        self.params = params


class StorageUnavailable(DomainError):
    """The database cannot be reached (restart, failover, network): nothing was saved; trying again shortly works."""

    key = 'error.storage_unavailable'


class ConcurrentChange(DomainError):
    """The same thing was saved at the same moment elsewhere (a second tab, a colleague): nothing of this try was
    saved; the page shows the current state."""

    key = 'error.concurrent_change'


class VisitorGone(DomainError):
    """The visitor's tab was closed while the use case waited its turn: it was not run."""

    key = 'error.unexpected'


class Busy(DomainError):
    """More password checks waiting than the server can do in a reasonable time (a login peak): the visitor
    is asked to try again instead of waiting minutes."""

    key = 'error.busy'


class SessionEnded(DomainError):
    """The login the page was opened with is no longer valid (logged out elsewhere, password reset, account
    deleted): nothing was done; the browser goes back to the login."""

    key = 'error.not_allowed'


class InvalidFormat(DomainError):
    key = 'error.format'


class Required(DomainError):
    key = 'error.required'


class IdentifiersDoNotMatch(DomainError):
    key = 'error.identifiers_mismatch'
    field = 'second'


class NoAnnualBillYet(DomainError):
    key = 'error.no_annual_bill'
    field = 'second'


class CustomerAlreadyRegistered(DomainError):
    key = 'error.customer_registered'
    field = 'customer_number'


class CustomerAlreadyLinked(DomainError):
    key = 'error.customer_linked_here'
    field = 'customer_number'


class EmailUnchanged(DomainError):
    key = 'error.email_unchanged'
    field = 'new_email'


class EmailAlreadyRegistered(DomainError):
    key = 'error.email_registered'
    field = 'email'


class EmailOfAnotherLogin(DomainError):
    """For staff only: customers never learn whether an address has a login (issue 22)."""

    key = 'error.email_other_login'
    field = 'new_email'


class EmailInvalid(DomainError):
    key = 'error.email_invalid'
    field = 'email'


class PasswordTooWeak(DomainError):
    key = 'error.password_weak'
    field = 'password'


class PasswordsDiffer(DomainError):
    key = 'error.passwords_differ'
    field = 'password_repeat'


class WrongCurrentPassword(DomainError):
    key = 'error.current_password_wrong'
    field = 'current_password'


class PasswordUnchanged(DomainError):
    key = 'error.password_unchanged'
    field = 'new_password'


class LoginNeedsEmail(DomainError):
    """Something without an @ in the login field: no account is looked at, so it tells nobody anything."""

    key = 'error.login_needs_email'
    field = 'email'


class FormerUserName(LoginNeedsEmail):
    """A profile whose earlier portal had user names (stadtwerke-b): the page links the registration."""

    key = 'error.former_user_name'


class InvalidCredentials(DomainError):
    key = 'error.login_failed'
    field = 'password'


class StartPasswordExpired(DomainError):
    """A staff member's start password (given at creation or by an admin) was not used within its days."""

    key = 'error.start_password_expired'
    field = 'password'


class AccountNotConfirmed(DomainError):
    key = 'error.not_confirmed'
    field = 'email'


class TooManyAttempts(DomainError):
    key = 'error.throttled'


class MailBudgetSpent(DomainError):
    """More mails to one address, or from one login, than a few per hour: the next is possible at `at` (HH:MM)."""

    key = 'error.mail_budget'


class ContactLimit(DomainError):
    """More messages through the contact form than a customer writes in an hour: the next is possible at `at`."""

    key = 'error.contact_limit'
    field = 'message'


class AlreadyActive(DomainError):
    """An activation link used before: the login is active, nothing to do but log in."""

    key = 'error.already_active'


class TokenInvalid(DomainError):
    key = 'error.token_invalid'


class PinWrong(DomainError):
    key = 'error.pin_wrong'
    field = 'pin'


class PinExpired(DomainError):
    key = 'error.pin_expired'
    field = 'pin'


class PinUsedUp(DomainError):
    """The fifth wrong PIN: this PIN is dead, a new one may be asked for in `minutes`."""

    key = 'error.pin_used_up'
    field = 'pin'


class PinResendTooEarly(DomainError):
    key = 'error.pin_resend_early'
    field = 'pin'


class TokenRevoked(DomainError):
    """An API token revoked (or no longer allowed to write) between the request's check and its use case."""

    key = 'error.not_allowed'


class NotAllowed(DomainError):
    key = 'error.not_allowed'


class InvalidSetting(DomainError):
    key = 'error.invalid_setting'


class SecondFactorInvalid(DomainError):
    key = 'error.second_factor'  # the staff's: the app's code or a recovery code
    field = 'code'


class CustomerCodeInvalid(SecondFactorInvalid):
    """A customer's wrong code: customers have no recovery codes; a lost phone is reset by the utility's staff."""

    key = 'error.second_factor_customer'


class PendingLoginEnded(DomainError):
    """The login waiting for its code was changed meanwhile (its password changed or reset): log in again."""

    key = 'error.pending_login_ended'
    field = 'code'


class CodeTooLate(DomainError):
    """The second factor's code came more than five minutes after the password (or after a logout): log in again."""

    key = 'error.code_late'
    field = 'code'


class BillNotCorrectable(DomainError):
    """Only the portal's own bills can be corrected, each once (the correction is corrected instead), and only while
    their contract's billing year is the one they were made for."""

    key = 'error.bill_not_correctable'


class LastCustomerCannotBeRemoved(DomainError):
    key = 'error.last_customer'


class FieldRequired(DomainError):
    key = 'error.field_required'


class TooLong(DomainError):
    key = 'error.too_long'


class ReadingFormat(DomainError):
    key = 'error.reading_format'


class ReadingNotDigits(DomainError):
    """A reading given without its meter's digit count at hand (with an installment reduction): digits only."""

    key = 'error.reading_digits'


class DateFormat(DomainError):
    key = 'error.date_format'
    field = 'reading_date'


class PhotoTooLarge(DomainError):
    key = 'error.photo_too_large'
    field = 'photo'


class PhotoUnreadable(DomainError):
    key = 'error.photo_unreadable'
    field = 'photo'


class DayFormat(DomainError):
    key = 'error.day_format'


class DateOutOfRange(DomainError):
    key = 'error.date_out_of_range'


class NoticeTooShort(DomainError):
    """An ordinary cancellation to a date before the contract's notice period or term allows."""

    key = 'error.notice_too_short'


class NoticeTooShortForAll(NoticeTooShort):
    """The same for "Alle Verträge": a date before the latest of the running contracts' earliest ends."""

    key = 'error.notice_too_short_all'


class TariffChangePending(DomainError):
    """A second tariff change for a contract whose first is still with staff or the billing system."""

    key = 'error.tariff_change_pending'
    field = 'start'


class FutureDate(DomainError):
    key = 'error.future_date'
    field = 'reading_date'


class DateBeforePeriod(DomainError):
    """A reading dated before the reading period that is open now (docs/domain.md §1: only within the period)."""

    key = 'error.date_before_period'
    field = 'reading_date'


class MeterReadRemotely(DomainError):
    key = 'error.meter_remote'


class ReadingPeriodClosed(DomainError):
    key = 'error.reading_period_closed'


class DateBeforeSupply(DomainError):
    """A reading dated before the customer's contract began or the meter was installed (another holder's time)."""

    key = 'error.date_before_supply'
    field = 'reading_date'


class ReadingBeforeLast(DomainError):
    key = 'error.reading_before_last'
    field = 'reading_date'


class ReadingExistsForDay(DomainError):
    key = 'error.reading_exists'
    field = 'reading_date'


class ReadingLower(DomainError):
    key = 'error.reading_lower'


class ReadingImplausible(DomainError):
    key = 'error.reading_implausible'


class ReasonRequired(DomainError):
    key = 'error.reason_required'
    field = 'reason'


class InstallmentOutOfRange(DomainError):
    key = 'error.installment_range'
    field = 'amount'


class InstallmentUnchanged(DomainError):
    key = 'error.installment_unchanged'
    field = 'amount'


class InstallmentAlreadyChanged(DomainError):
    key = 'error.installment_already_changed'
    field = 'amount'


class IbanInvalid(DomainError):
    key = 'error.iban_invalid'
    field = 'iban'


class IbanOutsideSepa(DomainError):
    key = 'error.iban_outside_sepa'
    field = 'iban'


class PostalCodeInvalid(DomainError):
    key = 'error.postal_code_invalid'
    field = 'postal_code'


class PostalCodeAbroadInvalid(DomainError):
    key = 'error.postal_code_abroad_invalid'
    field = 'postal_code'


class PhoneInvalid(DomainError):
    key = 'error.phone_invalid'
    field = 'phone'


class NothingChanged(DomainError):
    key = 'error.nothing_changed'


class ReadingCodeInvalid(DomainError):
    key = 'error.reading_code_invalid'
    field = 'code'


class ReadingCodeSpent(DomainError):
    """The code page's form sent again after its reading was taken: the code is spent; not a wrong code to count
    against the address's tries (ten such clicks locked the address out for an hour)."""

    key = 'error.reading_code_spent'


class CodesValidUntilOutOfRange(DomainError):
    """`kundenportal export reading-codes --valid-until` before today (a year typed wrong in December ended every
    code already printed in letters and issued expired ones) or more than a year ahead."""

    key = 'error.codes_valid_until'
    field = 'valid_until'


class MeterNotInSupply(DomainError):
    """A reading for a meter removed meanwhile, or of a contract that has ended (a page or letter from before)."""

    key = 'error.meter_not_in_supply'
    field = 'meter_number'


class NoRunningContract(DomainError):
    """A move reported under a customer number whose contracts have all ended (or that has none): nothing to end
    and no final bill to send; it was taken as a request the staff could not carry out."""

    key = 'error.no_running_contract'


class ReadingInFormat(DomainError):
    key = 'error.reading_in_format'
    field = 'reading_in'
