"""The agent's settings: defaults, then a config file, then the command line.

The config file holds the command line's long options as ``key=value`` lines (``#``
comments), as the Unix agent's ``ocsinventory-agent.cfg`` does: ``server=``, ``tag=``,
``basevardir=``, ``ssl=0``, ``nosoft=1``, ... It is ``--conf FILE``, else
``/etc/ocelot/agent.cfg`` when it exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

DEFAULT_CONFIG = Path("/etc/ocelot/agent.cfg")
_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off", ""}


class ConfigError(Exception):
    """A config file or option that cannot be used."""


def default_basevardir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/ocelot-agent")
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "ocelot-agent"


@dataclass
class Options:
    """Every setting of one agent run (the names are the long options)."""

    server: str | None = None
    local: Path | None = None
    xml: bool = False
    stdout: bool = False
    force: bool = False
    tag: str | None = None
    nosoft: bool = False
    debug: bool = False
    info: bool = False
    ca: Path | None = None
    ssl: bool = True
    basevardir: Path | None = None
    lazy: bool = False
    logfile: Path | None = None
    timeout: float = 180.0
    # IP discovery (agent/ipdiscover.py): scan this network with every inventory; 5 addresses only.
    ipdisc: str | None = None
    fastip: bool = False
    # Deployment (agent/deployment/signature.py): accept unsigned info files even with a pinned key.
    unsigned_packages: bool = False

    @property
    def sends(self) -> bool:
        """True when this run talks to a server (not local, stdout or xml only)."""
        return bool(self.server) and self.local is None and not self.stdout and not self.xml

    def vardir_base(self) -> Path:
        return self.basevardir or default_basevardir()


def _convert(name: str, raw: str) -> object:
    kind = {f.name: f.type for f in fields(Options)}[name]
    if kind == "bool":
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{name}: expected 0 or 1, got {raw!r}")
    if kind == "float":
        try:
            return float(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}: expected a number, got {raw!r}") from exc
    if kind == "Path | None":
        return Path(raw) if raw else None
    return raw or None


def read_config_file(path: Path) -> dict[str, object]:
    """The settings a config file holds (unknown keys are an error: a typo must not pass)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    known = {f.name for f in fields(Options)}
    values: dict[str, object] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip().lower()
        if not sep or key not in known:
            raise ConfigError(f"{path}:{number}: unknown setting {key!r}")
        values[key] = _convert(key, value.strip())
    return values


def build_options(file_values: dict[str, object], command_line: dict[str, object]) -> Options:
    """Defaults, overridden by the file, overridden by what the command line gave (not None)."""
    merged = {**file_values, **{key: value for key, value in command_line.items() if value is not None}}
    return Options(**merged)  # type: ignore[arg-type]
