"""Answering a contact (PROLOG): send an inventory or not, and which options apply.

protocol.md §4.3-§4.6. Known computers get their FIDELITY, QUALITY and last contact
updated. Unknown ones are not created here: the computer appears with its first inventory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ocelot.inventory.models import Computer, ContactSession, GroupMember, RegistryQuery, SettingOverride
from ocelot.inventory.prepared_statements import prepared_cursor, qmark_cursor
from ocelot.inventory.setting_values import ComputerSettings, global_values, resolve
from ocelot.protocol.messages import ContactReply, OptionParam, ReplyOption


@dataclass(frozen=True)
class DownloadPackageProvider:
    """Where the TYPE=PACK params of OPTION DOWNLOAD come from (protocol.md §4.4).

    Packages live in the deployment domain, which sits above inventory (design.md §3):
    it registers a provider when Django starts, and the contact calls it.

    ``pending_sql`` is a SQL boolean expression in which ``{computer}`` stands for the
    computer's id column; it joins the contact's one SELECT, so a computer with nothing
    pending costs no extra query. ``packages(computer_id)`` is called only when it is true,
    or when the computer is in a group and ``for_groups`` is set (and deployment is on): it
    returns each PACK PARAM's attributes, in order, and updates what it announced.
    ``for_groups`` keeps what depends on group membership out of the SELECT: on
    PostgreSQL, the EXISTS over a group's assignments, members and history cost about
    0.7 ms in every PROLOG, for every computer (bench/README.md, "Where the time goes").
    """

    pending_sql: str
    packages: Callable[[int], Sequence[dict[str, str]]]
    for_groups: bool = False


download_package_providers: list[DownloadPackageProvider] = []


def register_download_package_provider(provider: DownloadPackageProvider) -> None:
    """Add a provider (once); contacts answered from then on consult it."""
    if provider not in download_package_providers:
        download_package_providers.append(provider)


@dataclass(frozen=True)
class ScanProvider:
    """Which subnet a computer is asked to scan (OPTION IPDISCOVER, protocol.md §4.5).

    Scanners live in the ipdiscover domain, above inventory: it registers this hook when
    Django starts. ``subnet_sql`` is a SQL expression in which ``{computer}`` stands for
    the computer's id column, giving the network address to scan or NULL; it joins the
    contact's one SELECT, so a computer that scans nothing costs no extra query.
    """

    subnet_sql: str


scan_providers: list[ScanProvider] = []


def register_scan_provider(provider: ScanProvider) -> None:
    """Add the scan provider (once); contacts answered from then on consult it."""
    if provider not in scan_providers:
        scan_providers.append(provider)


def _ipdiscover_option(settings: ComputerSettings, subnet: str) -> ReplyOption:
    """OPTION IPDISCOVER: the subnet as text, the latency in IPDISC_LAT (§4.5)."""
    latency = {"IPDISC_LAT": str(settings.int("IPDISCOVER_LATENCY"))}
    return ReplyOption("IPDISCOVER", (OptionParam(latency, subnet),))


def _download_option(settings: ComputerSettings, computer: _Contacted | None = None) -> ReplyOption:
    """OPTION DOWNLOAD with its CONF PARAM, always carrying ON and TIMEOUT (§4.4).

    The Unix agent reads a missing ON as "off" and a missing TIMEOUT as 0 days. TYPE=PACK
    params follow, from the providers, only when deployment is on and the computer known.
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
    params = [OptionParam(conf)]
    if on and computer is not None:
        announced: set[str] = set()
        for provider, pending in zip(computer.providers, computer.pending, strict=True):
            if not pending and not (provider.for_groups and computer.in_group):
                continue
            for attributes in provider.packages(computer.id):
                # A package at most once per reply (§4.4).
                if attributes.get("ID") not in announced:
                    announced.add(attributes.get("ID", ""))
                    params.append(OptionParam(dict(attributes)))
    return ReplyOption("DOWNLOAD", tuple(params))


def _registry_option() -> ReplyOption | None:
    """OPTION REGISTRY: one PARAM per query (§4.6)."""
    params = tuple(
        OptionParam({"NAME": name, "REGTREE": str(hive), "REGKEY": key}, value_name)
        for name, hive, key, value_name in RegistryQuery.objects.order_by("id").values_list(
            "name", "hive", "key", "value_name"
        )
    )
    return ReplyOption("REGISTRY", params) if params else None


@dataclass(frozen=True)
class _Contacted:
    """What a contact needs to know of a known computer."""

    id: int
    last_inventory_at: datetime | None
    has_overrides: bool
    in_group: bool = False
    # The providers consulted by the statement, and which of them have something pending.
    providers: tuple[DownloadPackageProvider, ...] = ()
    pending: tuple[bool, ...] = ()
    # The subnet a scan provider names for this computer, if any.
    scan_subnet: str | None = None


