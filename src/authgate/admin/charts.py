"""Bar charts as inline SVG, drawn on the server: the admin has no script, and its CSP allows
no inline style, so colours are SVG presentation attributes (`fill=`), which CSP does not govern.

Every bar carries its count (`data-count`) and a tooltip (`<title>`); the chart has an
accessible name and description (`<title>`, `<desc>`, `aria-labelledby`). All text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 480, 190
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 28, 30  # room for the y axis, the title, the x labels
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
AXIS = "#888"
TEXT = "#333"


@dataclass(frozen=True, slots=True)
class Chart:
    """One series to draw: a bar per label, with its value."""

    chart_id: str  # unique in the page: the ids of its <title> and <desc> derive from it
    title: str
    labels: Sequence[str]  # what each bar is (an hour, a day), in its tooltip
    ticks: Sequence[str]  # the x axis' label under each bar ("" for none)
    values: Sequence[int]
    fill: str  # a colour, as SVG takes it


def top_of_scale(peak: int) -> int:
    """The y axis' top: the peak rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if peak <= step * scale:
                return step * scale
        scale *= 10


def bar_chart(chart: Chart) -> Markup:
    """The chart as an <svg> element."""
    a = _attribute
    top = top_of_scale(max(chart.values, default=0))
    total = sum(chart.values)
    peak = max(chart.values, default=0)
    title_id, desc_id = f"{chart.chart_id}-title", f"{chart.chart_id}-desc"
    pairs = zip(chart.labels, chart.values, strict=True)
    each = ", ".join(f"{label} {value}" for label, value in pairs)
    description = f"{total} in all; at most {peak} in one bar; {len(chart.values)} bars: {each}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{a(chart.chart_id)}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img"'
        f' aria-labelledby="{a(title_id)} {a(desc_id)}">',
        f'<title id="{a(title_id)}">{_text(chart.title)}</title>',
        f'<desc id="{a(desc_id)}">{_text(description)}</desc>',
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold" fill="{TEXT}"'
        f' aria-hidden="true">{_text(chart.title)} ({total})</text>',
    ]
    for fraction in (0, 0.5, 1):  # the scale: 0, half and the top
        y = TOP + PLOT_HEIGHT * (1 - fraction)
        value = top * fraction
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"'
            f' stroke="{"#ddd" if fraction else AXIS}" stroke-width="1"/>'
        )
        if value == int(value):  # counts: no "2.5" on the axis
            parts.append(
                f'<text class="scale" x="{LEFT - 4}" y="{y + 4:.1f}" font-size="10"'
                f' text-anchor="end" fill="{TEXT}" aria-hidden="true">{int(value)}</text>'
            )
    slot = PLOT_WIDTH / max(len(chart.values), 1)
    width = max(slot * 0.8, 1.0)
    bars = zip(chart.labels, chart.ticks, chart.values, strict=True)
    for index, (label, tick, value) in enumerate(bars):
        height = PLOT_HEIGHT * value / top
        x = LEFT + slot * index + (slot - width) / 2
        parts.append(
            f'<rect class="bar" x="{x:.2f}" y="{TOP + PLOT_HEIGHT - height:.2f}"'
            f' width="{width:.2f}" height="{height:.2f}" fill="{a(chart.fill)}"'
            f' data-label="{a(label)}" data-count="{value}">'
            f"<title>{_text(label)}: {value}</title></rect>"
        )
        if tick:
            parts.append(
                f'<text x="{x + width / 2:.2f}" y="{HEIGHT - BOTTOM + 14}" font-size="10"'
                f' text-anchor="middle" fill="{TEXT}" aria-hidden="true">{_text(tick)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 every piece of text above is escaped


def _text(value: str) -> str:
    return escape(value, quote=False)


def _attribute(value: str) -> str:
    return escape(value, quote=True)
