"""Answering a contact (PROLOG): send an inventory or not, and which options apply.

protocol.md §4.3-§4.6. Known computers get their FIDELITY, QUALITY and last contact
updated. Unknown ones are not created here: the computer appears with its first inventory.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from ocelot.inventory.models import Computer, ContactSession, RegistryQuery
from ocelot.inventory.setting_values import ComputerSettings, global_values, resolve
from ocelot.protocol.messages import ContactReply, OptionParam, ReplyOption


def _download_option(settings: ComputerSettings) -> ReplyOption:
    """OPTION DOWNLOAD with its CONF PARAM, always carrying ON and TIMEOUT (§4.4).

    The Unix agent reads a missing ON as "off" and a missing TIMEOUT as 0 days.
    Packages (TYPE=PACK params) join with the deployment issue.
    """
    on = int(bool(settings.int("DOWNLOAD")) and bool(settings.int("DOWNLOAD_SWITCH")))
    conf = {
        "TYPE": "CONF",
        "ON": str(on),
        "FRAG_LATENCY": str(settings.int("DOWNLOAD_FRAG_LATENCY")),
        "CYCLE_LATENCY": str(settings.int("DOWNLOAD_CYCLE_LATENCY")),
        "PERIOD_LATENCY": str(settings.int("DOWNLOAD_PERIOD_LATENCY")),
        "PERIOD_LENGTH": str(settings.int("DOWNLOAD_PERIOD_LENGTH")),
        "TIMEOUT": str(settings.int("DOWNLOAD_TIMEOUT")),
        "EXECUTION_TIMEOUT": str(settings.int("DOWNLOAD_EXECUTION_TIMEOUT")),
    }
    return ReplyOption("DOWNLOAD", (OptionParam(conf),))


def _registry_option() -> ReplyOption | None:
    """OPTION REGISTRY: one PARAM per query (§4.6)."""
    params = tuple(
        OptionParam({"NAME": name, "REGTREE": str(hive), "REGKEY": key}, value_name)
        for name, hive, key, value_name in RegistryQuery.objects.order_by("id").values_list(
            "name", "hive", "key", "value_name"
        )
    )
    return ReplyOption("REGISTRY", params) if params else None


def _quality(computer: Computer, now: datetime) -> float:
    """Average days between contacts, as OCS computes it (§4.3 step 2.1)."""
    if computer.last_contact_at is None:
        return computer.quality
    days = (now - computer.last_contact_at).total_seconds() / 86400
    if computer.fidelity > 1:
        return (days + computer.quality * computer.fidelity) / (computer.fidelity + 1)
    return days


def answer_contact(
    device_id: str, *, user_agent: str, base: dict[str, int | str] | None = None
) -> ContactReply:
    """Decide SEND or STOP and build the options for one contact."""
    now = timezone.now()
    # The endpoint passes the global values it already read for this request.
    base = global_values() if base is None else base
    computer = (
        Computer.objects.filter(device_id=device_id)
        .only("id", "quality", "fidelity", "last_contact_at", "last_inventory_at")
        .first()
    )
    if computer is not None:
        # One UPDATE, no lock: the counter increments atomically; QUALITY is an average
        # where a rare race between two contacts of one computer changes nothing useful.
        Computer.objects.filter(pk=computer.pk).update(
            quality=_quality(computer, now),
            fidelity=F("fidelity") + 1,
            last_contact_at=now,
            user_agent=user_agent[:255],
        )
    settings = resolve(computer.pk if computer else None, base)
    frequency = settings.int("FREQUENCY")
    prolog_freq = settings.int("PROLOG_FREQ")
    on_startup = settings.int("INVENTORY_ON_STARTUP")
    if frequency == -1:
        # A "break": STOP without any option (§4.3 step 1).
        return ContactReply(False, prolog_freq, on_startup)
    if computer is None or frequency == 0 or computer.last_inventory_at is None:
        send = True
    else:
        send = computer.last_inventory_at + timedelta(days=frequency) < now
    if send and settings.int("INVENTORY_SESSION_ONLY"):
        ContactSession.objects.update_or_create(device_id=device_id, defaults={"started_at": now})
    options: list[ReplyOption] = []
    if settings.int("REGISTRY"):
        registry = _registry_option()
        if registry is not None:
            options.append(registry)
    options.append(_download_option(settings))
    return ContactReply(send, prolog_freq, on_startup, tuple(options))
