"""The software dictionary: software sorted into categories (for GLPI integration).

Seed "Utiliser le dictionnaire de logiciels pour l'intégration GLPI": three categories
always exist, NEW (every new or uncategorised software), IGNORED (not imported into GLPI)
and UNCHANGED (imported as is); administrators add their own by moving software into a
category named for the occasion. Software can be searched everywhere by a part of its
name, categories by a part of theirs; selected software, or every software matching the
current search ("Move all"), moves to an existing or a new category.

A category is ``Software.category``: NEW is the empty string (what ingest stores for new
software), the others their name. An administrator's category exists while software is
in it. Names compare without regard to case, as MariaDB's collation does, so that every
database groups them the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from ocelot.inventory.models import Software, SoftwareInstallation

NEW = ""
IGNORED = "IGNORED"
UNCHANGED = "UNCHANGED"
BUILT_IN = (NEW, IGNORED, UNCHANGED)
_BUILT_IN_NAMES = {"NEW": NEW, IGNORED: IGNORED, UNCHANGED: UNCHANGED}
MAX_CATEGORY = 255  # Software.category
MAX_SEARCH = 255
MAX_SELECTION = 1000  # ticked software per request (a page shows far fewer)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class DictionaryError(Exception):
    """An invalid category name, search or selection."""


@dataclass(frozen=True)
class CategoryCount:
    """A category and the number of software entries in it."""

    name: str
    software: int

    @property
    def built_in(self) -> bool:
        return self.name in BUILT_IN

    @property
    def key(self) -> str:
        """The category as the console names it in addresses: NEW for the empty string."""
        return self.name or "NEW"


def category_name(raw: str) -> str:
    """The stored value of a category given by name ("NEW", "ignored", "Office", ...)."""
    name = raw.strip()
    if not name:
        raise DictionaryError(_("A category name is required."))
    if len(name) > MAX_CATEGORY:
        raise DictionaryError(_("A category name is at most %(max)d characters.") % {"max": MAX_CATEGORY})
    if _CONTROL.search(name):
        raise DictionaryError(_("A category name may not contain control characters."))
    built_in = _BUILT_IN_NAMES.get(name.upper())
    if built_in is not None:
        return built_in
    # An existing category keeps its spelling: "office" joins "Office".
    existing = (
        Software.objects.filter(category__iexact=name).values_list("category", flat=True).order_by().first()
    )
    return existing if existing is not None else name


def search_text(raw: str) -> str:
    """A name part to search for (bounded)."""
    text = raw.strip()
    if len(text) > MAX_SEARCH:
        raise DictionaryError(_("A search is at most %(max)d characters.") % {"max": MAX_SEARCH})
    return text


def categories(search: str = "") -> list[CategoryCount]:
    """The three built-in categories, then the administrator's (by name), with their
    number of software entries; only those whose name contains ``search`` when given."""
    counts: dict[str, int] = dict.fromkeys(BUILT_IN, 0)
    rows = Software.objects.values_list("category").annotate(n=Count("id")).order_by()
    for name, number in rows:
        counts[name] = counts.get(name, 0) + number
    found = [CategoryCount(name, number) for name, number in counts.items()]
    ordered = sorted(
        found, key=lambda c: (not c.built_in, BUILT_IN.index(c.name) if c.built_in else 0, c.name.lower())
    )
    needle = search.strip().lower()
    if needle:
        ordered = [c for c in ordered if needle in (c.name or "NEW").lower()]
    return ordered


def software(*, category: str | None = None, search: str = "") -> QuerySet[Software]:
    """Software in a category (None: every category) whose name contains ``search``."""
    found = Software.objects.all()
    if category is not None:
        found = found.filter(category=category)
    if search:
        found = found.filter(name__icontains=search)
    return found.order_by("name", "version", "publisher", "id")


def installation_counts(software_ids: Iterable[int]) -> dict[int, int]:
    """How many computers have each of these software entries (for one page of them)."""
    ids = list(software_ids)
    if not ids:
        return {}
    rows = (
        SoftwareInstallation.objects.filter(software_id__in=ids)
        .values_list("software_id")
        .annotate(n=Count("computer_id", distinct=True))
        .order_by()
    )
    return dict(rows)


def move(software_ids: Iterable[int], to: str) -> tuple[int, str]:
    """Move the chosen software to the category named ``to``; returns how many moved and
    the category's stored name."""
    ids = sorted({int(i) for i in software_ids})
    if not ids:
        raise DictionaryError(_("Tick the software to move."))
    if len(ids) > MAX_SELECTION:
        raise DictionaryError(_("At most %(max)d software may be ticked at once.") % {"max": MAX_SELECTION})
    with transaction.atomic():
        target = category_name(to)
        return Software.objects.filter(pk__in=ids).update(category=target), target


def move_all(to: str, *, category: str | None = None, search: str = "") -> tuple[int, str]:
    """Move every software of ``category`` (None: every category) whose name contains
    ``search``, not only the page shown, to the category named ``to``; returns how many
    moved and the category's stored name."""
    if category is None and not search:
        raise DictionaryError(_("Choose a category or search for software before moving all of it."))
    with transaction.atomic():
        target = category_name(to)
        moved = software(category=category, search=search).exclude(category=target).update(category=target)
    return moved, target
