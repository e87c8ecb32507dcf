"""``ocelot agent`` and ``python -m ocelot.agent``: the Unix agent's command line (issue 5).

Options mirror ocsinventory-agent's: ``--server``, ``--local``, ``--xml``, ``--stdout``,
``--force``, ``--tag``, ``--nosoft``, ``--debug``, ``--info``, ``--ca``, ``--ssl``,
``--basevardir``, ``--lazy``, plus ``--conf`` and ``--logfile``. The run itself is
:func:`ocelot.agent.run.run_once`; ``--daemon`` runs it on the service's schedule
(agent/daemon.py).
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from collections.abc import Sequence
from pathlib import Path

from ocelot.agent.config import DEFAULT_CONFIG, ConfigError, build_options, read_config_file


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocelot agent",
        description="Inventory this computer and send it to an OCS or Ocelot server (or write it locally).",
    )
    parser.add_argument(
        "--conf", type=Path, help=f"config file with the same keys (default: {DEFAULT_CONFIG})"
    )
    parser.add_argument("-s", "--server", help="server URL (a bare host means http://HOST/ocsinventory)")
    parser.add_argument("-l", "--local", type=Path, help="write <DEVICEID>.ocs in DIR instead of sending")
    parser.add_argument(
        "--xml", action="store_const", const=True, help="write <DEVICEID>.xml (in --local DIR or here)"
    )
    parser.add_argument(
        "--stdout", action="store_const", const=True, help="print the inventory, send nothing"
    )
    parser.add_argument(
        "-f", "--force", action="store_const", const=True, help="send an inventory without asking (no PROLOG)"
    )
    parser.add_argument("-t", "--tag", help="TAG to send while the agent has none yet")
    parser.add_argument("--nosoft", action="store_const", const=True, help="do not list installed software")
    parser.add_argument(
        "-d", "--debug", action="store_const", const=True, help="debug log, with what is sent"
    )
    parser.add_argument("-i", "--info", action="store_const", const=True, help="informational log")
    parser.add_argument("--ca", type=Path, help="CA certificate file for https servers")
    parser.add_argument("--ssl", choices=("0", "1"), help="1 (default): check the server certificate")
    parser.add_argument("--basevardir", type=Path, help="state directory (one subdirectory per server)")
    parser.add_argument(
        "--lazy", action="store_const", const=True, help="contact the server only when PROLOG_FREQ has passed"
    )
    parser.add_argument("--ipdisc", metavar="NETWORK", help="run IP discovery of NETWORK with each inventory")
    parser.add_argument(
        "--fastip", action="store_const", const=True, help="IP discovery of 5 addresses only (for tests)"
    )
    parser.add_argument(
        "--unsigned-packages",
        action="store_const",
        const=True,
        help="deploy unsigned packages even when the server's signing key is known (default: refuse them)",
    )
    parser.add_argument("--logfile", type=Path, help="log to this file instead of stderr")
    parser.add_argument(
        "--logfile-maxsize", type=int, default=10, metavar="MB", help="rotate the log file at this size (10)"
    )
    parser.add_argument(
        "--logfile-backups",
        type=int,
        default=5,
        metavar="N",
        help="rotated files kept (5; 0: no rotation)",
    )
    parser.add_argument(
        "--daemon",
        action="store_true",
        help="stay running: contact the server every PROLOG_FREQ hours (random offset, backoff on errors)",
    )
    return parser


def _configure_logging(
    debug: bool, info: bool, logfile: Path | None, maxsize_mb: int = 10, backups: int = 5
) -> None:
    level = logging.DEBUG if debug else logging.INFO if info else logging.WARNING
    handler: logging.Handler
    if logfile and backups > 0 and maxsize_mb > 0:
        handler = logging.handlers.RotatingFileHandler(
            logfile, maxBytes=maxsize_mb * 1024 * 1024, backupCount=backups
        )
    elif logfile:
        # No rotation of our own: logrotate's copytruncate works (the file is opened O_APPEND).
        handler = logging.FileHandler(logfile)
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] %(name)s: %(message)s"))
    root = logging.getLogger("ocelot.agent")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    given = vars(args)
    conf = given.pop("conf")
    daemon = given.pop("daemon")
    maxsize, backups = given.pop("logfile_maxsize"), given.pop("logfile_backups")
    if given["ssl"] is not None:
        given["ssl"] = given["ssl"] == "1"
    try:
        path = conf or (DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None)
        options = build_options(read_config_file(path) if path else {}, given)
    except ConfigError as exc:
        print(f"ocelot agent: {exc}", file=sys.stderr)
        return 2
    _configure_logging(options.debug, options.info, options.logfile, maxsize, backups)
    from ocelot.agent.run import AgentError, run_once

    if daemon:
        if not options.sends:
            print("ocelot agent: --daemon needs --server (no --local, --xml, --stdout)", file=sys.stderr)
            return 2
        from ocelot.agent.daemon import StopSignal, run_daemon

        stop = StopSignal()
        stop.install()
        return run_daemon(options, run_once, sleep=stop)
    try:
        return run_once(options)
    except AgentError as exc:
        print(f"ocelot agent: {exc}", file=sys.stderr)
        return 1
