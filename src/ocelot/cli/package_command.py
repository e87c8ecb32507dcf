"""``ocelot package build|list|show|delete|activate|deactivate|assign|unassign|stats|validate|sync``.

Packages from the command line, scriptable with ``--json``.

Each verb parses its options, calls one deployment function and prints the result. Errors
are one line on stderr: exit 2 for bad input (nothing is written), 1 for anything else.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ocelot.protocol.info_file import ACTIONS

if TYPE_CHECKING:
    from ocelot.deployment.models import Package

PROG = "ocelot package"
# The parser is built before Django starts: these mirror Package.OperatingSystem.
OPERATING_SYSTEMS = ("windows", "linux", "macos")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``package`` verbs and their options."""
    verbs = parser.add_subparsers(dest="package_action", required=True)
    build = verbs.add_parser("build", help="check an archive, split it, sign and publish the package")
    build.add_argument("--name", required=True, help="unique package name")
    build.add_argument("--os", required=True, choices=OPERATING_SYSTEMS)
    build.add_argument("--action", required=True, type=str.upper, choices=ACTIONS)
    build.add_argument("--command", default="", help="LAUNCH: archive file to run and its arguments; EXECUTE")
    build.add_argument("--path", default="", help="STORE: directory the files are stored in")
    build.add_argument("--priority", type=int, default=5, help="0 (first, exclusive) to 10 (last); default 5")
    build.add_argument("--protocol", type=str.upper, default="HTTP", help="HTTP (default) or HTTPS")
    build.add_argument("--file", type=Path, help="the zip or tar.gz archive (optional for EXECUTE)")
    size = build.add_mutually_exclusive_group()
    size.add_argument("--fragments", type=int, help="number of fragments")
    size.add_argument("--fragment-size", help="fragment size, e.g. 512K, 2M (default 1M)")
    build.add_argument("--description", default="")
    build.add_argument("--notify-text", help="warn the user with this text first (Windows agents)")
    build.add_argument("--notify-countdown", type=int, help="seconds before the installation starts anyway")
    build.add_argument("--notify-can-abort", action="store_true", help="the user may cancel")
    build.add_argument("--notify-can-delay", action="store_true", help="the user may postpone")
    build.add_argument("--done-action-text", help="the installation needs a user action: which")
    build.add_argument("--json", action="store_true", help="print the package as one JSON object")

    listing = verbs.add_parser("list", help="every package, newest first")
    listing.add_argument("--json", action="store_true", help="a JSON array")

    show = verbs.add_parser("show", help="one package, its fragments and download time estimates")
    show.add_argument("package", help="package ID or name")
    show.add_argument("--json", action="store_true", help="one JSON object")

    delete = verbs.add_parser("delete", help="remove a package: its record, info file and fragments")
    delete.add_argument("package", help="package ID or name")
    delete.add_argument("--json", action="store_true", help="one JSON object")

    activate = verbs.add_parser(
        "activate", help="say where agents fetch the package, after checking it answers"
    )
    activate.add_argument("package", help="package ID or name")
    activate.add_argument(
        "--info-location", help="host[:port]/path of the info file, fetched over HTTPS (default: this server)"
    )
    activate.add_argument(
        "--fragment-location", help="host[:port]/path of the fragments (default: this server's HTTP listener)"
    )
    activate.add_argument(
        "--no-check", action="store_true", help="record it without fetching the files first (copied later)"
    )
    activate.add_argument("--json", action="store_true", help="one JSON object")

    deactivate = verbs.add_parser(
        "deactivate", help="remove an activation and its assignments; files are kept"
    )
    deactivate.add_argument("package", help="package ID or name")
    deactivate.add_argument("--activation", type=int, help="which activation, when there are several")
    deactivate.add_argument("--json", action="store_true", help="one JSON object")

    assign = verbs.add_parser("assign", help="deploy the package to computers or to a group's members")
    assign.add_argument("package", help="package ID or name")
    assign.add_argument("--activation", type=int, help="which activation, when there are several")
    assign.add_argument("--computer", type=int, action="append", default=[], help="computer id (repeatable)")
    assign.add_argument(
        "--computers-from",
        type=argparse.FileType("r"),
        help="file of computer ids ('-' for stdin), e.g. a search's",
    )
    assign.add_argument("--group", help="group id or name: its members of the moment")
    assign.add_argument("--force", action="store_true", help="install even when in the computer's history")
    assign.add_argument(
        "--schedule", default="", help="not before YYYY/MM/DD HH:MM, agent time (Windows agents)"
    )
    assign.add_argument(
        "--post-command", default="", help="REBOOT, SHUTDOWN or a command after success (Windows)"
    )
    assign.add_argument("--json", action="store_true", help="one JSON object")

    unassign = verbs.add_parser("unassign", help="cancel the package for computers (or --all)")
    unassign.add_argument("package", help="package ID or name")
    unassign.add_argument(
        "--computer", type=int, action="append", default=[], help="computer id (repeatable)"
    )
    unassign.add_argument(
        "--computers-from", type=argparse.FileType("r"), help="file of computer ids ('-': stdin)"
    )
    unassign.add_argument("--group", help="group id or name: its members, and no more for later members")
    unassign.add_argument("--all", action="store_true", help="every computer, every group")
    unassign.add_argument("--json", action="store_true", help="one JSON object")

    stats = verbs.add_parser("stats", help="deployment statuses of a package and the computers behind them")
    stats.add_argument("package", help="package ID or name")
    stats.add_argument("--json", action="store_true", help="one JSON object")

    validate = verbs.add_parser("validate", help="clear statistics (seeds: Validate success / all)")
    validate.add_argument("package", help="package ID or name")
    which = validate.add_mutually_exclusive_group(required=True)
    which.add_argument("--success", action="store_true", help="forget successful assignments")
    which.add_argument("--not-notified", action="store_true", help="cancel assignments not yet notified")
    which.add_argument("--all", action="store_true", help="both")
    validate.add_argument("--json", action="store_true", help="one JSON object")

    sync = verbs.add_parser("sync", help="copy fragments to a site's web server, then check them there")
    sync.add_argument("target", help="a local directory, or host:path (rsync over ssh)")
    sync.add_argument("--package", help="package ID or name (default: every activated package)")
    sync.add_argument("--activation", type=int, help="which activation of --package, when there are several")
    sync.add_argument(
        "--location", help="host[:port]/path where the site serves TARGET: fetch the files there"
    )
    sync.add_argument("--rsync", action="store_true", help="copy with rsync to a local directory too")
    sync.add_argument("--json", action="store_true", help="one JSON object")


