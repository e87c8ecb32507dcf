"""LOCAL_USERS: the accounts of /etc/passwd (LOGIN, ID_USER, GID, NAME from GECOS, HOME, SHELL).

The Unix agent omits a zero ID_USER and GID (Perl's false zero, samples: root has neither);
we send root's 0, which is the truth.
"""

from __future__ import annotations

from ocelot.agent.host import Host

SECTION = "LOCAL_USERS"


def passwd_entries(host: Host) -> list[list[str]]:
    entries = []
    for line in (host.read_text("/etc/passwd") or "").splitlines():
        parts = line.split(":")
        if len(parts) == 7 and parts[0] and not parts[0].startswith(("#", "+", "-")):
            entries.append(parts)
    return entries


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    return [
        {
            "GID": gid,
            "HOME": home,
            "ID_USER": uid,
            "LOGIN": login,
            "NAME": gecos.split(",")[0],
            "SHELL": shell,
        }
        for login, _password, uid, gid, gecos, home, shell in passwd_entries(host)
    ]
