"""Groups as deployment sees them: the inventory domain's groups (``inventory.groups``)
with deployment's errors, and the deployment statistics of a group's members.

Packages are assigned to a group's members by ``assignment.assign_to_group``; a computer
that joins the group later (forced in, or matched by a dynamic group's search after its
inventory) gets its own assignment at its next contact (``notification.announce``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from ocelot.deployment.assignment import CATEGORIES, WAITING_LABEL, classify, status_label
from ocelot.deployment.errors import AssignmentError
from ocelot.deployment.models import Assignment, GroupAssignment, Package
from ocelot.inventory import groups
from ocelot.inventory.models import Computer, Group, GroupMember


def create_static_group(name: str, *, description: str = "", visible: bool = False) -> Group:
    """A new, empty static group; the name must be free."""
    try:
        return groups.create_group(name, description=description, visible=visible)
    except groups.GroupError as exc:
        raise AssignmentError(str(exc)) from exc


def find_group(reference: str | int) -> Group:
    """A group by id or exact name."""
    try:
        return groups.find_group(reference)
    except groups.GroupError as exc:
        raise AssignmentError(str(exc)) from exc


def add_to_group(group: Group, computer_ids: Iterable[int]) -> int:
    """Force computers into the group (an excluded one becomes a member); how many were added."""
    try:
        return groups.force_in(group, computer_ids)
    except groups.GroupError as exc:
        raise AssignmentError(str(exc)) from exc


@dataclass(frozen=True)
class GroupPackageStatistics:
    """One package's assignments among a group's members: counts per category and status."""

    package: Package
    assigned_to_group: bool
    categories: dict[str, int]
    statuses: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.categories.values())


def group_statistics(
    group: Group, *, computers: QuerySet[Computer] | None = None
) -> list[GroupPackageStatistics]:
    """For each package assigned to the group or to some of its members, how many of the
    members' assignments are in each status (excluded computers do not count), counting
    only ``computers`` when given (a user restricted to some TAGs counts only those)."""
    members = GroupMember.objects.filter(group=group).exclude(kind=GroupMember.EXCLUDED)
    if computers is not None:
        members = members.filter(computer__in=computers.values("pk"))
    rows = (
        Assignment.objects.filter(computer_id__in=members.values("computer_id"))
        .values("package_id", "status")
        .order_by()
        .annotate(count=Count("id"))
    )
    statuses: dict[int, Counter[str]] = {}
    for row in rows:
        statuses.setdefault(row["package_id"], Counter())[status_label(row["status"])] += row["count"]
    targeted = set(GroupAssignment.objects.filter(group=group).values_list("package_id", flat=True))
    packages = Package.objects.filter(pk__in=statuses.keys() | targeted).order_by("name", "pk")
    result = []
    for package in packages:
        counted = statuses.get(package.pk, Counter())
        categories = dict.fromkeys(CATEGORIES, 0)
        for label, count in counted.items():
            categories[classify("" if label == WAITING_LABEL else label)] += count
        result.append(
            GroupPackageStatistics(package, package.pk in targeted, categories, dict(sorted(counted.items())))
        )
    return result
