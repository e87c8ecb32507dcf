"""The agent's IP discovery: the server's order, one probe per address, the ARP table read back."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from ocelot.agent.config import Options
from ocelot.agent.host import Host
from ocelot.agent.ipdiscover import FAST_COUNT, discover, local_network, report, scan, scan_order
from ocelot.agent.run import run_once
from ocelot.protocol.messages import Inventory, read_request
from ocelot.protocol.xmltree import Node, parse_xml, to_document
from tests.agent.conftest import machine
from tests.agent.fake_server import reply, scripted_server

ARP_HEADER = "IP address       HW type     Flags       HW address            Mask     Device\n"
SECTIONS = {
    "NETWORKS": [{"IPADDRESS": "192.168.56.10", "IPMASK": "255.255.255.0", "MACADDR": "02:00:00:00:00:0a"}]
}


class NeighbourHost(Host):
    """A machine whose ARP table fills as addresses are probed: ``answering`` maps IP -> MAC."""

    def __init__(self, answering: dict[str, str]) -> None:
        super().__init__("/nonexistent")
        self.answering = answering
        self.probed: list[str] = []
        self.reads = 0

    def probe(self, address: str) -> None:
        self.probed.append(address)

    def read_text(self, path: str) -> str | None:
        assert path == "/proc/net/arp"
        self.reads += 1
        lines = [ARP_HEADER]
        for ip in self.probed:
            if ip in self.answering:
                lines.append(f"{ip:<16} 0x1         0x2         {self.answering[ip]}     *        eth0\n")
            else:
                lines.append(f"{ip:<16} 0x1         0x0         00:00:00:00:00:00     *        eth0\n")
        lines.append("10.9.9.9         0x1         0x2         02:99:99:99:99:99     *        eth1\n")
        return "".join(lines)


def option(name: str, text: str, **attributes: str) -> Node:
    return Node("OPTION", children=[Node("NAME", text=name), Node("PARAM", attrib=attributes, text=text)])


def test_the_order_comes_from_the_ipdiscover_option_with_its_latency() -> None:
    assert scan_order([option("DOWNLOAD", ""), option("IPDISCOVER", "192.168.56.0", IPDISC_LAT="250")]) == (
        "192.168.56.0",
        250,
    )
    assert scan_order([option("IPDISCOVER", "192.168.56.0")]) == ("192.168.56.0", 100)  # old servers
    assert scan_order([option("DOWNLOAD", "")]) is None


def test_the_mask_comes_from_this_computers_interface_and_a_slash_8_is_never_scanned() -> None:
    assert local_network(SECTIONS, "192.168.56.0") == ipaddress.IPv4Network("192.168.56.0/24")
    assert local_network(SECTIONS, "10.0.0.0") is None
    wide = {"NETWORKS": [{"IPADDRESS": "10.1.2.3", "IPMASK": "255.0.0.0"}]}
    assert local_network(wide, "10.0.0.0") is None


def test_every_address_is_probed_with_the_latency_between_and_only_answers_are_reported() -> None:
    host = NeighbourHost({"192.168.56.1": "02:00:00:00:00:01", "192.168.56.77": "02:00:00:00:00:4D"})
    slept: list[float] = []
    hosts = scan(host, ipaddress.IPv4Network("192.168.56.0/24"), 20, probe=host.probe, sleep=slept.append)
    assert host.probed == [f"192.168.56.{n}" for n in range(1, 255)]
    assert slept.count(0.02) == 254
    assert hosts == [("192.168.56.1", "02:00:00:00:00:01", "-"), ("192.168.56.77", "02:00:00:00:00:4d", "-")]


def test_a_large_network_reads_the_table_after_each_block() -> None:
    host = NeighbourHost({})
    scan(host, ipaddress.IPv4Network("10.5.0.0/22"), 0, probe=host.probe, sleep=lambda _: None)
    assert len(host.probed) == 1022
    assert host.reads == 1022 // 256 + 1


def test_fastip_scans_five_addresses() -> None:
    host = NeighbourHost({})
    scan(host, ipaddress.IPv4Network("192.168.56.0/24"), 0, fast=True, probe=host.probe, sleep=lambda _: None)
    assert host.probed == [f"192.168.56.{n}" for n in range(1, FAST_COUNT + 1)]


def test_ipdisc_forces_a_network_without_a_server_order() -> None:
    host = NeighbourHost({"192.168.56.3": "02:00:00:00:00:03"})
    nodes = discover(
        host, SECTIONS, (), forced_network="192.168.56.0", probe=host.probe, sleep=lambda _: None
    )
    assert [h.find("I").text for h in nodes[0].find_all("H")] == ["192.168.56.3"]  # type: ignore[union-attr]
    assert discover(host, SECTIONS, ()) == []


def test_the_report_reads_back_on_the_server_as_discovered_hosts() -> None:
    document = Node(
        "REQUEST",
        children=[
            Node("CONTENT", children=[report([("192.168.56.3", "02:00:00:00:00:03", "-")])]),
            Node("DEVICEID", text="pc-2026-01-01-00-00-00"),
            Node("QUERY", text="INVENTORY"),
        ],
    )
    message = read_request(parse_xml(to_document(document)))
    assert isinstance(message, Inventory)
    assert [(h.ip, h.mac, h.name) for h in message.discovered_hosts or []] == [
        ("192.168.56.3", "02:00:00:00:00:03", "-")
    ]


def test_an_elected_agent_sends_its_report_in_the_inventory(tmp_path: Path) -> None:
    # A network this captured machine does not have: the report is empty and no probe leaves.
    elected = (
        b"<?xml version='1.0' encoding='UTF-8'?><REPLY><RESPONSE>SEND</RESPONSE>"
        b'<OPTION><NAME>IPDISCOVER</NAME><PARAM IPDISC_LAT="0">203.0.113.0</PARAM></OPTION></REPLY>'
    )
    replies: dict[str, bytes | int] = {"PROLOG": elected, "INVENTORY": reply("NO_ACCOUNT_UPDATE")}
    with scripted_server(replies) as server:
        run_once(Options(server=server.url, basevardir=tmp_path / "var"), machine("debian12-vm"))
    content = server.request("INVENTORY").find("CONTENT")
    assert content is not None and content.find("IPDISCOVER") is not None
    with scripted_server({"PROLOG": reply("SEND"), "INVENTORY": reply("NO_ACCOUNT_UPDATE")}) as server:
        run_once(Options(server=server.url, basevardir=tmp_path / "var"), machine("debian12-vm"))
    content = server.request("INVENTORY").find("CONTENT")
    assert content is not None and content.find("IPDISCOVER") is None
