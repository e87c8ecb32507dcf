"""Logging in: throttled per account and per address, the same answer for unknown users."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from ocelot.accounts import throttle
from ocelot.accounts.login import LoginRefusedError, check_login
from ocelot.accounts.models import AuditEntry, LoginThrottle

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def alice():  # type: ignore[no-untyped-def]
    return get_user_model().objects.create_user(username="alice", password=PASSWORD)


def test_right_credentials_log_in_and_are_audited(alice) -> None:  # type: ignore[no-untyped-def]
    assert check_login("alice", PASSWORD, "192.0.2.10") == alice
    entry = AuditEntry.objects.get(action="login")
    assert (entry.username, entry.address) == ("alice", "192.0.2.10")


def test_unknown_users_and_wrong_passwords_get_the_same_answer(alice) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LoginRefusedError) as wrong:
        check_login("alice", "nope", "192.0.2.10")
    with pytest.raises(LoginRefusedError) as unknown:
        check_login("mallory", "nope", "192.0.2.11")
    assert str(wrong.value) == str(unknown.value)
    assert wrong.value.wait == unknown.value.wait == 0
    assert AuditEntry.objects.filter(action="login.failed").count() == 2


def test_repeated_failures_on_one_account_make_every_address_wait(alice) -> None:  # type: ignore[no-untyped-def]
    for attempt in range(throttle.FREE_FAILURES + 1):
        with pytest.raises(LoginRefusedError):
            check_login("alice", "nope", f"198.51.100.{attempt}")
    with pytest.raises(LoginRefusedError) as refused:
        check_login("alice", PASSWORD, "203.0.113.9")  # even the right password waits
    assert refused.value.wait > 0
    assert AuditEntry.objects.filter(action="login.throttled").exists()


def test_one_address_spraying_many_accounts_is_slowed_down() -> None:
    for attempt in range(throttle.FREE_FAILURES + 1):
        with pytest.raises(LoginRefusedError):
            check_login(f"user{attempt}", "Winter2026!", "192.0.2.66")
    assert throttle.seconds_to_wait("someone-else", "192.0.2.66") > 0
    assert throttle.seconds_to_wait("someone-else", "192.0.2.67") == 0


def test_the_delay_grows_but_expires(alice) -> None:  # type: ignore[no-untyped-def]
    for _ in range(throttle.FREE_FAILURES + 3):
        throttle.register_failure("alice", "192.0.2.1")
    first = throttle.seconds_to_wait("alice", "192.0.2.2")
    throttle.register_failure("alice", "192.0.2.1")
    assert throttle.seconds_to_wait("alice", "192.0.2.2") > first
    row = LoginThrottle.objects.get(key="user:alice")
    assert row.blocked_until is not None
    LoginThrottle.objects.update(blocked_until=None)
    assert check_login("alice", PASSWORD, "192.0.2.2") == alice


def test_a_success_clears_the_accounts_failures(alice) -> None:  # type: ignore[no-untyped-def]
    throttle.register_failure("alice", "192.0.2.1")
    check_login("alice", PASSWORD, "192.0.2.1")
    assert not LoginThrottle.objects.filter(key="user:alice").exists()
