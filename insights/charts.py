"""Charts for the dashboard, drawn as SVG by our own code (pure; no scripts, no CDN).

Every chart is an image with a text alternative; the page shows its numbers in a table
beside it, for screen readers and for tests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# Colours that stay apart for the common colour-vision deficiencies (Okabe-Ito).
BLUE = "#0072b2"
GREEN = "#009e73"
ORANGE = "#e69f00"
VERMILION = "#d55e00"
SKY = "#56b4e9"
GREY = "#8a8f98"


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    values: Sequence[int | float]


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above `value` (an axis' top)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def column_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    width: int = 720,
    height: int = 240,
    label_every: int = 1,
) -> SafeString:
    """Grouped columns, one group per label (e.g. per day), with a y axis of four steps."""
    left, right, top, bottom = 36, 8, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_ceiling(max((v for s in series for v in s.values), default=0))
    groups = max(len(labels), 1)
    slot = plot_w / groups
    bar = max(slot * 0.8 / max(len(series), 1), 1)
    parts: list[tuple[str, ...]] = []
    for step in range(5):
        value = top_value * step / 4
        y = top + plot_h - plot_h * step / 4
        parts.append(
            (
                f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="#3a3f47" stroke-width="1"/>'
                f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>',
            )
        )
    for index, label in enumerate(labels):
        x0 = left + index * slot + slot * 0.1
        for number, one in enumerate(series):
            value = one.values[index]
            h = plot_h * value / top_value
            parts.append(
                (
                    f'<rect x="{x0 + number * bar:.1f}" y="{top + plot_h - h:.1f}" '
                    f'width="{bar:.1f}" height="{h:.1f}" fill="{one.colour}">'
                    f"<title>{_escape(label)}: {_escape(one.label)} {value:g}</title></rect>",
                )
            )
        if index % label_every == 0:
            parts.append(
                (
                    f'<text x="{left + index * slot + slot / 2:.1f}" y="{height - 8}" '
                    f'text-anchor="middle">{_escape(label)}</text>',
                )
            )
    return _svg(width, height, title, parts)


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    width: int = 460,
    row: int = 22,
    label_width: int = 170,
) -> SafeString:
    """Horizontal bars, stacked by series, one row per label (e.g. per category)."""
    right = 40
    height = row * len(labels) + 8
    plot_w = width - label_width - right
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top_value = max(totals, default=0) or 1
    parts: list[tuple[str, ...]] = []
    for index, label in enumerate(labels):
        y = 4 + index * row
        parts.append(
            (
                f'<text x="{label_width - 6}" y="{y + row * 0.65:.1f}" '
                f'text-anchor="end">{_escape(_shorten(label, 26))}</text>',
            )
        )
        x = float(label_width)
        for one in series:
            value = one.values[index]
            w = plot_w * value / top_value
            if w > 0:
                parts.append(
                    (
                        f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
                        f'fill="{one.colour}"><title>{_escape(label)}: {_escape(one.label)} '
                        f"{value:g}</title></rect>",
                    )
                )
            x += w
        parts.append((f'<text x="{x + 4:.1f}" y="{y + row * 0.65:.1f}">{totals[index]:g}</text>',))
    return _svg(width, height, title, parts)


def legend(series: Sequence[Series]) -> SafeString:
    return format_html_join(
        "",
        '<span class="legend-item"><span class="swatch" style="background:{}"></span>{}</span>',
        ((one.colour, one.label) for one in series),
    )


def _svg(width: int, height: int, title: str, parts: list[tuple[str, ...]]) -> SafeString:
    body = SafeString("".join(part for (part,) in parts))
    return format_html(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" '
        'width="100%" role="img" aria-label="{}">{}</svg>',
        width,
        height,
        title,
        body,
    )


def _escape(text: str) -> str:
    return str(format_html("{}", text))


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
