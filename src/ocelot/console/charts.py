"""Server-rendered SVG charts: horizontal bars with labels, counts, tooltips and links.

No script and no style attribute (the CSP allows neither inline): colours and sizes are SVG
presentation attributes, text sizes come from console.css. Every label is escaped by
``format_html`` -- inventory strings (OS names, agent versions, TAGs) reach these charts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

BAR_HEIGHT = 22
GAP = 8
WIDTH = 640
LABEL_WIDTH = 250
COUNT_WIDTH = 70
LABEL_CHARACTERS = 32
COLOURS = ("#1f6feb", "#2e7d32", "#b26a00", "#8e24aa", "#00838f", "#c62828", "#5d4037", "#3949ab")
OTHER_COLOUR = "#9aa4b2"


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value, an optional link and whether it is the grey "other" bar."""

    label: str
    value: int
    href: str = ""
    other: bool = False


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1] + "…"


def bar_chart(bars: Sequence[Bar], *, title: str) -> SafeString:
    """An accessible horizontal bar chart; an empty list gives an empty string."""
    if not bars:
        return SafeString("")
    top = max(bar.value for bar in bars) or 1
    span = WIDTH - LABEL_WIDTH - COUNT_WIDTH
    height = len(bars) * (BAR_HEIGHT + GAP) + GAP
    rows = []
    for index, bar in enumerate(bars):
        y = GAP + index * (BAR_HEIGHT + GAP)
        width = max(2, round(span * bar.value / top)) if bar.value else 0
        colour = OTHER_COLOUR if bar.other else COLOURS[index % len(COLOURS)]
        body = format_html(
            '<title>{}: {}</title><text x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="{}"></rect>'
            '<text x="{}" y="{}" dominant-baseline="middle">{}</text>',
            bar.label,
            bar.value,
            LABEL_WIDTH - 8,
            y + BAR_HEIGHT / 2,
            _short(bar.label),
            LABEL_WIDTH,
            y,
            width,
            BAR_HEIGHT,
            colour,
            LABEL_WIDTH + width + 6,
            y + BAR_HEIGHT / 2,
            bar.value,
        )
        if bar.href:
            rows.append(format_html('<a href="{}" class="bar">{}</a>', bar.href, body))
        else:
            rows.append(format_html('<g class="bar">{}</g>', body))
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}" class="bar-chart">{}</svg>',
        WIDTH,
        height,
        WIDTH,
        height,
        title,
        format_html_join("", "{}", ((row,) for row in rows)),
    )
