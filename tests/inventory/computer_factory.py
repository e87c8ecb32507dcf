"""Computers with chosen sections, written straight to the store (fast; no agent payload).

For search, list and console tests that need many computers with precise values. Tests
about what agents send use ``store_inventory`` on payloads instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ocelot.inventory.account_info import typed_value
from ocelot.inventory.models import (
    AccountField,
    AccountInfo,
    AccountValue,
    Bios,
    Computer,
    Drive,
    LoggedInUser,
    Monitor,
    NetworkInterface,
    Printer,
    RegistryValue,
    Software,
    SoftwareInstallation,
)


def software(name: str, version: str = "1.0", publisher: str = "") -> Software:
    key = hashlib.sha256(f"{name}\x00{publisher}\x00{version}".encode()).hexdigest()
    entry, _ = Software.objects.get_or_create(
        key=key, defaults={"name": name, "version": version, "publisher": publisher}
    )
    return entry


def make_computer(
    name: str,
    *,
    tag: str | None = "",
    installed: Iterable[str] = (),
    networks: Iterable[dict[str, str]] = (),
    bios: dict[str, str] | None = None,
    drives: Iterable[int | None] = (),
    monitors: Iterable[dict[str, str]] = (),
    printers: Iterable[str] = (),
    registry: Iterable[tuple[str, str]] = (),
    logged_in: Iterable[str] = (),
    account: dict[str, str] | None = None,
    last_inventory_at: datetime | None = None,
    last_contact_at: datetime | None = None,
    **fields: Any,
) -> Computer:
    """A computer named ``name`` with the given columns and section rows.

    ``tag`` None leaves the computer without account info (as a computer that lost it).
    ``account`` maps account field names (created as text fields when missing) to values.
    """
    computer = Computer.objects.create(
        device_id=fields.pop("device_id", f"{name}-2026-01-01-00-00-00"),
        name=name,
        last_inventory_at=last_inventory_at,
        last_contact_at=last_contact_at,
        **fields,
    )
    if tag is not None:
        AccountInfo.objects.create(computer=computer, tag=tag)
    for software_name in installed:
        SoftwareInstallation.objects.create(computer=computer, software=software(software_name))
    for network in networks:
        NetworkInterface.objects.create(computer=computer, **network)
    if bios is not None:
        Bios.objects.create(computer=computer, **bios)
    for free in drives:
        Drive.objects.create(computer=computer, free=free, total=(free or 0) * 2)
    for monitor in monitors:
        Monitor.objects.create(computer=computer, **monitor)
    for printer in printers:
        Printer.objects.create(computer=computer, name=printer)
    for value_name, value in registry:
        RegistryValue.objects.create(computer=computer, name=value_name, value=value)
    for login in logged_in:
        LoggedInUser.objects.create(computer=computer, login=login)
    for field_name, text in (account or {}).items():
        field, _ = AccountField.objects.get_or_create(name=field_name)
        AccountValue.objects.create(computer=computer, field=field, **typed_value(field, text))
    return computer
