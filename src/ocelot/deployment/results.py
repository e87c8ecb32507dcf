"""Results agents report for packages (QUERY=DOWNLOAD, protocol.md §7, §9.4).

A report is bound to the assignment that exists for that computer and package, when that
assignment still waits for a result (WAITING NOTIFICATION or NOTIFIED): its status becomes
the code, verbatim. Anything else (an unknown computer or package, no assignment, an
assignment that already has its result: a replay or a forgery) is logged and changes no
status (security.md: "forged or replayed reports change nothing"). Every report of a
known computer is kept in the ReportedResult journal, marked bound or not; of the unbound
ones, only the last UNBOUND_KEPT per computer, so that an agent (or anyone who knows a
DEVICEID) repeating reports cannot grow the table without end.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from ocelot.deployment.models import Assignment, ReportedResult
from ocelot.inventory.models import Computer

log = logging.getLogger("ocelot.deployment")
MAX_CODE = 64
UNBOUND_KEPT = 20


def record_result(device_id: str, package_id: int, code: str) -> bool:
    """Bind a reported result to its assignment; True when a status changed.

    OCS answers 200 whatever happens, and so does the endpoint calling this.
    """
    code = code[:MAX_CODE]
    computer = Computer.objects.filter(device_id=device_id).only("id").first()
    if computer is None:
        log.info("result %s for package %s from unknown computer %r ignored", code, package_id, device_id)
        return False
    with transaction.atomic():
        bound = bool(
            Assignment.objects.filter(
                computer=computer,
                package__package_id=package_id,
                status__in=(Assignment.WAITING, Assignment.NOTIFIED),
            ).update(status=code, result_at=timezone.now())
        )
        ReportedResult.objects.create(computer=computer, package_id=package_id, code=code, bound=bound)
        if not bound:
            older = list(
                ReportedResult.objects.filter(computer=computer, bound=False)
                .order_by("-id")
                .values_list("id", flat=True)[UNBOUND_KEPT : UNBOUND_KEPT + 100]
            )
            if older:
                ReportedResult.objects.filter(id__in=older).delete()
    if not bound:
        log.info(
            "result %s for package %s from computer %s matches no pending assignment; nothing changed",
            code,
            package_id,
            computer.pk,
        )
    return bound
