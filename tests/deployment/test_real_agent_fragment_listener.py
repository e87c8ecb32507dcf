"""The real Debian ``ocsinventory-agent`` fetching a package's fragments from the
fragment listener (communication/fragment_listener.py, where activations point by
default): LWP's ``mirror`` (If-Modified-Since) against our own HTTP/1.1, end to end.

The agent, the settings and the helpers are those of test_real_agent_deployment.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocelot.inventory.models import Computer
from tests.deployment.archives import tar_gz
from tests.deployment.test_real_agent_deployment import Deployment, _script
from tests.deployment.test_real_agent_deployment import deployment as deployment  # the fixture

pytestmark = [pytest.mark.real_agent, pytest.mark.server]


@pytest.mark.django_db(transaction=True)
def test_the_real_agent_deploys_a_package_whose_fragments_come_from_the_fragment_listener(
    deployment: Deployment, tmp_path: Path
) -> None:
    server = deployment.server
    assert server.fragments_port
    marker = tmp_path / "ran"
    package_id = deployment.build(
        "from-the-fragment-listener",
        *("--action", "EXECUTE", "--command", "sh job.sh", "--priority", "5", "--fragments", "4"),
        archive=tar_gz(("job.sh", _script(marker)), ("blob.bin", os.urandom(80_000))),
    )
    activation = deployment.ocelot(
        *("package", "activate", str(package_id)),
        *("--info-location", f"127.0.0.1:{server.https_port}/download"),
        *("--fragment-location", f"127.0.0.1:{server.fragments_port}/download"),
        "--json",
    )
    assert activation["checked"] is True
    deployment.run_agent()  # the computer exists now
    computer_id = Computer.objects.get(device_id=deployment.device_id()).pk
    deployment.ocelot("package", "assign", str(package_id), "--computer", str(computer_id), "--json")
    deployment.run_agent()
    assert deployment.wait_for_results([package_id]) == {package_id: "SUCCESS"}
    assert marker.exists()
    assert deployment.reported() == {package_id: "SUCCESS"}
