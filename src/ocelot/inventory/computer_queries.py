"""Reading computers for people: list columns, sorting and pages, the computer page, the
TAG repartition and the dashboard figures (seed 004, "Résultats des requêtes d'inventaire").

Every function takes the queryset of computers the caller may see (the console and the API
pass ``visible_computers(user)``, possibly narrowed by :func:`ocelot.inventory.search.search`)
and never widens it. Column, sort and page-size names come from allow-lists:
:data:`COLUMNS`, :func:`parse_sort`, :data:`PAGE_SIZES`; anything else raises
:class:`ListError` (HTTP 400 at the doors).

Query budget (pinned by tests): a list page is three queries (COUNT, the ids of the page,
then those rows with the BIOS and TAG joined and the "own settings" marker); the
computer page is one query to find its sections with rows, then one per such section; the
dashboard three; the TAG repartition one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, Model, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ocelot.inventory.models import (
    SECTION_MODELS,
    AccountField,
    AccountInfo,
    AccountValue,
    Bios,
    Computer,
    OtherSection,
    SettingOverride,
    SoftwareInstallation,
)
from ocelot.inventory.setting_catalogue import definition
from ocelot.inventory.setting_values import resolve


class ListError(ValueError):
    """A column, sort key or page size outside the allow-lists."""


# ---------------------------------------------------------------- list columns


def _bios(name: str) -> Callable[[Computer], Any]:
    def read(computer: Computer) -> Any:
        try:
            return getattr(computer.bios, name)
        except Bios.DoesNotExist:
            return ""

    return read


def _tag(computer: Computer) -> Any:
    try:
        return computer.account_info.tag
    except AccountInfo.DoesNotExist:
        return ""


def _own(name: str) -> Callable[[Computer], Any]:
    return lambda computer: getattr(computer, name)


@dataclass(frozen=True)
class Column:
    """A column of the computer list: its key, label, how to sort by it and read it."""

    key: str
    label: Any
    sort: str
    read: Callable[[Computer], Any]
    kind: str = "text"  # "text", "number" or "datetime": how doors format and align it

    @property
    def numeric(self) -> bool:
        return self.kind == "number"


COLUMNS: dict[str, Column] = {
    column.key: column
    for column in (
        Column("name", _("Name"), "name", _own("name")),
        Column("tag", _("TAG"), "account_info__tag", _tag),
        Column("os", _("Operating system"), "os_name", _own("os_name")),
        Column("os_version", _("OS version"), "os_version", _own("os_version")),
        Column("ip", _("IP address"), "ip_address", _own("ip_address")),
        Column("memory", _("Memory (MB)"), "memory", _own("memory"), kind="number"),
        Column("swap", _("Swap (MB)"), "swap", _own("swap"), kind="number"),
        Column("processor", _("Processor"), "processor_type", _own("processor_type")),
        Column("cpu_speed", _("CPU speed (MHz)"), "processor_speed", _own("processor_speed"), kind="number"),
        Column("cpu_count", _("Processors"), "processor_count", _own("processor_count"), kind="number"),
        Column("user", _("User"), "user_id", _own("user_id")),
        Column("domain", _("Domain"), "workgroup", _own("workgroup")),
        Column("description", _("Description"), "description", _own("description")),
        Column(
            "last_inventory",
            _("Last inventory"),
            "last_inventory_at",
            _own("last_inventory_at"),
            kind="datetime",
        ),
        Column(
            "last_contact", _("Last contact"), "last_contact_at", _own("last_contact_at"), kind="datetime"
        ),
        Column("first_seen", _("First seen"), "first_seen_at", _own("first_seen_at"), kind="datetime"),
        Column("agent", _("Agent"), "user_agent", _own("user_agent")),
        Column("architecture", _("Architecture"), "architecture", _own("architecture")),
        Column("uuid", _("UUID"), "uuid", _own("uuid")),
        Column("device_id", _("Device ID"), "device_id", _own("device_id")),
        Column("manufacturer", _("Manufacturer"), "bios__system_manufacturer", _bios("system_manufacturer")),
        Column("model", _("Model"), "bios__system_model", _bios("system_model")),
        Column("serial", _("Serial number"), "bios__system_serial", _bios("system_serial")),
        Column("bios_version", _("BIOS version"), "bios__bios_version", _bios("bios_version")),
    )
}
DEFAULT_COLUMNS: tuple[str, ...] = ("name", "tag", "os", "ip", "memory", "user", "last_inventory", "agent")
PAGE_SIZES: tuple[int, ...] = (10, 25, 50, 100, 200, 500)
DEFAULT_PAGE_SIZE = 50
DEFAULT_SORT = "name"


def parse_columns(keys: Sequence[str]) -> list[str]:
    """Validated column keys, duplicates removed, "name" always first; raises ListError."""
    chosen: list[str] = []
    for key in keys:
        if key not in COLUMNS:
            raise ListError(f"unknown column {str(key)[:40]!r}")
        if key not in chosen:
            chosen.append(key)
    if not chosen:
        raise ListError("choose at least one column")
    return ["name", *[key for key in chosen if key != "name"]]


def saved_columns(stored: Any) -> list[str]:
    """A user's saved columns, dropping any no longer known; the defaults when none."""
    keys = (
        [key for key in stored if isinstance(key, str) and key in COLUMNS] if isinstance(stored, list) else []
    )
    return parse_columns(keys) if keys else list(DEFAULT_COLUMNS)


