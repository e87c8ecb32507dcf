"""``{% load inventory_values %}``: how the computer page writes inventory values (see
``ocelot.console.presentation``). Everything goes through ``format_html``: inventory
strings stay inert text."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ocelot.console.presentation import MEGABYTES, Size, human_size

register = template.Library()


@register.filter
def megabytes(value: Any) -> str:
    """``{{ computer.memory|megabytes }}``: 24105 -> "23.5 GB"."""
    return human_size(value, MEGABYTES)


@register.filter
def section_cell(value: Any) -> SafeString:
    """One cell of a section table; a size shows readably, its exact value as a tooltip."""
    if isinstance(value, Size):
        return format_html('<td class="nowrap" title="{}">{}</td>', value.exact, value.shown)
    return format_html("<td>{}</td>", "" if value is None else value)
