"""Assigning a package to computers, and the statuses that follow (protocol.md §8.3, §10).

An assignment is an activation x a computer. Its status is ``""`` (WAITING
NOTIFICATION) until a contact announces it, then ``NOTIFIED``, then the code the agent
reported, stored verbatim. Assigning again a package a computer already has (through any
activation) starts it over: the new activation, the new options, WAITING NOTIFICATION;
that is how an administrator "re-affects" a package after an error (§8.3).

Assigning to "every result of a search" is assigning to the search's full set of ids,
which the caller passes. Assigning to a group assigns its members of the moment (static
and computed, not the excluded ones) and records the group assignment: a computer that
joins later gets its own assignment at its next contact (notification.announce). Each
member is then tracked on its own, as OCS does with DOWNLOAD_GROUPS_TRACE_EVENTS=1 (§4.4).
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from ocelot.deployment.errors import AssignmentError
from ocelot.deployment.models import Activation, Assignment, GroupAssignment, Package
from ocelot.inventory.models import Computer, Group, GroupMember

WAITING_LABEL = "WAITING NOTIFICATION"
POST_COMMANDS = ("REBOOT", "SHUTDOWN")
MAX_POST_COMMAND = 1024
_SCHEDULE = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BATCH = 500


# ---------------------------------------------------------------- statuses


WAITING, NOTIFIED, SUCCESS, ERROR, OTHER = "waiting", "notified", "success", "error", "other"
CATEGORIES = (WAITING, NOTIFIED, SUCCESS, ERROR, OTHER)


def classify(status: str) -> str:
    """The status's category: the console counts ``SUCCESS*`` as success, ``ERR*`` and
    ``EXIT_CODE*`` as errors (protocol.md §8.3); ``UNKNOWN_CODE`` and anything else is other."""
    if status == Assignment.WAITING:
        return WAITING
    if status == Assignment.NOTIFIED:
        return NOTIFIED
    if status.startswith("SUCCESS"):
        return SUCCESS
    if status.startswith(("ERR", "EXIT_CODE")):
        return ERROR
    return OTHER


def status_label(status: str) -> str:
    """What the console shows: WAITING NOTIFICATION for an empty status, else the code."""
    return status or WAITING_LABEL


# ---------------------------------------------------------------- options


@dataclass(frozen=True)
class AssignmentOptions:
    """Per-assignment options (OCS DOWNLOAD_FORCE, DOWNLOAD_SCHEDULE, DOWNLOAD_POSTCMD)."""

    force: bool = False
    schedule: str = ""
    post_command: str = ""


def schedule_text(value: datetime.datetime | str | None) -> str:
    """``YYYY/MM/DD HH:MM`` as the PROLOG carries it (§4.4): the agent's wall-clock time.

    A datetime is written as given (its time zone, if any, is not converted: the Windows
    agent compares the text with its own local time).
    """
    if value is None or value == "":
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y/%m/%d %H:%M")
    text = value.strip().replace("T", " ").replace("-", "/")
    text = text[:16]
    if not _SCHEDULE.match(text):
        raise AssignmentError(f"{value!r}: the schedule is YYYY/MM/DD HH:MM (or YYYY-MM-DDTHH:MM).")
    try:
        datetime.datetime.strptime(text, "%Y/%m/%d %H:%M")
    except ValueError as exc:
        raise AssignmentError(f"{value!r} is not a date and time.") from exc
    return text


def check_options(options: AssignmentOptions) -> AssignmentOptions:
    """Options as stored: a valid schedule, REBOOT/SHUTDOWN upper-cased, no control characters."""
    command = options.post_command.strip()
    if command.upper() in POST_COMMANDS:
        command = command.upper()
    if len(command) > MAX_POST_COMMAND or _CONTROL.search(command):
        raise AssignmentError("The post-command must be one line of at most 1024 characters.")
    return AssignmentOptions(options.force, schedule_text(options.schedule), command)


# ---------------------------------------------------------------- assign, unassign


@dataclass(frozen=True)
class AssignOutcome:
    """How many assignments were created, and how many existing ones were started over."""

    created: int
    restarted: int

    @property
    def total(self) -> int:
        return self.created + self.restarted


def _existing_computer_ids(computer_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(computer_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), _BATCH):
        chunk = wanted[start : start + _BATCH]
        found.update(Computer.objects.filter(pk__in=chunk).values_list("pk", flat=True))
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        shown = ", ".join(str(pk) for pk in missing[:10])
        raise AssignmentError(f"No computer with id {shown}{' ...' if len(missing) > 10 else ''}.")
    return wanted


def assign(
    activation: Activation, computer_ids: Iterable[int], options: AssignmentOptions | None = None
) -> AssignOutcome:
    """Assign the activation's package to these computers (all or nothing)."""
    options = check_options(options or AssignmentOptions())
    ids = _existing_computer_ids(computer_ids)
    now = timezone.now()
    package_id = activation.package_id
    created = restarted = 0
    with transaction.atomic():
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            existing = set(
                Assignment.objects.filter(package_id=package_id, computer_id__in=chunk).values_list(
                    "computer_id", flat=True
                )
            )
            if existing:
                restarted += Assignment.objects.filter(
                    package_id=package_id, computer_id__in=existing
                ).update(
                    activation=activation,
                    status=Assignment.WAITING,
                    force=options.force,
                    schedule=options.schedule,
                    post_command=options.post_command,
                    assigned_at=now,
                    notified_at=None,
                    result_at=None,
                )
            fresh = [
                Assignment(
                    package_id=package_id,
                    activation=activation,
                    computer_id=pk,
                    force=options.force,
                    schedule=options.schedule,
                    post_command=options.post_command,
                    assigned_at=now,
                )
                for pk in chunk
                if pk not in existing
            ]
            Assignment.objects.bulk_create(fresh)
            created += len(fresh)
    return AssignOutcome(created, restarted)


