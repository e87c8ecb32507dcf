"""Groups of computers: static (members forced in by hand) and dynamic (a saved search).

Seeds 001 and 002 ("Groupes"): a static group is a list an administrator keeps; a
dynamic group is a multi-criteria search whose results are the members. OCS keeps the
search's results in ``groups_cache`` (protocol.md §8: STATIC 0 = computed, 1 = forced
in, 2 = excluded) and revalidates it every GROUPS_CACHE_REVALIDATE seconds. Ocelot does
the same with :class:`~ocelot.inventory.models.GroupMember` rows, so that the contact's
single SELECT and the settings resolution read membership with one indexed EXISTS:

* ``DYNAMIC`` rows are the cache: :func:`recompute` rewrites them from the group's search
  (on demand, from ``ocelot groups recompute``, and lazily once the cache is older than
  GROUPS_CACHE_REVALIDATE: :func:`recompute_stale`); :func:`update_memberships` re-evaluates
  every dynamic group for one computer only, after each of its inventories, so a computer
  whose new inventory matches joins at once and one that stops matching leaves;
* ``STATIC`` (forced in) and ``EXCLUDED`` rows are set by hand and survive recomputes: a
  forced computer stays whatever the search says, an excluded one stays out.

The search criteria are stored in the form ``inventory.search`` takes (a list of
``{field, operator, value, value2}``) and validated by it when saved.

Who may change what is the caller's business (the accounts domain knows users), except
the seed's one rule kept here because every door needs it: a non-administrator may put
computers only into a *visible* static group (seed 002: "The user can put its machines in
the created group").
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Case, Count, Q, QuerySet, Value, When
from django.utils import timezone

from ocelot.inventory.computer_queries import (
    COMPUTER_SETTINGS,
    IPDISCOVER_AUTOMATIC,
    IPDISCOVER_NEVER,
    IPDISCOVER_OVERRIDE,
    SettingEntry,
)
from ocelot.inventory.models import Computer, Group, GroupMember, SettingOverride
from ocelot.inventory.search import Criterion, SearchError, criteria_q
from ocelot.inventory.setting_catalogue import SettingError, definition
from ocelot.inventory.setting_values import clear_override, global_value, global_values, set_override

log = logging.getLogger(__name__)

MAX_NAME = 255
MAX_DESCRIPTION = 4096
_BATCH = 500
# Dynamic groups evaluated per query for one computer (bounds the SQL's size).
_GROUPS_PER_QUERY = 40
CACHE_SETTING = "GROUPS_CACHE_REVALIDATE"


class GroupError(ValueError):
    """A group operation refused: bad name or search, unknown group or computer, not allowed."""


# ---------------------------------------------------------------- criteria


def criteria_of(group: Group) -> list[Criterion]:
    """The saved search of a dynamic group (empty for a static one)."""
    return [
        Criterion(
            str(item.get("field", "")),
            str(item.get("operator", "")),
            str(item.get("value", "")),
            str(item.get("value2", "")),
        )
        for item in group.criteria or []
        if isinstance(item, dict)
    ]


def check_criteria(criteria: Sequence[Criterion]) -> list[dict[str, str]]:
    """The stored form of a search, once ``inventory.search`` accepts it (at least one criterion)."""
    if not criteria:
        raise GroupError("A dynamic group needs at least one search criterion.")
    try:
        criteria_q(criteria)
    except SearchError as exc:
        raise GroupError(f"The group's search is refused: {exc}") from exc
    return [
        {"field": c.field, "operator": c.operator, "value": c.value, "value2": c.value2} for c in criteria
    ]


def is_dynamic(group: Group) -> bool:
    return group.criteria is not None


# ---------------------------------------------------------------- create, find, change, delete


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise GroupError(f"A group name is 1 to {MAX_NAME} characters.")
    return name


def _check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise GroupError(f"A group description is at most {MAX_DESCRIPTION} characters.")
    return description


def create_group(
    name: str,
    *,
    description: str = "",
    visible: bool = False,
    criteria: Sequence[Criterion] | None = None,
) -> Group:
    """A new group: static without ``criteria``, dynamic (and computed at once) with them."""
    name = _check_name(name)
    description = _check_description(description)
    stored = check_criteria(criteria) if criteria is not None else None
    try:
        with transaction.atomic():
            group = Group.objects.create(name=name, description=description, visible=visible, criteria=stored)
    except IntegrityError as exc:
        raise GroupError(f"A group named {name!r} exists already.") from exc
    if stored is not None:
        recompute(group)
    return group


def find_group(reference: str | int) -> Group:
    """A group by id or exact name."""
    text = str(reference).strip()
    group = Group.objects.filter(pk=int(text)).first() if text.isdigit() and len(text) <= 18 else None
    group = group or Group.objects.filter(name=text).first()
    if group is None:
        raise GroupError(f"No group {text!r}.")
    return group


def update_group(
    group: Group,
    *,
    name: str | None = None,
    description: str | None = None,
    visible: bool | None = None,
    criteria: Sequence[Criterion] | None = None,
) -> Group:
    """Change a group's name, description, visibility or search (a new search recomputes)."""
    if name is not None:
        group.name = _check_name(name)
    if description is not None:
        group.description = _check_description(description)
    if visible is not None:
        group.visible = visible
    if criteria is not None:
        group.criteria = check_criteria(criteria)
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError as exc:
        raise GroupError(f"A group named {group.name!r} exists already.") from exc
    if criteria is not None:
        recompute(group)
    return group


