"""One typed configuration value, built once at start-up (design.md §8).

Sources, first wins: environment variables ``OCELOT_*``, then ``$OCELOT_HOME/ocelot.toml``,
then defaults. The home directory holds the embedded database, the keys, the CA and the
package files; it defaults to ``./var``.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ENGINES = ("granian", "gunicorn")
DEFAULT_THREADS = 4


class ConfigError(Exception):
    """A configuration value that cannot be used."""


@dataclass(frozen=True)
class Config:
    """Everything the server needs to know before it touches the database."""

    home: Path
    database_url: str
    http_bind: str = "127.0.0.1:8080"
    https_bind: str = "127.0.0.1:8443"
    # The fragment listener (communication/fragment_listener.py): fragments sent with
    # sendfile, on a port of their own; "" turns it off (fragments stay on http_bind).
    fragments_bind: str = "127.0.0.1:8081"
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    debug: bool = False
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    # Threads per worker for agents, and as many for the rest. Four rather than eight:
    # fewer threads (and database connections) sharing one interpreter lock and two cores
    # answered 3,000 PROLOGs at c=32 with about 4 % less CPU on both databases, in paired
    # runs (bench/README.md, "Where the time goes"); two gave the same as four.
    threads: int = DEFAULT_THREADS
    # The HTTP server under Django: granian (default) or gunicorn, chosen by benchmark
    # (bench/README.md): granian answered PROLOGs at c=8 about 1.3x faster on the same machine.
    engine: str = "granian"
    # Operations (docs/operations.md): log files, /metrics access, /healthz thresholds.
    log_dir: Path | None = None
    log_max_bytes: int = 10 * 1024 * 1024
    log_backups: int = 5
    metrics_token: str = ""
    metrics_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    health_min_free_mb: int = 1024
    cert_warning_days: int = 30

    @property
    def metrics_dir(self) -> Path:
        """Per-process metric files, merged at scrape (server/metrics_store.py)."""
        return self.home / "var" / "metrics"

    @property
    def package_dir(self) -> Path:
        return self.home / "packages"

    @property
    def pki_dir(self) -> Path:
        return self.home / "pki"

    @property
    def public_dir(self) -> Path:
        """Files published to agents (cacert.pem, later the signing public key)."""
        return self.home / "public"


def _toml(home: Path) -> dict[str, Any]:
    path = home / "ocelot.toml"
    if not path.exists():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def load_config(env: dict[str, str] | None = None) -> Config:
    """Build the configuration from the environment, the TOML file and the defaults."""
    env = dict(os.environ if env is None else env)
    home = Path(env.get("OCELOT_HOME", "var")).resolve()
    file = _toml(home)

    def get(name: str, default: str) -> str:
        return env.get(f"OCELOT_{name.upper()}", str(file.get(name, default)))

    def networks(name: str, default: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        found = []
        for item in get(name, default).replace(",", " ").split():
            try:
                found.append(ipaddress.ip_network(item, strict=False))
            except ValueError as exc:
                raise ConfigError(f"OCELOT_{name.upper()}: {item!r} is not an address or network") from exc
        return tuple(found)

    def integer(name: str, default: int) -> int:
        try:
            return int(get(name, str(default)))
        except ValueError as exc:
            raise ConfigError(f"OCELOT_{name.upper()} must be an integer") from exc

    proxies = networks("trusted_proxies", "")
    try:
        workers = int(get("workers", str(os.cpu_count() or 1)))
        threads = int(get("threads", str(DEFAULT_THREADS)))
    except ValueError as exc:
        raise ConfigError("OCELOT_WORKERS and OCELOT_THREADS must be integers") from exc
    log_dir = get("log_dir", str(home / "log"))
    engine = get("engine", "granian")
    if engine not in ENGINES:
        raise ConfigError(f"OCELOT_ENGINE must be one of {', '.join(ENGINES)}, not {engine!r}")
    return Config(
        home=home,
        database_url=get("database_url", f"sqlite:///{home / 'ocelot.sqlite3'}"),
        http_bind=get("http", "127.0.0.1:8080"),
        https_bind=get("https", "127.0.0.1:8443"),
        fragments_bind=get("fragments", "127.0.0.1:8081").strip(),
        trusted_proxies=proxies,
        debug=get("debug", "0") in ("1", "true", "yes"),
        workers=max(1, workers),
        threads=max(1, threads),
        engine=engine,
        log_dir=Path(log_dir).resolve() if log_dir not in ("", "-") else None,
        log_max_bytes=max(0, integer("log_max_bytes", 10 * 1024 * 1024)),
        log_backups=max(0, integer("log_backups", 5)),
        metrics_token=get("metrics_token", ""),
        metrics_allow=networks("metrics_allow", "127.0.0.0/8 ::1"),
        health_min_free_mb=max(0, integer("health_min_free_mb", 1024)),
    )


# psycopg prepares a statement after this many runs, or at once with prepare=True.
PREPARE_ONLY_WHEN_ASKED = 2**31 - 1


def database_settings(url: str) -> dict[str, Any]:
    """Django DATABASES['default'] from a URL: sqlite:///path, postgresql://, mysql://."""
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            "OPTIONS": {
                # WAL lets readers run beside the single writer; IMMEDIATE takes the write
                # lock at BEGIN so two writers queue instead of failing on lock upgrade.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # Keep connections: opening one and running its PRAGMAs cost about 5 ms per
            # agent contact (bench/README.md, profiling findings).
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "TEST": {"NAME": query.get("test_name", str(Path(path).with_name("test_ocelot.sqlite3")))},
        }
    common = {
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": query.get("host", parts.hostname or ""),
        "PORT": str(parts.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
    if parts.scheme in ("postgres", "postgresql"):
        return {
            **common,
            "ENGINE": "django.db.backends.postgresql",
            # Django's cursors never prepare (they bind on the client); the few statements
            # that ask for it are prepared at once (inventory/prepared_statements.py). Django's default,
            # None, would refuse even those.
            "OPTIONS": {"connect_timeout": 10, "prepare_threshold": PREPARE_ONLY_WHEN_ASKED},
        }
    if parts.scheme in ("mysql", "mariadb"):
        options: dict[str, Any] = {"charset": "utf8mb4", "connect_timeout": 10}
        options["init_command"] = "SET sql_mode='STRICT_TRANS_TABLES', innodb_lock_wait_timeout=20"
        options["isolation_level"] = "read committed"
        if "unix_socket" in query:
            options["unix_socket"] = query["unix_socket"]
        return {**common, "ENGINE": "django.db.backends.mysql", "OPTIONS": options}
    raise ConfigError(f"unsupported database URL scheme {parts.scheme!r}")


def secret_key(home: Path) -> str:
    """The Django secret key, generated once and kept in the home directory (mode 0600)."""
    path = home / "secret_key"
    if path.exists():
        return path.read_text().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
