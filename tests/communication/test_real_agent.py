"""Debian's real ocsinventory-agent 2.10 against a real ``ocelot server`` (protocol.md §3-§6, §13).

The agent runs exactly as on a real machine (``--debug`` and its own ``--basevardir``, so
nothing outside the test's directories changes). What it sent and received is read from its
debug log, which holds every request and reply in full; what the server stored is read
through the ORM between runs. Each scenario is one test over several agent runs, because
the scenario *is* the sequence (no ``last_state`` yet, then a small CHECKSUM; a TAG changed
on the server between two runs); every check in it is a named step.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocelot.inventory.account_info import set_tag
from ocelot.inventory.models import Computer
from tests.server_process import OcelotServer, current_test_database_url, run_ocelot
from tests.stored_sections import CHECKSUM_BITS, STORED_AS, rows_of, short_hostname, tag_in, the_one_computer

pytestmark = pytest.mark.real_agent

AGENT = Path("/usr/bin/ocsinventory-agent")
AGENT_TAG = "E2E_TAG"
SERVER_TAG = "FROM_SERVER"
# Every section bit the Unix agent knows: its CHECKSUM without a last_state (protocol.md §5.3).
FULL_CHECKSUM = 1572863
BIOS_BIT = 2

# Sections of the Unix agent 2.10 (protocol.md §5.2) and where a computer keeps their rows.
# Every Linux machine has these: a run that stores none of them proves nothing.
ALWAYS_PRESENT = ("SOFTWARES", "NETWORKS", "CPUS", "DRIVES", "LOCAL_USERS")

_SENT = re.compile(r"\]\[debug\] sending: (<\?xml.*?</REQUEST>)", re.DOTALL)
_RECEIVED = re.compile(r"=BEGIN=SERVER RET======\n.*?\$VAR1 = '(.*?)';\n", re.DOTALL)


def _perl_single_quoted(text: str) -> str:
    """Undo Data::Dumper's escaping inside single quotes (backslash and quote)."""
    return re.sub(r"\\([\\'])", r"\1", text)


# ---------------------------------------------------------------- the agent


@dataclass(frozen=True)
class AgentRun:
    """One run of the real agent: its exit status, its log, the XML it sent and received."""

    returncode: int
    log: str
    sent: tuple[ET.Element, ...]
    received: tuple[ET.Element, ...]

    def describe(self) -> str:
        return f"agent exit status {self.returncode}; end of its log:\n{self.log[-4000:]}"

    def queries(self) -> list[str]:
        return [request.findtext("QUERY", "") for request in self.sent]

    def request(self, query: str) -> ET.Element:
        (found,) = (request for request in self.sent if request.findtext("QUERY") == query)
        return found

    def reply_to(self, query: str) -> ET.Element:
        return self.received[self.queries().index(query)]

    def sections(self) -> Counter[str]:
        """How many elements of each section the INVENTORY carried."""
        return Counter(element.tag for element in self.request("INVENTORY").iterfind("CONTENT/*"))

    def checksum(self) -> int:
        return int(self.request("INVENTORY").findtext("CONTENT/HARDWARE/CHECKSUM", ""))

    def tag(self) -> str | None:
        return tag_in(self.request("INVENTORY").find("CONTENT"))


def run_agent(log: Path, *args: str) -> AgentRun:
    """Run /usr/bin/ocsinventory-agent with ``--debug`` and read what it exchanged from its log."""
    assert AGENT.is_file(), f"{AGENT} is missing: run tests/system/install-deps.sh as root"
    with log.with_suffix(".out").open("wb") as output:
        # A file, not a pipe: the agent forks a download worker that may outlive it.
        completed = subprocess.run(
            [str(AGENT), "--debug", f"--logfile={log}", *args],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=300,
            check=False,
        )
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    sent = tuple(ET.fromstring(match.encode()) for match in _SENT.findall(text))
    received = tuple(ET.fromstring(_perl_single_quoted(match).encode()) for match in _RECEIVED.findall(text))
    return AgentRun(completed.returncode, text, sent, received)


