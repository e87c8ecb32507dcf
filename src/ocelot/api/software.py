"""The software catalogue: one entry per name, publisher and version, with the number of
computers it is installed on.

A user restricted to some TAG values sees only software installed on computers in scope,
and counts only those installations.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from ocelot.accounts.roles import allowed_tags, visible_computers
from ocelot.api.requests import page, refuse_unknown_parameters, sort_fields
from ocelot.api.schemas import Error, Paging, SoftwarePage
from ocelot.inventory.models import Software, SoftwareInstallation

router = Router(tags=["software"])

SORTS: dict[str, str | tuple[str, ...]] = {
    "name": ("name", "version", "id"),
    "publisher": ("publisher", "name", "id"),
    "version": ("version", "id"),
    "category": ("category", "name", "id"),
}


class SoftwareFilters(Schema):
    name: str = Field("", max_length=255, description="part of the name (case-insensitive)")
    publisher: str = Field("", max_length=255, description="part of the publisher (case-insensitive)")
    category: str | None = Field(None, max_length=255, description="exactly this category")
    sort: str = Field("name", description=f"one of {', '.join(SORTS)}, optionally preceded by '-'")


@router.get(
    "/software",
    response={200: SoftwarePage, 400: Error},
    summary="The software catalogue, with installation counts",
)
def list_software(
    request: HttpRequest, filters: Query[SoftwareFilters], paging: Query[Paging]
) -> dict[str, Any]:
    refuse_unknown_parameters(request, SoftwareFilters.model_fields)
    user = request.user  # type: ignore[attr-defined]
    catalogue = Software.objects.order_by(*sort_fields(filters.sort, SORTS))
    if filters.name:
        catalogue = catalogue.filter(name__icontains=filters.name)
    if filters.publisher:
        catalogue = catalogue.filter(publisher__icontains=filters.publisher)
    if filters.category is not None:
        catalogue = catalogue.filter(category=filters.category)
    installations = SoftwareInstallation.objects.filter(computer__in=visible_computers(user))
    if allowed_tags(user) is not None:
        # Software seen only outside the user's TAGs is not shown at all.
        catalogue = catalogue.filter(Exists(installations.filter(software=OuterRef("pk"))))
    result = page(
        catalogue.values("id", "name", "publisher", "version", "category"), paging.limit, paging.offset
    )
    ids = [row["id"] for row in result["items"]]
    counts = dict(
        installations.filter(software_id__in=ids)
        .order_by()
        .values_list("software_id")
        .annotate(n=Count("id"))
        .values_list("software_id", "n")
    )
    for row in result["items"]:
        row["installations"] = counts.get(row["id"], 0)
    return result