def parse_page_size(raw: Any) -> int:
    try:
        size = int(raw)
    except (TypeError, ValueError):
        raise ListError("unknown page size") from None
    if size not in PAGE_SIZES:
        raise ListError("unknown page size")
    return size


def parse_sort(raw: str | None) -> tuple[str, bool]:
    """``name`` or ``-name`` (descending) for a column key; raises ListError."""
    text = (raw or DEFAULT_SORT).strip()
    descending = text.startswith("-")
    key = text[1:] if descending else text
    if key not in COLUMNS:
        raise ListError(f"unknown sort key {text[:40]!r}")
    return key, descending


def _ordered(computers: QuerySet[Computer], sort: str) -> QuerySet[Computer]:
    key, descending = parse_sort(sort)
    path = COLUMNS[key].sort
    expression = F(path)
    # Empty values last, the same on every database; but plain order on the computer's own
    # NOT NULL columns, so that an index (name, os_name, ...) can serve it.
    nullable = "__" in path or Computer._meta.get_field(path).null
    if nullable:
        order = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    else:
        order = expression.desc() if descending else expression.asc()
    tie = F("id").desc() if descending else F("id").asc()
    return computers.order_by(order, tie)


def list_rows(computers: QuerySet[Computer], sort: str = DEFAULT_SORT) -> QuerySet[Computer]:
    """The computers ready for a list: sorted, BIOS and TAG joined, and ``has_own_settings``
    annotated (the seed's red marker: "ordinateurs ayant des paramètres spécifiques")."""
    own_settings = SettingOverride.objects.filter(computer_id=OuterRef("pk"))
    return (
        _ordered(computers, sort)
        .select_related("bios", "account_info")
        .defer("extra", "bios__extra")
        .annotate(has_own_settings=Exists(own_settings))
    )


@dataclass
class ListRow:
    """One computer of a list page, with its cells in column order."""

    computer: Computer
    cells: list[Any]
    marked: bool
    columns: list[Column] = field(default_factory=list)

    @property
    def items(self) -> list[tuple[Column, Any]]:
        """(column, value) pairs, for templates."""
        return list(zip(self.columns, self.cells, strict=True))


@dataclass
class ListPage:
    """A page of the computer list: the Django page (for navigation) and its rows."""

    page: Page[Any]  # its object_list holds the computers of the page
    columns: list[Column]
    rows: list[ListRow]
    sort: str
    page_size: int

    @property
    def total(self) -> int:
        return self.page.paginator.count