def _sync(args: argparse.Namespace) -> int:
    """``package sync``: exit 1 when a file does not answer at the site after the copy."""
    from dataclasses import asdict

    from ocelot.deployment.catalogue import find_package
    from ocelot.deployment.sync import chosen_activations, sync_fragments

    package = find_package(args.package) if args.package else None
    chosen = chosen_activations(package, args.activation)
    result = sync_fragments(args.target, chosen, location=args.location, rsync=args.rsync)
    for failure in result.failures:
        print(f"{PROG}: {failure}", file=sys.stderr)
    _emit(
        args,
        asdict(result),
        f"{len(result.packages)} packages to {result.target}: {result.copied} fragments copied "
        f"({result.bytes_copied} bytes), {result.unchanged} already there"
        + (
            f"; checked at {args.location}: {'failed' if result.failures else 'every file answers'}"
            if result.checked
            else ""
        ),
    )
    return 1 if result.failures else 0


def package_record(package: Package, *, details: bool = False) -> dict[str, Any]:
    """A package as JSON: the info file's fields, the archive's digests, where the files are."""
    from ocelot.deployment.download_estimate import current_latencies, estimates_by_priority
    from ocelot.deployment.storage import default_store

    record: dict[str, Any] = {
        "id": package.package_id,
        "name": package.name,
        "description": package.description,
        "os": package.os,
        "protocol": package.protocol,
        "priority": package.priority,
        "action": package.action,
        "command": package.command,
        "path": package.path,
        "notify_user": package.notify_user,
        "notify_text": package.notify_text,
        "notify_countdown": package.notify_countdown,
        "notify_can_abort": package.notify_can_abort,
        "notify_can_delay": package.notify_can_delay,
        "need_done_action": package.need_done_action,
        "need_done_action_text": package.need_done_action_text,
        "archive_name": package.archive_name,
        "archive_format": package.archive_format,
        "size": package.size,
        "fragment_count": package.fragment_count,
        "md5": package.md5,
        "sha256": package.sha256,
        "key_id": package.key_id,
        "created_at": package.created_at.isoformat(),
    }
    if details:
        record["directory"] = str(default_store().package_dir(package.package_id))
        record["fragments"] = package.fragments
        estimates = estimates_by_priority(package.fragment_count, current_latencies())
        record["download_estimates"] = {str(priority): seconds for priority, seconds in estimates.items()}
        record["activations"] = [activation_record(a) for a in package.activations.order_by("id")]
    return record


