"""Announcing assigned packages in the PROLOG reply (protocol.md §4.4, §10 step 4).

The inventory domain answers contacts and knows nothing of packages: it asks the
providers registered in ``ocelot.inventory.contact.download_package_providers``. This
module is the deployment domain's provider, registered by the app's ``ready()``:

* ``pending_sql()`` is evaluated inside the contact's single SELECT, so a computer with
  no pending assignment and in no group costs no extra query (one in a group costs the
  two reads of :func:`announce`);
* :func:`announce` builds one ``TYPE=PACK`` PARAM per pending assignment, with the
  attributes in the order OCS writes them, and moves WAITING NOTIFICATION to NOTIFIED.

Rules (§4.4): a package in the computer's history is never announced unless forced (its
status becomes SUCCESS_ALREADY_IN_HISTORY, as OCS sets it); NOTIFIED ones are announced
again at every contact until a result comes; a package at most once per reply. A
computer in a group the package is assigned to gets its own assignment at its contact,
unless it has one already or the package is in its history (not forced).
"""

from __future__ import annotations

import datetime
from functools import cache

from django.db import connection, transaction
from django.utils import timezone

from ocelot.deployment.models import Activation, Assignment, GroupAssignment, Package
from ocelot.inventory.contact import DownloadPackageProvider
from ocelot.inventory.models import GroupMember, PackageHistoryEntry
from ocelot.inventory.prepared_statements import prepared_cursor

ALREADY_IN_HISTORY = "SUCCESS_ALREADY_IN_HISTORY"
# OCS stores these at activation and agents ignore them (protocol.md §1.6, §8.3).
CERT_PATH = "INSTALL_PATH"
CERT_FILE = "INSTALL_PATH/cacert.pem"


@cache
def pending_sql() -> str:
    """True when the computer ``{computer}`` has an assignment waiting or notified.

    What its groups bring (a package assigned to a group it is in, not yet its own) is
    looked at by :func:`announce` itself, called for every computer in a group
    (``for_groups``): that EXISTS, in the contact's SELECT, cost every PROLOG about
    0.7 ms on PostgreSQL.
    """
    assignments = Assignment._meta.db_table
    # Table names come from the models; {computer} is the contact's own id column.
    return (
        f"EXISTS(SELECT 1 FROM {assignments} a WHERE a.computer_id = {{computer}}"  # noqa: S608
        f" AND a.status IN ('{Assignment.WAITING}', '{Assignment.NOTIFIED}'))"
    )


def pack_param(
    package_id: int,
    info_location: str,
    fragment_location: str,
    *,
    force: bool,
    schedule: str,
    post_command: str,
) -> dict[str, str]:
    """One TYPE=PACK PARAM, attributes in the order of OCS's reply (protocol.md §4.2, §4.4)."""
    return {
        "TYPE": "PACK",
        "ID": str(package_id),
        "INFO_LOC": info_location,
        "PACK_LOC": fragment_location,
        "CERT_PATH": CERT_PATH,
        "CERT_FILE": CERT_FILE,
        "FORCE": "1" if force else "0",
        "SCHEDULE": schedule,
        "POSTCMD": post_command,
    }


