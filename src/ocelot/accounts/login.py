"""Logging in: throttled, with the same answer whether the account exists or not."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.hashers import check_password, make_password

from ocelot.accounts import audit, throttle

# Checked against when the account does not exist, so both paths cost one hash.
_DUMMY_HASH = make_password("not a real password")


class LoginRefusedError(Exception):
    """Wrong credentials, or too many failures: ``wait`` seconds before the next try."""

    def __init__(self, wait: int = 0) -> None:
        super().__init__("invalid user name or password" if not wait else "too many failed attempts")
        self.wait = wait


def check_login(username: str, password: str, address: str) -> Any:
    """The user for these credentials, or LoginRefusedError (logged in the audit trail)."""
    wait = throttle.seconds_to_wait(username, address)
    if wait:
        audit.record(None, "login.throttled", username[:150], address=address)
        raise LoginRefusedError(wait)
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        if user is None:
            check_password(password, _DUMMY_HASH)
        throttle.register_failure(username, address)
        audit.record(None, "login.failed", username[:150], address=address)
        raise LoginRefusedError(0)
    throttle.register_success(username, address)
    audit.record(user, "login", username, address=address)
    return user
