"""Static groups, as far as deployment needs them (issue 4: "This issue adds static groups").

A static group is a :class:`~ocelot.inventory.models.Group` whose members are forced in
(``GroupMember.STATIC``). Packages are assigned to its members (assignment.assign_to_group).
The console pages for groups come with the groups issue; this is the minimal use case.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from ocelot.deployment.errors import AssignmentError
from ocelot.inventory.models import Computer, Group, GroupMember


def create_static_group(name: str, *, description: str = "", visible: bool = False) -> Group:
    """A new, empty static group; the name must be free."""
    name = name.strip()
    if not name or len(name) > 255:
        raise AssignmentError("A group name is 1 to 255 characters.")
    try:
        with transaction.atomic():
            return Group.objects.create(name=name, description=description, visible=visible)
    except IntegrityError as exc:
        raise AssignmentError(f"A group named {name!r} exists already.") from exc


def find_group(reference: str | int) -> Group:
    """A group by id or exact name."""
    text = str(reference).strip()
    group = Group.objects.filter(pk=int(text)).first() if text.isdigit() and len(text) <= 18 else None
    group = group or Group.objects.filter(name=text).first()
    if group is None:
        raise AssignmentError(f"No group {text!r}.")
    return group


def add_to_group(group: Group, computer_ids: Iterable[int]) -> int:
    """Force computers into the group (an excluded one becomes a member); how many were added."""
    wanted = set(computer_ids)
    known = set(Computer.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if wanted - known:
        raise AssignmentError(f"No computer with id {', '.join(str(pk) for pk in sorted(wanted - known))}.")
    with transaction.atomic():
        current = dict(
            GroupMember.objects.filter(group=group, computer_id__in=known).values_list("computer_id", "kind")
        )
        GroupMember.objects.filter(group=group, computer_id__in=known).exclude(
            kind=GroupMember.STATIC
        ).update(kind=GroupMember.STATIC)
        GroupMember.objects.bulk_create(
            [
                GroupMember(group=group, computer_id=pk, kind=GroupMember.STATIC)
                for pk in sorted(known - current.keys())
            ]
        )
    return len([pk for pk in known if current.get(pk) != GroupMember.STATIC])
