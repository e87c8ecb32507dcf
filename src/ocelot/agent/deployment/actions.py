"""Running a package's action in its extracted directory (protocol.md §9.2 step 5; seeds' status table).

* LAUNCH: the first word of NAME must be a file of the package; it is made executable and
  run as ``./NAME args`` (an argv list, no shell: design.md §6).
* EXECUTE: COMMAND is a shell command line, as OCS defines it (``system(COMMAND)``): run by
  ``/bin/sh -c`` in the package directory.
* STORE: the extracted files are put into PATH (``INSTALL_PATH`` means the vardir): moved,
  since the extracted directory is deleted next, or copied across file systems.

Exit 0 is SUCCESS, exit n is ERR_EXIT_CODE_n. A command running longer than
EXECUTION_TIMEOUT is killed with its whole process group: ERR_EXECUTE_TIMEOUT.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

from ocelot.agent.deployment import codes
from ocelot.agent.deployment.package_info import PackageInfo

log = logging.getLogger(__name__)


def _run(argv: list[str], cwd: Path, timeout: float) -> str:
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group
        )
    except OSError as exc:
        log.warning("package command %s cannot start: %s", argv[:1], exc.strerror)
        return codes.EXECUTE
    try:
        returncode = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log.warning("package command %s ran longer than %d s: killed", argv[:1], timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return codes.EXECUTE_TIMEOUT
    if returncode < 0:  # killed by a signal: no exit code
        return codes.EXECUTE
    return codes.exit_code(returncode)


def _move_into(source: Path, target: Path) -> None:
    """Put ``source``'s entries into ``target`` as ``cp -pr source/* target`` would.

    The extracted directory is deleted right after the action, so its files are renamed
    into place rather than copied (a 200 MiB STORE wrote its bytes twice, bench/README.md,
    agent): a directory missing from ``target`` moves whole, one already there is merged
    into, a file or link replaces what has its name. Across file systems (EXDEV) the
    entry is copied, links kept as links, as before.
    """
    for entry in os.scandir(source):
        destination = target / entry.name
        if entry.is_dir(follow_symlinks=False) and destination.is_dir():
            _move_into(Path(entry.path), destination)
            continue
        try:
            os.replace(entry.path, destination)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            if entry.is_dir(follow_symlinks=False):
                shutil.copytree(entry.path, destination, dirs_exist_ok=True, symlinks=True)
            else:
                shutil.copy2(entry.path, destination, follow_symlinks=False)


def run_action(info: PackageInfo, work_dir: Path, vardir: Path, timeout: float) -> str:
    """Run the action; the result code."""
    if not work_dir.is_dir():
        return codes.EXECUTE  # the Unix agent's chdir failure
    argument = info.argument.strip()
    if info.action == "STORE":
        if not argument:
            return codes.EXECUTE_PACK
        target = Path(argument.replace("INSTALL_PATH", str(vardir)))
        try:
            target.mkdir(parents=True, exist_ok=True)
            _move_into(work_dir, target)
        except (OSError, shutil.Error) as exc:
            log.warning("package %s: cannot store into %s: %s", info.package_id, target, exc)
            return codes.EXECUTE
        return codes.SUCCESS
    if not argument:
        return codes.EXECUTE_PACK
    if info.action == "LAUNCH":
        try:
            argv = shlex.split(argument)
        except ValueError:
            return codes.EXECUTE
        program = work_dir / argv[0]
        if os.path.isabs(argv[0]) or ".." in Path(argv[0]).parts or not program.is_file():
            log.warning("package %s: %s is not a file of the package", info.package_id, argv[0])
            return codes.EXECUTE
        try:
            program.chmod(0o755)
        except OSError:
            return codes.EXECUTE
        return _run([f"./{argv[0]}", *argv[1:]], work_dir, timeout)
    return _run(["/bin/sh", "-c", argument], work_dir, timeout)
