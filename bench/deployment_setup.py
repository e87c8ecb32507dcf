"""Set-up steps of the deployment benchmark that run inside Django (bench/deployment.py).

Run as ``python -m bench.deployment_setup VERB ...`` with ``OCELOT_HOME`` pointing at the
installation under test; prints one JSON object. Kept out of bench/deployment.py so that
the measuring process never imports Django.

* ``assign-many COUNT COMPUTER``: COUNT packages without archive (EXECUTE ``true``), each
  activated on this server's default locations without the download check (nothing to
  check: they have no fragment) and assigned to the computer with that DEVICEID.
"""

from __future__ import annotations

import json
import os
import sys


def _assign_many(count: int, device_id: str) -> dict[str, object]:
    from ocelot.deployment.activation import activate
    from ocelot.deployment.assignment import assign
    from ocelot.deployment.build import PackageRequest, build_package
    from ocelot.inventory.models import Computer

    computer = Computer.objects.get(device_id=device_id)
    ids = []
    for number in range(count):
        request = PackageRequest(
            name=f"bench-prolog-{number:03d}", os="linux", action="EXECUTE", command=f"true {number}"
        )
        package = build_package(request)
        activation = activate(package, check=False).activation
        assign(activation, [computer.pk])
        ids.append(package.package_id)
    return {"computer": computer.pk, "packages": ids}


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocelot.server.settings")
    import django

    django.setup()
    if argv[:1] == ["assign-many"] and len(argv) == 3:
        print(json.dumps(_assign_many(int(argv[1]), argv[2])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
