"""The User-Agent gate (protocol.md §1.7), lenient where OCS 2.8.1 was wrong.

OCS splits the UA at the last ``_v`` and compares a mangled version, so it refuses a 2.9
agent. We admit every real agent family whatever its version string, and refuse the rest.
"""

from __future__ import annotations

import re

# Agent families that speak the OCS protocol (protocol.md §1.2 and §1.7).
AGENT_NAMES = frozenset(
    {
        "OCS-NG_unified_unix_agent",
        "OCS-NG_WINDOWS_AGENT",
        "OCS-NG_windows_client",
        "OCS-NG_windows_mobile_agent",
        "OCS-NG_iOS_agent",
        "OCS-NG_Android_agent",
        "OCS-NG_INJECTOR_PL",
        "FusionInventory-Agent",
        "GLPI-Agent",
        "Ocelot-Agent",
    }
)
_VERSION = re.compile(r"^[0-9][0-9A-Za-z.\-+~]{0,31}$")


def split_user_agent(user_agent: str) -> tuple[str, str] | None:
    """Split ``NAME_vVERSION`` at the last ``_v``; None when there is no version."""
    name, sep, version = user_agent.strip().rpartition("_v")
    if not sep:
        return None
    return name, version


def is_agent(user_agent: str | None) -> bool:
    """True for a UA of a known agent family with any plausible version string."""
    if not user_agent:
        return False
    parts = split_user_agent(user_agent)
    if parts is None:
        return False
    name, version = parts
    # ocsreports' old local upload helper sends OCS_local_<GUI version>.
    return (name in AGENT_NAMES) and bool(_VERSION.match(version))
