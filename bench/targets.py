"""The servers under test, each on 127.0.0.1 only, and how to count what they stored.

* :class:`OcelotTarget`: ``ocelot server`` as a subprocess with a fresh ``OCELOT_HOME`` per
  scenario, on the default SQLite file or on a database of a throwaway PostgreSQL cluster.
* :class:`PostgresCluster`: ``initdb --auth=trust`` in a temporary directory, run as the
  ``postgres`` user, listening on 127.0.0.1 on a free port.
* :class:`OcsReference`: the real OCS 2.8.1 server (Apache mod_perl + MariaDB) stood up by
  ``shared/reference-ocs/setup.sh``; ``--reset-db`` gives each scenario an empty database.

Counting reads the database directly (sqlite3, psql, mysql) and returns, per DEVICEID, the
number of software rows, the DRIVES free space and the number of upgraded packages.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.load import wait_http
from bench.payload import UPGRADE_MARK

REPO = Path(__file__).resolve().parent.parent
REFERENCE_DIR = Path("/work/shared/reference-ocs")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
ERROR_LOG = Path("/var/log/apache2/error.log")
# The last line of a Python traceback: "package.module.SomeError: message".
_EXCEPTION = re.compile(r"^(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|NotSupported|Violation)\w*: ")


def summarise_errors(lines: list[str], pattern: re.Pattern[str]) -> dict[str, int]:
    """Matching lines with their variable parts (quoted values, numbers) blanked, counted."""
    counts: Counter[str] = Counter()
    for line in lines:
        if pattern.search(line):
            text = re.sub(r"'[^']*'", "'…'", line.strip())
            text = re.sub(r"^\[[^]]*\] ", "", text)
            counts[re.sub(r"\d+", "N", text)[:240]] += 1
    return dict(counts.most_common(12))


@dataclass(frozen=True)
class Stored:
    """What one computer has in the database."""

    software: int
    free: int | None
    upgraded: int


@dataclass
class Census:
    """Every computer the database holds, and its software catalogue size."""

    computers: dict[str, Stored]
    catalogue: int


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _int(value: str | int | None) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


# The Ocelot schema (Django default table names of ocelot.inventory.models).
OCELOT_CENSUS = f"""
SELECT c.device_id,
       (SELECT count(*) FROM inventory_softwareinstallation i WHERE i.computer_id = c.id),
       (SELECT max(d.free) FROM inventory_drive d WHERE d.computer_id = c.id),
       (SELECT count(*) FROM inventory_softwareinstallation i
          JOIN inventory_software s ON s.id = i.software_id
         WHERE i.computer_id = c.id AND s.version LIKE '%{UPGRADE_MARK}')
  FROM inventory_computer c
"""
OCELOT_CATALOGUE = "SELECT count(*) FROM inventory_software"

# The OCS 2.8.1 schema (ocsbase_new.sql, GUI_VERSION 7039).
OCS_CENSUS = f"""
SELECT h.DEVICEID,
       (SELECT count(*) FROM software s WHERE s.HARDWARE_ID = h.ID),
       (SELECT max(d.FREE) FROM drives d WHERE d.HARDWARE_ID = h.ID),
       (SELECT count(*) FROM software s JOIN software_version v ON v.ID = s.VERSION_ID
         WHERE s.HARDWARE_ID = h.ID AND v.VERSION LIKE '%{UPGRADE_MARK}')
  FROM hardware h