def list_page(
    computers: QuerySet[Computer],
    *,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    sort: str = DEFAULT_SORT,
    page_number: Any = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> ListPage:
    """One page of computers with the chosen columns, in three queries: the COUNT, the ids
    of the page (sorting only narrow rows, whatever the number of computers), then those
    computers with their BIOS, TAG and marker."""
    chosen = [COLUMNS[key] for key in parse_columns(columns)]
    parse_page_size(page_size)
    page = Paginator(_ordered(computers, sort).values_list("id", flat=True), page_size).get_page(page_number)
    ids = list(page.object_list)
    found = {computer.pk: computer for computer in list_rows(Computer.objects.filter(pk__in=ids), sort)}
    computers_of_page = [found[pk] for pk in ids if pk in found]
    page.object_list = computers_of_page  # type: ignore[assignment]
    rows = [
        ListRow(
            computer,
            [column.read(computer) for column in chosen],
            bool(computer.has_own_settings),  # type: ignore[attr-defined]
            chosen,
        )
        for computer in computers_of_page
    ]
    return ListPage(page, chosen, rows, sort, page_size)


def export_rows(
    computers: QuerySet[Computer], *, columns: Sequence[str], sort: str = DEFAULT_SORT
) -> Iterator[list[Any]]:
    """The header then one row per computer, streamed in chunks (for CSV export)."""
    chosen = [COLUMNS[key] for key in parse_columns(columns)]
    yield [str(column.label) for column in chosen]
    for computer in list_rows(computers, sort).iterator(chunk_size=2000):
        yield [column.read(computer) for column in chosen]


# ---------------------------------------------------------------- TAGs and dashboard


@dataclass(frozen=True)
class TagCount:
    """Computers with one TAG; ``tag`` "" gathers empty TAGs and computers without one."""

    tag: str
    count: int


def tag_repartition(computers: QuerySet[Computer]) -> list[TagCount]:
    """Computers per TAG, most numerous first (seed: "TAG / Répartition du nombre de PC")."""
    counts: dict[str, int] = {}
    for tag, count in (
        computers.order_by()
        .values_list("account_info__tag")
        .annotate(count=Count("id"))
        .values_list("account_info__tag", "count")
    ):
        counts[tag or ""] = counts.get(tag or "", 0) + count
    return [
        TagCount(tag, count) for tag, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


@dataclass(frozen=True)
class Share:
    """A value and how many computers have it (one bar of a chart)."""

    label: str
    count: int
    other: bool = False  # the "everything else" bar


@dataclass
class Dashboard:
    """The dashboard figures."""

    total: int
    seen_day: int
    seen_week: int
    seen_month: int
    never_seen: int
    operating_systems: list[Share]
    agents: list[Share]


def _shares(computers: QuerySet[Computer], column: str, top: int) -> list[Share]:
    counts = list(
        computers.order_by().values_list(column).annotate(count=Count("id")).order_by("-count", column)
    )
    shares = [Share(str(value or ""), count) for value, count in counts[:top]]
    rest = sum(count for _value, count in counts[top:])
    if rest:
        shares.append(Share("", rest, other=True))
    return shares


def dashboard(computers: QuerySet[Computer], *, now: datetime | None = None, top: int = 8) -> Dashboard:
    """Counts of computers, recently seen ones, and the most common OS and agents (3 queries)."""
    now = now or timezone.now()
    figures = computers.order_by().aggregate(
        total=Count("id"),
        day=Count("id", filter=Q(last_contact_at__gte=now - timedelta(days=1))),
        week=Count("id", filter=Q(last_contact_at__gte=now - timedelta(days=7))),
        month=Count("id", filter=Q(last_contact_at__gte=now - timedelta(days=30))),
        never=Count("id", filter=Q(last_contact_at__isnull=True)),
    )
    return Dashboard(
        total=figures["total"],
        seen_day=figures["day"],
        seen_week=figures["week"],
        seen_month=figures["month"],
        never_seen=figures["never"],
        operating_systems=_shares(computers, "os_name", top),
        agents=_shares(computers, "user_agent", top),
    )


# ---------------------------------------------------------------- the computer page

SECTION_LABELS: dict[str, Any] = {
    "bios": _("BIOS and system"),
    "cpus": _("Processors"),
    "memory_modules": _("Memory"),
    "storages": _("Storage"),
    "drives": _("Drives"),
    "networks": _("Networks"),
    "videos": _("Video cards"),
    "monitors": _("Monitors"),
    "software": _("Software"),
    "printers": _("Printers"),
    "sounds": _("Sound devices"),
    "controllers": _("Controllers"),
    "slots": _("Slots"),
    "ports": _("Ports"),
    "inputs": _("Input devices"),
    "modems": _("Modems"),
    "usb_devices": _("USB devices"),
    "batteries": _("Batteries"),
    "power_supplies": _("Power supplies"),
    "virtual_machines": _("Virtual machines"),
    "sims": _("SIM cards"),
    "logged_in_users": _("Logged-in users"),
    "local_users": _("Local users"),
    "local_groups": _("Local groups"),
    "repositories": _("Repositories"),
    "processes": _("Processes"),
    "registry_values": _("Registry values"),
}
# How many rows of one section a computer page shows (a busy server lists many processes).
SECTION_ROW_LIMIT = 5000

# Words of column names written as people write them ("Ip address" -> "IP address").
_ACRONYMS = {
    word: word.upper()
    for word in (
        "ip",
        "mac",
        "bios",
        "pci",
        "id",
        "uuid",
        "dhcp",
        "mtu",
        "ssid",
        "bssid",
        "mib",
        "usb",
        "vcpu",
        "sbds",
        "oem",
        "tty",
        "scsi",
        "lun",
        "guid",
        "os",
        "vm",
        "cpu",
        "cpus",
        "l2",
        "gid",
        "uid",
    )
}


def column_label(verbose_name: str) -> str:
    """A section column's label from its field's verbose name, translated when known."""
    translated = gettext(verbose_name)
    if translated != verbose_name:
        return capfirst(translated)
    return capfirst(" ".join(_ACRONYMS.get(word, word) for word in verbose_name.split(" ")))


_HIDDEN_FIELDS = frozenset({"id", "computer", "extra", "software", "edid_base64", "edid_uuencode"})


@dataclass
class SectionTable:
    """One inventory section of a computer as a table; columns empty on every row are left out."""

    key: str
    label: Any
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool = False

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def pairs(self) -> list[tuple[str, Any]]:
        """(label, value) of the first row, for one-row sections such as the BIOS."""
        return list(zip(self.columns, self.rows[0], strict=True)) if self.rows else []


@dataclass
class AccountEntry:
    """An account info field and this computer's value."""

    field: AccountField
    value: str


@dataclass
class SettingEntry:
    """A per-computer setting: this computer's own value (None: inherited) and the effective one."""

    name: str
    help: str
    kind: str
    own: str | None
    effective: Any
    minimum: int | None = None
    maximum: int | None = None
    unit: str = ""


# The settings an administrator may set on one computer (issue 3): FREQUENCY, PROLOG_FREQ,
# the DOWNLOAD switch and latencies. IPDISCOVER has its own entry (see ipdiscover_mode).
COMPUTER_SETTINGS: tuple[str, ...] = (
    "FREQUENCY",
    "PROLOG_FREQ",
    "DOWNLOAD_SWITCH",
    "DOWNLOAD_FRAG_LATENCY",
    "DOWNLOAD_CYCLE_LATENCY",
    "DOWNLOAD_PERIOD_LATENCY",
    "DOWNLOAD_PERIOD_LENGTH",
    "DOWNLOAD_TIMEOUT",
)

# IP discovery per computer, as OCS keeps it in ``devices`` (NAME=IPDISCOVER): never a
# scanner, chosen automatically (the default), or forced to scan one network. Stored as a
# SettingOverride named IPDISCOVER whose value is "never", "automatic" or "forced:<subnet>";
# the global IPDISCOVER setting (scanners per subnet) never parses these texts, so the two
# cannot be confused. The IP-discovery issue reads them for the election.
IPDISCOVER_OVERRIDE = "IPDISCOVER"
IPDISCOVER_NEVER, IPDISCOVER_AUTOMATIC, IPDISCOVER_FORCED = "never", "automatic", "forced"


@dataclass
class ComputerDetail:
    """Everything the computer page shows."""

    computer: Computer
    tag: str
    bios: Bios | None
    sections: list[SectionTable]
    others: list[SectionTable]
    account: list[AccountEntry]
    settings: list[SettingEntry]
    ipdiscover: str  # "" (inherited), "never", "automatic" or "forced:<subnet>"
    networks: list[str] = field(default_factory=list)  # subnets the computer is on, for IPDISCOVER


def _table(
    key: str, label: Any, model: type[Model], rows: Sequence[Model], *, keep_empty_rows: bool = False
) -> SectionTable:
    fields = [f for f in model._meta.concrete_fields if f.name not in _HIDDEN_FIELDS]
    values = [[getattr(row, f.attname) for f in fields] for row in rows]
    keep = [i for i in range(len(fields)) if any(v not in ("", None) for v in (r[i] for r in values))]
    if not keep and not keep_empty_rows:
        values = []  # rows with nothing to show (the Unix agent's empty BIOS) make no table
    return SectionTable(
        key,
        label,
        [column_label(str(fields[i].verbose_name)) for i in keep],
        [[row[i] for i in keep] for row in values],
    )


def _software_table(computer: Computer) -> SectionTable:
    installations = list(
        SoftwareInstallation.objects.filter(computer=computer)
        .select_related("software")
        .defer("extra")
        .order_by("software__name", "software__version", "id")[: SECTION_ROW_LIMIT + 1]
    )
    # Name, publisher and version live in the catalogue: an installation with no other
    # field is still a row.
    table = _table(
        "software",
        SECTION_LABELS["software"],
        SoftwareInstallation,
        installations[:SECTION_ROW_LIMIT],
        keep_empty_rows=True,
    )
    table.columns = [gettext("Name"), gettext("Publisher"), gettext("Version"), *table.columns]
    table.rows = [
        [item.software.name, item.software.publisher, item.software.version, *row]
        for item, row in zip(installations, table.rows, strict=False)
    ]
    table.truncated = len(installations) > SECTION_ROW_LIMIT
    return table


def ipdiscover_mode(raw: str) -> str:
    """A valid IPDISCOVER override value from form input, or ValueError."""
    text = raw.strip()
    if text in (IPDISCOVER_NEVER, IPDISCOVER_AUTOMATIC):
        return text
    if text.startswith(IPDISCOVER_FORCED + ":"):
        network = text.split(":", 1)[1].strip()
        parts = network.split(".")
        if len(parts) == 4 and all(part.isdigit() and int(part) <= 255 for part in parts):
            return f"{IPDISCOVER_FORCED}:{network}"
    raise ValueError(f"IPDISCOVER: expected never, automatic or forced:<network>, got {text[:40]!r}")


def _filled_sections(computer: Computer) -> set[str]:
    """The sections (and "others") with rows for ``computer``, in one query of EXISTS probes.

    Most sections of most computers are empty (an agent sends a dozen of the 26); reading
    each one cost a database round trip per section, which dominated the computer page on
    PostgreSQL (bench/pages.py).
    """
    # Aliases "filled_<key>": the bare keys are the computer's reverse relations.
    probes: dict[str, Any] = {
        f"filled_{key}": Exists(model.objects.filter(computer_id=OuterRef("pk")))
        for key, model in SECTION_MODELS.items()
    }
    probes["filled_others"] = Exists(OtherSection.objects.filter(computer_id=OuterRef("pk")))
    found = Computer.objects.filter(pk=computer.pk).values(**probes).first() or {}
    return {alias.removeprefix("filled_") for alias, filled in found.items() if filled}


def computer_detail(computer: Computer) -> ComputerDetail:
    """Every section of one computer, its account info and settings: one query finds the
    sections with rows, then one query per such section (and the software, always)."""
    sections: list[SectionTable] = []
    order = [key for key in SECTION_LABELS if key in SECTION_MODELS or key == "software"]
    order += [key for key in SECTION_MODELS if key not in order]
    bios: Bios | None = None
    subnets: set[str] = set()
    filled = _filled_sections(computer)
    for key in order:
        if key == "software":
            sections.append(_software_table(computer))
            continue
        model = SECTION_MODELS[key]
        label = SECTION_LABELS.get(key, capfirst(key.replace("_", " ")))
        if key not in filled:
            sections.append(SectionTable(key, label, [], []))
            continue
        rows = list(
            model.objects.filter(computer=computer).defer("extra").order_by("id")[: SECTION_ROW_LIMIT + 1]
        )
        if key == "bios":
            bios = rows[0] if rows else None  # type: ignore[assignment]
        elif key == "networks":
            subnets = {row.subnet for row in rows if row.subnet}  # type: ignore[attr-defined]
        table = _table(key, label, model, rows[:SECTION_ROW_LIMIT])
        table.truncated = len(rows) > SECTION_ROW_LIMIT
        sections.append(table)

    others: dict[str, SectionTable] = {}
    other_rows = OtherSection.objects.filter(computer=computer).order_by("tag", "id")
    for item in other_rows if "others" in filled else ():
        data = item.data if isinstance(item.data, dict) else {"": item.data}
        table = others.setdefault(item.tag, SectionTable(f"other-{item.tag}", item.tag, [], []))
        for name in data:
            if str(name) not in table.columns:
                table.columns.append(str(name))
        table.rows.append([data.get(name, "") for name in table.columns])  # type: ignore[call-overload]
    for table in others.values():
        width = len(table.columns)
        table.rows = [row + [""] * (width - len(row)) for row in table.rows]

    values = dict(AccountValue.objects.filter(computer=computer).values_list("field_id", "text"))
    account = [AccountEntry(item, values.get(item.pk, "")) for item in AccountField.objects.order_by("id")]
    tag = AccountInfo.objects.filter(computer=computer).values_list("tag", flat=True).first() or ""

    own = dict(SettingOverride.objects.filter(computer=computer).values_list("name", "value"))
    effective = resolve(computer.pk)
    settings = []
    for name in COMPUTER_SETTINGS:
        spec = definition(name)
        settings.append(
            SettingEntry(
                name,
                spec.help,
                spec.kind,
                own.get(name),
                effective[name],
                spec.minimum,
                spec.maximum,
                spec.unit,
            )
        )
    return ComputerDetail(
        computer=computer,
        tag=tag,
        bios=bios,
        sections=sections,
        others=list(others.values()),
        account=account,
        settings=settings,
        ipdiscover=own.get(IPDISCOVER_OVERRIDE, ""),
        networks=sorted(subnets),
    )
