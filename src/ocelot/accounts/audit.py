"""The audit log: every state change, by whom, when and from where."""

from __future__ import annotations

from typing import Any

from ocelot.accounts.models import AuditEntry


def record(user: Any, action: str, target: str = "", *, address: str = "", **details: Any) -> AuditEntry:
    """Record one state change. ``user`` may be None (the system, the CLI)."""
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return AuditEntry.objects.create(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "system",
        action=action[:64],
        target=str(target)[:255],
        details={
            key: value if isinstance(value, int | float | bool) or value is None else str(value)
            for key, value in details.items()
        },
        address=address[:64],
    )
