"""Announcing assigned packages in the PROLOG reply (protocol.md §4.4, §10 step 4).

The inventory domain answers contacts and knows nothing of packages: it asks the
providers registered in ``ocelot.inventory.contact.download_package_providers``. This
module is the deployment domain's provider, registered by the app's ``ready()``:

* ``PENDING_SQL`` is evaluated inside the contact's single SELECT, so a computer without
  a pending assignment costs no extra query;
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

from ocelot.deployment.models import Assignment, GroupAssignment, Package
from ocelot.inventory.contact import DownloadPackageProvider
from ocelot.inventory.models import GroupMember, PackageHistoryEntry

ALREADY_IN_HISTORY = "SUCCESS_ALREADY_IN_HISTORY"
# OCS stores these at activation and agents ignore them (protocol.md §1.6, §8.3).
CERT_PATH = "INSTALL_PATH"
CERT_FILE = "INSTALL_PATH/cacert.pem"


@cache
def pending_sql() -> str:
    """True when the computer ``{computer}`` has an assignment waiting or notified, or is in
    a group the package is assigned to without having its own assignment yet (and without
    the package in its history, unless forced)."""
    assignments = Assignment._meta.db_table
    groups = GroupAssignment._meta.db_table
    members = GroupMember._meta.db_table
    history = PackageHistoryEntry._meta.db_table
    packages = Package._meta.db_table
    force = connection.ops.quote_name("force")  # a reserved word in MySQL
    # Table names come from the models; {computer} is the contact's own id column.
    own = (
        f"EXISTS(SELECT 1 FROM {assignments} a WHERE a.computer_id = {{computer}}"  # noqa: S608
        f" AND a.status IN ('{Assignment.WAITING}', '{Assignment.NOTIFIED}'))"
    )
    joined = (
        f"EXISTS(SELECT 1 FROM {groups} ga"  # noqa: S608
        f" JOIN {members} m ON m.group_id = ga.group_id"
        f" JOIN {packages} p ON p.id = ga.package_id"
        f" WHERE m.computer_id = {{computer}} AND m.kind <> '{GroupMember.EXCLUDED}'"
        f" AND NOT EXISTS(SELECT 1 FROM {assignments} a2 WHERE a2.package_id = ga.package_id"
        f" AND a2.computer_id = {{computer}})"
        f" AND (ga.{force} OR NOT EXISTS(SELECT 1 FROM {history} h"
        f" WHERE h.computer_id = {{computer}} AND h.package_id = p.package_id)))"
    )
    return f"({own} OR {joined})"


def pack_param(assignment: Assignment) -> dict[str, str]:
    """One TYPE=PACK PARAM, attributes in the order of OCS's reply (protocol.md §4.2, §4.4)."""
    activation = assignment.activation
    return {
        "TYPE": "PACK",
        "ID": str(assignment.package.package_id),
        "INFO_LOC": activation.info_location,
        "PACK_LOC": activation.fragment_location,
        "CERT_PATH": CERT_PATH,
        "CERT_FILE": CERT_FILE,
        "FORCE": "1" if assignment.force else "0",
        "SCHEDULE": assignment.schedule,
        "POSTCMD": assignment.post_command,
    }


def _join_group_assignments(computer_id: int, now: datetime.datetime) -> None:
    """Give the computer its own assignment of each package assigned to one of its groups.

    Not for a package it already has an assignment of (whatever its status: a validated
    or finished one is not started over), nor one in its history unless forced (OCS skips
    those on the group path, §4.4). The first group assignment of a package wins.
    """
    groups = GroupMember.objects.filter(computer_id=computer_id).exclude(kind=GroupMember.EXCLUDED)
    candidates = list(
        GroupAssignment.objects.filter(group_id__in=groups.values("group_id"))
        .select_related("package")
        .order_by("id")
    )
    if not candidates:
        return
    assigned = set(
        Assignment.objects.filter(
            computer_id=computer_id, package_id__in=[c.package_id for c in candidates]
        ).values_list("package_id", flat=True)
    )
    history = set(
        PackageHistoryEntry.objects.filter(
            computer_id=computer_id, package_id__in=[c.package.package_id for c in candidates]
        ).values_list("package_id", flat=True)
    )
    fresh: dict[int, Assignment] = {}
    for candidate in candidates:
        if candidate.package_id in assigned or candidate.package_id in fresh:
            continue
        if candidate.package.package_id in history and not candidate.force:
            continue
        fresh[candidate.package_id] = Assignment(
            package_id=candidate.package_id,
            activation_id=candidate.activation_id,
            computer_id=computer_id,
            force=candidate.force,
            schedule=candidate.schedule,
            post_command=candidate.post_command,
            assigned_at=now,
        )
    # Two contacts of one computer at once: the unique constraint keeps one.
    Assignment.objects.bulk_create(fresh.values(), ignore_conflicts=True)


def announce(computer_id: int) -> list[dict[str, str]]:
    """The PACK params for this computer's pending assignments; statuses move on."""
    _join_group_assignments(computer_id, timezone.now())
    pending = list(
        Assignment.objects.filter(
            computer_id=computer_id, status__in=(Assignment.WAITING, Assignment.NOTIFIED)
        )
        .select_related("activation", "package")
        .order_by("id")
    )
    if not pending:
        return []
    history = set(
        PackageHistoryEntry.objects.filter(
            computer_id=computer_id, package_id__in=[a.package.package_id for a in pending]
        ).values_list("package_id", flat=True)
    )
    now = timezone.now()
    params: list[dict[str, str]] = []
    in_history: list[int] = []
    to_notify: list[int] = []
    for assignment in pending:
        if assignment.package.package_id in history and not assignment.force:
            in_history.append(assignment.pk)
            continue
        params.append(pack_param(assignment))
        if assignment.status == Assignment.WAITING:
            to_notify.append(assignment.pk)
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
    return DownloadPackageProvider(pending_sql(), announce)
