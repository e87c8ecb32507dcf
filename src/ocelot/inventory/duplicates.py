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


def _own_values(computer: Computer) -> tuple[str, str, str, list[str]]:
    """The computer's first BIOS row (serial, model, asset tag) and its usable MACs: one
    round trip with the MAC blacklist, in plain SQL (building the five ORM queries this
    took cost more than running them, bench/README.md "Where the time goes")."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    bios, networks, banned = (
        quote(model._meta.db_table) for model in (Bios, NetworkInterface, BlacklistedMac)
    )
    sql = (
        f"SELECT 0, id, system_serial, system_model, asset_tag FROM {bios} WHERE computer_id = %s"  # noqa: S608
        f" UNION ALL SELECT 1, 0, mac, '', '' FROM {networks} WHERE computer_id = %s"
        f" UNION ALL SELECT 2, 0, value, '', '' FROM {banned}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [computer.pk, computer.pk])
        rows = cursor.fetchall()
    first_bios = min((row for row in rows if row[0] == 0), key=lambda row: row[1], default=None)
    serial, model, asset_tag = (first_bios[2], first_bios[3], first_bios[4]) if first_bios else ("", "", "")
    macs = {str(row[2]).strip().upper() for row in rows if row[0] == 1}
    blacklisted = {str(row[2]).upper() for row in rows if row[0] == 2}
    return serial, model, asset_tag, sorted(m for m in macs if m and m not in blacklisted)


def candidate_ids(computer: Computer, level: int) -> list[int]:
    """Other computers matching every criterion of ``level`` (none when a value is missing).

    Each criterion on a section is an EXISTS of its own, as the ORM's chained filters on a
    multi-valued relation were: one BIOS row may give the serial and another the model."""
    if level <= 0:
        return []
    serial, model, asset_tag, macs = (
        _own_values(computer) if level & (SERIAL | MAC | MODEL | ASSET_TAG) else ("", "", "", [])
    )
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    computers, bios, networks, banned = (
        quote(m._meta.db_table) for m in (Computer, Bios, NetworkInterface, BlacklistedSerial)
    )
    conditions = ["c.id <> %s"]
    params: list[object] = [computer.pk]

    def bios_has(column: str, value: str) -> None:
        conditions.append(f"EXISTS (SELECT 1 FROM {bios} b WHERE b.computer_id = c.id AND b.{column} = %s)")  # noqa: S608
        params.append(value)

    if level & HOSTNAME:
        if not computer.name:
            return []
        conditions.append("c.name = %s")
        params.append(computer.name)
    if level & SERIAL:
        serial = serial.strip()
        if not serial:
            return []
        # A blacklisted serial matches nothing (case-insensitive, as ``iexact`` compared).
        conditions.append(f"NOT EXISTS (SELECT 1 FROM {banned} s WHERE UPPER(s.value) = UPPER(%s))")  # noqa: S608
        params.append(serial)
        bios_has("system_serial", serial)
    if level & MAC:
        if not macs:
            return []
        placeholders = ", ".join(["%s"] * len(macs))
        conditions.append(
            f"EXISTS (SELECT 1 FROM {networks} n"  # noqa: S608
            f" WHERE n.computer_id = c.id AND UPPER(n.mac) IN ({placeholders}))"
        )
        params.extend(macs)
    if level & MODEL:
        if not model:
            return []
        bios_has("system_model", model)
    if level & UUID:
        if not computer.uuid:
            return []
        conditions.append("c.uuid = %s")
        params.append(computer.uuid)
    if level & ASSET_TAG:
        if not asset_tag.strip():
            return []
        bios_has("asset_tag", asset_tag)
    sql = f"SELECT c.id FROM {computers} c WHERE {' AND '.join(conditions)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


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
    ids = candidate_ids(computer, level)
    if not ids:
        return False
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