@cache
def _statements() -> tuple[str, str]:
    """The two reads of :func:`announce`, as plain SQL (table names from the models).

    A computer with 50 pending packages is announced them at every contact: as ORM
    queries, building the queries and 50 assignments with their packages and activations
    cost ten times the PROLOG itself (bench/README.md, deployment). Both run at every
    contact of a computer in a group: PostgreSQL keeps them prepared.
    """
    assignments = Assignment._meta.db_table
    groups = GroupAssignment._meta.db_table
    members = GroupMember._meta.db_table
    history = PackageHistoryEntry._meta.db_table
    packages = Package._meta.db_table
    activations = Activation._meta.db_table
    force = connection.ops.quote_name("force")  # a reserved word in MySQL
    in_history = f"EXISTS(SELECT 1 FROM {history} h WHERE h.computer_id = %s AND h.package_id = p.package_id)"  # noqa: S608
    group_candidates = (
        f"SELECT ga.package_id, ga.activation_id, ga.{force}, ga.schedule, ga.post_command,"  # noqa: S608
        f" EXISTS(SELECT 1 FROM {assignments} a WHERE a.package_id = ga.package_id AND a.computer_id = %s),"
        f" {in_history}"
        f" FROM {groups} ga JOIN {members} m ON m.group_id = ga.group_id"
        f" JOIN {packages} p ON p.id = ga.package_id"
        f" WHERE m.computer_id = %s AND m.kind <> %s ORDER BY ga.id"
    )
    pending = (
        f"SELECT a.id, a.status, a.{force}, a.schedule, a.post_command, p.package_id,"  # noqa: S608
        f" v.info_location, v.fragment_location, {in_history}"
        f" FROM {assignments} a JOIN {packages} p ON p.id = a.package_id"
        f" JOIN {activations} v ON v.id = a.activation_id"
        f" WHERE a.computer_id = %s AND a.status IN (%s, %s) ORDER BY a.id"
    )
    return group_candidates, pending


def _join_group_assignments(computer_id: int, now: datetime.datetime) -> None:
    """Give the computer its own assignment of each package assigned to one of its groups.

    Not for a package it already has an assignment of (whatever its status: a validated
    or finished one is not started over), nor one in its history unless forced (OCS skips
    those on the group path, §4.4). The first group assignment of a package wins.
    """
    with prepared_cursor() as cursor:
        cursor.execute(_statements()[0], [computer_id, computer_id, computer_id, GroupMember.EXCLUDED])
        candidates = cursor.fetchall()
    fresh: dict[int, Assignment] = {}
    for package_pk, activation_pk, force, schedule, post_command, assigned, known in candidates:
        if assigned or package_pk in fresh or (known and not force):
            continue
        fresh[package_pk] = Assignment(
            package_id=package_pk,
            activation_id=activation_pk,
            computer_id=computer_id,
            force=bool(force),
            schedule=schedule,
            post_command=post_command,
            assigned_at=now,
        )
    if fresh:
        # Two contacts of one computer at once: the unique constraint keeps one.
        Assignment.objects.bulk_create(fresh.values(), ignore_conflicts=True)


def announce(computer_id: int) -> list[dict[str, str]]:
    """The PACK params for this computer's pending assignments; statuses move on."""
    _join_group_assignments(computer_id, timezone.now())
    with prepared_cursor() as cursor:
        cursor.execute(_statements()[1], [computer_id, computer_id, Assignment.WAITING, Assignment.NOTIFIED])
        pending = cursor.fetchall()
    params: list[dict[str, str]] = []
    in_history: list[int] = []
    to_notify: list[int] = []
    for pk, status, force, schedule, post_command, package_id, info, fragments, known in pending:
        if known and not force:
            in_history.append(pk)
            continue
        params.append(
            pack_param(
                package_id, info, fragments, force=bool(force), schedule=schedule, post_command=post_command
            )
        )
        if status == Assignment.WAITING:
            to_notify.append(pk)
    if in_history or to_notify:
        now = timezone.now()
        with transaction.atomic():
            if in_history:
                Assignment.objects.filter(
                    pk__in=in_history, status__in=(Assignment.WAITING, Assignment.NOTIFIED)
                ).update(status=ALREADY_IN_HISTORY, result_at=now)
            if to_notify:
                # Only still-waiting rows: a result that arrived meanwhile is kept.
                Assignment.objects.filter(pk__in=to_notify, status=Assignment.WAITING).update(
                    status=Assignment.NOTIFIED, notified_at=now
                )
    return params


def provider() -> DownloadPackageProvider:
    """What the app registers with the contact (ocelot.inventory.contact)."""
    return DownloadPackageProvider(pending_sql(), announce, for_groups=True)