class _Progress:
    """``building: 42% (120 of 286 MiB)`` on a terminal's stderr, at most ten times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown_at = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.shown_at < 0.1:
            return
        self.shown_at = now
        mib = 1024 * 1024
        percent = 100 * done // total if total else 100
        self.stream.write(f"\rbuilding: {percent:3d}% ({done // mib} of {total // mib} MiB)")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "never (priority above the period length)"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def _print_package(record: dict[str, Any]) -> None:
    print(f"{record['id']}  {record['name']}")
    print(f"    {record['os']}  {record['action']}  priority {record['priority']}  {record['protocol']}")
    if record["command"]:
        print(f"    command: {record['command']}")
    if record["path"]:
        print(f"    path: {record['path']}")
    if record["size"]:
        print(
            f"    archive: {record['archive_format']}, {record['size']} bytes, "
            f"{record['fragment_count']} fragments"
        )
        print(f"    md5 {record['md5']}  sha256 {record['sha256']}")
    for activation in record.get("activations", []):
        print(
            f"    activation {activation['activation']}: info https://{activation['info_location']}, "
            f"fragments {record['protocol'].lower()}://{activation['fragment_location']}"
        )
    if "download_estimates" in record:
        print(f"    files: {record['directory']}")
        print("    waiting time for agents with the current latencies, by priority:")
        for priority, seconds in record["download_estimates"].items():
            print(f"      {priority:>2}: {_duration(seconds)}")


def _build(args: argparse.Namespace) -> Package:
    from ocelot.deployment.build import PackageRequest, build_package
    from ocelot.deployment.errors import PackageInputError
    from ocelot.deployment.fragments import parse_fragment_size

    fragment_size = parse_fragment_size(args.fragment_size) if args.fragment_size is not None else None
    request = PackageRequest.from_options(
        name=args.name,
        os=args.os,
        action=args.action,
        command=args.command,
        path=args.path,
        priority=args.priority,
        protocol=args.protocol,
        description=args.description,
        notify_text=args.notify_text,
        notify_countdown=args.notify_countdown,
        notify_can_abort=args.notify_can_abort,
        notify_can_delay=args.notify_can_delay,
        done_action_text=args.done_action_text,
        fragment_count=args.fragments,
        fragment_size=fragment_size,
        archive_name=args.file.name if args.file is not None else "",
    )
    progress = _Progress(sys.stderr) if sys.stderr.isatty() else None
    if args.file is None:
        return build_package(request, None, progress=progress)
    if not args.file.is_file():
        raise PackageInputError(f"{args.file}: no such file.")
    try:
        handle = args.file.open("rb")
    except OSError as exc:
        raise PackageInputError(f"{args.file}: {exc.strerror}.") from exc
    with handle:
        return build_package(request, handle, progress=progress)


def _computer_ids(args: argparse.Namespace) -> list[int]:
    from ocelot.deployment.errors import AssignmentError

    ids = list(args.computer)
    if args.computers_from is not None:
        for word in args.computers_from.read().replace(",", " ").split():
            if not word.isdigit():
                raise AssignmentError(f"{word!r} is not a computer id.")
            ids.append(int(word))
    return ids


def activation_record(activation: Any) -> dict[str, Any]:
    return {
        "activation": activation.pk,
        "package": activation.package.package_id,
        "info_location": activation.info_location,
        "fragment_location": activation.fragment_location,
        "activated_at": activation.activated_at.isoformat(),
    }


def _emit(args: argparse.Namespace, record: dict[str, Any], text: str) -> None:
    print(json.dumps(record) if args.json else text)


def _deployment_verb(args: argparse.Namespace) -> None:
    """activate, deactivate, assign, unassign, stats, validate."""
    from ocelot.deployment import activation as activations
    from ocelot.deployment import assignment
    from ocelot.deployment.catalogue import find_package
    from ocelot.deployment.errors import AssignmentError
    from ocelot.deployment.groups import find_group

    package = find_package(args.package)
    verb = args.package_action
    if verb == "activate":
        result = activations.activate(
            package, args.info_location, args.fragment_location, check=not args.no_check
        )
        record = {
            **activation_record(result.activation),
            "checked": not args.no_check,
            "warnings": result.warnings,
        }
        if not args.json:
            for warning in result.warnings:
                print(f"{PROG}: warning: {warning}", file=sys.stderr)
        _emit(
            args,
            record,
            f"package {package.package_id} activated (activation {result.activation.pk}): "
            f"info https://{result.activation.info_location}/{package.package_id}/info, "
            f"fragments {package.protocol.lower()}://{result.activation.fragment_location}/{package.package_id}/",
        )
    elif verb == "deactivate":
        chosen = activations.find_activation(package, args.activation)
        removed = activations.deactivate(chosen)
        _emit(
            args,
            {**activation_record(chosen), "deactivated": True, "assignments_removed": removed},
            f"activation {chosen.pk} of package {package.package_id} removed "
            f"({removed} assignments cancelled; the files are kept)",
        )
    elif verb == "assign":
        chosen = activations.find_activation(package, args.activation)
        options = assignment.AssignmentOptions(args.force, args.schedule, args.post_command)
        ids = _computer_ids(args)
        if args.group is None and not ids:
            raise AssignmentError("Say which computers: --computer, --computers-from or --group.")
        outcome = assignment.assign(chosen, ids, options)
        if args.group is not None:
            # The group's members now, and its later members at their next contact.
            group = find_group(args.group)
            ids += assignment.group_computer_ids(group)
            grouped = assignment.assign_to_group(chosen, group, options)
            outcome = assignment.AssignOutcome(
                outcome.created + grouped.created, outcome.restarted + grouped.restarted
            )
        _emit(
            args,
            {
                "package": package.package_id,
                "activation": chosen.pk,
                "created": outcome.created,
                "restarted": outcome.restarted,
                "computers": sorted(set(ids)),
            },
            f"package {package.package_id} assigned to {outcome.total} computers "
            f"({outcome.created} new, {outcome.restarted} started over)",
        )
    elif verb == "unassign":
        ids = _computer_ids(args)
        if args.group is not None:
            group = find_group(args.group)
            assignment.unassign_group(package, group)
            ids += assignment.group_computer_ids(group)
        elif not ids and not args.all:
            raise AssignmentError("Say which computers: --computer, --computers-from, --group or --all.")
        removed = assignment.unassign(package, None if args.all else ids)
        _emit(
            args,
            {"package": package.package_id, "removed": removed},
            f"package {package.package_id} unassigned from {removed} computers",
        )
    elif verb == "validate":
        if args.success:
            removed = assignment.validate_success(package)
        elif args.not_notified:
            removed = assignment.unassign_not_notified(package)
        else:
            removed = assignment.validate_all(package)
        _emit(
            args,
            {"package": package.package_id, "removed": removed},
            f"package {package.package_id}: {removed} assignments cleared",
        )
    else:
        _print_statistics(args, package)


def _print_statistics(args: argparse.Namespace, package: Any) -> None:
    from ocelot.deployment import assignment
    from ocelot.deployment.activation import activations

    stats = assignment.statistics(package)
    rows = list(
        package.assignments.select_related("computer")
        .order_by("computer_id")
        .values_list("computer_id", "computer__device_id", "computer__name", "status", "activation_id")
    )
    record = {
        "package": package.package_id,
        "name": package.name,
        "activations": [activation_record(a) for a in activations(package)],
        "total": stats.total,
        "categories": stats.categories,
        "statuses": stats.statuses,
        "computers": [
            {
                "id": pk,
                "device_id": device_id,
                "name": name,
                "status": assignment.status_label(status),
                "category": assignment.classify(status),
                "activation": activation_id,
            }
            for pk, device_id, name, status, activation_id in rows
        ],
    }
    if args.json:
        print(json.dumps(record))
        return
    print(f"{package.package_id}  {package.name}: {stats.total} computers")
    for activation in record["activations"]:
        print(
            f"    activation {activation['activation']}: {activation['info_location']} / "
            f"{activation['fragment_location']}"
        )
    print("    " + "  ".join(f"{name} {count}" for name, count in stats.categories.items()))
    for status, count in stats.statuses.items():
        print(f"    {count:6d}  {status}")


DEPLOYMENT_VERBS = ("activate", "deactivate", "assign", "unassign", "stats", "validate")


def run(args: argparse.Namespace) -> int:
    """Run one ``package`` verb (Django is set up by the caller); the exit status."""
    from ocelot.deployment.catalogue import delete_package, find_package, packages
    from ocelot.deployment.errors import PackageError, PackageInputError

    try:
        if args.package_action == "sync":
            return _sync(args)
        if args.package_action in DEPLOYMENT_VERBS:
            _deployment_verb(args)
        elif args.package_action == "build":
            record = package_record(_build(args), details=True)
            if args.json:
                print(json.dumps(record))
            else:
                _print_package(record)
        elif args.package_action == "list":
            records = [package_record(package) for package in packages()]
            if args.json:
                print(json.dumps(records))
            else:
                for record in records:
                    print(
                        f"{record['id']}  {record['name']}  {record['os']}  {record['action']}  "
                        f"priority {record['priority']}  {record['fragment_count']} fragments"
                    )
        elif args.package_action == "show":
            record = package_record(find_package(args.package), details=True)
            if args.json:
                print(json.dumps(record))
            else:
                _print_package(record)
        else:
            package = find_package(args.package)
            delete_package(package)
            if args.json:
                print(json.dumps({"id": package.package_id, "name": package.name, "deleted": True}))
            else:
                print(f"package {package.package_id} ({package.name}) deleted")
    except PackageInputError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except PackageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130
    return 0
