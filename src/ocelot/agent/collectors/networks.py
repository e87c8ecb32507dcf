"""NETWORKS: one row per interface address, from ``ip -j addr``, ``ip -j route`` and sysfs.

Fields and spellings of the Unix agent (samples/unix-agent-inventory.xml): DESCRIPTION is
the interface name, STATUS "Up"/"Down", SPEED "<n> Mbps", DUPLEX "Full"/"Half", TYPE
"ethernet" (or "wifi", "loopback", ...), IPMASK and IPSUBNET dotted. An interface with
several addresses gives several rows (IPv6 ones too, link-local excepted); one without an
address gives one row. The loopback interface is left out, as the Unix agent does.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from ocelot.agent.host import Host

SECTION = "NETWORKS"

_PCI_ADDRESS = re.compile(r"^[0-9a-f]{4}:([0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f])$")


def pci_slot(host: Host, name: str) -> str:
    """The PCI address of an interface's device, as lspci writes it ("00:03.0"), from its sysfs path.

    The device may sit below its PCI function (virtio: ``.../0000:00:03.0/virtio2/net/eth0``).
    """
    slot = ""
    for part in host.link_target(f"/sys/class/net/{name}").split("/"):
        match = _PCI_ADDRESS.match(part)
        if match:
            slot = match.group(1)
    return slot


def _json(text: str | None) -> list[Any]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def default_routes(host: Host) -> dict[str, str]:
    """Interface name -> IPv4 default gateway."""
    gateways: dict[str, str] = {}
    for route in _json(host.output(["ip", "-j", "route", "show", "default"])):
        if isinstance(route, dict) and route.get("gateway") and route.get("dev"):
            gateways.setdefault(str(route["dev"]), str(route["gateway"]))
    return gateways


def _kind(host: Host, name: str, link_type: str) -> str:
    base = f"/sys/class/net/{name}"
    if host.exists(f"{base}/wireless") or host.exists(f"{base}/phy80211"):
        return "wifi"
    if host.exists(f"{base}/bridge"):
        return "bridge"
    return {"ether": "ethernet", "loopback": "loopback", "none": "tunnel"}.get(link_type, link_type)


def wireless_link(host: Host, name: str) -> dict[str, str]:
    """SSID and BSSID of a connected Wi-Fi interface, from ``iw dev <name> link`` (iw(8))."""
    fields: dict[str, str] = {}
    for line in (host.output(["iw", "dev", name, "link"]) or "").splitlines():
        line = line.strip()
        if line.startswith("Connected to "):
            fields["BSSID"] = line.split()[2]
        elif line.startswith("SSID:"):
            fields["SSID"] = line.partition(":")[2].strip()
    return fields


def dhcp_server(host: Host, name: str, ifindex: object) -> str:
    """The DHCP server that leased an interface's address: systemd-networkd's lease file,
    dhclient's leases (the last ``dhcp-server-identifier``), else NetworkManager (nmcli)."""
    lease = host.read_text(f"/run/systemd/netif/leases/{ifindex}") or ""
    for line in lease.splitlines():
        if line.startswith("SERVER_ADDRESS="):
            return line.partition("=")[2].strip()
    for path in (f"/var/lib/dhcp/dhclient.{name}.leases", "/var/lib/dhcp/dhclient.leases"):
        found = ""
        for line in (host.read_text(path) or "").splitlines():
            parts = line.strip().rstrip(";").split()
            if parts[:2] == ["option", "dhcp-server-identifier"] and len(parts) == 3:
                found = parts[2]
        if found:
            return found
    for line in (host.output(["nmcli", "-t", "-f", "DHCP4", "device", "show", name]) or "").splitlines():
        key, _, value = line.partition(":")
        if key.startswith("DHCP4.OPTION") and value.replace(" ", "").startswith("dhcp_server_identifier="):
            return value.partition("=")[2].strip()
    return ""


def collect(host: Host, found: dict[str, list[dict[str, str]]]) -> list[dict[str, str]]:
    gateways = default_routes(host)
    rows = []
    for link in _json(host.output(["ip", "-j", "addr", "show"])):
        if not isinstance(link, dict):
            continue
        name = str(link.get("ifname", ""))
        link_type = str(link.get("link_type", ""))
        if not name or link_type == "loopback":
            continue
        base = f"/sys/class/net/{name}"
        speed = host.read_value(f"{base}/speed")
        duplex = host.read_value(f"{base}/duplex")
        operstate = str(link.get("operstate", "")) or host.read_value(f"{base}/operstate")
        flags = link.get("flags") or []
        up = operstate.upper() == "UP" or (operstate.upper() == "UNKNOWN" and "LOWER_UP" in flags)
        physical = host.exists(f"{base}/device")
        common = {
            "DESCRIPTION": name,
            "DRIVER": host.link_name(f"{base}/device/driver") if physical else "",
            "DUPLEX": duplex.capitalize() if duplex and duplex != "unknown" else "",
            "MACADDR": str(link.get("address", "")) if link_type == "ether" else "",
            "MTU": str(link.get("mtu", "")),
            "PCISLOT": pci_slot(host, name) if physical else "",
            "SPEED": f"{speed} Mbps" if speed.isdigit() and int(speed) > 0 else "",
            "STATUS": "Up" if up else "Down",
            "TYPE": _kind(host, name, link_type),
            "VIRTUALDEV": "0" if physical else "1",
            "SLAVE": str(link["master"]) if link.get("master") else "",
        }
        if common["TYPE"] == "wifi" and up:
            common.update(wireless_link(host, name))
        addresses = []
        for info in link.get("addr_info") or []:
            if not isinstance(info, dict) or info.get("scope") == "link" or "local" not in info:
                continue
            try:
                interface = ipaddress.ip_interface(f"{info['local']}/{info.get('prefixlen', 32)}")
            except ValueError:
                continue
            address = {
                "IPADDRESS": str(interface.ip),
                "IPMASK": str(interface.network.netmask),
                "IPSUBNET": str(interface.network.network_address),
            }
            if interface.version == 4 and name in gateways:
                address["IPGATEWAY"] = gateways[name]
            if interface.version == 4 and info.get("dynamic"):
                address["IPDHCP"] = dhcp_server(host, name, link.get("ifindex", ""))
            addresses.append(address)
        for address in addresses or [{}]:
            rows.append({**common, **address})
    return rows