def _aware(value: object) -> datetime | None:
    """A DATETIME column as the ORM would give it: aware, in UTC.

    PostgreSQL's contact returns seconds since the epoch (a float): Django's loader of
    timestamptz values is psycopg's Python one, and it took about a sixth of the Python
    time of a PROLOG's contact (py-spy, sixth session)."""
    if value is None:
        return None
    if isinstance(value, float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):  # SQLite without declared-type parsing
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        return None
    return timezone.make_aware(value, UTC) if timezone.is_naive(value) else value


def _quality(quality: float, fidelity: int, last_contact_at: datetime | None, now: datetime) -> float:
    """Average days between contacts, as OCS computes it (§4.3 step 2.1).

    PostgreSQL computes the same in SQL (``_QUALITY_POSTGRESQL``).
    """
    if last_contact_at is None:
        return quality
    days = (now - last_contact_at).total_seconds() / 86400
    if fidelity > 1:
        return (days + quality * fidelity) / (fidelity + 1)
    return days


def _contacted(
    pk: object,
    last_inventory: object,
    has_own: object,
    in_group: object,
    flags: Sequence[object],
    providers: tuple[DownloadPackageProvider, ...],
) -> _Contacted:
    """A known computer from the flag columns that follow its own (``_flags_sql``)."""
    subnets = [str(value) for value in flags[len(providers) :] if value]
    return _Contacted(
        int(pk),  # type: ignore[call-overload]
        _aware(last_inventory),
        bool(has_own or in_group),
        bool(in_group),
        providers,
        tuple(bool(value) for value in flags[: len(providers)]),
        subnets[0] if subnets else None,
    )


def _contact(device_id: str, user_agent: str, now: datetime) -> _Contacted | None:
    """Find a known computer and record this contact (FIDELITY, QUALITY, last contact).

    On PostgreSQL, one prepared statement does both (``_contact_postgresql``). Elsewhere
    a SELECT reads the computer and its flags, then an UPDATE records the contact: SQLite
    runs in the process (one statement instead of two saved 0.03 ms of 0.55, within the
    noise), and MariaDB has no UPDATE ... RETURNING.
    """
    providers = tuple(download_package_providers)
    scans = tuple(scan_providers)
    if connection.vendor == "postgresql":
        return _contact_postgresql(device_id, user_agent, now, providers, scans)
    cursor = qmark_cursor()
    select, update = _contact_sql(providers, scans, qmark=cursor is not None)
    with cursor or connection.cursor() as cursor:
        cursor.execute(select, [device_id])
        row = cursor.fetchone()
        if row is None:
            return None
        pk, quality, fidelity, last_contact, last_inventory, has_own, in_group, *flags = row
        computer = _contacted(pk, last_inventory, has_own, in_group, flags, providers)
        quality = _quality(float(quality or 0.0), int(fidelity or 0), _aware(last_contact), now)
        # No lock: FIDELITY increments atomically; QUALITY is an average where a rare race
        # between two contacts of one computer changes nothing useful.
        cursor.execute(
            update, [quality, connection.ops.adapt_datetimefield_value(now), user_agent[:255], computer.id]
        )
    return computer


def _flags_sql(providers: tuple[DownloadPackageProvider, ...], scans: tuple[ScanProvider, ...]) -> str:
    """The computer's override and group flags, then one column per provider."""
    computers = Computer._meta.db_table
    overrides = SettingOverride._meta.db_table
    members = GroupMember._meta.db_table
    # Table names come from the models; every value is bound.
    return (
        f"EXISTS(SELECT 1 FROM {overrides} o WHERE o.computer_id = {computers}.id) AS has_own,"  # noqa: S608
        f" EXISTS(SELECT 1 FROM {members} m WHERE m.computer_id = {computers}.id"
        f" AND m.kind <> '{GroupMember.EXCLUDED}') AS in_group"
        + "".join(
            f", {provider.pending_sql.format(computer=f'{computers}.id')} AS pending_{number}"
            for number, provider in enumerate(providers)
        )
        + "".join(
            f", {scan.subnet_sql.format(computer=f'{computers}.id')} AS scan_{number}"
            for number, scan in enumerate(scans)
        )
    )