class NetworkAgent:
    """The agent of one machine, pointed at the server, keeping its files in ``work``."""

    def __init__(self, server: OcelotServer, work: Path) -> None:
        self.server = server
        self.work = work
        self.basevardir = work / "var"
        self.basevardir.mkdir(parents=True)
        self.runs = 0

    def run(self) -> AgentRun:
        self.runs += 1
        result = run_agent(
            self.work / f"run-{self.runs}.log",
            f"--server={self.server.agent_url}",
            f"--basevardir={self.basevardir}",
            f"--tag={AGENT_TAG}",
            "--nolocal",  # Debian's /etc/ocsinventory/ocsinventory-agent.cfg may say local=...
        )
        assert result.returncode == 0 and "INVENTORY" in result.queries(), (
            f"agent run {self.runs} failed: {result.describe()}\n"
            f"server output:\n{self.server.output()[-4000:]}"
        )
        return result

    def device_id(self) -> str:
        return device_id_in(self.basevardir)

    def adm_tag(self) -> str | None:
        """The TAG the agent keeps in ``<vardir>/ocsinv.adm`` and sends every time (§5.4)."""
        (adm,) = self.basevardir.glob("*/ocsinv.adm")
        return tag_in(ET.parse(adm).getroot())


def device_id_in(basevardir: Path) -> str:
    """The DEVICEID the agent generated, kept in ``<vardir>/ocsinv.conf`` (protocol.md §2)."""
    (conf,) = basevardir.glob("*/ocsinv.conf")
    device_id = ET.parse(conf).getroot().findtext("DEVICEID")
    assert device_id, conf.read_text()
    return device_id


# ---------------------------------------------------------------- what the server holds


def the_one_computer_of(agent: NetworkAgent) -> Computer:
    return the_one_computer(agent.device_id())


def every_section_row_sent_is_stored(run: AgentRun, computer: Computer) -> None:
    sent = run.sections()
    assert all(sent[tag] > 0 for tag in ALWAYS_PRESENT), sent
    stored = {tag: len(ids) for tag, ids in rows_of(computer).items()}
    assert stored == {tag: sent[tag] for tag in STORED_AS}


