"""``python -m ocelot.agent.deployment``: go on with the downloads on disk, without a PROLOG.

What the Unix agent's detached worker does between two contacts (protocol.md §9.2): the
packages already announced (their PACK params and the last CONF are kept under
``download/``) are downloaded, installed and reported. Nothing new is learnt from the
server; an ``ocelot agent`` run does that. Same config file and options as the agent.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from ocelot.agent.collectors.hardware import short_hostname
from ocelot.agent.config import DEFAULT_CONFIG, ConfigError, build_options, read_config_file
from ocelot.agent.deployment.engine import resume_downloads
from ocelot.agent.host import MachineHost
from ocelot.agent.state import AgentState, vardir_for


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ocelot.agent.deployment",
        description="Go on with the package downloads the server announced, without contacting it first.",
    )
    parser.add_argument("--conf", type=Path, help=f"config file (default: {DEFAULT_CONFIG})")
    parser.add_argument("-s", "--server", help="the server the packages came from (its state directory)")
    parser.add_argument("--basevardir", type=Path, help="state directory (one subdirectory per server)")
    parser.add_argument("--ca", type=Path, help="CA certificate file for https")
    parser.add_argument("--ssl", choices=("0", "1"), help="1 (default): check certificates")
    parser.add_argument(
        "--unsigned-packages", action="store_const", const=True, help="accept unsigned packages"
    )
    parser.add_argument("-d", "--debug", action="store_const", const=True, help="debug log")
    parser.add_argument("-i", "--info", action="store_const", const=True, help="informational log")
    given = vars(parser.parse_args(argv))
    conf = given.pop("conf")
    if given["ssl"] is not None:
        given["ssl"] = given["ssl"] == "1"
    try:
        path = conf or (DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None)
        options = build_options(read_config_file(path) if path else {}, given)
    except ConfigError as exc:
        print(f"ocelot agent deployment: {exc}", file=sys.stderr)
        return 2
    if not options.server:
        print("ocelot agent deployment: give --server URL (or server= in the config file)", file=sys.stderr)
        return 2
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] %(name)s: %(message)s"))
    logger = logging.getLogger("ocelot.agent")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if options.debug else logging.INFO if options.info else logging.WARNING)
    logger.propagate = False
    vardir = vardir_for(options.vardir_base(), options.server)
    if not (vardir / "download").is_dir():
        logger.info("no download state in %s: nothing to go on with", vardir)
        return 0
    ca_file = options.ca
    if ca_file is None and (vardir / "cacert.pem").exists():
        ca_file = vardir / "cacert.pem"
    resume_downloads(
        vardir=vardir,
        device_id=AgentState(vardir).device_id(short_hostname(MachineHost())),
        server_url=options.server,
        verify=options.ssl,
        ca_file=ca_file,
        timeout=options.timeout,
        accept_unsigned=options.unsigned_packages,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