def delete_group(group: Group) -> None:
    """The group, its memberships, its settings and its package assignments go (computers stay)."""
    group.delete()


# ---------------------------------------------------------------- members by hand


def _known_ids(computer_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(computer_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), _BATCH):
        found.update(
            Computer.objects.filter(pk__in=wanted[start : start + _BATCH]).values_list("pk", flat=True)
        )
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        shown = ", ".join(str(pk) for pk in missing[:10])
        raise GroupError(f"No computer with id {shown}{' ...' if len(missing) > 10 else ''}.")
    return wanted


def _mark(group: Group, computer_ids: Iterable[int], kind: str) -> int:
    """Give these computers the hand-set ``kind``; how many changed."""
    ids = _known_ids(computer_ids)
    changed = 0
    with transaction.atomic():
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            rows = GroupMember.objects.filter(group=group, computer_id__in=chunk)
            current = dict(rows.values_list("computer_id", "kind"))
            changed += rows.exclude(kind=kind).update(kind=kind)
            fresh = [GroupMember(group=group, computer_id=pk, kind=kind) for pk in chunk if pk not in current]
            GroupMember.objects.bulk_create(fresh, ignore_conflicts=True)
            changed += len(fresh)
    return changed


def check_may_add(group: Group, *, administrator: bool) -> None:
    """Seed 002: users put their computers only into visible static groups."""
    if administrator:
        return
    if not group.visible or is_dynamic(group):
        raise GroupError("Only administrators may add computers to this group.")


def force_in(group: Group, computer_ids: Iterable[int], *, administrator: bool = True) -> int:
    """Force computers into the group (an excluded one becomes a member); how many changed."""
    check_may_add(group, administrator=administrator)
    return _mark(group, computer_ids, GroupMember.STATIC)


def exclude(group: Group, computer_ids: Iterable[int]) -> int:
    """Keep computers out of the group whatever its search says; how many changed."""
    return _mark(group, computer_ids, GroupMember.EXCLUDED)


def release(group: Group, computer_ids: Iterable[int]) -> int:
    """Remove the hand-set mark (forced or excluded) of these computers; a dynamic group's
    search decides again for them at once. How many marks went."""
    ids = sorted(set(computer_ids))
    removed = 0
    with transaction.atomic():
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            removed += int(
                GroupMember.objects.filter(group=group, computer_id__in=chunk)
                .exclude(kind=GroupMember.DYNAMIC)
                .delete()[0]
            )
        if is_dynamic(group) and ids:
            matching = _matching_ids(group, Computer.objects.filter(pk__in=ids))
            GroupMember.objects.bulk_create(
                [
                    GroupMember(group=group, computer_id=pk, kind=GroupMember.DYNAMIC)
                    for pk in sorted(matching)
                ],
                ignore_conflicts=True,
            )
    return removed


