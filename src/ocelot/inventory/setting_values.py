"""Reading and writing settings: global values and per-group / per-computer overrides.

Resolution follows protocol.md §4.3-§4.4, fixing OCS's quirks: a computer's own value
wins; otherwise its groups' values combine (the smallest FREQUENCY, PROLOG_FREQ,
PERIOD_LENGTH and TIMEOUT, the largest latencies, and "off" if any group says off);
otherwise the global value; otherwise the catalogue default.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from ocelot.inventory.models import Computer, Group, GroupMember, Setting, SettingOverride
from ocelot.inventory.prepared_statements import prepared_cursor
from ocelot.inventory.setting_catalogue import CATALOGUE, SettingError, definition

# protocol.md §4.4: latencies take the largest group value, the rest the smallest.
_GROUP_MAX = frozenset(
    {"DOWNLOAD_FRAG_LATENCY", "DOWNLOAD_CYCLE_LATENCY", "DOWNLOAD_PERIOD_LATENCY", "IPDISCOVER_LATENCY"}
)


_GLOBAL_SQL = f"SELECT name, value FROM {Setting._meta.db_table}"  # noqa: S608 - the model's table


def global_values() -> dict[str, int | str]:
    """Every setting's global value (stored or default), in one query."""
    values: dict[str, int | str] = {item.name: item.default for item in CATALOGUE}
    # Read for every agent request: plain SQL, the ORM's query building costs more than
    # the query (bench/README.md, "Where the time goes").
    with connection.cursor() as cursor:
        cursor.execute(_GLOBAL_SQL)
        rows = cursor.fetchall()
    for name, raw in rows:
        spec = definition(name) if name in values else None
        if spec is None:
            continue
        # A value stored by an older version with other bounds keeps the default.
        with contextlib.suppress(SettingError):
            values[name] = spec.parse(raw)
    return values


# The agent endpoint keeps the global settings in each process instead of reading them
# for every request: on PostgreSQL that read was one of the three round trips of a PROLOG.
# A change through set_global / reset_global (the console, the API, the command line)
# touches a stamp file in the home directory after its commit, and every process of this
# home sees the new stamp at its next agent request (one stat). Anything else (a server
# on another machine, SQL typed by hand) shows within AGENT_SETTINGS_SECONDS.
AGENT_SETTINGS_SECONDS = 1.0
STAMP_FILE = "settings.stamp"
_agent_settings: tuple[float, bytes, dict[str, int | str]] | None = None


def _stamp_path() -> str | Path:
    return os.path.join(settings.CONFIG.home, STAMP_FILE)


