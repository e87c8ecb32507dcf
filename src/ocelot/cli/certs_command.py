"""``ocelot certs show|renew|replace``: the server certificate and the CA (issue 7).

The work is in server/certificates.py; this door parses, calls, prints. Errors are one
line on stderr and exit status 1. No database needed: only the configuration.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ocelot.server.config import load_config

if TYPE_CHECKING:
    from ocelot.server.certificates import CertificateInfo

RESTART = "restart every 'ocelot server' (systemctl restart ocelot-server) to serve it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    shown = actions.add_parser("show", help="subject, names and expiry of the server certificate and the CA")
    shown.add_argument("--json", action="store_true", help="JSON output")
    renew = actions.add_parser(
        "renew", help="a new server certificate from the same CA (agents keep working)"
    )
    renew.add_argument(
        "--name",
        action="append",
        dest="names",
        metavar="NAME",
        help="a DNS name or IP address to cover (repeat; default: the current certificate's)",
    )
    renew.add_argument("--days", type=int, default=825, help="validity in days (default 825)")
    renew.add_argument(
        "--ca",
        action="store_true",
        help="renew the CA certificate instead (same key and subject: issued certificates stay valid)",
    )
    replace = actions.add_parser("replace", help="install a server certificate and key from another CA")
    replace.add_argument("--cert", type=Path, required=True, help="PEM certificate, then its intermediates")
    replace.add_argument("--key", type=Path, required=True, help="PEM private key (unencrypted)")
    replace.add_argument(
        "--ca", type=Path, help="PEM CA the certificate chains to (default: the local CA); published too"
    )


def _print(info: CertificateInfo, now: datetime.datetime) -> None:
    print(f"{info.role}:")
    print(f"  subject:    {info.subject}")
    print(f"  issuer:     {info.issuer}")
    if info.names:
        print(f"  names:      {', '.join(info.names)}")
    print(f"  valid from: {info.not_before:%Y-%m-%d %H:%M:%S} UTC")
    left = info.days_left(now)
    state = "EXPIRED" if info.not_after <= now else f"in {left} days"
    print(f"  expires:    {info.not_after:%Y-%m-%d %H:%M:%S} UTC ({state})")
    print(f"  serial:     {info.serial}")
    print(f"  sha256:     {info.sha256}")


def _as_json(info: CertificateInfo) -> dict[str, object]:
    return {
        "role": info.role,
        "subject": info.subject,
        "issuer": info.issuer,
        "names": list(info.names),
        "not_before": info.not_before.isoformat(),
        "not_after": info.not_after.isoformat(),
        "serial": info.serial,
        "sha256": info.sha256,
    }


def run(args: argparse.Namespace) -> int:
    # Imported here: building the ``ocelot`` parser must not load cryptography.
    from ocelot.server.certificates import CertificateError, renew_ca, renew_server, replace_server, show

    config = load_config()
    now = datetime.datetime.now(datetime.UTC)
    try:
        if args.action == "show":
            found = show(config.pki_dir)
            if args.json:
                print(json.dumps([_as_json(info) for info in found], indent=1))
            else:
                for info in found:
                    _print(info, now)
            return 0
        if args.action == "renew" and args.ca:
            info = renew_ca(config.pki_dir, config.public_dir)
            _print(info, now)
            print(f"CA renewed with the same key; {config.public_dir / 'cacert.pem'} updated.")
            return 0
        if args.action == "renew":
            info = renew_server(config.pki_dir, config.public_dir, names=args.names, days=args.days)
            _print(info, now)
            print(f"Server certificate renewed by the same CA; {RESTART}.")
            return 0
        info = replace_server(config.pki_dir, config.public_dir, args.cert, args.key, args.ca)
        _print(info, now)
        print(f"Server certificate replaced; {config.public_dir / 'cacert.pem'} updated; {RESTART}.")
        return 0
    except CertificateError as exc:
        print(f"ocelot certs: {exc}", file=sys.stderr)
        return 1
