"""Results agents report for packages (QUERY=DOWNLOAD)."""

from __future__ import annotations

from ocelot.deployment.models import ReportedResult
from ocelot.inventory.models import Computer


def record_result(device_id: str, package_id: int, code: str) -> bool:
    """Store a reported result; False when the computer is unknown (OCS answers 200 anyway)."""
    computer = Computer.objects.filter(device_id=device_id).only("id").first()
    if computer is None:
        return False
    ReportedResult.objects.create(computer=computer, package_id=package_id, code=code)
    return True