def _stamp() -> bytes:
    # The content, not the modification time: file times move in coarse ticks (a few
    # milliseconds), and two changes within one tick must still differ. Read with bare
    # descriptors: a Path and a buffered file object cost more than the read itself, on
    # every agent request (0.05 of a PROLOG's 0.7 ms of CPU).
    try:
        descriptor = os.open(_stamp_path(), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return b""
    try:
        return os.read(descriptor, 64)
    except OSError:
        return b""
    finally:
        os.close(descriptor)


def _touch_stamp() -> None:
    path = Path(_stamp_path())
    temporary = path.with_name(f".{STAMP_FILE}.{os.getpid()}")
    with contextlib.suppress(OSError):  # a read-only home: the one-second bound still holds
        temporary.write_text(f"{time.time_ns()} {os.getpid()}\n")
        os.replace(temporary, path)  # readers see the old stamp or the new one, never half


def agent_settings() -> dict[str, int | str]:
    """The global values for the agent endpoint (see AGENT_SETTINGS_SECONDS above).

    The same dictionary is handed to every request until it is replaced: read it, never
    change it.
    """
    global _agent_settings
    now = time.monotonic()
    stamp = _stamp()  # before the read: a change in between is seen next time
    cached = _agent_settings
    if cached is not None and cached[1] == stamp and 0 <= now - cached[0] < AGENT_SETTINGS_SECONDS:
        return cached[2]
    values = global_values()
    _agent_settings = (now, stamp, values)
    return values


def forget_agent_settings() -> None:
    """The next agent request of this process reads the settings from the database."""
    global _agent_settings
    _agent_settings = None


def _settings_changed() -> None:
    forget_agent_settings()
    transaction.on_commit(_touch_stamp)


def global_value(name: str) -> int | str:
    spec = definition(name)
    row = Setting.objects.filter(name=spec.name).first()
    if row is None:
        return spec.default
    try:
        return spec.parse(row.value)
    except SettingError:
        return spec.default


def set_global(name: str, raw: str | int) -> int | str:
    """Validate and store a global value; returns the parsed value."""
    spec = definition(name)
    if "global" not in spec.scopes:
        raise SettingError(f"{spec.name} can only be set per group or per computer")
    value = spec.parse(raw)
    Setting.objects.update_or_create(name=spec.name, defaults={"value": str(value)})
    _settings_changed()
    return value


def reset_global(name: str) -> None:
    Setting.objects.filter(name=definition(name).name).delete()
    _settings_changed()


def set_override(
    name: str, raw: str | int, *, computer: Computer | None = None, group: Group | None = None
) -> int | str:
    """Validate and store a per-computer or per-group value."""
    spec = definition(name)
    scope = "computer" if computer is not None else "group"
    if (computer is None) == (group is None):
        raise SettingError("an override targets exactly one computer or one group")
    if scope not in spec.scopes:
        raise SettingError(f"{spec.name} cannot be set per {scope}")
    value = spec.parse(raw)
    SettingOverride.objects.update_or_create(
        name=spec.name, computer=computer, group=group, defaults={"value": str(value)}
    )
    return value


def clear_override(name: str, *, computer: Computer | None = None, group: Group | None = None) -> None:
    SettingOverride.objects.filter(name=definition(name).name, computer=computer, group=group).delete()


@dataclass
class ComputerSettings:
    """The effective settings of one computer, resolved once per request."""

    values: dict[str, int | str]

    def __getitem__(self, name: str) -> int | str:
        return self.values[name]

    def int(self, name: str) -> int:
        value = self.values[name]
        return value if isinstance(value, int) else 0


def _combine(name: str, values: Iterable[int | str]) -> int | str:
    items = list(values)
    if name in _GROUP_MAX:
        return max(items)  # type: ignore[type-var]
    return min(items)  # type: ignore[type-var]


# A computer's own overrides and those of the groups it is a member of. Read at the contact
# of every computer that has either: as an ORM query, building it cost about 1 ms of the
# PROLOG (bench/README.md, "Where the time goes"). Table names come from the models.
_OVERRIDES_SQL = (
    f"SELECT name, value, computer_id FROM {SettingOverride._meta.db_table}"  # noqa: S608
    f" WHERE computer_id = %s OR group_id IN (SELECT group_id FROM {GroupMember._meta.db_table}"
    f" WHERE computer_id = %s AND kind <> %s)"
)


def resolve(computer_id: int | None, base: dict[str, int | str] | None = None) -> ComputerSettings:
    """Effective settings of a computer (None: an unknown computer gets the globals)."""
    values = dict(base if base is not None else global_values())
    if computer_id is None:
        return ComputerSettings(values)
    own: dict[str, int | str] = {}
    from_groups: dict[str, list[int | str]] = {}
    with prepared_cursor() as cursor:
        cursor.execute(_OVERRIDES_SQL, [computer_id, computer_id, GroupMember.EXCLUDED])
        rows = cursor.fetchall()
    for name, raw, own_id in rows:
        try:
            spec = definition(name)
            value = spec.parse(raw)
        except SettingError:
            continue
        if own_id is not None:
            own[spec.name] = value
        else:
            from_groups.setdefault(spec.name, []).append(value)
    for name, group_values in from_groups.items():
        values[name] = _combine(name, group_values)
    values.update(own)
    values.setdefault("DOWNLOAD_SWITCH", 1)
    return ComputerSettings(values)
