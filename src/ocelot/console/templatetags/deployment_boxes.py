"""``{% load deployment_boxes %}``: the deployment boxes other pages show (issue 4 "Assign").

``{% deploy_box computer %}`` is the computer page's Deploy box (the activated packages,
the force / schedule / post-command options, and what this computer is assigned);
``{% mass_deploy %}`` is the Deploy menu of the search results' mass-action bar. Both post
to ``console:package-assign`` (``ocelot.console.deployment.assign``); the pages that show
them need no deployment code of their own.
"""

from __future__ import annotations

from typing import Any

from django import template

from ocelot.accounts.roles import is_administrator
from ocelot.deployment import activation as activations
from ocelot.deployment import assignment
from ocelot.inventory.models import Computer

register = template.Library()


def _rows() -> list[dict[str, Any]]:
    return [{"activation": activation} for activation in activations.activations()]


@register.inclusion_tag("console/packages/deploy_box.html", takes_context=True)
def deploy_box(context: template.Context, computer: Computer) -> dict[str, Any]:
    request = context["request"]
    assigned = [
        (item, assignment.status_label(item.status), assignment.classify(item.status))
        for item in computer.assignments.select_related("package").order_by("package__name")
    ]
    return {
        "computer": computer,
        "rows": _rows(),
        "assigned": assigned,
        "can_change": is_administrator(request.user),
        "csrf_token": context.get("csrf_token"),
        "next_url": request.get_full_path(),
    }


@register.inclusion_tag("console/packages/mass_deploy.html", takes_context=True)
def mass_deploy(context: template.Context) -> dict[str, Any]:
    return {"rows": _rows()}
