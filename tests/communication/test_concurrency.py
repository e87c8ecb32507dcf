"""Agents posting at the same moment end in one consistent state (security.md T12, T13; R3-R4).

Real threads on real connections (``transaction=True``: every thread commits for real), so
the races are those of the database in use: SQLite, PostgreSQL or MariaDB. Every thread
closes its connection when it is done.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import pytest
from django.db import connection
from django.test import Client

from ocelot.inventory.ingest import store_inventory
from ocelot.inventory.models import AccountInfo, Computer, Software, SoftwareInstallation
from ocelot.protocol.messages import Inventory, InventoryReply, read_request
from ocelot.protocol.xmltree import parse_xml

pytestmark = pytest.mark.django_db(transaction=True)

AGENTS = 6
DEVICE = "racer-2025-05-05-05-05-05"
UNIX_UA = "OCS-NG_unified_unix_agent_v2.10.0"
SHARED_SOFTWARE = ("bash", "coreutils", "openssl")

T = TypeVar("T")


def inventory_xml(device_id: str, run: int) -> bytes:
    """A small inventory whose every section says which run wrote it."""
    software = "".join(
        f"<SOFTWARES><NAME>{name}</NAME><PUBLISHER>Debian</PUBLISHER><VERSION>1.{run}</VERSION></SOFTWARES>"
        for name in SHARED_SOFTWARE
    ) + "".join(f"<SOFTWARES><NAME>run{run}-tool{k}</NAME><VERSION>1</VERSION></SOFTWARES>" for k in range(4))
    drives = "".join(f"<DRIVES><TYPE>/mnt/{k}</TYPE><FREE>{run}</FREE></DRIVES>" for k in range(3))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<REQUEST><CONTENT>'
        f"<HARDWARE><NAME>racer</NAME><DESCRIPTION>run {run}</DESCRIPTION><MEMORY>{1000 + run}</MEMORY>"
        "</HARDWARE>"
        f"<ACCOUNTINFO><KEYNAME>TAG</KEYNAME><KEYVALUE>TAG{run}</KEYVALUE></ACCOUNTINFO>"
        f"{software}{drives}"
        f"<NETWORKS><DESCRIPTION>eth0</DESCRIPTION><MACADDR>02:00:00:00:00:{run:02x}</MACADDR></NETWORKS>"
        f"</CONTENT><DEVICEID>{device_id}</DEVICEID><QUERY>INVENTORY</QUERY></REQUEST>"
    ).encode()


def inventory(device_id: str, run: int) -> Inventory:
    message = read_request(parse_xml(inventory_xml(device_id, run)))
    assert isinstance(message, Inventory)
    return message


def store_run(device_id: str, run: int) -> InventoryReply:
    return store_inventory(inventory(device_id, run))


def run_together(tasks: list[Callable[[], T]]) -> list[T]:
    """Run the tasks in threads released at the same instant; re-raise the first failure."""
    barrier = threading.Barrier(len(tasks))
    results: list[Any] = [None] * len(tasks)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = tasks[index]()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(tasks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is still running"
    if errors:
        raise errors[0]
    return results


def assert_one_consistent_snapshot(device_id: str) -> int:
    """One computer, and every one of its sections written by the same run; returns that run."""
    (computer,) = Computer.objects.filter(device_id=device_id)
    run = int(computer.description.removeprefix("run "))
    assert computer.memory == 1000 + run
    assert list(computer.drives.values_list("free", flat=True)) == [run] * 3
    assert list(computer.networks.values_list("mac", flat=True)) == [f"02:00:00:00:00:{run:02x}"]
    names = set(computer.software.values_list("software__name", "software__version"))
    assert names == {(name, f"1.{run}") for name in SHARED_SOFTWARE} | {
        (f"run{run}-tool{k}", "1") for k in range(4)
    }
    assert AccountInfo.objects.filter(computer=computer).count() == 1
    return run


def test_agents_posting_the_same_new_device_id_at_once_end_in_one_computer():
    replies = run_together([partial(store_run, DEVICE, run) for run in range(AGENTS)])
    assert len(replies) == AGENTS
    assert_one_consistent_snapshot(DEVICE)
    assert Computer.objects.count() == 1
    # Exactly one of them created the computer and kept its TAG; the others are told that TAG.
    tag = AccountInfo.objects.get().tag
    assert sum(reply.account_info is None for reply in replies) >= 1
    assert all(reply.account_info in (None, (("TAG", tag),)) for reply in replies)


def test_the_same_race_through_the_endpoint_answers_every_agent():
    def post(run: int) -> int:
        response = Client().post(
            "/ocsinventory",
            data=zlib.compress(inventory_xml(DEVICE, run)),
            content_type="application/x-compress",
            HTTP_USER_AGENT=UNIX_UA,
        )
        return response.status_code

    statuses = run_together([partial(post, run) for run in range(AGENTS)])
    assert statuses == [200] * AGENTS
    assert_one_consistent_snapshot(DEVICE)
    assert Computer.objects.count() == 1


def test_a_known_computer_inventoried_by_several_agents_at_once_keeps_one_snapshot():
    store_inventory(inventory(DEVICE, 99))
    run_together([partial(store_run, DEVICE, run) for run in range(AGENTS)])
    assert assert_one_consistent_snapshot(DEVICE) in range(AGENTS)


def test_many_computers_reporting_the_same_new_software_at_once_share_one_catalogue_entry():
    devices = [f"host{i}-2025-05-05-05-05-05" for i in range(AGENTS)]
    run_together([partial(store_run, device, 7) for device in devices])
    assert Computer.objects.count() == AGENTS
    for name in SHARED_SOFTWARE:
        assert Software.objects.filter(name=name, version="1.7").count() == 1
    assert Software.objects.count() == len(SHARED_SOFTWARE) + 4
    assert SoftwareInstallation.objects.count() == AGENTS * (len(SHARED_SOFTWARE) + 4)
