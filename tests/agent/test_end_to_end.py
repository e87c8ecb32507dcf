"""Our agent against a real ``ocelot server``, and its local file through ``ocelot import``.

The agent runs as an administrator runs it (``ocelot agent`` / ``python -m ocelot.agent``)
on this very machine, with its own ``--basevardir``; what it sent is read from its
``--debug`` log (every INVENTORY is logged in full), what the server stored through the ORM.
Each scenario is one test over several runs, because the scenario *is* the sequence.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from ocelot.inventory.account_info import set_tag
from ocelot.inventory.models import Computer
from tests.server_process import OcelotServer, current_test_database_url, ocelot_command, run_ocelot
from tests.stored_sections import CHECKSUM_BITS as ALL_CHECKSUM_BITS
from tests.stored_sections import STORED_AS as ALL_STORED_AS
from tests.stored_sections import rows_of as all_rows_of
from tests.stored_sections import short_hostname, tag_in, the_one_computer

FULL_CHECKSUM = 1572863
BIOS_BIT = 2
CPUS_BIT = 262144
# Sections our agent sends on a Linux machine, and those of them the CHECKSUM governs.
SENT = (
    "SOFTWARES",
    "MEMORIES",
    "CONTROLLERS",
    "MONITORS",
    "STORAGES",
    "DRIVES",
    "NETWORKS",
    "PRINTERS",
    "SOUNDS",
    "VIDEOS",
    "VIRTUALMACHINES",
    "CPUS",
    "BATTERIES",
    "USBDEVICES",
    "LOCAL_USERS",
    "LOCAL_GROUPS",
    "REPOSITORY",
    "USERS",
)
STORED_AS = {tag: ALL_STORED_AS[tag] for tag in SENT}
CHECKSUM_BITS = {
    tag: ALL_CHECKSUM_BITS[tag]
    for tag in ("MEMORIES", "CONTROLLERS", "STORAGES", "DRIVES", "NETWORKS", "CPUS")
}
ALWAYS_PRESENT = ("SOFTWARES", "NETWORKS", "CPUS", "DRIVES", "LOCAL_USERS", "STORAGES", "MEMORIES")
_SENT = re.compile(r"sending INVENTORY \(CHECKSUM (\d+)\):\n(<\?xml.*?</REQUEST>)", re.DOTALL)


class OurAgent:
    """``ocelot agent`` pointed at the server, keeping its state in ``work/var``."""

    def __init__(self, server: OcelotServer, work: Path) -> None:
        self.server = server
        self.work = work
        self.basevardir = work / "var"
        self.runs = 0

    def run(self, *extra: str) -> tuple[int, ET.Element]:
        """One run; its CHECKSUM and the INVENTORY it sent."""
        self.runs += 1
        log = self.work / f"run-{self.runs}.log"
        completed = subprocess.run(
            ocelot_command(
                "agent",
                f"--server={self.server.agent_url}",
                f"--basevardir={self.basevardir}",
                "--debug",
                f"--logfile={log}",
                *extra,
            ),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        text = log.read_text(encoding="utf-8") if log.exists() else ""
        assert completed.returncode == 0, (
            f"{completed.stderr}\n{text[-3000:]}\n{self.server.output()[-3000:]}"
        )
        (sent,) = _SENT.findall(text)
        return int(sent[0]), ET.fromstring(sent[1].encode("utf-8"))

    def vardir(self) -> Path:
        (vardir,) = self.basevardir.iterdir()
        return vardir

    def device_id(self) -> str:
        return ET.parse(self.vardir() / "ocsinv.conf").getroot().findtext("DEVICEID") or ""

    def kept_tag(self) -> str | None:
        return tag_in(ET.parse(self.vardir() / "ocsinv.adm").getroot())


def sections_in(request: ET.Element) -> Counter[str]:
    return Counter(element.tag for element in request.iterfind("CONTENT/*"))


def rows_of(computer: Computer) -> dict[str, set[int]]:
    return all_rows_of(computer, STORED_AS)


def the_one_computer_of(agent: OurAgent) -> Computer:
    return the_one_computer(agent.device_id())


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_an_inventory_of_this_machine_is_stored_then_a_second_run_flags_only_changes(
    ocelot_server: OcelotServer, tmp_path: Path
) -> None:
    agent = OurAgent(ocelot_server, tmp_path)

    bits, sent = agent.run("--tag=E2E_TAG")
    assert bits == FULL_CHECKSUM  # no last_state yet (protocol.md §5.3)
    assert re.fullmatch(rf"{re.escape(short_hostname())}-\d{{4}}(-\d{{2}}){{5}}", agent.device_id())
    sent_sections = sections_in(sent)
    assert all(sent_sections[tag] > 0 for tag in ALWAYS_PRESENT), sent_sections
    computer = the_one_computer_of(agent)
    assert computer.name == short_hostname()
    assert computer.memory == int(sent.findtext("CONTENT/HARDWARE/MEMORY", "0")) > 0
    assert computer.account_info.tag == "E2E_TAG"
    stored = {tag: len(ids) for tag, ids in rows_of(computer).items()}
    assert stored == {tag: sent_sections[tag] for tag in STORED_AS}
    first_rows = rows_of(computer)

    bits, sent = agent.run("--tag=E2E_TAG")
    # Only what changed: maybe HARDWARE (its values can move between two runs, or not when
    # both fall in the same second), maybe the free space of DRIVES; never the BIOS or the
    # CPUs (the machine is shared: another run may install software meanwhile).
    assert bits != FULL_CHECKSUM and not bits & BIOS_BIT and not bits & CPUS_BIT, f"CHECKSUM {bits}"
    again = the_one_computer_of(agent)
    assert again.last_inventory_at is not None and computer.last_inventory_at is not None
    assert again.last_inventory_at > computer.last_inventory_at
    again_rows = rows_of(again)
    for tag, bit in CHECKSUM_BITS.items():
        if not bits & bit:  # unchanged: the server left its rows untouched
            assert again_rows[tag] == first_rows[tag], f"{tag} rewritten although its bit is clear ({bits})"
    sent_again = sections_in(sent)
    assert {tag: len(ids) for tag, ids in again_rows.items()} == {tag: sent_again[tag] for tag in STORED_AS}


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_a_tag_changed_on_the_server_reaches_the_agent_through_account_update(
    ocelot_server: OcelotServer, tmp_path: Path
) -> None:
    agent = OurAgent(ocelot_server, tmp_path)
    agent.run("--tag=AGENT_TAG", "--nosoft")
    assert agent.kept_tag() == "AGENT_TAG"
    set_tag(the_one_computer_of(agent), "FROM_SERVER")

    _, told = agent.run("--tag=AGENT_TAG", "--nosoft")
    assert tag_in(told.find("CONTENT")) == "AGENT_TAG"  # still its own: it learns from the reply
    assert agent.kept_tag() == "FROM_SERVER"

    _, after = agent.run("--tag=AGENT_TAG", "--nosoft")
    assert tag_in(after.find("CONTENT")) == "FROM_SERVER"
    assert the_one_computer_of(agent).account_info.tag == "FROM_SERVER"


@pytest.mark.django_db(transaction=True)
def test_a_local_inventory_imports_with_ocelot_import(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "ocelot.agent",
            f"--local={out}",
            f"--basevardir={tmp_path / 'var'}",
            "--tag=LOCAL",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    (written,) = out.iterdir()
    device_id = ET.parse(tmp_path / "var" / "__LOCAL__" / "ocsinv.conf").getroot().findtext("DEVICEID")
    assert written.name == f"{device_id}.ocs"
    document = ET.fromstring(written.read_bytes())
    assert document.findtext("CONTENT/HARDWARE/CHECKSUM") == str(FULL_CHECKSUM)

    result = run_ocelot(tmp_path / "home", current_test_database_url(), "import", str(out))

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK for {written.name}" in result.stdout.splitlines()
    computer = Computer.objects.get(device_id=device_id)
    assert computer.imported
    assert computer.name == short_hostname()
    assert computer.software.count() == len(document.findall("CONTENT/SOFTWARES")) > 0
    assert computer.networks.count() == len(document.findall("CONTENT/NETWORKS")) > 0
    assert computer.account_info.tag == "LOCAL"


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_over_https_the_agent_checks_the_certificate_against_its_ca(
    ocelot_server: OcelotServer, tmp_path: Path
) -> None:
    url = f"https://127.0.0.1:{ocelot_server.https_port}/ocsinventory"
    base = ["agent", f"--server={url}", "--nosoft"]

    def agent(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ocelot_command(*base, *extra), capture_output=True, text=True, timeout=300, check=False
        )

    unknown_ca = agent(f"--basevardir={tmp_path / 'a'}")
    assert unknown_ca.returncode == 1
    assert (
        unknown_ca.stderr.startswith("ocelot agent: cannot reach")
        and "CERTIFICATE_VERIFY_FAILED" in unknown_ca.stderr
    )
    assert not Computer.objects.exists()

    trusted = agent(f"--basevardir={tmp_path / 'b'}", f"--ca={ocelot_server.cacert}")
    assert trusted.returncode == 0, trusted.stderr
    assert Computer.objects.count() == 1

    unchecked = agent(f"--basevardir={tmp_path / 'b'}", "--ssl=0")
    assert unchecked.returncode == 0, unchecked.stderr