def remove(group: Group, computer_ids: Iterable[int]) -> int:
    """Take computers out: a static group forgets them; a dynamic group excludes them (its
    search would bring them back otherwise). How many changed."""
    if is_dynamic(group):
        return exclude(group, computer_ids)
    ids = sorted(set(computer_ids))
    removed = 0
    for start in range(0, len(ids), _BATCH):
        removed += int(
            GroupMember.objects.filter(group=group, computer_id__in=ids[start : start + _BATCH]).delete()[0]
        )
    return removed


# ---------------------------------------------------------------- reading


def member_ids(group: Group) -> list[int]:
    """The group's members of the moment: forced in or computed, never the excluded ones."""
    return list(
        GroupMember.objects.filter(group=group)
        .exclude(kind=GroupMember.EXCLUDED)
        .order_by("computer_id")
        .values_list("computer_id", flat=True)
    )


def memberships(group: Group) -> QuerySet[GroupMember]:
    """Every row of the group (members and excluded), with the computer, by computer name."""
    return GroupMember.objects.filter(group=group).select_related("computer").order_by("computer__name", "pk")


@dataclass(frozen=True)
class GroupSummary:
    """A group with its counts, for lists: members (computed + forced) and excluded."""

    group: Group
    computed: int
    forced: int
    excluded: int

    @property
    def members(self) -> int:
        return self.computed + self.forced

    @property
    def dynamic(self) -> bool:
        return is_dynamic(self.group)


def summaries(groups: QuerySet[Group] | None = None) -> list[GroupSummary]:
    """Every group (or these) by name, with its member counts, in one query."""
    query = (groups if groups is not None else Group.objects.all()).order_by("name")
    annotated = query.annotate(
        computed=Count("members", filter=Q(members__kind=GroupMember.DYNAMIC)),
        forced=Count("members", filter=Q(members__kind=GroupMember.STATIC)),
        excluded=Count("members", filter=Q(members__kind=GroupMember.EXCLUDED)),
    )
    return [GroupSummary(item, item.computed, item.forced, item.excluded) for item in annotated]


def summary(group: Group) -> GroupSummary:
    return summaries(Group.objects.filter(pk=group.pk))[0]


def cache_age(group: Group, now: datetime.datetime | None = None) -> datetime.timedelta | None:
    """How old the dynamic group's computed members are (None: static, or never computed)."""
    if not is_dynamic(group) or group.computed_at is None:
        return None
    return (now or timezone.now()) - group.computed_at


def groups_of(computer_id: int) -> list[tuple[Group, str]]:
    """The groups a computer is in or excluded from, with its membership kind."""
    rows = GroupMember.objects.filter(computer_id=computer_id).select_related("group").order_by("group__name")
    return [(row.group, row.kind) for row in rows]


# ---------------------------------------------------------------- recomputing the cache


@dataclass(frozen=True)
class RecomputeOutcome:
    """What a recompute changed: computers that joined and left the computed members."""

    group: Group
    joined: int
    left: int


def _matching_ids(group: Group, computers: QuerySet[Computer]) -> set[int]:
    criteria = criteria_of(group)
    if not criteria:
        return set()
    try:
        condition = criteria_q(criteria)
    except SearchError as exc:
        raise GroupError(f"Group {group.name!r}: its search is no longer valid ({exc}).") from exc
    return set(computers.filter(condition).values_list("pk", flat=True))


def recompute(group: Group, now: datetime.datetime | None = None) -> RecomputeOutcome:
    """Rewrite the group's computed members from its search; hand-set rows stay as they are.

    A static group has no computed members: any left over (a group that was dynamic) go.
    """
    now = now or timezone.now()
    matching = _matching_ids(group, Computer.objects.all()) if is_dynamic(group) else set()
    with transaction.atomic():
        current = dict(GroupMember.objects.filter(group=group).values_list("computer_id", "kind"))
        computed = {pk for pk, kind in current.items() if kind == GroupMember.DYNAMIC}
        leaving = sorted(computed - matching)
        joining = sorted(matching - current.keys())
        for start in range(0, len(leaving), _BATCH):
            GroupMember.objects.filter(
                group=group, kind=GroupMember.DYNAMIC, computer_id__in=leaving[start : start + _BATCH]
            ).delete()
        GroupMember.objects.bulk_create(
            [GroupMember(group=group, computer_id=pk, kind=GroupMember.DYNAMIC) for pk in joining],
            batch_size=_BATCH,
            ignore_conflicts=True,
        )
        group.computed_at = now if is_dynamic(group) else None
        Group.objects.filter(pk=group.pk).update(computed_at=group.computed_at)
    return RecomputeOutcome(group, len(joining), len(leaving))


