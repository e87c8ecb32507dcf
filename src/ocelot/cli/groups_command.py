"""``ocelot groups list|create|show|recompute|add|exclude|release|delete``.

Groups from the command line, scriptable with ``--json``. A dynamic group is created with
its search, given either as repeated ``--criterion FIELD OPERATOR VALUE [VALUE2]`` or as
the console's search query string (``--search 'field=os&op=EQUAL&value=*windows*'``).
``ocelot groups recompute --stale`` is the periodic recompute, for a cron job or systemd
timer (docs/operations.md, "Groups").

Errors are one line on stderr: exit 2 for bad input (nothing is written), 1 for anything else.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

PROG = "ocelot groups"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``groups`` verbs and their options."""
    verbs = parser.add_subparsers(dest="groups_action", required=True)

    listing = verbs.add_parser("list", help="every group with its member counts and cache age")
    listing.add_argument("--json", action="store_true", help="a JSON array")

    create = verbs.add_parser("create", help="a static group, or a dynamic one with a search")
    create.add_argument("name")
    create.add_argument("--description", default="")
    create.add_argument(
        "--visible", action="store_true", help="users (not only administrators) may add to it"
    )
    create.add_argument(
        "--criterion",
        nargs="+",
        action="append",
        metavar="FIELD OPERATOR VALUE [VALUE2]",
        help="a search criterion (repeat it); makes the group dynamic",
    )
    create.add_argument("--search", help="the search as the console's query string; makes the group dynamic")
    create.add_argument("--json", action="store_true", help="one JSON object")

    show = verbs.add_parser("show", help="one group and its members")
    show.add_argument("group", help="group id or name")
    show.add_argument("--json", action="store_true", help="one JSON object")

    recompute = verbs.add_parser("recompute", help="recompute dynamic groups' members from their searches")
    recompute.add_argument("groups", nargs="*", help="group ids or names (default: every dynamic group)")
    recompute.add_argument(
        "--stale", action="store_true", help="only groups older than GROUPS_CACHE_REVALIDATE"
    )
    recompute.add_argument("--json", action="store_true", help="a JSON array")

    for verb, text in (
        ("add", "force computers into a group"),
        ("exclude", "keep computers out of a group whatever its search says"),
        ("release", "remove the forced or excluded mark of computers"),
    ):
        sub = verbs.add_parser(verb, help=text)
        sub.add_argument("group", help="group id or name")
        sub.add_argument("computers", nargs="+", help="computer ids, DEVICEIDs or names")
        sub.add_argument("--json", action="store_true", help="one JSON object")

    delete = verbs.add_parser("delete", help="remove a group (its computers stay)")
    delete.add_argument("group", help="group id or name")
    delete.add_argument("--json", action="store_true", help="one JSON object")


class _InputError(Exception):
    """Bad arguments: exit 2."""


def _criteria(args: argparse.Namespace) -> list[Any] | None:
    from django.http import QueryDict

    from ocelot.inventory.search import EQUAL, Criterion, SearchError, criteria_from_params

    if args.criterion and args.search:
        raise _InputError("give --criterion or --search, not both")
    if args.search is not None:
        try:
            return criteria_from_params(QueryDict(args.search))
        except SearchError as exc:
            raise _InputError(str(exc)) from exc
    if not args.criterion:
        return None
    criteria = []
    for items in args.criterion:
        if len(items) not in (3, 4):
            raise _InputError("--criterion takes FIELD OPERATOR VALUE [VALUE2]")
        field, operator, value, *rest = items
        criteria.append(Criterion(field, operator.upper() or EQUAL, value, rest[0] if rest else ""))
    return criteria


def _describe(record: dict[str, Any]) -> str:
    kind = "dynamic" if record["dynamic"] else "static"
    text = f"{record['id']}  {record['name']}  {kind}{'  visible' if record['visible'] else ''}  "
    text += f"{record['members']} members ({record['computed']} computed, {record['forced']} forced"
    text += f", {record['excluded']} excluded)"
    if record["dynamic"]:
        age = record["cache_age_seconds"]
        text += "  never computed" if age is None else f"  computed {age} s ago"
    return text


def _show(group: Any, as_json: bool) -> None:
    from ocelot.inventory import groups

    record = groups.group_record(groups.summary(group))
    record["computers"] = [
        {
            "id": row.computer_id,
            "name": row.computer.name,
            "device_id": row.computer.device_id,
            "kind": row.kind,
        }
        for row in groups.memberships(group)
    ]
    if as_json:
        print(json.dumps(record))
        return
    print(_describe(record))
    if record["description"]:
        print(f"  {record['description']}")
    for criterion in record["criteria"] or []:
        values = " ".join(repr(criterion[key]) for key in ("value", "value2") if criterion[key])
        print(f"  where {criterion['field']} {criterion['operator']} {values}")
    for computer in record["computers"]:
        print(f"    {computer['id']:8d}  {computer['kind']:8s}  {computer['name']}  {computer['device_id']}")


def _run(args: argparse.Namespace) -> None:
    from ocelot.inventory import groups

    action = args.groups_action
    if action == "list":
        groups.recompute_stale()
        records = [groups.group_record(item) for item in groups.summaries()]
        print(json.dumps(records) if args.json else "\n".join(_describe(record) for record in records))
    elif action == "create":
        group = groups.create_group(
            args.name, description=args.description, visible=args.visible, criteria=_criteria(args)
        )
        record = groups.group_record(groups.summary(group))
        print(json.dumps(record) if args.json else _describe(record))
    elif action == "show":
        _show(groups.find_group(args.group), args.json)
    elif action == "recompute":
        if args.groups:
            outcomes = [groups.recompute(groups.find_group(reference)) for reference in args.groups]
        else:
            outcomes = groups.recompute_stale() if args.stale else groups.recompute_all()
        records = [
            {"id": item.group.pk, "name": item.group.name, "joined": item.joined, "left": item.left}
            for item in outcomes
        ]
        if args.json:
            print(json.dumps(records))
        else:
            for record in records:
                print(f"{record['id']}  {record['name']}  {record['joined']} joined, {record['left']} left")
    elif action in ("add", "exclude", "release"):
        group = groups.find_group(args.group)
        ids = groups.find_computer_ids(args.computers)
        change = {"add": groups.force_in, "exclude": groups.exclude, "release": groups.release}[action]
        count = change(group, ids)
        if args.json:
            print(json.dumps({"id": group.pk, "name": group.name, action: count}))
        else:
            print(f"group {group.name}: {count} computers changed")
    else:
        group = groups.find_group(args.group)
        record = {"id": group.pk, "name": group.name, "deleted": True}
        groups.delete_group(group)
        print(json.dumps(record) if args.json else f"group {record['id']} ({record['name']}) deleted")


def run(args: argparse.Namespace) -> int:
    """Run one ``groups`` verb (Django is set up by the caller); the exit status."""
    from ocelot.inventory.groups import GroupError

    try:
        _run(args)
    except _InputError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except GroupError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2 if args.groups_action == "create" else 1
    return 0
