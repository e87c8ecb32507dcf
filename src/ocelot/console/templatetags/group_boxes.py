"""``{% load group_boxes %}``: the group boxes of the search results and the computer page (issue 7).

``{% addable_groups as choices %}`` gives the static groups the user may add computers to
(administrators: all; users: the visible ones, seed 002); ``{% mass_group choices %}`` is
the "Add to group" menu of the mass-processing bar, posting to ``console:group-add``;
``{% save_search_box %}`` is the search page's "Save as a group" (administrators);
``{% computer_groups computer %}`` lists a computer's groups on its page.
"""

from __future__ import annotations

from typing import Any

from django import template

from ocelot.accounts.roles import is_administrator
from ocelot.inventory import groups
from ocelot.inventory.models import Computer, Group

register = template.Library()


@register.simple_tag(takes_context=True)
def addable_groups(context: template.Context) -> list[Group]:
    return list(groups.addable_groups(administrator=is_administrator(context["request"].user)))


@register.inclusion_tag("console/groups/mass_add.html")
def mass_group(choices: list[Group]) -> dict[str, Any]:
    return {"choices": choices}


@register.inclusion_tag("console/groups/save_search.html", takes_context=True)
def save_search_box(context: template.Context) -> dict[str, Any]:
    return {
        "criteria_pairs": context.get("criteria_pairs", []),
        "next_url": context.get("next_url", ""),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("console/groups/computer_groups.html", takes_context=True)
def computer_groups(context: template.Context, computer: Computer) -> dict[str, Any]:
    """The computer page's Groups box: the groups it is in or excluded from (users: the
    visible ones)."""
    administrator = is_administrator(context["request"].user)
    rows = [(group, kind) for group, kind in groups.groups_of(computer.pk) if administrator or group.visible]
    return {"rows": rows}
