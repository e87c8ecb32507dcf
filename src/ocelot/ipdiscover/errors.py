"""The IP discovery domain's exception family; each door maps it once (design.md §8)."""

from __future__ import annotations


class IpDiscoveryError(Exception):
    """A request about IP discovery that cannot be carried out; the message is safe to show."""


class IpDiscoveryInputError(IpDiscoveryError):
    """Input that is refused: a bad address, mask, MAC, scan target or choice."""


class IpDiscoveryNotFoundError(IpDiscoveryError):
    """No such computer, device, subnet or device type."""


class ScanToolError(IpDiscoveryError):
    """nmap or nmblookup is missing, failed or ran out of time."""