# ---------------------------------------------------------------- scenarios


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_a_first_inventory_then_an_unchanged_one_keep_every_section_the_agent_sent(
    ocelot_server: OcelotServer, tmp_path: Path
) -> None:
    agent = NetworkAgent(ocelot_server, tmp_path)

    first = agent.run()
    # First contact: PROLOG, SEND, then everything (no last_state yet) with the --tag.
    assert first.queries() == ["PROLOG", "INVENTORY"]
    assert first.reply_to("PROLOG").findtext("RESPONSE") == "SEND"
    assert first.checksum() == FULL_CHECKSUM
    assert first.tag() == AGENT_TAG
    assert first.reply_to("INVENTORY").findtext("RESPONSE") == "NO_ACCOUNT_UPDATE"
    computer = the_one_computer_of(agent)
    assert first.request("INVENTORY").findtext("CONTENT/HARDWARE/NAME") == short_hostname()
    assert computer.name == short_hostname()
    sent_memory = int(first.request("INVENTORY").findtext("CONTENT/HARDWARE/MEMORY", "0"))
    assert computer.memory == sent_memory > 0
    assert computer.account_info.tag == AGENT_TAG
    every_section_row_sent_is_stored(first, computer)
    rows_after_first = rows_of(computer)

    second = agent.run()
    # The agent saved last_state after the first reply, so it flags only what changed
    # (typically HARDWARE and DRIVES; the BIOS never changes between two runs), yet it
    # sends every section again: the server keeps what is unchanged.
    assert second.queries() == ["PROLOG", "INVENTORY"]
    assert second.checksum() != FULL_CHECKSUM
    assert not second.checksum() & BIOS_BIT
    again = the_one_computer_of(agent)
    every_section_row_sent_is_stored(second, again)
    rows_after_second = rows_of(again)
    unchanged = [tag for tag, bit in CHECKSUM_BITS.items() if not second.checksum() & bit]
    assert any(rows_after_first[tag] for tag in unchanged), "no stored section is reported unchanged"
    for tag in unchanged:
        assert rows_after_second[tag] == rows_after_first[tag], f"{tag} was rewritten although unchanged"
    assert computer.last_inventory_at is not None
    assert again.last_inventory_at is not None
    assert again.last_inventory_at > computer.last_inventory_at
    assert again.account_info.tag == AGENT_TAG


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_a_tag_set_on_the_server_replaces_the_agents_tag_from_the_next_run_on(
    ocelot_server: OcelotServer, tmp_path: Path
) -> None:
    agent = NetworkAgent(ocelot_server, tmp_path)
    agent.run()
    set_tag(the_one_computer_of(agent), SERVER_TAG)

    told = agent.run()
    # The agent still sends its own TAG; the server's wins and comes back (protocol.md §6.2),
    # and the agent rewrites its ocsinv.adm with exactly the pairs it received.
    assert told.tag() == AGENT_TAG
    reply = told.reply_to("INVENTORY")
    assert reply.findtext("RESPONSE") == "ACCOUNT_UPDATE"
    assert tag_in(reply) == SERVER_TAG
    assert agent.adm_tag() == SERVER_TAG
    assert the_one_computer_of(agent).account_info.tag == SERVER_TAG

    after = agent.run()
    # From then on the agent sends the server's TAG, although --tag still says otherwise.
    assert after.tag() == SERVER_TAG
    assert after.reply_to("INVENTORY").findtext("RESPONSE") == "NO_ACCOUNT_UPDATE"
    assert agent.adm_tag() == SERVER_TAG
    assert the_one_computer_of(agent).account_info.tag == SERVER_TAG


# ---------------------------------------------------------------- local mode and import


@pytest.mark.django_db(transaction=True)
def test_a_local_inventory_of_the_real_agent_imports_with_ocelot_import(tmp_path: Path) -> None:
    out, basevardir = tmp_path / "out", tmp_path / "var"
    out.mkdir()
    basevardir.mkdir()
    local = run_agent(tmp_path / "local.log", f"--local={out}", f"--basevardir={basevardir}", "--tag=LOCAL")
    assert local.returncode == 0, local.describe()
    assert local.sent == ()  # local mode sends nothing (protocol.md §13)
    device_id = device_id_in(basevardir)
    (written,) = out.iterdir()
    assert written.name == f"{device_id}.ocs"
    document = ET.fromstring(written.read_bytes())  # plain XML, the INVENTORY request
    assert document.findtext("QUERY") == "INVENTORY"
    assert document.findtext("CONTENT/HARDWARE/CHECKSUM") == str(FULL_CHECKSUM)

    result = run_ocelot(tmp_path / "home", current_test_database_url(), "import", str(out))

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert f"OK for {written.name}" in lines
    assert lines[-2:] == ["Successfully inventoried : 1", "Errors : 0"]
    computer = Computer.objects.get(device_id=device_id)
    assert computer.imported
    assert computer.name == short_hostname()
    assert computer.software.count() == len(document.findall("CONTENT/SOFTWARES")) > 0
    assert computer.account_info.tag == "LOCAL"


def test_ocelot_import_reports_an_invalid_file_and_fails(django_db_setup: None, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "broken.ocs").write_bytes(b"this is neither zlib nor XML\n")

    result = run_ocelot(tmp_path / "home", current_test_database_url(), "import", str(broken))

    assert result.returncode != 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ERROR for broken.ocs: "), result.stdout + result.stderr
    assert lines[-2:] == ["Successfully inventoried : 0", "Errors : 1"]
