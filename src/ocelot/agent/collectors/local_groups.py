"""LOCAL_GROUPS: the groups of /etc/group; MEMBER lists the explicit members and the users whose
primary group it is, comma-separated (the Unix agent's sample gives group root the member root).
"""

from __future__ import annotations

from ocelot.agent.collectors.local_users import passwd_entries
from ocelot.agent.host import Host

SECTION = "LOCAL_GROUPS"


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    primary: dict[str, list[str]] = {}
    for entry in passwd_entries(host):
        primary.setdefault(entry[3], []).append(entry[0])
    rows = []
    for line in (host.read_text("/etc/group") or "").splitlines():
        parts = line.split(":")
        if len(parts) != 4 or not parts[0] or parts[0].startswith(("#", "+", "-")):
            continue
        name, _password, gid, members = parts
        everyone = [member for member in members.split(",") if member]
        everyone += [user for user in primary.get(gid, []) if user not in everyone]
        rows.append({"ID_GROUP": gid, "MEMBER": ",".join(everyone), "NAME": name})
    return rows
