"""The client's IP address: the socket peer, or a forwarding header only from a trusted proxy.

security.md S5 / T11: OCS took X-Forwarded-For from anyone until 2026.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(remote_addr: str, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """Walk X-Forwarded-For from the right while each hop is a trusted proxy."""
    address = remote_addr
    if not forwarded_for or not _trusted(address, proxies):
        return address
    for hop in reversed([item.strip() for item in forwarded_for.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break
        address = hop
        if not _trusted(hop, proxies):
            break
    return address
