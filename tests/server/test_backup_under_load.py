"""A backup taken while 8 agents keep sending inventories to a real ``ocelot server``
restores into empty installations (SQLite, PostgreSQL) with every computer complete.

Each simulated agent (bench/payload.py, from the real Unix agent's capture) alternates its
first inventory (every section) and its re-inventory (new DRIVES free space, for every
fifth agent one upgraded package). An inventory is stored in one transaction, so in any
consistent snapshot a computer is in exactly one of those two states: a free space from
one inventory beside the software of the other would be a torn backup.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench import payload
from django.db import connections

from ocelot.server.backup import registered_database, table_digests, verify_archive
from tests.server.postgres import postgres_cluster
from tests.server_process import OcelotServer, current_test_database_url, run_ocelot

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

DATA = Path(__file__).resolve().parent.parent / "data"
# The capture bench/payload.py derives its agents from, as the repository holds it.
payload.SAMPLE = DATA / "unix-agent-2.10-inventory.xml"
AGENTS = 8
COMPUTERS_PER_AGENT = 2

CENSUS = f"""
SELECT c.device_id,
       (SELECT count(*) FROM inventory_softwareinstallation i WHERE i.computer_id = c.id),
       (SELECT max(d.free) FROM inventory_drive d WHERE d.computer_id = c.id),
       (SELECT count(*) FROM inventory_softwareinstallation i
          JOIN inventory_software s ON s.id = i.software_id
         WHERE i.computer_id = c.id AND s.version LIKE '%{payload.UPGRADE_MARK}')
  FROM inventory_computer c
"""


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with postgres_cluster(("restored",)) as prefix:
        yield prefix + "restored"


def _post(port: int, body: bytes) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(
            "POST",
            "/ocsinventory",
            body=body,
            headers={"Content-Type": "application/x-compress", "User-Agent": payload.USER_AGENT},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class Fleet:
    """Eight threads, each an agent sending its computers' inventories until stopped."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.agents = payload.make_fleet(AGENTS * COMPUTERS_PER_AGENT, "backup")
        self.stop = threading.Event()
        self.stored = 0
        self.first_round = threading.Barrier(AGENTS + 1)
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(AGENTS)]

    def _send(self, body: bytes) -> None:
        status = _post(self.port, body)
        with self.lock:
            if status == 200:
                self.stored += 1
            else:
                self.failures.append(f"HTTP {status}")

    def _run(self, number: int) -> None:
        mine = self.agents[number::AGENTS]
        try:
            for agent in mine:
                self._send(agent.first)
        finally:
            self.first_round.wait(timeout=600)
        again = True
        while not self.stop.is_set():
            for agent in mine:
                self._send(agent.again if again else agent.first)
            again = not again

    def __enter__(self) -> Fleet:
        for thread in self.threads:
            thread.start()
        self.first_round.wait(timeout=600)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=300)


def _census(alias: str) -> dict[str, tuple[int, int | None, int]]:
    with connections[alias].cursor() as cursor:
        cursor.execute(CENSUS)
        return {row[0]: (int(row[1]), None if row[2] is None else int(row[2]), int(row[3])) for row in cursor}


def test_a_backup_under_load_restores_every_computer_complete(
    ocelot_server: OcelotServer, tmp_path: Path, postgres: str
) -> None:
    archive = tmp_path / "live.tar"
    url = current_test_database_url()
    with Fleet(ocelot_server.http_port) as fleet:
        before = fleet.stored
        result = run_ocelot(ocelot_server.home, url, "backup", str(archive))
        during = fleet.stored - before
        time.sleep(1)
    assert result.returncode == 0, result.stderr
    assert not fleet.failures, fleet.failures[:5]
    assert during > 0, "no inventory was stored while the backup ran"
    assert ocelot_server.running()

    manifest = verify_archive(archive)
    expected = {entry.table: (entry.rows, entry.content_sha256) for entry in manifest.tables}
    states = {
        agent.device_id: {
            (agent.first_software, agent.first_free, 0),
            (agent.again_software, agent.again_free, int(agent.upgraded)),
        }
        for agent in fleet.agents
    }
    for name, database_url in (("sqlite", None), ("postgresql", postgres)):
        home = tmp_path / f"restored-{name}"
        restored = run_ocelot(home, database_url, "restore", str(archive))
        assert restored.returncode == 0, restored.stderr
        target = database_url or f"sqlite:///{home / 'ocelot.sqlite3'}"
        with registered_database("restored", target):
            assert table_digests("restored") == expected, name
            census = _census("restored")
        assert set(census) == set(states), name
        torn = {device: state for device, state in census.items() if state not in states[device]}
        assert not torn, (name, torn)
        for relative in ("pki/ca.pem", "pki/ca.key", "pki/server.pem", "public/cacert.pem"):
            assert (home / relative).read_bytes() == (ocelot_server.home / relative).read_bytes()
