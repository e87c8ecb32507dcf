"""Scanning from the server: validated targets, argv lists, types from what answered."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

import pytest
from django.utils import timezone

from ocelot.ipdiscover.discovered import store_scan
from ocelot.ipdiscover.errors import IpDiscoveryInputError
from ocelot.ipdiscover.scan import PHANTOM, RunResult, analyse, nmap_argv, parse_target, run_command, scan
from ocelot.protocol.messages import DiscoveredHost


class FakeRunner:
    """Records every command and answers from a script; never runs anything."""

    def __init__(self, answers: dict[str, str] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], timeout: float) -> RunResult:
        self.calls.append(list(argv))
        return RunResult(0, self.answers.get(" ".join(argv), self.answers.get(argv[0], "")))


def nmap_xml(*hosts: tuple[str, str, list[int]]) -> str:
    parts = []
    for ip, name, ports in hosts:
        port_xml = "".join(f'<port protocol="tcp" portid="{p}"><state state="open"/></port>' for p in ports)
        parts.append(
            f'<host><status state="up"/><address addr="{ip}" addrtype="ipv4"/>'
            f'<hostnames><hostname name={quoteattr(name)} type="PTR"/></hostnames>'
            f"<ports>{port_xml}</ports></host>"
        )
    return f'<?xml version="1.0"?><!DOCTYPE nmaprun><nmaprun>{"".join(parts)}</nmaprun>'


BAD_TARGETS = [
    "10.0.0.0/24; id",
    "$(reboot)",
    "-oN x",
    "--script=x",
    "0.0.0.0/0",
    "10.0.0.0/8",
    "fd00::/64",
    "printer\nid",
    "192.168.1.7\n",
    "192.168.1.0/23",
    "224.0.0.1",
    "",
]


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_a_bad_target_is_refused_with_a_message_and_nmap_never_starts(target: str) -> None:
    runner = FakeRunner()
    with pytest.raises(IpDiscoveryInputError) as refused:
        scan(target, runner=runner)
    assert str(refused.value)
    assert runner.calls == []


def test_the_target_reaches_nmap_only_in_canonical_form_after_the_options() -> None:
    argv = nmap_argv(parse_target("192.168.1.77/255.255.255.0"))
    assert argv[0] == "nmap" and argv[-1] == "192.168.1.0/24"
    assert nmap_argv(parse_target("192.168.1.77"))[-1] == "192.168.1.77"


def test_types_come_from_the_ports_and_netbios_and_silent_addresses_are_phantoms() -> None:
    runner = FakeRunner(
        {
            "nmap": nmap_xml(
                ("192.168.1.2", "win.example", [135, 139, 445]),
                ("192.168.1.3", "linux.example", [22]),
                ("192.168.1.4", "", []),
                ("192.168.1.5", "", [139, 445]),
            ),
            "nmblookup -A 192.168.1.5": (
                "Looking up status of 192.168.1.5\n\tFILER           <00> -         B <ACTIVE>\n"
            ),
        }
    )
    hosts = scan("192.168.1.0/24", runner=runner, expected=["192.168.1.9", "10.9.9.9"])
    found = {h.ip_address: (h.type, h.dns_name, h.netbios_name) for h in hosts}
    assert found == {
        "192.168.1.2": ("Windows", "win.example", ""),
        "192.168.1.3": ("Linux", "linux.example", ""),
        "192.168.1.4": ("Network", "", ""),
        "192.168.1.5": ("Windows", "", "FILER"),
        "192.168.1.9": ("Phantom", "", ""),
    }
    assert all(isinstance(call, list) for call in runner.calls)


def test_a_single_address_that_does_not_answer_is_a_phantom() -> None:
    hosts = scan("192.168.1.200", runner=FakeRunner({"nmap": nmap_xml()}))
    assert [(h.ip_address, h.type) for h in hosts] == [("192.168.1.200", PHANTOM)]


@pytest.mark.django_db
def test_analyse_reports_the_discovered_devices_that_stay_silent() -> None:
    store_scan(
        [DiscoveredHost("192.168.1.20", "aa:bb:cc:00:00:20", "")],
        subnet="192.168.1.0",
        netmask="255.255.255.0",
        now=timezone.now(),
    )
    hosts = analyse("192.168.1.0/24", runner=FakeRunner({"nmap": nmap_xml()}))
    assert [(h.ip_address, h.type) for h in hosts] == [("192.168.1.20", PHANTOM)]


def test_a_real_nmap_scan_of_the_loopback_address() -> None:
    assert shutil.which("nmap"), "nmap is a test prerequisite (Debian package nmap)"
    hosts = scan("127.0.0.1", runner=run_command)
    assert [h.ip_address for h in hosts] == ["127.0.0.1"]
    assert hosts[0].type in {"Windows", "Linux", "Network"}
