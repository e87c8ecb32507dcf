"""What IP discovery stores: subnets, scanners, discovered and identified devices.

The OCS tables behind them (protocol.md §11, seeds 004 "UTILISER LA FONCTION DECOUVERTE
IP"): ``subnet`` (names), ``devices NAME='IPDISCOVER'`` (scanners), ``netmap``
(discovered devices), ``network_devices`` (identified devices) and ``devicetype``.
"""

from __future__ import annotations

from django.db import models

from ocelot.inventory.models import Computer


class Subnet(models.Model):
    """A name an administrator gives a network ("DMZ"), with a free grouping ID.

    Seeds: "Gérer les noms de vos réseaux": name, ID, address and mask.
    """

    name = models.CharField(max_length=255)
    identifier = models.CharField(max_length=64, blank=True, default="", help_text="the OCS 'ID'")
    address = models.CharField(max_length=15, unique=True, help_text="network address, dotted quad")
    netmask = models.CharField(max_length=15)

    def __str__(self) -> str:
        return f"{self.name} ({self.address}/{self.netmask})"


class Scanner(models.Model):
    """A computer's IP-discovery role: elected, forced on a subnet, or never.

    OCS keeps it as ``devices(NAME='IPDISCOVER')``: IVALUE 1 elected, 2 set by hand,
    0 never (protocol.md §11). A computer without a row is "automatic": the election may
    choose it. Automatic runs only ever create or remove ELECTED rows.
    """

    ELECTED = "elected"
    FORCED = "forced"
    NEVER = "never"
    ROLES = [(ELECTED, "elected"), (FORCED, "forced"), (NEVER, "never")]

    computer = models.OneToOneField(Computer, on_delete=models.CASCADE, related_name="scanner")
    role = models.CharField(max_length=8, choices=ROLES)
    subnet = models.CharField(max_length=15, blank=True, default="", db_index=True)
    netmask = models.CharField(max_length=15, blank=True, default="")
    chosen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.computer_id} {self.role} {self.subnet}"


class DeviceType(models.Model):
    """A kind of identified device (router, printer, ...): seeds "Gérer les types"."""

    name = models.CharField(max_length=255, unique=True)

    def __str__(self) -> str:
        return self.name


class DiscoveredDevice(models.Model):
    """A MAC address a scanner saw on its subnet (OCS ``netmap``; MAC is the key there too).

    ``computer`` links the MAC to an inventoried computer whose NETWORKS carry it; it is
    refreshed when the scan is stored and when that computer sends an inventory.
    """

    mac = models.CharField(max_length=17, unique=True, help_text="lower case xx:xx:xx:xx:xx:xx")
    ip_address = models.CharField(max_length=15, db_index=True)
    netmask = models.CharField(max_length=15, blank=True, default="")
    subnet = models.CharField(max_length=15, db_index=True)
    name = models.CharField(max_length=255, blank=True, default="")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    computer = models.ForeignKey(
        Computer, null=True, blank=True, on_delete=models.SET_NULL, related_name="discovered_as"
    )

    def __str__(self) -> str:
        return f"{self.ip_address} {self.mac}"


class IdentifiedDevice(models.Model):
    """A device an administrator registered as known (OCS ``network_devices``): it leaves
    the non-inventoried list for the identified one."""

    mac = models.CharField(max_length=17, unique=True)
    type = models.ForeignKey(DeviceType, null=True, blank=True, on_delete=models.SET_NULL)
    description = models.TextField(blank=True, default="")
    registered_by = models.CharField(max_length=150, blank=True, default="")
    registered_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.mac
