"""Every general option, with its default, bounds, scopes and help text.

Defaults follow the seeds where they give one (the general options table and the
communication server configuration in ``004_*.txt``; the deployment chapter of
``002_*.txt`` for the download latencies), otherwise the OCS server code defaults listed in
protocol.md §12. Options an administrator may override per group or per computer name
those scopes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["global", "group", "computer"]
ALL_SCOPES: tuple[Scope, ...] = ("global", "group", "computer")


class SettingError(Exception):
    """An unknown setting, a value of the wrong type or out of range, or a wrong scope."""


@dataclass(frozen=True)
class SettingDefinition:
    """One option: name, kind, default, bounds, category, scopes and help text."""

    name: str
    kind: Literal["int", "bool", "text"]
    default: int | str
    help: str
    category: str
    minimum: int | None = None
    maximum: int | None = None
    scopes: tuple[Scope, ...] = ("global",)
    unit: str = ""

    def parse(self, raw: str | int) -> int | str:
        """Validate a value given as text (CLI, console) or number."""
        if self.kind == "text":
            text = str(raw)
            if len(text) > 4096:
                raise SettingError(f"{self.name}: the value is longer than 4096 characters")
            return text
        text = str(raw).strip().lower()
        if self.kind == "bool":
            if text in ("1", "on", "true", "yes"):
                return 1
            if text in ("0", "off", "false", "no"):
                return 0
            raise SettingError(f"{self.name}: expected on/off (1 or 0), got {str(raw)!r}")
        try:
            value = int(text)
        except ValueError:
            raise SettingError(f"{self.name}: expected an integer, got {str(raw)!r}") from None
        if self.minimum is not None and value < self.minimum:
            raise SettingError(f"{self.name}: must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise SettingError(f"{self.name}: must be at most {self.maximum}")
        return value


_INV, _DEP, _IPD, _REG, _SRV = "inventory", "deployment", "ipdiscover", "registry", "server"
_OVERRIDABLE: tuple[Scope, ...] = ALL_SCOPES


def _int(name: str, default: int, help: str, category: str, **kw: object) -> SettingDefinition:
    return SettingDefinition(name, "int", default, help, category, **kw)  # type: ignore[arg-type]


def _bool(name: str, default: int, help: str, category: str, **kw: object) -> SettingDefinition:
    return SettingDefinition(name, "bool", default, help, category, 0, 1, **kw)  # type: ignore[arg-type]


CATALOGUE: tuple[SettingDefinition, ...] = (
    # -- inventory
    _int(
        "FREQUENCY",
        0,
        "Inventory frequency in days: 0 sends an inventory at every contact, -1 never, "
        "N only when the last inventory is older than N days.",
        _INV,
        minimum=-1,
        maximum=3650,
        scopes=_OVERRIDABLE,
        unit="days",
    ),
    _int(
        "PROLOG_FREQ",
        24,
        "Hours between two contacts of an agent running as a service. The agent contacts "
        "the server this often, and sends an inventory only as FREQUENCY allows.",
        _INV,
        minimum=1,
        maximum=8760,
        scopes=_OVERRIDABLE,
        unit="hours",
    ),
    _bool(
        "INVENTORY_ON_STARTUP",
        1,
        "Ask service agents to send an inventory when they start.",
        _INV,
        scopes=_OVERRIDABLE,
    ),
    _int(
        "AUTO_DUPLICATE_LVL",
        7,
        "Which values detect duplicate computers (renamed, reinstalled, ...), as a sum: "
        "1 hostname, 2 serial number, 4 MAC address, 8 model, 16 UUID, 32 asset tag. "
        "A computer is a duplicate when every chosen value matches; 0 switches detection off.",
        _INV,
        minimum=0,
        maximum=63,
    ),
    _bool(
        "INVENTORY_DIFF",
        1,
        "Differential inventory: only the sections the agent marks as changed are written.",
        _INV,
    ),
    _bool(
        "INVENTORY_WRITE_DIFF",
        1,
        "Within a changed section, write only the rows that differ instead of all of them.",
        _INV,
    ),
    _bool(
        "INVENTORY_TRANSACTION",
        1,
        "Store an inventory only if all of it could be stored. Ocelot always uses one "
        "transaction per inventory; the option is kept for OCS compatibility.",
        _INV,
    ),
    _bool(
        "ACCEPT_TAG_UPDATE_FROM_CLIENT",
        0,
        "Let agents change the TAG and account info of a known computer. Off: the server's "
        "values win and are sent back to the agent.",
        _INV,
    ),
    _bool(
        "TRACE_DELETED",
        0,
        "Keep a trace of deleted or merged computers (for GLPI integration).",
        _INV,
    ),
    _bool(
        "COMPRESS_TRY_OTHERS",
        1,
        "Accept gzip and plain XML bodies besides zlib (FusionInventory, injectors, local files).",
        _SRV,
    ),
    _bool("DEPLOY", 1, "Serve agent files and the TAG label to agent launchers.", _SRV),
    _bool("UPDATE", 0, "Not used, always off (agent self-update).", _SRV),
    _int("LOGLEVEL", 0, "Detailed communication server logs (0 off, 1 on).", _SRV, minimum=0, maximum=1),
    _int(
        "LOCAL_PORT",
        8080,
        "Port of the communication server, used to build addresses given to agents.",
        _SRV,
        minimum=1,
        maximum=65535,
    ),
    SettingDefinition(
        "LOCAL_SERVER",
        "text",
        "127.0.0.1",
        "IP address or DNS name of the communication server, used to build addresses given to agents.",
        _SRV,
    ),
    _int(
        "LOCK_REUSE_TIME",
        3600,
        "Seconds after which an inventory lock on a computer is considered stale.",
        _SRV,
        minimum=1,
        maximum=86400,
        unit="seconds",
    ),
    _int(
        "PROXY_REVALIDATE_DELAY",
        3600,
        "Seconds a cached proxy answer stays valid (OCS compatibility).",
        _SRV,
        minimum=0,
        maximum=86400,
        unit="seconds",
    ),
    _int(
        "SESSION_VALIDITY_TIME",
        600,
        "Seconds a contact session stays valid when INVENTORY_SESSION_ONLY is on.",
        _SRV,
        minimum=10,
        maximum=86400,
        unit="seconds",
    ),
    _bool(
        "INVENTORY_SESSION_ONLY", 0, "Accept an inventory only shortly after a contact asked for it.", _SRV
    ),
    _int(
        "GROUPS_CACHE_REVALIDATE",
        43200,
        "Seconds after which the computed members of dynamic groups are recomputed in full "
        "(each inventory already updates its own computer's groups).",
        _SRV,
        minimum=60,
        maximum=31536000,
        unit="seconds",
    ),
    # -- deployment
    _bool(
        "DOWNLOAD",
        0,
        "Package deployment on or off. Off stops it on the server AND on agents: agents that "
        "contact the server stop their current download WITHOUT cleaning the packages.",
        _DEP,
    ),
    _bool(
        "DOWNLOAD_SWITCH",
        1,
        "Deployment for this computer or group (the global switch is DOWNLOAD).",
        _DEP,
        scopes=("group", "computer"),
    ),
    _int(
        "DOWNLOAD_FRAG_LATENCY",
        10,
        "Seconds agents wait after each fragment they download.",
        _DEP,
        minimum=0,
        maximum=86400,
        scopes=_OVERRIDABLE,
        unit="seconds",
    ),
    _int(
        "DOWNLOAD_CYCLE_LATENCY",
        60,
        "Seconds agents wait after each download cycle.",
        _DEP,
        minimum=0,
        maximum=86400,
        scopes=_OVERRIDABLE,
        unit="seconds",
    ),
    _int(
        "DOWNLOAD_PERIOD_LATENCY",
        0,
        "Seconds agents wait after each download period.",
        _DEP,
        minimum=0,
        maximum=86400,
        scopes=_OVERRIDABLE,
        unit="seconds",
    ),
    _int(
        "DOWNLOAD_PERIOD_LENGTH",
        10,
        "Cycles per download period. A package whose priority is above this is never downloaded.",
        _DEP,
        minimum=1,
        maximum=100,
        scopes=_OVERRIDABLE,
        unit="cycles",
    ),
    _int(
        "DOWNLOAD_TIMEOUT",
        30,
        "Days an agent may spend on a package. Past that the package is cleaned and ERR_TIMEOUT is reported.",
        _DEP,
        minimum=1,
        maximum=3650,
        scopes=_OVERRIDABLE,
        unit="days",
    ),
    _int(
        "DOWNLOAD_EXECUTION_TIMEOUT",
        120,
        "Minutes a package command may run (Windows agents and the Ocelot agent).",
        _DEP,
        minimum=1,
        maximum=10080,
        scopes=_OVERRIDABLE,
        unit="minutes",
    ),
    _bool(
        "DOWNLOAD_GROUPS_TRACE_EVENTS",
        1,
        "Track the status of group deployments per computer.",
        _DEP,
    ),
    # -- IP discovery
    _int(
        "IPDISCOVER",
        2,
        "Number of computers per subnet asked to run IP discovery (the most active ones). "
        "0 switches the feature off.",
        _IPD,
        minimum=0,
        maximum=100,
    ),
    _int(
        "IPDISCOVER_LATENCY",
        100,
        "Milliseconds a scanner waits between two addresses.",
        _IPD,
        minimum=0,
        maximum=60000,
        scopes=_OVERRIDABLE,
        unit="milliseconds",
    ),
    _int(
        "IPDISCOVER_MAX_ALIVE",
        7,
        "Days a scanner may go without contacting the server before it loses the role and "
        "another computer of its subnet is chosen.",
        _IPD,
        minimum=1,
        maximum=365,
        unit="days",
    ),
    _int(
        "IPDISCOVER_BETTER_THRESHOLD",
        1,
        "How much better (in days between contacts) a candidate must be to replace a scanner.",
        _IPD,
        minimum=0,
        maximum=365,
        unit="days",
    ),
    _bool("IPDISCOVER_USE_GROUPS", 1, "Let group settings switch IP discovery off.", _IPD),
    _bool(
        "IPDISCOVER_NO_POSTPONE",
        0,
        "Elect scanners without waiting for enough contacts (FIDELITY) first.",
        _IPD,
    ),
    _bool(
        "IPDISCOVER_LINK_TAG_NETWORK",
        0,
        "Record the scanner's TAG on the devices it discovers.",
        _IPD,
    ),
    # -- registry
    _bool("REGISTRY", 0, "Registry queries on or off (Windows agents only).", _REG),
)

DEFINITIONS: dict[str, SettingDefinition] = {definition.name: definition for definition in CATALOGUE}


def definition(name: str) -> SettingDefinition:
    """The definition of a setting, or SettingError."""
    try:
        return DEFINITIONS[name.upper()]
    except KeyError:
        raise SettingError(f"unknown setting {name!r}") from None
