"""Duplicate computers: automatic detection (AUTO_DUPLICATE_LVL), OLD_DEVICEID and manual merge.

protocol.md §6.3 and the seed's "Gérer les ordinateurs dupliqués". A candidate is a
duplicate when *every* criterion chosen in AUTO_DUPLICATE_LVL matches. Blacklisted serial
numbers and MAC addresses (``NNNNNNNN``, ``00:00:00:00:00:00``, ...) never match. OCS 2.8.1's
asset-tag criterion never matched (it read a column its query did not select); here it does.

Other domains keep rows that point at computers (assignments, ...): they register a
function in :data:`merge_hooks` to move their rows from the absorbed computer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import transaction
from django.db.models import Q, QuerySet

from ocelot.inventory.models import (
    AccountInfo,
    AccountValue,
    Bios,
    BlacklistedMac,
    BlacklistedSerial,
    Computer,
    GroupMember,
    NetworkInterface,
    SettingOverride,
)

HOSTNAME, SERIAL, MAC, MODEL, UUID, ASSET_TAG = 1, 2, 4, 8, 16, 32
CRITERIA = {
    HOSTNAME: "hostname",
    SERIAL: "serial number",
    MAC: "MAC address",
    MODEL: "model",
    UUID: "UUID",
    ASSET_TAG: "asset tag",
}

# The default blacklists are installed by migration 0002_default_blacklists.

MergeHook = Callable[[Computer, Computer], None]
# Called as hook(keep, absorbed) inside the merge transaction, before `absorbed` is deleted.
merge_hooks: list[MergeHook] = []


def _serial(computer: Computer) -> str:
    bios = Bios.objects.filter(computer=computer).only("system_serial").first()
    serial = bios.system_serial.strip() if bios else ""
    if not serial or BlacklistedSerial.objects.filter(value__iexact=serial).exists():
        return ""
    return serial


def _macs(computer: Computer) -> list[str]:
    macs = {
        m.strip().upper()
        for m in NetworkInterface.objects.filter(computer=computer).values_list("mac", flat=True)
    }
    banned = {m.upper() for m in BlacklistedMac.objects.values_list("value", flat=True)}
    return sorted(m for m in macs if m and m not in banned)


def candidates(computer: Computer, level: int) -> QuerySet[Computer]:
    """Other computers matching every criterion of ``level`` (none when a value is missing)."""
    found = Computer.objects.exclude(pk=computer.pk)
    none = Computer.objects.none()
    if level <= 0:
        return none
    # The BIOS row only for the criteria that read it: the default level (7) does not.
    bios = Bios.objects.filter(computer=computer).first() if level & (MODEL | ASSET_TAG) else None
    if level & HOSTNAME:
        if not computer.name:
            return none
        found = found.filter(name=computer.name)
    if level & SERIAL:
        serial = _serial(computer)
        if not serial:
            return none
        found = found.filter(bios__system_serial=serial)
    if level & MAC:
        macs = _macs(computer)
        if not macs:
            return none
        condition = Q()
        for mac in macs:
            condition |= Q(networks__mac__iexact=mac)
        found = found.filter(condition)
    if level & MODEL:
        if bios is None or not bios.system_model:
            return none
        found = found.filter(bios__system_model=bios.system_model)
    if level & UUID:
        if not computer.uuid:
            return none
        found = found.filter(uuid=computer.uuid)
    if level & ASSET_TAG:
        if bios is None or not bios.asset_tag.strip():
            return none
        found = found.filter(bios__asset_tag=bios.asset_tag)
    return found.distinct()


def absorb(keep: Computer, absorbed: Computer, *, take_account_info: bool = True) -> None:
    """Merge ``absorbed`` into ``keep`` and delete it (protocol.md §6.3)."""
    keep.quality = absorbed.quality
    keep.fidelity = absorbed.fidelity
    keep.checksum = keep.checksum | absorbed.checksum
    if keep.user_id.lower() in ("system", "localsystem") and absorbed.user_id:
        keep.user_id = absorbed.user_id
    if keep.first_seen_at and absorbed.first_seen_at:
        keep.first_seen_at = min(keep.first_seen_at, absorbed.first_seen_at)
    if take_account_info and AccountInfo.objects.filter(computer=absorbed).exists():
        AccountInfo.objects.filter(computer=keep).delete()
        AccountInfo.objects.filter(computer=absorbed).update(computer=keep)
        AccountValue.objects.filter(computer=keep).delete()
        AccountValue.objects.filter(computer=absorbed).update(computer=keep)
    # Settings and memberships of the absorbed computer move unless the kept one has its own.
    own = set(SettingOverride.objects.filter(computer=keep).values_list("name", flat=True))
    SettingOverride.objects.filter(computer=absorbed).exclude(name__in=own).update(computer=keep)
    groups = set(GroupMember.objects.filter(computer=keep).values_list("group_id", flat=True))
    GroupMember.objects.filter(computer=absorbed).exclude(group_id__in=groups).update(computer=keep)
    for hook in merge_hooks:
        hook(keep, absorbed)
    keep.save()
    absorbed.delete()


def absorb_duplicates(computer: Computer, level: int) -> bool:
    """Merge every automatic duplicate of a freshly inventoried computer into it."""
    # PostgreSQL refuses FOR UPDATE with DISTINCT: find the ids, then lock the rows.
    ids = list(candidates(computer, level).values_list("pk", flat=True))
    found = list(Computer.objects.select_for_update().filter(pk__in=ids).order_by("first_seen_at", "id"))
    # Oldest last, so that the oldest account info is the one kept.
    for other in reversed(found):
        absorb(computer, other)
    return bool(found)


class MergeError(Exception):
    """A manual merge that cannot be done."""


def merge_computers(computer_ids: Sequence[int]) -> Computer:
    """Merge chosen computers by hand: the newest inventory is kept, with the oldest
    account info; assignments, settings and group memberships move to it."""
    ids = sorted(set(computer_ids))
    if len(ids) < 2:
        raise MergeError("choose at least two computers to merge")
    with transaction.atomic():
        computers = list(Computer.objects.select_for_update().filter(pk__in=ids))
        if len(computers) != len(ids):
            raise MergeError("some of the chosen computers no longer exist")
        newest = max(computers, key=lambda c: (c.last_inventory_at is not None, c.last_inventory_at, c.pk))
        oldest = min(computers, key=lambda c: (c.first_seen_at, c.pk))
        quality, fidelity = newest.quality, newest.fidelity
        for other in computers:
            if other.pk != newest.pk:
                absorb(newest, other, take_account_info=other.pk == oldest.pk)
        # A manual merge keeps the kept computer's own contact statistics.
        newest.quality, newest.fidelity = quality, fidelity
        newest.save(update_fields=["quality", "fidelity"])
    return newest
