from datetime import UTC, datetime, timedelta

from domain import throttle, tokens
from domain.throttle import ThrottlePolicy, ThrottleState

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_a_pin_has_six_digits():
    pin = tokens.new_pin()
    assert len(pin) == 6 and pin.isdigit()


def test_link_tokens_are_long_and_random():
    assert len({tokens.new_link_token() for _ in range(50)}) == 50
    assert len(tokens.new_link_token()) >= 40


def test_the_digest_depends_on_the_secret_so_a_database_copy_reveals_no_pin():
    assert tokens.digest('a', '123456') != tokens.digest('b', '123456')
    assert tokens.digest('a', ' 123456 ') == tokens.digest('a', '123456')


def test_a_token_is_usable_only_before_expiry_and_once():
    expires = NOW + timedelta(minutes=15)
    assert tokens.is_usable(expires, None, NOW + timedelta(minutes=14, seconds=59))
    assert not tokens.is_usable(expires, None, expires)
    assert not tokens.is_usable(expires, NOW, NOW)


def test_a_temporary_password_passes_the_strictest_policy():
    from domain.passwords import password_problems
    from domain.profile import PasswordRule

    assert password_problems(PasswordRule(min_length=8, require_classes=True), tokens.new_temporary_password()) == []


POLICY = ThrottlePolicy(3, timedelta(minutes=10), timedelta(minutes=15))


def test_failures_below_the_limit_do_not_lock():
    state = ThrottleState()
    state.record_failure(POLICY, NOW)
    state.record_failure(POLICY, NOW)
    assert not state.is_locked(NOW)


def test_the_limit_locks_for_the_lockout_time():
    state = ThrottleState()
    for _ in range(3):
        state.record_failure(POLICY, NOW)
    assert state.is_locked(NOW + timedelta(minutes=14))
    assert state.minutes_left(NOW + timedelta(minutes=14)) == 1
    assert not state.is_locked(NOW + timedelta(minutes=15))


def test_failures_outside_the_window_start_a_new_count():
    state = ThrottleState()
    state.record_failure(POLICY, NOW)
    state.record_failure(POLICY, NOW + timedelta(minutes=5))
    state.record_failure(POLICY, NOW + timedelta(minutes=11))
    assert not state.is_locked(NOW + timedelta(minutes=11))


def test_registration_guessing_is_limited_per_address():
    assert throttle.REGISTRATION_PER_ADDRESS.max_failures <= 10
    assert throttle.PIN_PER_USER.max_failures == 5


def test_a_lock_lasts_its_real_time_in_the_night_the_clocks_go_back():
    """02:55 CEST on 31.10.2027 plus an hour on the wall clock is 03:55 CET, two real hours: the lock is counted in
    UTC, so it ends after one."""
    from domain.clock import BERLIN
    from domain.throttle import REGISTRATION_PER_ADDRESS

    now = datetime(2027, 10, 31, 2, 55, tzinfo=BERLIN)  # the first 02:55 (CEST)
    state = ThrottleState()
    for _ in range(REGISTRATION_PER_ADDRESS.max_failures):
        state.record_failure(REGISTRATION_PER_ADDRESS, now)
    assert state.locked_until is not None
    assert state.locked_until - now.astimezone(UTC) == REGISTRATION_PER_ADDRESS.lockout
    assert not state.is_locked(datetime(2027, 10, 31, 1, 56, tzinfo=UTC))  # 02:56 CET, an hour and a minute later
