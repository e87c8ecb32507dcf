"""QUERY=NOTIFY from Windows agents: a computer's addresses changed (protocol.md §7)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from ocelot.inventory.models import Computer, NetworkInterface
from ocelot.protocol.messages import NetworkNotice

# The NETWORKS bit and the HARDWARE bit: the next inventory rewrites both sections.
_CHANGED = 4096 | 1


def apply_network_notice(notice: NetworkNotice) -> bool:
    """Update the interfaces with the same MAC and the computer's address."""
    with transaction.atomic():
        computer = Computer.objects.select_for_update().filter(device_id=notice.device_id).first()
        if computer is None:
            return False
        for iface in notice.interfaces:
            mac = iface["mac"]
            if not mac:
                continue
            NetworkInterface.objects.filter(computer=computer, mac__iexact=mac).update(
                ip_address=iface["ip_address"][:255],
                netmask=iface["netmask"],
                gateway=iface["gateway"],
                subnet=iface["subnet"][:255],
                dhcp_server=iface["dhcp_server"],
            )
        address = notice.ip_address
        updates: dict[str, object] = {"checksum": F("checksum").bitor(_CHANGED)}
        if address:
            updates["ip_address"] = address[:255]
        Computer.objects.filter(pk=computer.pk).update(**updates)
    return True