def group_computer_ids(group: Group) -> list[int]:
    """The group's members of the moment: forced in or computed, never the excluded ones."""
    return list(
        GroupMember.objects.filter(group=group)
        .exclude(kind=GroupMember.EXCLUDED)
        .order_by("computer_id")
        .values_list("computer_id", flat=True)
    )


def assign_to_group(
    activation: Activation, group: Group, options: AssignmentOptions | None = None
) -> AssignOutcome:
    """Assign to every member of ``group`` now, and to later members at their next contact.

    Each member's status is its own. Assigning the package to the group again replaces
    the group's activation and options (members already assigned are started over).
    """
    options = check_options(options or AssignmentOptions())
    with transaction.atomic():
        GroupAssignment.objects.update_or_create(
            package_id=activation.package_id,
            group=group,
            defaults={
                "activation": activation,
                "force": options.force,
                "schedule": options.schedule,
                "post_command": options.post_command,
                "assigned_at": timezone.now(),
            },
        )
        return assign(activation, group_computer_ids(group), options)


def unassign_group(package: Package, group: Group) -> int:
    """Stop assigning the package to the group's future members; those assigned keep theirs."""
    return int(GroupAssignment.objects.filter(package=package, group=group).delete()[0])


def unassign(package: Package, computer_ids: Iterable[int] | None = None) -> int:
    """Remove the package's assignments (of these computers, or all, group assignments
    included); how many computers' assignments went."""
    query = Assignment.objects.filter(package=package)
    if computer_ids is None:
        with transaction.atomic():
            GroupAssignment.objects.filter(package=package).delete()
            return int(query.delete()[0])
    removed = 0
    wanted = sorted(set(computer_ids))
    for start in range(0, len(wanted), _BATCH):
        removed += int(query.filter(computer_id__in=wanted[start : start + _BATCH]).delete()[0])
    return removed


# ---------------------------------------------------------------- statistics and validation


@dataclass(frozen=True)
class PackageStatistics:
    """Counts per category and per exact status (seeds 002 "Stats")."""

    package: Package
    categories: dict[str, int]
    statuses: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.categories.values())


def statistics(
    package: Package,
    activation: Activation | None = None,
    *,
    computers: QuerySet[Computer] | None = None,
) -> PackageStatistics:
    """How many assignments are in each status, for one package (or one of its activations),
    counting only ``computers`` when given (a user restricted to some TAGs counts only those)."""
    query = Assignment.objects.filter(package=package)
    if activation is not None:
        query = query.filter(activation=activation)
    if computers is not None:
        query = query.filter(computer__in=computers.values("pk"))
    statuses: Counter[str] = Counter()
    for row in query.values("status").order_by().annotate(count=Count("id")):
        statuses[status_label(row["status"])] += row["count"]
    categories = dict.fromkeys(CATEGORIES, 0)
    for label, count in statuses.items():
        categories[classify("" if label == WAITING_LABEL else label)] += count
    return PackageStatistics(package, categories, dict(sorted(statuses.items())))


def category_counts_by_activation(
    package: Package | None = None, *, computers: QuerySet[Computer] | None = None
) -> dict[int, dict[str, int]]:
    """Per activation id, how many assignments are in each category, in one query (the
    activation list's Not notified / Success / Errors columns, seeds 002)."""
    query = Assignment.objects.all()
    if package is not None:
        query = query.filter(package=package)
    if computers is not None:
        query = query.filter(computer__in=computers.values("pk"))
    counts: dict[int, dict[str, int]] = {}
    for row in query.values("activation_id", "status").order_by().annotate(count=Count("id")):
        categories = counts.setdefault(row["activation_id"], dict.fromkeys(CATEGORIES, 0))
        categories[classify(row["status"])] += row["count"]
    return counts


def computers_with_status(package: Package, status: str) -> list[int]:
    """The computers behind one number of the statistics (an exact status or a category)."""
    query = Assignment.objects.filter(package=package)
    if status == WAITING_LABEL:
        status = Assignment.WAITING
    ids = query.values_list("computer_id", "status")
    if status in CATEGORIES:
        return sorted(pk for pk, value in ids if classify(value) == status)
    return sorted(pk for pk, value in ids if value == status)


def validate_success(package: Package) -> int:
    """ "Validate success": forget the successful assignments (seeds 002)."""
    return int(Assignment.objects.filter(package=package, status__startswith="SUCCESS").delete()[0])


def unassign_not_notified(package: Package) -> int:
    """ "Unaffect not notified": cancel the assignments no contact has announced yet."""
    return int(Assignment.objects.filter(package=package, status=Assignment.WAITING).delete()[0])


def validate_all(package: Package) -> int:
    """ "Validate all" = Validate success + Unaffect not notified (seeds 002)."""
    with transaction.atomic():
        return validate_success(package) + unassign_not_notified(package)
