"""Login throttling per account name and per client address (security.md T43).

After a few failures each further attempt waits longer (doubling, up to 15 minutes). The
answer is the same whether the account exists or not, and a blocked attempt is refused
before the password is even checked, so timing says nothing either. The real
administrator is never locked out for good: the delay expires.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ocelot.accounts.models import LoginThrottle

FREE_FAILURES = 3
MAX_DELAY = timedelta(minutes=15)


def _keys(username: str, address: str) -> list[str]:
    return [f"user:{username.strip().lower()[:200]}", f"ip:{address[:64]}"]


def seconds_to_wait(username: str, address: str) -> int:
    """0 when a login attempt may go ahead, else how long to wait."""
    now = timezone.now()
    waits = [
        (row.blocked_until - now).total_seconds()
        for row in LoginThrottle.objects.filter(key__in=_keys(username, address), blocked_until__gt=now)
        if row.blocked_until
    ]
    return int(max(waits, default=0)) + (1 if waits else 0)


def register_failure(username: str, address: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        for key in _keys(username, address):
            row, _ = LoginThrottle.objects.select_for_update().get_or_create(key=key)
            row.failures += 1
            row.last_failure_at = now
            if row.failures > FREE_FAILURES:
                delay = timedelta(seconds=2 ** min(row.failures - FREE_FAILURES, 20))
                row.blocked_until = now + min(delay, MAX_DELAY)
            row.save()


def register_success(username: str, address: str) -> None:
    LoginThrottle.objects.filter(key=_keys(username, address)[0]).delete()
