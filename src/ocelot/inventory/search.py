"""Multi-criteria search over computers (seed 004, "Recherche selon plusieurs critères").

The console's search page and the REST API's computer filters both go through here.

Interface
---------
- :class:`Criterion` -- one condition: ``field``, ``operator``, ``value`` and, for
  BETWEEN / OUTSIDE, ``value2``.
- :func:`search` -- ``search(computers, criteria)`` narrows a queryset of computers (always
  the caller's ``visible_computers(user)``: this module knows nothing of users) to those
  matching **every** criterion; it validates first and raises :class:`SearchError` on an
  unknown field, an operator the field does not take, a value that does not parse, a
  repeated field that may not repeat, or too many / too long criteria. Callers map
  SearchError to HTTP 400. The result is a lazy queryset: sort and paginate it.
- :func:`search_fields` -- the allow-list: the static fields of :data:`FIELDS` plus one
  ``account:<name>`` per account info field and one ``registry:<name>`` per registry query
  (for forms and API documentation).
- :func:`criteria_from_params` / :func:`criteria_to_params` -- the query-string format
  shared by the console and the API: parallel repeated parameters ``field``, ``op``,
  ``value`` and (optional as a whole) ``value2``, in order, one position per criterion::

      ?field=software&op=EQUAL&value=firefox*&value2=
      &field=software&op=EQUAL&value=*office*&value2=
      &field=memory&op=BETWEEN&value=2048&value2=8192

  Positions whose ``field`` is empty are ignored (the blank rows of the console's form).

Fields and operators
--------------------
Operators: EQUAL, DIFFERENT, LESS, MORE, BETWEEN, OUTSIDE (the seed's ÉGAL, DIFFÉRENT,
PLUS PETIT, PLUS GRAND, ENTRE, HORS DE). Text fields take EQUAL and DIFFERENT; numbers
(integer, real) and dates take all six and compare as numbers / dates. BETWEEN is
inclusive at both ends; OUTSIDE is its opposite (below the first or above the second).
The two bounds may be given in any order.

Text values match the whole value, case-insensitively, with ``*`` for any run of
characters and ``?`` for one character; ``\\*``, ``\\?`` and ``\\\\`` stand for the
characters themselves. ``*fox*`` finds "Mozilla Firefox". The pattern becomes a bound LIKE
parameter with ``%``, ``_`` and ``\\`` escaped, so user text never becomes SQL. An empty
text value with EQUAL means "empty or missing"; with DIFFERENT "set to something".

Dates are ``YYYY-MM-DD`` (UTC days): EQUAL is that whole day, LESS before it, MORE after it.

Sections with several rows per computer (software, networks, monitors, drives, registry
values, logged-in users) match when **some** row matches: "software EQUAL firefox*" is a
computer with some Firefox; DIFFERENT is the opposite of EQUAL, so "software DIFFERENT
firefox*" is a computer without any. Each software criterion is its own condition, so two
software criteria find computers having both (the seed: "vous pouvez rechercher différents
logiciels dans une même requête"). Apart from software, registry values and monitors, a
field may appear only once per search (the seed: "tous les autres champs peuvent être
seulement spécifiés une seule fois").

Conditions on rows of other tables are ``computer.id IN (SELECT computer_id ...)``
subqueries, not joins, so no criterion multiplies rows and every database can answer from
its indexes: a software criterion reads only the ``(software_id, computer_id)`` index of
the installations, and on PostgreSQL the catalogue look-up uses an ``UPPER(name)`` pattern
index (migration 0004; the 20,000 computers / 1,000,000 installations benchmark,
``bench/pages.py``). Software names are looked up in the catalogue when
:func:`search` / :func:`criteria_q` is called (one query per software criterion) and the
matching ids go into the query as values: build the queryset when you run it.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from django.db.models import Exists, F, Model, OuterRef, Q, QuerySet
from django.db.models.lookups import BuiltinLookup, IContains
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

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
    RegistryQuery,
    RegistryValue,
    SettingOverride,
    Software,
    SoftwareInstallation,
)

EQUAL, DIFFERENT, LESS, MORE, BETWEEN, OUTSIDE = "EQUAL", "DIFFERENT", "LESS", "MORE", "BETWEEN", "OUTSIDE"
OPERATORS: tuple[str, ...] = (EQUAL, DIFFERENT, LESS, MORE, BETWEEN, OUTSIDE)
TEXT_OPERATORS: tuple[str, ...] = (EQUAL, DIFFERENT)
OPERATOR_LABELS: dict[str, Promise] = {
    EQUAL: _("equal"),
    DIFFERENT: _("different"),
    LESS: _("less than"),
    MORE: _("more than"),
    BETWEEN: _("between"),
    OUTSIDE: _("outside"),
}

ACCOUNT_PREFIX = "account:"
REGISTRY_PREFIX = "registry:"
MAX_CRITERIA = 30
MAX_VALUE_LENGTH = 255

Kind = Literal["text", "integer", "real", "date"]


class SearchError(ValueError):
    """A search the allow-lists refuse: unknown field or operator, bad value, too many criteria."""


@dataclass(frozen=True)
class Criterion:
    """One condition of a search. ``value2`` is the upper bound of BETWEEN and OUTSIDE."""

    field: str
    operator: str = EQUAL
    value: str = ""
    value2: str = ""


class ParamSource(Protocol):
    """What :func:`criteria_from_params` reads: a Django QueryDict or anything with getlist."""

    def getlist(self, key: str, default: Any = ...) -> list[Any]: ...


# ---------------------------------------------------------------- text patterns


_ANY, _ONE = object(), object()


def _pattern_tokens(text: str) -> list[object]:
    """Literal characters, ``_ANY`` for ``*`` and ``_ONE`` for ``?``; ``\\`` escapes one character."""
    tokens: list[object] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            tokens.append(text[index + 1])
            index += 2
            continue
        tokens.append(_ANY if char == "*" else _ONE if char == "?" else char)
        index += 1
    return tokens


def escape_wildcards(text: str) -> str:
    """A value that matches exactly ``text`` (for links such as "computers with this TAG")."""
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")


class WildcardMatch(IContains):
    """Case-insensitive whole-value LIKE with the user's ``*`` / ``?`` as the only wildcards.

    It is the backend's own ``icontains`` SQL (``LIKE ... ESCAPE '\\'`` on SQLite,
    ``UPPER(col::text) LIKE UPPER(%s)`` on PostgreSQL, ``LIKE`` with a case-insensitive
    collation on MariaDB) with a different bound pattern: every literal character goes
    through the backend's ``prep_for_like_query`` (which escapes ``\\``, ``%`` and ``_``),
    and only the user's wildcards become ``%`` and ``_``. Used as an expression in
    ``filter()``, never registered as a field lookup.
    """

    def process_rhs(self, qn: Any, connection: Any) -> Any:
        rhs, params = BuiltinLookup.process_rhs(self, qn, connection)
        escape = connection.ops.prep_for_like_query
        pattern = "".join(
            "%" if token is _ANY else "_" if token is _ONE else escape(token)
            for token in _pattern_tokens(str(params[0]))
        )
        return rhs, (pattern, *params[1:])


# ---------------------------------------------------------------- fields


@dataclass(frozen=True)
class Target:
    """Where a field's values live: a column of the computer (``model`` None) or of a section
    table with a ``computer`` foreign key, optionally narrowed by ``scope``."""

    column: str
    model: type[Model] | None = None
    scope: tuple[tuple[str, Any], ...] = ()
    # ``column`` is a column of this catalogue, reached through the row's ``foreign key``
    # (software names: SoftwareInstallation.software_id -> Software.name).
    catalogue: type[Model] | None = None
    foreign_key: str = ""


@dataclass(frozen=True)
class SearchField:
    """A field the search accepts: its key, label, kind, form group and where it looks."""

    key: str
    label: Any
    kind: Kind
    group: Any
    targets: tuple[Target, ...]
    repeatable: bool = False
    unit: str = ""

    @property
    def operators(self) -> tuple[str, ...]:
        return TEXT_OPERATORS if self.kind == "text" else OPERATORS


_GENERAL, _NETWORK, _HARDWARE, _SOFTWARE, _ADMIN, _OWN = (
    _("General"),
    _("Network"),
    _("Hardware"),
    _("Software and registry"),
    _("Administrative data"),
    _("Customisation"),
)


def _own(column: str) -> Target:
    return Target(column)


def _rows(model: type[Model], column: str, *scope: tuple[str, Any]) -> Target:
    return Target(column, model, tuple(scope))


def _own_setting(name: str) -> Target:
    # Group overrides have no computer: keep their NULL out of NOT IN (DIFFERENT).
    return _rows(SettingOverride, "value", ("name", name), ("computer__isnull", False))


_STATIC_FIELDS: tuple[SearchField, ...] = (
    SearchField("name", _("Computer name"), "text", _GENERAL, (_own("name"),)),
    SearchField("os", _("Operating system"), "text", _GENERAL, (_own("os_name"),)),
    SearchField("os_version", _("OS version"), "text", _GENERAL, (_own("os_version"),)),
    SearchField("description", _("Description"), "text", _GENERAL, (_own("description"),)),
    SearchField("domain", _("Domain"), "text", _GENERAL, (_own("workgroup"), _own("user_domain"))),
    SearchField(
        "user",
        _("Logged-in user"),
        "text",
        _GENERAL,
        (_own("user_id"), _rows(LoggedInUser, "login")),
    ),
    SearchField("agent", _("Agent type"), "text", _GENERAL, (_own("user_agent"),)),
    SearchField("last_inventory", _("Last inventory"), "date", _GENERAL, (_own("last_inventory_at"),)),
    SearchField("last_contact", _("Last contact"), "date", _GENERAL, (_own("last_contact_at"),)),
    SearchField("device_id", _("Device ID"), "text", _GENERAL, (_own("device_id"),)),
    SearchField("uuid", _("UUID"), "text", _GENERAL, (_own("uuid"),)),
    SearchField(
        "ip",
        _("IP address"),
        "text",
        _NETWORK,
        (_own("ip_address"), _rows(NetworkInterface, "ip_address")),
    ),
    SearchField("mac", _("MAC address"), "text", _NETWORK, (_rows(NetworkInterface, "mac"),)),
    SearchField(
        "gateway",
        _("Gateway"),
        "text",
        _NETWORK,
        (_own("default_gateway"), _rows(NetworkInterface, "gateway")),
    ),
    SearchField("network", _("Network number"), "text", _NETWORK, (_rows(NetworkInterface, "subnet"),)),
    SearchField("memory", _("Memory"), "integer", _HARDWARE, (_own("memory"),), unit="MB"),
    SearchField("cpu_speed", _("CPU speed"), "integer", _HARDWARE, (_own("processor_speed"),), unit="MHz"),
    SearchField("free_disk", _("Free disk space"), "integer", _HARDWARE, (_rows(Drive, "free"),), unit="MB"),
    SearchField(
        "bios_manufacturer", _("BIOS manufacturer"), "text", _HARDWARE, (_rows(Bios, "bios_manufacturer"),)
    ),
    SearchField("bios_version", _("BIOS version"), "text", _HARDWARE, (_rows(Bios, "bios_version"),)),
    SearchField(
        "system_manufacturer",
        _("System manufacturer"),
        "text",
        _HARDWARE,
        (_rows(Bios, "system_manufacturer"),),
    ),
    SearchField("system_model", _("System model"), "text", _HARDWARE, (_rows(Bios, "system_model"),)),
    SearchField("serial", _("Serial number"), "text", _HARDWARE, (_rows(Bios, "system_serial"),)),
    SearchField(
        "monitor_description",
        _("Monitor: description"),
        "text",
        _HARDWARE,
        (_rows(Monitor, "caption"), _rows(Monitor, "description")),
        repeatable=True,
    ),
    SearchField(
        "monitor_manufacturer",
        _("Monitor: manufacturer"),
        "text",
        _HARDWARE,
        (_rows(Monitor, "manufacturer"),),
        repeatable=True,
    ),
    SearchField(
        "monitor_serial",
        _("Monitor: serial number"),
        "text",
        _HARDWARE,
        (_rows(Monitor, "serial"),),
        repeatable=True,
    ),
    SearchField("printer", _("Printer"), "text", _HARDWARE, (_rows(Printer, "name"),), repeatable=True),
    SearchField(
        "software",
        _("Software"),
        "text",
        _SOFTWARE,
        (Target("name", SoftwareInstallation, catalogue=Software, foreign_key="software_id"),),
        repeatable=True,
    ),
    SearchField(
        "registry",
        _("Registry value (any query)"),
        "text",
        _SOFTWARE,
        (_rows(RegistryValue, "value"),),
        repeatable=True,
    ),
    SearchField("tag", _("TAG"), "text", _ADMIN, (_rows(AccountInfo, "tag"),)),
    # The seed's "Fréquence", "IpDiscover (personnalisé)" and the deployment switch: the
    # computer's own values (SettingOverride), as stored ("7", "never", "forced:10.0.1.0").
    SearchField("own_frequency", _("Own inventory frequency"), "text", _OWN, (_own_setting("FREQUENCY"),)),
    SearchField("own_ipdiscover", _("Own IP discovery"), "text", _OWN, (_own_setting("IPDISCOVER"),)),
    SearchField(
        "own_download_switch",
        _("Own deployment switch (1/0)"),
        "text",
        _OWN,
        (_own_setting("DOWNLOAD_SWITCH"),),
    ),
)

FIELDS: dict[str, SearchField] = {item.key: item for item in _STATIC_FIELDS}


def _account_field(field: AccountField) -> SearchField:
    kind: Kind = {AccountField.INTEGER: "integer", AccountField.REAL: "real", AccountField.DATE: "date"}.get(
        field.kind, "text"
    )  # type: ignore[assignment]
    column = {"integer": "integer", "real": "real", "date": "date"}.get(kind, "text")
    return SearchField(
        ACCOUNT_PREFIX + field.name,
        field.name,
        kind,
        _ADMIN,
        (_rows(AccountValue, column, ("field_id", field.pk)),),
    )


def _registry_field(name: str) -> SearchField:
    return SearchField(
        REGISTRY_PREFIX + name,
        _("Registry: %(name)s") % {"name": name},
        "text",
        _SOFTWARE,
        (_rows(RegistryValue, "value", ("name", name)),),
        repeatable=True,
    )


def search_fields() -> list[SearchField]:
    """Every field a search accepts now: the static ones, then account info fields and
    registry queries (two queries)."""
    dynamic = [_account_field(item) for item in AccountField.objects.order_by("id")]
    registry = [
        _registry_field(name)
        for name in RegistryQuery.objects.order_by("name").values_list("name", flat=True)
    ]
    return [*_STATIC_FIELDS, *registry, *dynamic]


def _resolve_fields(keys: Iterable[str]) -> dict[str, SearchField]:
    """The SearchField of every key, reading account fields and registry names only if used."""
    resolved: dict[str, SearchField] = {}
    wanted = set(keys)
    account_names = {key[len(ACCOUNT_PREFIX) :] for key in wanted if key.startswith(ACCOUNT_PREFIX)}
    registry_names = {key[len(REGISTRY_PREFIX) :] for key in wanted if key.startswith(REGISTRY_PREFIX)}
    if account_names:
        for item in AccountField.objects.filter(name__in=account_names):
            resolved[ACCOUNT_PREFIX + item.name] = _account_field(item)
    if registry_names:
        known = set(RegistryQuery.objects.filter(name__in=registry_names).values_list("name", flat=True))
        known |= set(
            RegistryValue.objects.filter(name__in=registry_names - known)
            .values_list("name", flat=True)
            .distinct()
            if registry_names - known
            else ()
        )
        for name in known:
            resolved[REGISTRY_PREFIX + name] = _registry_field(name)
    for key in wanted:
        if key in FIELDS:
            resolved[key] = FIELDS[key]
        elif key not in resolved:
            raise SearchError(f"unknown search field {key[:80]!r}")
    return resolved


# ---------------------------------------------------------------- values and conditions


def _parse_number(kind: Kind, text: str) -> int | float:
    text = text.strip().replace(",", ".") if kind == "real" else text.strip()
    try:
        if kind == "integer":
            value: int | float = int(text)
            if not -(2**63) <= value < 2**63:
                raise ValueError
        else:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
    except ValueError:
        raise SearchError(f"{text[:40]!r} is not a number") from None
    return value


def _parse_date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        raise SearchError(f"{text[:40]!r} is not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class _Range:
    """A numeric or date condition: ``low <= x < high`` style bounds; None is unbounded."""

    low: Any = None
    low_inclusive: bool = True
    high: Any = None
    high_inclusive: bool = True
    outside: bool = False  # x below low OR above high

    def q(self, column: str) -> Q:
        def below_high() -> Q:
            return Q(**{f"{column}__{'lte' if self.high_inclusive else 'lt'}": self.high})

        def above_low() -> Q:
            return Q(**{f"{column}__{'gte' if self.low_inclusive else 'gt'}": self.low})

        if self.outside:
            # Complement of [low, high]: below low or above high.
            return Q(**{f"{column}__{'lt' if self.low_inclusive else 'lte'}": self.low}) | Q(
                **{f"{column}__{'gt' if self.high_inclusive else 'gte'}": self.high}
            )
        condition = Q()
        if self.low is not None:
            condition &= above_low()
        if self.high is not None:
            condition &= below_high()
        return condition


@dataclass(frozen=True)
class _Condition:
    """A validated criterion, ready to become a Q."""

    field: SearchField
    negate: bool
    text: str | None = None  # text fields: the pattern
    range: _Range | None = None


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def _range_for(search_field: SearchField, operator: str, value: str, value2: str) -> tuple[_Range, bool]:
    """The range an operator describes, and whether the match is negated (DIFFERENT)."""
    kind = search_field.kind
    is_datetime = kind == "date" and all(target.model is None for target in search_field.targets)

    def parse(text: str) -> Any:
        return _parse_date(text) if kind == "date" else _parse_number(kind, text)

    low = parse(value)
    high = parse(value2) if operator in (BETWEEN, OUTSIDE) else low
    if operator in (BETWEEN, OUTSIDE) and high < low:
        low, high = high, low
    if is_datetime:
        # A date on a timestamp column means the whole UTC day(s): [low 00:00, high+1 00:00).
        start, end = _day_start(low), _day_start(high + datetime.timedelta(days=1))
        ranges = {
            EQUAL: _Range(start, True, end, False),
            DIFFERENT: _Range(start, True, end, False),
            LESS: _Range(high=start, high_inclusive=False),
            MORE: _Range(low=end),
            BETWEEN: _Range(start, True, end, False),
            OUTSIDE: _Range(start, True, end, False, outside=True),
        }
    else:
        ranges = {
            EQUAL: _Range(low, True, low, True),
            DIFFERENT: _Range(low, True, low, True),
            LESS: _Range(high=low, high_inclusive=False),
            MORE: _Range(low=low, low_inclusive=False),
            BETWEEN: _Range(low, True, high, True),
            OUTSIDE: _Range(low, True, high, True, outside=True),
        }
    return ranges[operator], operator == DIFFERENT


def _validate(criteria: Sequence[Criterion]) -> list[_Condition]:
    if len(criteria) > MAX_CRITERIA:
        raise SearchError(f"at most {MAX_CRITERIA} criteria")
    for criterion in criteria:
        if not isinstance(criterion.field, str) or len(criterion.field) > 300:
            raise SearchError("unknown search field")
        for text in (criterion.value, criterion.value2):
            if not isinstance(text, str) or len(text) > MAX_VALUE_LENGTH:
                raise SearchError(f"values are at most {MAX_VALUE_LENGTH} characters")
    fields = _resolve_fields(criterion.field for criterion in criteria)
    seen: set[str] = set()
    conditions = []
    for criterion in criteria:
        search_field = fields[criterion.field]
        operator = criterion.operator.upper() if isinstance(criterion.operator, str) else ""
        if operator not in search_field.operators:
            shown = str(criterion.operator)[:20]
            raise SearchError(f"{search_field.label}: operator {shown!r} is not allowed")
        if search_field.key in seen and not search_field.repeatable:
            raise SearchError(f"{search_field.label} may appear only once in a search")
        seen.add(search_field.key)
        if search_field.kind == "text":
            conditions.append(_Condition(search_field, operator == DIFFERENT, text=criterion.value))
        else:
            if operator in (BETWEEN, OUTSIDE) and not criterion.value2.strip():
                raise SearchError(f"{search_field.label}: {operator} needs two values")
            try:
                found_range, negate = _range_for(search_field, operator, criterion.value, criterion.value2)
            except SearchError as exc:
                raise SearchError(f"{search_field.label}: {exc}") from None
            conditions.append(_Condition(search_field, negate, range=found_range))
    return conditions


def _column_q(condition: _Condition, column: str) -> Q:
    if condition.range is not None:
        return condition.range.q(column)
    assert condition.text is not None
    if condition.text == "":
        return ~Q(**{column: ""}) & Q(**{f"{column}__isnull": False})
    return Q(WildcardMatch(F(column), condition.text))


# Catalogue entries a pattern may match and still be inlined as literal ids.
MAX_INLINE_IDS = 2000


def _target_q(condition: _Condition, target: Target) -> Q:
    column_q = _column_q(condition, target.column)
    if target.model is None:
        return column_q
    rows = target.model._default_manager.filter(**dict(target.scope))
    if target.catalogue is not None:
        entries = target.catalogue._default_manager.filter(column_q).values_list("pk", flat=True)
        ids = list(entries[: MAX_INLINE_IDS + 1])
        if len(ids) > MAX_INLINE_IDS:
            # A broad pattern (most of the catalogue): a per-computer EXISTS stops at the
            # first matching row, where an IN list would gather most installations.
            relation = target.foreign_key.removesuffix("_id")
            broad = rows.filter(computer_id=OuterRef("pk"), **{f"{relation}__in": entries})
            return Q(Exists(broad))
        # Few entries: their ids go into the query as values. With literal software ids,
        # PostgreSQL's statistics know how many installations each has and pick hash
        # joins; behind a LIKE subquery it guesses a handful and loops over thousands of
        # rows (a two-software search over 1,000,000 installations: 1 s -> 80 ms).
        rows = rows.filter(**{f"{target.foreign_key}__in": ids})
    else:
        rows = rows.filter(column_q)
    return Q(pk__in=rows.values("computer_id"))


def _condition_q(condition: _Condition) -> Q:
    matches = Q()
    for target in condition.field.targets:
        matches |= _target_q(condition, target)
    # An empty text means "empty or missing": the opposite of "some non-empty value".
    negate = condition.negate != (condition.text == "")
    return ~matches if negate else matches


def criteria_q(criteria: Sequence[Criterion]) -> Q:
    """The Q object of a search (validated; raises SearchError), for callers that build
    their own queryset, such as dynamic groups."""
    combined = Q()
    for condition in _validate(criteria):
        combined &= _condition_q(condition)
    return combined


def search(computers: QuerySet[Computer], criteria: Sequence[Criterion]) -> QuerySet[Computer]:
    """The computers of ``computers`` that match every criterion (no criteria: all of them)."""
    if not criteria:
        return computers
    return computers.filter(criteria_q(criteria))


# ---------------------------------------------------------------- the query-string format


def criteria_from_params(params: ParamSource) -> list[Criterion]:
    """Criteria from parallel ``field`` / ``op`` / ``value`` / ``value2`` parameters.

    ``value2`` may be absent altogether; otherwise every list has one entry per position.
    Positions with an empty ``field`` are skipped. Raises SearchError on ragged lists; the
    criteria themselves are checked by :func:`search`.
    """
    fields = [str(item) for item in params.getlist("field")]
    operators = [str(item) for item in params.getlist("op")]
    values = [str(item) for item in params.getlist("value")]
    values2 = [str(item) for item in params.getlist("value2")] or [""] * len(fields)
    if len(fields) > MAX_CRITERIA * 4:
        raise SearchError(f"at most {MAX_CRITERIA} criteria")
    if not len(fields) == len(operators) == len(values) == len(values2):
        raise SearchError("field, op, value and value2 must be given once per criterion")
    return [
        Criterion(name.strip(), operator.strip().upper() or EQUAL, value, value2)
        for name, operator, value, value2 in zip(fields, operators, values, values2, strict=True)
        if name.strip()
    ]


def criteria_to_params(criteria: Iterable[Criterion]) -> list[tuple[str, str]]:
    """The query-string pairs of criteria (the inverse of :func:`criteria_from_params`)."""
    pairs: list[tuple[str, str]] = []
    for criterion in criteria:
        pairs += [
            ("field", criterion.field),
            ("op", criterion.operator),
            ("value", criterion.value),
            ("value2", criterion.value2),
        ]
    return pairs
