"""HARDWARE sums up the machine as the Unix agent does (samples/unix-agent-inventory.xml)."""

from __future__ import annotations

from ocelot.agent.collectors.hardware import uptime_text
from tests.agent.conftest import inventory_of


def test_the_debian_vm_is_named_and_described_like_the_unix_agent_sample() -> None:
    (hardware,) = inventory_of("debian12-vm").sections["HARDWARE"]
    assert hardware["NAME"] == "vm"
    assert hardware["OSNAME"] == "Debian GNU/Linux 12"
    assert hardware["OSVERSION"] == "12"
    assert hardware["OSCOMMENTS"] == "Debian GNU/Linux 12 (bookworm)"
    assert hardware["MEMORY"] == "24105"  # MB, the sample's own value on this VM
    assert hardware["SWAP"] == "0"
    assert hardware["IPADDR"] == "192.0.2.2"
    assert hardware["DEFAULTGATEWAY"] == "192.0.2.1"
    assert hardware["DNS"] == "10.255.255.53"
    assert hardware["WORKGROUP"] == "WORKGROUP"
    assert hardware["DESCRIPTION"].startswith("x86_64/00-00-00 ")
    assert hardware["PROCESSORT"] == "Intel(R) Xeon(R) Processor @ 2.50GHz"
    assert hardware["PROCESSORN"] == "1"


def test_a_laptop_reports_its_user_uuid_domain_and_bare_metal() -> None:
    (hardware,) = inventory_of("fedora40-laptop").sections["HARDWARE"]
    assert hardware["NAME"] == "fedora-laptop"  # the host name up to the first dot
    assert hardware["WORKGROUP"] == "example.org"
    assert hardware["USERID"] == "alice"
    assert hardware["LASTLOGGEDUSER"] == "alice"
    assert hardware["UUID"] == "4c4c4544-0047-3510-8052-b4c04f4e3232"
    assert hardware["VMSYSTEM"] == "Physical"  # systemd-detect-virt says "none" and exits 1
    assert hardware["OSNAME"] == "Fedora Linux 40"
    assert hardware["SWAP"] == "8191"
    assert hardware["DESCRIPTION"] == "x86_64/00-00-01 02:03:04"


def test_a_server_takes_its_address_from_the_default_route_and_counts_its_sockets() -> None:
    (hardware,) = inventory_of("debian12-server").sections["HARDWARE"]
    assert hardware["IPADDR"] == "10.0.10.21"
    assert hardware["DEFAULTGATEWAY"] == "10.0.10.1"
    assert hardware["PROCESSORN"] == "2"
    assert hardware["PROCESSORS"] == "3000"
    assert hardware["WORKGROUP"] == "example.net"  # resolv.conf's domain


def test_the_uptime_is_written_as_the_unix_agent_writes_it() -> None:
    assert uptime_text(208) == "00-00-00 00:03:28"
    assert uptime_text(93784.5) == "00-00-01 02:03:04"
    assert uptime_text(40 * 86400) == "00-01-09 00:00:00"
