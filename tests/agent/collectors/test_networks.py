"""NETWORKS: one row per address, the Unix agent's spellings, bonds, bridges and Wi-Fi."""

from __future__ import annotations

from pathlib import Path

from ocelot.agent.collectors.networks import dhcp_server
from ocelot.agent.host import MachineHost
from tests.agent.conftest import inventory_of


def test_the_vm_sends_its_nic_like_the_unix_agent_sample() -> None:
    rows = inventory_of("debian12-vm").sections["NETWORKS"]
    assert [row["DESCRIPTION"] for row in rows] == ["ifb0", "ifb1", "eth0", "eth0"]  # ip's order, no lo
    eth0 = rows[2]
    assert eth0["IPADDRESS"] == "192.0.2.2"
    assert eth0["IPMASK"] == "255.255.255.0"
    assert eth0["IPSUBNET"] == "192.0.2.0"
    assert eth0["IPGATEWAY"] == "192.0.2.1"
    assert eth0["MACADDR"] == "02:fc:00:00:00:01"
    assert eth0["STATUS"] == "Up"
    assert eth0["DRIVER"] == "virtio_net"
    assert eth0["PCISLOT"] == "00:03.0"  # the PCI function above the virtio device
    assert eth0["MTU"] == "1400"
    assert rows[3]["IPADDRESS"] == "fd00::2"
    assert rows[0]["STATUS"] == "Down" and rows[0]["VIRTUALDEV"] == "1"


def test_a_laptop_reports_wifi_with_its_network_and_a_cable_that_is_down() -> None:
    rows = inventory_of("fedora40-laptop").sections["NETWORKS"]
    wired, wifi, wifi6 = rows
    assert wired["DESCRIPTION"] == "enp0s31f6" and wired["STATUS"] == "Down" and "IPADDRESS" not in wired
    assert wifi["TYPE"] == "wifi"
    assert wifi["SSID"] == "ExampleNet"
    assert wifi["BSSID"] == "3c:84:6a:12:34:56"
    assert wifi["IPADDRESS"] == "192.168.1.42"
    assert wifi["IPDHCP"] == "192.168.1.1"  # a dynamic address: NetworkManager's DHCP server
    assert "IPDHCP" not in wifi6
    assert wifi6["IPADDRESS"] == "2001:db8:1::42"  # link-local addresses are left out
    assert wifi["DRIVER"] == "iwlwifi"


def test_a_server_reports_bond_members_bridges_speeds_and_every_address() -> None:
    rows = inventory_of("debian12-server").sections["NETWORKS"]
    by_name: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_name.setdefault(row["DESCRIPTION"], []).append(row)
    assert by_name["eno1"][0]["SLAVE"] == "bond0"
    assert by_name["eno1"][0]["SPEED"] == "1000 Mbps"
    assert by_name["eno1"][0]["DUPLEX"] == "Full"
    assert [row["IPADDRESS"] for row in by_name["bond0"]] == ["10.0.10.21", "10.0.10.22", "2001:db8:10::21"]
    assert by_name["enp65s0f0"][0]["SPEED"] == "25000 Mbps"
    assert by_name["enp65s0f0"][0]["IPMASK"] == "255.255.252.0"
    assert by_name["enp65s0f0"][0]["IPSUBNET"] == "172.16.4.0"
    assert by_name["virbr0"][0]["TYPE"] == "bridge"
    assert "IPDHCP" not in by_name["bond0"][0]  # static addresses
    assert by_name["vnet0"][0]["VIRTUALDEV"] == "1"


def test_dhcp_servers_come_from_networkd_or_dhclient_leases(tmp_path: Path) -> None:
    (tmp_path / "run/systemd/netif/leases").mkdir(parents=True)
    (tmp_path / "run/systemd/netif/leases/2").write_text(
        "# networkd lease\nADDRESS=10.1.1.5\nSERVER_ADDRESS=10.1.1.1\n"
    )
    (tmp_path / "var/lib/dhcp").mkdir(parents=True)
    (tmp_path / "var/lib/dhcp/dhclient.eth1.leases").write_text(
        "lease {\n  option dhcp-server-identifier 10.2.0.1;\n}\n"
        "lease {\n  option dhcp-server-identifier 10.2.0.254;\n}\n"
    )
    host = MachineHost(tmp_path)
    assert dhcp_server(host, "eth0", 2) == "10.1.1.1"
    assert dhcp_server(host, "eth1", 3) == "10.2.0.254"  # the latest lease