@cache
def _contact_sql(
    providers: tuple[DownloadPackageProvider, ...] = (),
    scans: tuple[ScanProvider, ...] = (),
    *,
    qmark: bool = False,
) -> tuple[str, str]:
    """The two statements of a contact on SQLite and MariaDB, written once per set of
    providers (the ORM's query building cost more than running them: bench/README.md,
    "Where the time goes"); ``qmark``: with SQLite's own ``?`` placeholders, for
    prepared_statements.qmark_cursor."""
    if qmark:
        select, update = _contact_sql(providers, scans)
        # The providers' SQL binds nothing and holds no % (a LIKE pattern would need %%).
        return select.replace("%s", "?"), update.replace("%s", "?")
    computers = Computer._meta.db_table
    select = (
        "SELECT id, quality, fidelity, last_contact_at, last_inventory_at, "  # noqa: S608
        + _flags_sql(providers, scans)
        + f" FROM {computers} WHERE device_id = %s"
    )
    update = (
        f"UPDATE {computers} SET quality = %s, fidelity = fidelity + 1, last_contact_at = %s,"  # noqa: S608
        f" user_agent = %s WHERE id = %s"
    )
    return select, update


# _quality in SQL: SET expressions read the row as it was before this UPDATE.
_DAYS_POSTGRESQL = "EXTRACT(EPOCH FROM %(now)s - last_contact_at) / 86400"
_QUALITY_POSTGRESQL = (
    f"CASE WHEN last_contact_at IS NULL THEN quality"
    f" WHEN fidelity > 1 THEN ({_DAYS_POSTGRESQL} + quality * fidelity) / (fidelity + 1)"
    f" ELSE {_DAYS_POSTGRESQL} END"
)


@cache
def _contact_sql_postgresql(
    providers: tuple[DownloadPackageProvider, ...], scans: tuple[ScanProvider, ...], asynchronous: bool
) -> str:
    """One UPDATE ... RETURNING that records the contact and reads what the SELECT reads
    elsewhere (the last inventory's time in seconds since the epoch: see ``_aware``); no
    row means an unknown computer.

    ``asynchronous``: the commit does not wait for the WAL to reach the disk (an
    fdatasync of 2-3.5 ms on the benchmark machine, every PROLOG). ``set_config(...,
    true)`` is ``SET LOCAL`` as an expression, for the transaction of this one statement;
    it is evaluated for the computer's row only. A database crash can lose the last
    fraction of a second of contact bookkeeping, never an inventory or a setting. Inside
    a caller's transaction it is left out: that commit is the caller's.
    """
    computers = Computer._meta.db_table
    condition = "device_id = %(device_id)s"
    if asynchronous:
        condition += " AND set_config('synchronous_commit', 'off', true) IS NOT NULL"
    return (
        f"UPDATE {computers} SET quality = {_QUALITY_POSTGRESQL}, fidelity = fidelity + 1,"  # noqa: S608
        f" last_contact_at = %(now)s, user_agent = %(user_agent)s WHERE {condition}"
        f" RETURNING id, EXTRACT(EPOCH FROM last_inventory_at)::float8, {_flags_sql(providers, scans)}"
    )


def _contact_postgresql(
    device_id: str,
    user_agent: str,
    now: datetime,
    providers: tuple[DownloadPackageProvider, ...],
    scans: tuple[ScanProvider, ...],
) -> _Contacted | None:
    """The contact in one round trip, as a statement PostgreSQL keeps prepared
    (``prepared_statements``): in one process, 0.36 ms of backend and client CPU against
    1.25 ms for the SELECT and the UPDATE it replaces (bench/README.md)."""
    sql = _contact_sql_postgresql(providers, scans, connection.get_autocommit())
    params = {"device_id": device_id, "now": now, "user_agent": user_agent[:255]}
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    pk, last_inventory, has_own, in_group, *flags = row
    return _contacted(pk, last_inventory, has_own, in_group, flags, providers)


def answer_contact(
    device_id: str, *, user_agent: str, base: dict[str, int | str] | None = None
) -> ContactReply:
    """Decide SEND or STOP and build the options for one contact."""
    now = timezone.now()
    # The endpoint passes the global values it already read for this request.
    base = global_values() if base is None else base
    computer = _contact(device_id, user_agent, now)
    # Most computers have no setting of their own and no group: no overrides query then.
    settings = resolve(computer.id if computer is not None and computer.has_overrides else None, base)
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
    # A scanner always sends an inventory: that is how its results come back (§4.5).
    scan = computer.scan_subnet if computer is not None and settings.int("IPDISCOVER") else None
    send = send or bool(scan)
    if send and settings.int("INVENTORY_SESSION_ONLY"):
        ContactSession.objects.update_or_create(device_id=device_id, defaults={"started_at": now})
    options: list[ReplyOption] = []
    if settings.int("REGISTRY"):
        registry = _registry_option()
        if registry is not None:
            options.append(registry)
    if scan:
        options.append(_ipdiscover_option(settings, scan))
    options.append(_download_option(settings, computer))
    return ContactReply(send, prolog_freq, on_startup, tuple(options))