def recompute_all(groups: Iterable[Group] | None = None) -> list[RecomputeOutcome]:
    """Recompute every dynamic group (or these); a group whose search became invalid (an
    account field or registry query deleted) is logged and left as it was."""
    chosen = list(groups) if groups is not None else list(Group.objects.filter(criteria__isnull=False))
    outcomes = []
    for group in chosen:
        try:
            outcomes.append(recompute(group))
        except GroupError as exc:
            log.warning("%s", exc)
    return outcomes


def stale_groups(now: datetime.datetime | None = None) -> QuerySet[Group]:
    """Dynamic groups whose cache is older than GROUPS_CACHE_REVALIDATE seconds (or never computed)."""
    now = now or timezone.now()
    oldest = now - datetime.timedelta(seconds=int(global_value(CACHE_SETTING)))
    return Group.objects.filter(criteria__isnull=False).filter(
        Q(computed_at__isnull=True) | Q(computed_at__lt=oldest)
    )


def recompute_stale(now: datetime.datetime | None = None) -> list[RecomputeOutcome]:
    """The periodic recompute, run lazily by the group pages and by ``ocelot groups recompute --stale``."""
    return recompute_all(stale_groups(now))


def update_memberships(computer_id: int) -> None:
    """Re-evaluate every dynamic group's search for one computer (after its inventory).

    One query per :data:`_GROUPS_PER_QUERY` groups: each search becomes a CASE over the
    one computer's row, so the cost does not grow with the number of computers. A group
    whose search became invalid is skipped (its membership stays until it is fixed).
    """
    groups = list(Group.objects.filter(criteria__isnull=False).only("pk", "name", "criteria"))
    if not groups:
        return
    matching: set[int] = set()
    evaluated: list[int] = []
    for start in range(0, len(groups), _GROUPS_PER_QUERY):
        columns: dict[str, Any] = {}
        for group in groups[start : start + _GROUPS_PER_QUERY]:
            criteria = criteria_of(group)
            try:
                condition = criteria_q(criteria) if criteria else Q(pk__in=[])
            except SearchError as exc:
                log.warning("group %r skipped: its search is no longer valid (%s)", group.name, exc)
                continue
            evaluated.append(group.pk)
            columns[f"g{group.pk}"] = Case(
                When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
            )
        if not columns:
            continue
        row = Computer.objects.filter(pk=computer_id).values(**columns).first()
        if row is None:
            return
        matching.update(int(key[1:]) for key, value in row.items() if value)
    current = dict(
        GroupMember.objects.filter(computer_id=computer_id, group_id__in=evaluated).values_list(
            "group_id", "kind"
        )
    )
    leaving = [pk for pk, kind in current.items() if kind == GroupMember.DYNAMIC and pk not in matching]
    joining = [pk for pk in sorted(matching) if pk not in current]
    if leaving:
        GroupMember.objects.filter(
            computer_id=computer_id, group_id__in=leaving, kind=GroupMember.DYNAMIC
        ).delete()
    if joining:
        GroupMember.objects.bulk_create(
            [GroupMember(group_id=pk, computer_id=computer_id, kind=GroupMember.DYNAMIC) for pk in joining],
            ignore_conflicts=True,
        )


# ---------------------------------------------------------------- for the doors


def find_computer_ids(references: Iterable[str | int]) -> list[int]:
    """Computers by id, DEVICEID or (unique) name, for the command line."""
    ids: list[int] = []
    for reference in references:
        text = str(reference).strip()
        if text.isdigit() and len(text) <= 18 and Computer.objects.filter(pk=int(text)).exists():
            ids.append(int(text))
            continue
        found = list(Computer.objects.filter(device_id=text).values_list("pk", flat=True)) or list(
            Computer.objects.filter(name=text).values_list("pk", flat=True)[:2]
        )
        if not found:
            raise GroupError(f"No computer {text!r}.")
        if len(found) > 1:
            raise GroupError(f"Several computers are named {text!r}: give its id or DEVICEID.")
        ids.append(found[0])
    return ids


