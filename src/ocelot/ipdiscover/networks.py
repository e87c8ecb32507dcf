"""IPv4 subnets as IP discovery reads them from inventories (NETWORKS rows).

protocol.md §11: a scanner's subnet comes from an interface whose DESCRIPTION lacks
``ppp``, STATUS is up, IPMASK starts with ``255.255.`` (seeds: "at most a class B", so a
/8 is never scanned) and IPSUBNET is a dotted quad.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_MAC = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$")
# The largest network a scanner is asked to cover: a class B (seeds 004, "NETMASK").
WIDEST_PREFIX = 16
# /31 and /32 have no hosts to discover beside the scanner itself.
NARROWEST_PREFIX = 30


@dataclass(frozen=True)
class Subnetwork:
    """A network address and its mask, both dotted quads."""

    address: str
    netmask: str

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(f"{self.address}/{self.netmask}")


def ipv4(text: str) -> ipaddress.IPv4Address | None:
    """A dotted-quad address, or None (leading zeros and anything else refused)."""
    try:
        return ipaddress.IPv4Address(text.strip())
    except ValueError:
        return None


def mac_address(text: str) -> str | None:
    """``xx:xx:xx:xx:xx:xx`` in lower case, or None when it is not one (protocol.md §11)."""
    mac = text.strip().lower().replace("-", ":")
    return mac if _MAC.match(mac) else None


def scannable_subnet(
    *, ip_address: str, netmask: str, subnet: str, status: str, description: str
) -> Subnetwork | None:
    """The subnet of one NETWORKS row if a scanner may be elected on it (§11), else None."""
    if "ppp" in description.lower() or "up" not in status.lower():
        return None
    mask = netmask.strip()
    if mask.lower().startswith("0x"):
        try:
            mask = str(ipaddress.IPv4Address(int(mask, 16)))
        except ValueError:
            return None
    address = ipv4(ip_address)
    try:
        network = ipaddress.IPv4Network(f"{address or subnet.strip()}/{mask}", strict=False)
    except ValueError:
        return None
    if str(network.netmask) != mask or not WIDEST_PREFIX <= network.prefixlen <= NARROWEST_PREFIX:
        return None  # not a contiguous mask, or wider than a class B, or no hosts
    if network.is_loopback or network.is_link_local or network.is_multicast:
        return None
    if ipv4(subnet) is not None and ipv4(subnet) != network.network_address:
        return None  # IPSUBNET contradicts IPADDRESS/IPMASK: an odd row, not a scan target
    return Subnetwork(str(network.network_address), str(network.netmask))
