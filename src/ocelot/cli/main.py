"""The ``ocelot`` command: server, import, settings, users and tokens (more verbs join with later issues).

Every verb parses its arguments, calls one domain function and prints the result; errors
are one line on stderr with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocelot.server.settings")
    import django

    django.setup()


def _cmd_server(args: argparse.Namespace) -> int:
    from ocelot.cli import server

    return server.run(http=args.http, https=args.https, workers=args.workers, fragments=args.fragments)


def _cmd_init(args: argparse.Namespace) -> int:
    from ocelot.cli import server

    server.initialise(verbose=True)
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    _setup_django()
    from ocelot.cli import local_import

    return local_import.run(args.paths)


def _cmd_settings(args: argparse.Namespace) -> int:
    _setup_django()
    from ocelot.cli import settings_command

    return settings_command.run(args)


def _cmd_package(args: argparse.Namespace) -> int:
    _setup_django()
    from ocelot.cli import package_command

    return package_command.run(args)


def _cmd_groups(args: argparse.Namespace) -> int:
    _setup_django()
    from ocelot.cli import groups_command

    return groups_command.run(args)


def _cmd_backup(args: argparse.Namespace) -> int:
    _setup_django()
    from ocelot.cli import backup_command

    return backup_command.run_backup(args)


def _cmd_restore(args: argparse.Namespace) -> int:
    _setup_django()
    from ocelot.cli import backup_command

    return backup_command.run_restore(args)


def _cmd_certs(args: argparse.Namespace) -> int:
    from ocelot.cli import certs_command

    return certs_command.run(args)


def _cmd_users(args: argparse.Namespace) -> int:
    _setup_django()
    from ocelot.accounts.administrators import AccountError, create_user

    try:
        password = create_user(args.username, administrator=args.admin, password=None)
    except AccountError as exc:
        print(f"ocelot users: {exc}", file=sys.stderr)
        return 1
    print(f"user {args.username} created; password (shown once): {password}")
    return 0


def _cmd_tokens(args: argparse.Namespace) -> int:
    _setup_django()
    from ocelot.accounts import audit, tokens

    try:
        if args.action == "create":
            secret = tokens.create_token_for(args.username, args.name)
            audit.record(None, "token.create", args.username, name=args.name)
            print(f"token for {args.username} (shown once, keep it secret): {secret}")
            return 0
        for token in tokens.tokens_for(args.username):
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            created = f"{token.created_at:%Y-%m-%d %H:%M}"
            print(f"{token.prefix}...  {token.name}  created {created}  last used {used}")
    except LookupError as exc:
        print(f"ocelot tokens: {exc.args[0]}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocelot", description="Ocelot inventory and deployment server")
    verbs = parser.add_subparsers(dest="verb", required=True)

    server = verbs.add_parser("server", help="initialise if needed, migrate, and serve HTTP and HTTPS")
    server.add_argument("--http", help="HOST:PORT for agents and fragments (default 127.0.0.1:8080)")
    server.add_argument(
        "--https", help="HOST:PORT for the console, API and info files (default 127.0.0.1:8443)"
    )
    server.add_argument(
        "--fragments",
        help="HOST:PORT of the fragment listener (default 127.0.0.1:8081; '' turns it off)",
    )
    server.add_argument("--workers", type=int, help="worker processes per listener (default: one per core)")
    server.set_defaults(func=_cmd_server)

    init = verbs.add_parser("init", help="initialise $OCELOT_HOME (database, CA, first administrator)")
    init.set_defaults(func=_cmd_init)

    imp = verbs.add_parser("import", help="import .ocs and .xml inventory files or directories")
    imp.add_argument("paths", nargs="*", default=["."], help="files or directories (default: .)")
    imp.set_defaults(func=_cmd_import)

    st = verbs.add_parser("settings", help="list, read and change general options")
    st_verbs = st.add_subparsers(dest="action", required=True)
    st_list = st_verbs.add_parser("list", help="every option with its value, default and help")
    st_list.add_argument("--category", help="only one category (inventory, deployment, ipdiscover, ...)")
    st_list.add_argument("--json", action="store_true", help="JSON output")
    st_get = st_verbs.add_parser("get", help="one option's value")
    st_get.add_argument("name")
    st_set = st_verbs.add_parser("set", help="change one option (validated)")
    st_set.add_argument("name")
    st_set.add_argument("value")
    st_reset = st_verbs.add_parser("reset", help="return one option to its default")
    st_reset.add_argument("name")
    st.set_defaults(func=_cmd_settings)

    pkg = verbs.add_parser("package", help="build, list, show and delete deployment packages")
    from ocelot.cli.package_command import add_arguments as add_package_arguments

    add_package_arguments(pkg)
    pkg.set_defaults(func=_cmd_package)

    grp = verbs.add_parser("groups", help="static and dynamic groups of computers")
    from ocelot.cli.groups_command import add_arguments as add_groups_arguments

    add_groups_arguments(grp)
    grp.set_defaults(func=_cmd_groups)

    backup = verbs.add_parser("backup", help="write the database, package files and keys to one archive")
    restore = verbs.add_parser("restore", help="check an archive and replace everything with its content")
    from ocelot.cli.backup_command import add_backup_arguments, add_restore_arguments

    add_backup_arguments(backup)
    backup.set_defaults(func=_cmd_backup)
    add_restore_arguments(restore)
    restore.set_defaults(func=_cmd_restore)

    certs = verbs.add_parser("certs", help="show, renew and replace the server certificate and the CA")
    from ocelot.cli.certs_command import add_arguments as add_certs_arguments

    add_certs_arguments(certs)
    certs.set_defaults(func=_cmd_certs)

    users = verbs.add_parser("users", help="manage console users")
    users_verbs = users.add_subparsers(dest="action", required=True)
    add = users_verbs.add_parser("add", help="create a user with a generated password")
    add.add_argument("username")
    add.add_argument("--admin", action="store_true", help="an administrator")
    users.set_defaults(func=_cmd_users)

    tok = verbs.add_parser("tokens", help="REST API tokens of a user")
    tok_verbs = tok.add_subparsers(dest="action", required=True)
    tok_create = tok_verbs.add_parser("create", help="a new token; its secret is printed once")
    tok_create.add_argument("username")
    tok_create.add_argument("--name", default="cli", help="what the token is for (default: cli)")
    tok_list = tok_verbs.add_parser("list", help="a user's tokens (prefix, name, creation, last use)")
    tok_list.add_argument("username")
    tok.set_defaults(func=_cmd_tokens)

    # The agent parses its own options (ocelot.agent.command); main() hands them over.
    verbs.add_parser(
        "agent", help="inventory this computer (the Ocelot agent; --help for its options)", add_help=False
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["agent"]:
        from ocelot.agent.command import main as agent_main

        return agent_main(arguments[1:])
    args = build_parser().parse_args(arguments)
    from ocelot.server.config import ConfigError

    try:
        return int(args.func(args))
    except ConfigError as exc:
        # A bad OCELOT_* variable or ocelot.toml: say which, without a stack trace.
        print(f"ocelot: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
