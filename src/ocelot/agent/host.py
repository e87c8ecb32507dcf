"""The only door to the machine: files under a root directory and commands run as argv lists.

Collectors never open a file or start a process themselves (design.md §3): they ask a
:class:`Host`. The real :class:`MachineHost` reads under ``/`` (or any root, so a captured
sysfs/proc tree can be read as if it were the machine) and runs commands without a shell,
with a timeout. :class:`CapturedHost` reads a captured tree and replays captured command
outputs, so the collectors' unit tests run on other machines' data (tests/data/agent/).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
# No collector needs more than this from one file (sysfs values, /proc files, /etc/passwd).
_MAX_READ = 16 * 1024 * 1024


@dataclass(frozen=True)
class CommandResult:
    """What a command printed and how it ended."""

    returncode: int
    stdout: str
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class Host:
    """Files under ``root`` and commands; subclasses decide where commands come from."""

    def __init__(self, root: str | Path = "/") -> None:
        self.root = Path(root)
        # One run asks some commands several times (lspci for controllers, videos, sounds).
        self._outputs: dict[tuple[str, ...], str | None] = {}

    def path(self, path: str) -> Path:
        """The real path of a machine path (``/proc/cpuinfo``) under the root."""
        return self.root / path.lstrip("/")

    def read_text(self, path: str) -> str | None:
        """A file's text (UTF-8, undecodable bytes replaced), or None when unreadable."""
        data = self.read_bytes(path)
        if data is None:
            return None
        return data.decode("utf-8", errors="replace")

    def read_bytes(self, path: str) -> bytes | None:
        try:
            with self.path(path).open("rb") as handle:
                return handle.read(_MAX_READ)
        except OSError:
            return None

    def read_value(self, path: str) -> str:
        """A one-line sysfs/proc value, stripped; "" when missing or unreadable."""
        text = self.read_text(path)
        return text.strip() if text is not None else ""

    def list_dir(self, path: str) -> list[str]:
        """Entry names, sorted; [] when the directory does not exist."""
        try:
            return sorted(os.listdir(self.path(path)))
        except OSError:
            return []

    def exists(self, path: str) -> bool:
        return os.path.lexists(self.path(path))

    def link_name(self, path: str) -> str:
        """The last component of a symbolic link's target (a sysfs ``driver`` link); "" if none."""
        try:
            return os.path.basename(os.readlink(self.path(path)))
        except OSError:
            return ""

    def link_target(self, path: str) -> str:
        """A symbolic link's target as written (sysfs: ``../../devices/pci0000:00/...``); "" if none."""
        try:
            return os.readlink(self.path(path))
        except OSError:
            return ""

    def hostname(self) -> str:
        return socket.gethostname()

    def which(self, program: str) -> bool:
        raise NotImplementedError

    def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult | None:
        """Run a command; None when it is missing, cannot start or times out."""
        raise NotImplementedError

    def output(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> str | None:
        """A command's standard output when it exits 0, else None (asked once per host)."""
        key = tuple(argv)
        if key not in self._outputs:
            result = self.run(argv, timeout)
            self._outputs[key] = result.stdout if result is not None and result.ok else None
        return self._outputs[key]


class MachineHost(Host):
    """This machine: commands run for real (never through a shell), files read under root."""

    def __init__(self, root: str | Path = "/") -> None:
        super().__init__(root)
        self._environment = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        # Tools like dmidecode, ip and blkid live in sbin, often missing from a user's PATH.
        path = self._environment.get("PATH", "")
        extra = [p for p in ("/usr/local/sbin", "/usr/sbin", "/sbin") if p not in path.split(":")]
        self._environment["PATH"] = ":".join(filter(None, [path, *extra]))

    def which(self, program: str) -> bool:
        return shutil.which(program, path=self._environment["PATH"]) is not None

    def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult | None:
        if not self.which(argv[0]):
            log.debug("%s: not installed", argv[0])
            return None
        try:
            completed = subprocess.run(
                list(argv),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                env=self._environment,
                check=False,
            )
        except subprocess.TimeoutExpired:
            log.warning("%s: no answer after %.0f s", argv[0], timeout)
            return None
        except OSError as exc:
            log.warning("%s: cannot run: %s", argv[0], exc)
            return None
        return CommandResult(
            completed.returncode,
            completed.stdout.decode("utf-8", errors="replace"),
            completed.stderr.decode("utf-8", errors="replace"),
        )


def command_key(argv: Sequence[str]) -> str:
    """How a command is named in a capture's ``commands.json`` (argv joined by spaces)."""
    return " ".join(argv)


class CapturedHost(Host):
    """A captured machine: a file tree under ``<capture>/root`` and recorded command outputs.

    ``<capture>/commands.json`` maps each command (argv joined by spaces) to
    ``{"stdout": "<file under commands/>", "returncode": 0}``; a command that is not
    listed is "not installed". ``hostname`` comes from the ``hostname`` key.

    git keeps no empty directory, and sysfs has meaningful ones (``net/<if>/wireless``,
    ``net/<br>/bridge``): a captured tree keeps them with a ``.keep`` file, which this host
    does not list.
    """

    KEEP = ".keep"

    def __init__(self, capture: str | Path) -> None:
        capture = Path(capture)
        super().__init__(capture / "root")
        self.capture = capture
        manifest_path = capture / "commands.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
        self._hostname = str(manifest.pop("hostname", "captured"))
        self.commands: dict[str, dict[str, object]] = manifest
        self.ran: list[str] = []

    def hostname(self) -> str:
        return self._hostname

    def list_dir(self, path: str) -> list[str]:
        return [name for name in super().list_dir(path) if name != self.KEEP]

    def which(self, program: str) -> bool:
        return any(key.split(" ")[0] == program for key in self.commands)

    def run(self, argv: Sequence[str], timeout: float = DEFAULT_TIMEOUT) -> CommandResult | None:
        key = command_key(argv)
        self.ran.append(key)
        entry = self.commands.get(key)
        if entry is None:
            return None
        stdout_file = entry.get("stdout")
        stdout = ""
        if isinstance(stdout_file, str):
            stdout = (self.capture / "commands" / stdout_file).read_text(encoding="utf-8")
        returncode = entry.get("returncode", 0)
        return CommandResult(int(returncode) if isinstance(returncode, int) else 0, stdout)
