"""USERS: the users logged in now (``who``), once each; HARDWARE/USERID joins them with "/"
(protocol.md §5.2)."""

from __future__ import annotations

from ocelot.agent.host import Host

SECTION = "USERS"


def logged_in(host: Host) -> list[str]:
    users: list[str] = []
    for line in (host.output(["who"]) or "").splitlines():
        parts = line.split()
        if parts and parts[0] not in users:
            users.append(parts[0])
    return users


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    return [{"LOGIN": login} for login in logged_in(host)]
