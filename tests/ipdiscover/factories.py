"""Computers with NETWORKS rows, as the election reads them after an inventory."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from ocelot.inventory.models import Computer, NetworkInterface
from ocelot.inventory.setting_values import global_values
from ocelot.protocol.messages import DiscoveredHost, Inventory

UNIX_AGENT = "OCS-NG_unified_unix_agent_v2.10.0"
_numbers = itertools.count(1)


def computer(
    *,
    ip: str = "192.168.10.20",
    netmask: str = "255.255.255.0",
    subnet: str | None = None,
    os_name: str = "Debian GNU/Linux 12 (bookworm)",
    user_agent: str = UNIX_AGENT,
    fidelity: int = 5,
    quality: float = 1.0,
    inventory_days_ago: float = 0,
    status: str = "Up",
    description: str = "eth0",
) -> Computer:
    number = next(_numbers)
    made = Computer.objects.create(
        device_id=f"pc{number}-2026-01-01-00-00-00",
        name=f"pc{number}",
        os_name=os_name,
        user_agent=user_agent,
        fidelity=fidelity,
        quality=quality,
        last_inventory_at=timezone.now() - timedelta(days=inventory_days_ago),
    )
    if subnet is None:
        import ipaddress

        subnet = str(ipaddress.IPv4Network(f"{ip}/{netmask}", strict=False).network_address)
    NetworkInterface.objects.create(
        computer=made,
        ip_address=ip,
        netmask=netmask,
        subnet=subnet,
        status=status,
        description=description,
        mac=f"02:00:00:00:{number // 256:02x}:{number % 256:02x}",
    )
    return made


def inventory(made: Computer, hosts: list[DiscoveredHost] | None = None) -> Inventory:
    return Inventory(device_id=made.device_id, changed_bits=None, sections={}, discovered_hosts=hosts)


def settings(**changes: int) -> dict[str, int | str]:
    values = global_values()
    values.update(changes)
    return values