"""
OCS_CATALOGUE = "SELECT count(DISTINCT NAME_ID, PUBLISHER_ID, VERSION_ID) FROM software"


def _census(rows: list[list[str]], catalogue: str) -> Census:
    computers = {row[0]: Stored(int(row[1]), _int(row[2]), int(row[3])) for row in rows}
    return Census(computers, int(catalogue))


class PostgresCluster:
    """A throwaway PostgreSQL 15 cluster on 127.0.0.1 (trust authentication)."""

    def __init__(self) -> None:
        self.port = 0
        self.root: Path | None = None

    @property
    def data(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.data / "server.log"

    def _as_postgres(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def start(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ocelot-bench-pg-"))
        self.root.chmod(0o755)
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres", "postgres")
        self.port = free_port()
        subprocess.run(
            self._as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.data}"
        subprocess.run(
            self._as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-w",
                    "-o",
                    options,
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def psql(self, sql: str, database: str = "postgres") -> list[list[str]]:
        out = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-X",
                "-q",
                "-At",
                "-F",
                "\t",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def recreate(self, database: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{database}"')

    def version(self) -> str:
        return self.psql("SHOW server_version")[0][0]

    def stop(self) -> None:
        if self.root is None:
            return
        subprocess.run(
            self._as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None


class OcelotTarget:
    """``ocelot server`` on SQLite (``backend="sqlite"``) or PostgreSQL, with its default
    HTTP engine or the one named (``engine="gunicorn"``: target ``ocelot-sqlite-gunicorn``)."""

    DATABASE = "ocelot_bench"

    def __init__(
        self,
        backend: str,
        *,
        workers: int | None = None,
        threads: int | None = None,
        settings: dict[str, str] | None = None,
        engine: str | None = None,
    ) -> None:
        self.backend = backend
        self.engine = engine
        self.settings = settings or {}
        self.name = f"ocelot-{backend}" + (f"-{engine}" if engine else "")
        self.workers = workers
        self.threads = threads
        self.cluster = PostgresCluster() if backend == "postgresql" else None
        self.process: subprocess.Popen[bytes] | None = None
        self.home: Path | None = None
        self.url = ""
        self.fragments_port = 0
        self.log_path: Path | None = None
        self.pg_log_offset = 0

    def open(self) -> None:
        if self.cluster:
            self.cluster.start()

    def close(self) -> None:
        self.stop_scenario()
        if self.cluster:
            self.cluster.stop()

    def versions(self) -> dict[str, str]:
        out = {}
        if self.cluster:
            out["postgresql"] = self.cluster.version()
        out["sqlite"] = sqlite3.sqlite_version
        return out

    def _command(self) -> list[str]:
        exe = REPO / ".venv" / "bin" / "ocelot"
        found = str(exe) if exe.exists() else shutil.which("ocelot")
        if not found:
            raise RuntimeError("cannot find the ocelot command (install the project in .venv)")
        return [found]

    def start_scenario(self, tag: str) -> str:
        self.home = Path(tempfile.mkdtemp(prefix=f"ocelot-bench-{self.backend}-{tag}-"))
        env = dict(os.environ)
        env["OCELOT_HOME"] = str(self.home)
        env.pop("OCELOT_DATABASE_URL", None)
        if self.cluster:
            self.cluster.recreate(self.DATABASE)
            self.pg_log_offset = self.cluster.log.stat().st_size if self.cluster.log.exists() else 0
            env["OCELOT_DATABASE_URL"] = (
                f"postgresql://postgres@127.0.0.1:{self.cluster.port}/{self.DATABASE}"
            )
        if self.workers:
            env["OCELOT_WORKERS"] = str(self.workers)
        if self.threads:
            env["OCELOT_THREADS"] = str(self.threads)
        env.pop("OCELOT_ENGINE", None)
        if self.engine:
            env["OCELOT_ENGINE"] = self.engine
        http_port, https_port = free_port(), free_port()
        # The fragment listener (sendfile) on a port of its own: never the default 8081,
        # which another server on this machine may hold.
        self.fragments_port = free_port()
        env["OCELOT_FRAGMENTS"] = f"127.0.0.1:{self.fragments_port}"
        self.log_path = self.home / "server.log"
        with self.log_path.open("wb") as log:
            if self.settings:
                # Non-default options (--setting): initialise, set, then serve.
                subprocess.run([*self._command(), "init"], env=env, stdout=log, stderr=log, check=True)
                for name, value in self.settings.items():
                    subprocess.run(
                        [*self._command(), "settings", "set", name, value],
                        env=env,
                        stdout=log,
                        stderr=log,
                        check=True,
                    )
            self.process = subprocess.Popen(
                [
                    *self._command(),
                    "server",
                    "--http",
                    f"127.0.0.1:{http_port}",
                    "--https",
                    f"127.0.0.1:{https_port}",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
            )
        self.url = f"http://127.0.0.1:{http_port}/ocsinventory"
        if not wait_http(self.url, deadline=180):
            tail = self.log_path.read_text(errors="replace")[-3000:]
            self.stop_scenario(keep_home=True)
            raise RuntimeError(f"{self.name} did not start; log {self.log_path}:\n{tail}")
        return self.url

    def server_pids(self) -> list[int]:
        pids = descendants(self.process.pid) if self.process else []
        if self.cluster and self.cluster.root is not None:
            pid_file = self.cluster.data / "postmaster.pid"
            if pid_file.exists():
                pids += descendants(int(pid_file.read_text().split()[0]))
        return pids

    def census(self) -> Census:
        assert self.home is not None
        if self.cluster:
            rows = self.cluster.psql(OCELOT_CENSUS, self.DATABASE)
            catalogue = self.cluster.psql(OCELOT_CATALOGUE, self.DATABASE)[0][0]
            return _census(rows, catalogue)
        db = sqlite3.connect(f"file:{self.home / 'ocelot.sqlite3'}?mode=ro", uri=True, timeout=60)
        try:
            rows = [[str(v) if v is not None else "" for v in row] for row in db.execute(OCELOT_CENSUS)]
            (catalogue,) = db.execute(OCELOT_CATALOGUE).fetchone()
        finally:
            db.close()
        return _census(rows, str(catalogue))

    def stop_scenario(self, *, keep_home: bool = False) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
        if self.home is not None and not keep_home:
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None

    def server_errors(self) -> dict[str, int]:
        """Exceptions in the server log (read before the home is removed), counted."""
        out: dict[str, int] = {}
        if self.log_path is not None and self.log_path.exists():
            out.update(summarise_errors(self.log_path.read_text(errors="replace").splitlines(), _EXCEPTION))
        if self.cluster and self.cluster.log.exists():
            # PostgreSQL's own log: deadlocks and serialisation failures Ocelot retried.
            with self.cluster.log.open("rb") as handle:
                handle.seek(self.pg_log_offset)
                lines = handle.read().decode("utf-8", "replace").splitlines()
            pg = summarise_errors(lines, re.compile(r"\b(ERROR|FATAL|PANIC):"))
            out.update({f"postgresql: {text}": count for text, count in pg.items()})
        return out


class OcsReference:
    """The real OCS Inventory NG 2.8.1 communication server (shared/reference-ocs)."""

    name = "ocs-2.8.1"

    def __init__(self, *, port: int = 8880, keep_running: bool = False) -> None:
        self.port = port
        self.keep_running = keep_running
        self.url = f"http://127.0.0.1:{port}/ocsinventory"

    @staticmethod
    def _installed() -> bool:
        probe = subprocess.run(
            [
                "dpkg-query",
                "-W",
                "-f",
                "${Status}",
                "ocsinventory-server",
                "mariadb-server",
                "libapache2-mod-perl2",
                "libxml-parser-perl",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return probe.returncode == 0 and probe.stdout.count("install ok installed") == 4

    def _setup(self, *, reset: bool) -> None:
        env = dict(os.environ, OCS_PORT=str(self.port))
        if self._installed():
            env["SKIP_APT"] = "1"
        command = [str(REFERENCE_DIR / "setup.sh"), *(["--reset-db"] if reset else [])]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"reference setup failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")

    def open(self) -> None:
        self._setup(reset=True)

    def close(self) -> None:
        if not self.keep_running:
            subprocess.run([str(REFERENCE_DIR / "stop.sh")], check=False, capture_output=True)

    def start_scenario(self, tag: str) -> str:
        self._setup(reset=True)
        self.start_log()
        if not wait_http(self.url, deadline=60):
            raise RuntimeError("the reference OCS server does not answer")
        return self.url

    def stop_scenario(self) -> None:
        pass

    @staticmethod
    def server_pids() -> list[int]:
        pids: list[int] = []
        for pid_file in (Path("/run/apache2/apache2.pid"), Path("/run/mysqld/mysqld.pid")):
            if pid_file.exists():
                pids += descendants(int(pid_file.read_text().split()[0]))
        return pids

    @staticmethod
    def mysql(sql: str) -> list[list[str]]:
        out = subprocess.run(
            ["mysql", "-N", "-B", "ocsweb", "-e", sql], check=True, capture_output=True, text=True
        ).stdout
        return [["" if v == "NULL" else v for v in line.split("\t")] for line in out.splitlines() if line]

    def census(self) -> Census:
        return _census(self.mysql(OCS_CENSUS), self.mysql(OCS_CATALOGUE)[0][0])

    def versions(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for package in ("ocsinventory-server", "apache2", "libapache2-mod-perl2", "mariadb-server"):
            probe = subprocess.run(
                ["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True, check=False
            )
            out[package] = probe.stdout.strip()
        return out

    def start_log(self) -> None:
        self.log_offset = ERROR_LOG.stat().st_size if ERROR_LOG.exists() else 0

    def server_errors(self) -> dict[str, int]:
        """Apache error.log lines of this scenario (the DBI errors OCS ignores), counted."""
        if not ERROR_LOG.exists():
            return {}
        with ERROR_LOG.open("rb") as handle:
            handle.seek(getattr(self, "log_offset", 0))
            lines = handle.read().decode("utf-8", "replace").splitlines()
        return summarise_errors(lines, re.compile(r"failed|rror"))

    def deadlocks(self) -> int:
        """InnoDB deadlocks since MariaDB started (this scenario's, as setup restarts nothing)."""
        rows = self.mysql("SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'")
        return int(rows[0][1]) if rows else -1


# ---------------------------------------------------------------- CPU accounting

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from /proc (empty if it is gone)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        task_dir = Path(f"/proc/{current}/task")
        if not task_dir.exists():
            continue
        out.append(current)
        for task in task_dir.iterdir():
            try:
                todo.extend(int(p) for p in (task / "children").read_text().split())
            except OSError:
                continue
    return out


def _process_ticks(pid: int) -> int:
    """utime + stime + reaped children's cutime + cstime of one process, in clock ticks."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return sum(int(v) for v in fields[11:15])


def _busy_ticks() -> int:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values[:8]) - idle


@dataclass
class CpuSnapshot:
    busy: int
    server: dict[int, int]
    client: float
    at: float


def cpu_snapshot(server_pids: list[int]) -> CpuSnapshot:
    times = os.times()
    return CpuSnapshot(
        busy=_busy_ticks(),
        server={pid: _process_ticks(pid) for pid in server_pids},
        client=times.user + times.system,
        at=os.times().elapsed,
    )


def cpu_usage(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    """Cores used during an interval: by the server, by this client, by everything else."""
    wall = max(after.at - before.at, 1e-6)
    server_ticks = sum(ticks - before.server.get(pid, 0) for pid, ticks in after.server.items())
    server = server_ticks / CLOCK_TICKS / wall
    client = (after.client - before.client) / wall
    total = (after.busy - before.busy) / CLOCK_TICKS / wall
    return {
        "server_cores": round(server, 2),
        "client_cores": round(client, 2),
        "other_cores": round(max(0.0, total - server - client), 2),
    }


def machine_busy(window: float = 3.0) -> float:
    """Cores the whole machine kept busy over ``window`` seconds."""
    before = _busy_ticks()
    time.sleep(window)
    return (_busy_ticks() - before) / CLOCK_TICKS / window


def wait_for_quiet(max_wait: float, threshold: float, log: Callable[[str], None]) -> float:
    """Wait (at most ``max_wait`` s) until other work on the machine drops below ``threshold`` cores.

    The benchmark shares a small machine; figures measured while something else burns a
    core are not comparable. Returns the last measured load, which the results record.
    """
    end = time.monotonic() + max_wait
    busy = machine_busy()
    warned = False
    while busy > threshold and time.monotonic() < end:
        if not warned:
            log(f"machine busy with other work ({busy:.2f} cores); waiting up to {max_wait:.0f} s")
            warned = True
        busy = machine_busy()
    if busy > threshold:
        log(f"WARNING: measuring anyway with {busy:.2f} cores of other work on the machine")
    return round(busy, 2)
