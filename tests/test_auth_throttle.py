"""Brute force: failed logins are slowed down, then locked, per e-mail and per client address,
with counters kept in the database."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import LoginThrottle, ThrottleScope, User
from models.base import utcnow
from sofi.services.accounts import BAD_CREDENTIALS, SLOWED_DOWN
from tests.helpers_auth import PASSWORD, attempt_login, logged_in_user_id, make_user, post_with_token, without_tokens
from tests.web import text

WRONG = "mauvais-mot-de-passe"
LOCKED = "la connexion est bloquée pendant 15 minutes"


@pytest.fixture
def no_delay(app, monkeypatch):
    """Lock after 5 failures without the short waits in between (tested on their own below)."""
    monkeypatch.setitem(app.config, "SOFI_LOGIN_DELAY_SECONDS", 0)


def _throttle(session, scope, key) -> LoginThrottle | None:
    session.expire_all()
    return session.scalar(sa.select(LoginThrottle).where(LoginThrottle.scope == scope.value, LoginThrottle.key == key))


def _fail(client, email, times, **kwargs):
    return [text(attempt_login(client, email, WRONG, **kwargs)) for _ in range(times)]


def test_failures_slow_down_then_lock_the_account(client, session):
    make_user()
    pages = _fail(client, "of@example.org", 3)
    assert all(BAD_CREDENTIALS in page for page in pages)
    # Third failure: the next attempt must wait, even with the right password.
    page = text(attempt_login(client, "of@example.org", PASSWORD))
    assert SLOWED_DOWN in page
    assert logged_in_user_id(client) is None
    row = _throttle(session, ThrottleScope.LOGIN_EMAIL, "of@example.org")
    assert row.failures == 3 and row.retry_after is not None and row.locked_until is None

    for expected_failures in (4, 5):
        row.retry_after = utcnow() - timedelta(seconds=1)  # the wait is over
        session.commit()
        page = text(attempt_login(client, "of@example.org", WRONG))
        row = _throttle(session, ThrottleScope.LOGIN_EMAIL, "of@example.org")
        assert row.failures == expected_failures
    assert LOCKED in page
    assert row.locked_until is not None

    page = text(attempt_login(client, "of@example.org", PASSWORD))
    assert LOCKED in page
    assert logged_in_user_id(client) is None
    assert session.scalar(sa.select(User.last_login_at)) is None

    row.locked_until = utcnow() - timedelta(seconds=1)  # the lock is over
    session.commit()
    assert attempt_login(client, "of@example.org", PASSWORD).status_code == 302
    assert _throttle(session, ThrottleScope.LOGIN_EMAIL, "of@example.org") is None  # counter reset


def test_the_lock_does_not_tell_whether_the_account_exists(client, session, no_delay):
    make_user()
    known = _fail(client, "of@example.org", 6)
    unknown = _fail(client, "personne@example.org", 6)
    assert LOCKED in known[-1]
    assert without_tokens(known[-1]).replace("of@example.org", "E") == without_tokens(unknown[-1]).replace(
        "personne@example.org", "E"
    )
    for position in range(6):
        assert (BAD_CREDENTIALS in known[position]) == (BAD_CREDENTIALS in unknown[position])


def test_a_successful_login_resets_the_email_counter(client, session, no_delay):
    make_user()
    _fail(client, "of@example.org", 4)
    assert attempt_login(client, "of@example.org", PASSWORD).status_code == 302
    post_with_token(client, "/logout", {})
    pages = _fail(client, "of@example.org", 4)
    assert all(BAD_CREDENTIALS in page for page in pages)
    assert attempt_login(client, "of@example.org", PASSWORD).status_code == 302


def test_one_address_trying_many_accounts_is_locked(app, client, session, monkeypatch, no_delay):
    monkeypatch.setitem(app.config, "SOFI_LOGIN_MAX_FAILURES_PER_IP", 4)
    make_user()
    attacker = {"environ_base": {"REMOTE_ADDR": "203.0.113.7"}}
    for number in range(4):
        _fail(client, f"cible{number}@example.org", 1, **attacker)
    row = _throttle(session, ThrottleScope.LOGIN_IP, "203.0.113.7")
    assert row.failures == 4 and row.locked_until is not None
    # Even a right password is refused from that address…
    page = text(attempt_login(client, "of@example.org", PASSWORD, **attacker))
    assert LOCKED in page
    assert logged_in_user_id(client) is None
    # …but not from another one.
    assert (
        attempt_login(client, "of@example.org", PASSWORD, environ_base={"REMOTE_ADDR": "198.51.100.2"}).status_code
        == 302
    )


def test_an_old_window_starts_counting_again(client, session, no_delay):
    make_user()
    _fail(client, "of@example.org", 4)
    row = _throttle(session, ThrottleScope.LOGIN_EMAIL, "of@example.org")
    row.window_start = utcnow() - timedelta(minutes=16)
    session.commit()
    _fail(client, "of@example.org", 1)
    assert _throttle(session, ThrottleScope.LOGIN_EMAIL, "of@example.org").failures == 1
    assert attempt_login(client, "of@example.org", PASSWORD).status_code == 302


def test_stale_counters_are_purged(client, session, no_delay):
    session.add(
        LoginThrottle(
            scope="login-email", key="vieux@example.org", failures=2, window_start=utcnow() - timedelta(days=2)
        )
    )
    session.commit()
    _fail(client, "autre@example.org", 1)
    assert _throttle(session, ThrottleScope.LOGIN_EMAIL, "vieux@example.org") is None
    assert _throttle(session, ThrottleScope.LOGIN_EMAIL, "autre@example.org").failures == 1
