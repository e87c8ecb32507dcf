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
again at every contact until a result comes; a package at most once per reply.
"""

from __future__ import annotations

from functools import cache

from django.db import transaction
from django.utils import timezone

from ocelot.deployment.models import Assignment
from ocelot.inventory.contact import DownloadPackageProvider
from ocelot.inventory.models import PackageHistoryEntry

ALREADY_IN_HISTORY = "SUCCESS_ALREADY_IN_HISTORY"
# OCS stores these at activation and agents ignore them (protocol.md §1.6, §8.3).
CERT_PATH = "INSTALL_PATH"
CERT_FILE = "INSTALL_PATH/cacert.pem"


@cache
def pending_sql() -> str:
    """True when the computer ``{computer}`` has an assignment waiting or notified."""
    table = Assignment._meta.db_table
    return (
        f"EXISTS(SELECT 1 FROM {table} a WHERE a.computer_id = {{computer}}"  # noqa: S608 - model names
        f" AND a.status IN ('{Assignment.WAITING}', '{Assignment.NOTIFIED}'))"
    )


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


def announce(computer_id: int) -> list[dict[str, str]]:
    """The PACK params for this computer's pending assignments; statuses move on."""
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