def group_record(item: GroupSummary, now: datetime.datetime | None = None) -> dict[str, Any]:
    """A group as the API and ``ocelot groups --json`` show it."""
    group = item.group
    age = cache_age(group, now)
    return {
        "id": group.pk,
        "name": group.name,
        "description": group.description,
        "visible": group.visible,
        "dynamic": is_dynamic(group),
        "criteria": list(group.criteria) if group.criteria is not None else None,
        "computed_at": group.computed_at.isoformat() if group.computed_at else None,
        "cache_age_seconds": int(age.total_seconds()) if age is not None else None,
        "members": item.members,
        "computed": item.computed,
        "forced": item.forced,
        "excluded": item.excluded,
    }


# ---------------------------------------------------------------- settings of a group


# protocol.md §4.3-§4.4: the settings a group may carry (the computer page's list);
# IPDISCOVER per group is "never" (IPDISCOVER_USE_GROUPS lets a group switch it off)
# or "automatic".
GROUP_IPDISCOVER_MODES = (IPDISCOVER_NEVER, IPDISCOVER_AUTOMATIC)


def group_settings(group: Group) -> list[SettingEntry]:
    """The group's own value of each setting (None: not set) beside the global value."""
    own = dict(SettingOverride.objects.filter(group=group).values_list("name", "value"))
    globals_ = global_values()
    entries = []
    for name in COMPUTER_SETTINGS:
        spec = definition(name)
        effective = own.get(name, globals_.get(name, spec.default))
        entries.append(
            SettingEntry(
                name, spec.help, spec.kind, own.get(name), effective, spec.minimum, spec.maximum, spec.unit
            )
        )
    entries.append(SettingEntry(IPDISCOVER_OVERRIDE, "", "choice", own.get(IPDISCOVER_OVERRIDE), None))
    return entries


def update_group_settings(group: Group, submitted: Mapping[str, str]) -> list[str]:
    """Each submitted setting: a value, or "" to remove the group's value. All are checked
    before anything is written; returns the names that changed."""
    own = dict(SettingOverride.objects.filter(group=group).values_list("name", "value"))
    wanted: dict[str, str | None] = {}
    for name, raw in submitted.items():
        text = str(raw).strip()
        if name == IPDISCOVER_OVERRIDE:
            if text and text not in GROUP_IPDISCOVER_MODES:
                raise GroupError("IPDISCOVER per group is never or automatic.")
            wanted[name] = text or None
            continue
        if name not in COMPUTER_SETTINGS:
            raise GroupError(f"{name[:40]!r} cannot be set per group.")
        try:
            wanted[name] = str(definition(name).parse(text)) if text else None
        except SettingError as exc:
            raise GroupError(str(exc)) from None
    changed = [name for name, value in wanted.items() if own.get(name) != value]
    with transaction.atomic():
        for name in changed:
            value = wanted[name]
            if name == IPDISCOVER_OVERRIDE:
                # Not a catalogue value (the global IPDISCOVER is a count): stored as typed.
                if value is None:
                    SettingOverride.objects.filter(group=group, name=name).delete()
                else:
                    SettingOverride.objects.update_or_create(
                        group=group, name=name, defaults={"value": value}
                    )
            elif value is None:
                clear_override(name, group=group)
            else:
                set_override(name, value, group=group)
    return changed


def addable_groups(*, administrator: bool) -> QuerySet[Group]:
    """The static groups a user may put computers into (users: the visible ones), by name."""
    query = Group.objects.filter(criteria__isnull=True).order_by("name")
    return query if administrator else query.filter(visible=True)


def ipdiscover_switched_off(computer_id: int) -> bool:
    """Whether one of the computer's groups says IPDISCOVER ``never`` (protocol.md §4.5: OCS
    sends no IP discovery to a computer with a group at IPDISCOVER 0, when
    IPDISCOVER_USE_GROUPS is on; the caller checks that setting)."""
    groups = GroupMember.objects.filter(computer_id=computer_id).exclude(kind=GroupMember.EXCLUDED)
    return SettingOverride.objects.filter(
        group_id__in=groups.values("group_id"), name=IPDISCOVER_OVERRIDE, value=IPDISCOVER_NEVER
    ).exists()
