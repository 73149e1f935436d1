"""Bar charts drawn on the server as inline SVG: no JavaScript, nothing from another host.

Colours come from classes in tracking/static/tracking/reports.css, so the charts follow the
admin's light and dark themes. Every bar carries a <title> (a tooltip, and what screen readers
read); the tables under the charts hold the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 760
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 48, 52, 28, 40
LABEL_EVERY_MAX = 12  # at most about this many x-axis labels, so they never overlap
MIN_RATE_SAMPLE = 5  # screened calls a slot needs for its acceptance rate to be drawn


@dataclass(frozen=True)
class Slot:
    """One bar position: a label on the axis, a longer one in the tooltip, and its figures."""

    label: str
    description: str
    calls: int
    accepted: int
    rate: float | None  # acceptance rate, 0..1, None when nothing was screened
    screened: int | None = None  # what the rate rests on; too few and it is not drawn

    @property
    def rate_shown(self) -> float | None:
        """The rate, unless it rests on fewer than MIN_RATE_SAMPLE screened calls: a day with
        one call taken out of one would otherwise draw a 100 % spike."""
        if self.screened is not None and self.screened < MIN_RATE_SAMPLE:
            return None
        return self.rate


def nice_top(value: int, ticks: int = 4) -> int:
    """The smallest round axis maximum at or above `value`, with whole-number ticks."""
    if value <= 0:
        return ticks
    magnitude = 10 ** max(0, math.floor(math.log10(value / ticks)))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        top = step * magnitude * ticks
        if top >= value and float(step * magnitude).is_integer():
            return int(top)
    return 10 * magnitude * ticks  # pragma: no cover - step 10 always fits


def calls_chart(
    *, chart_id: str, title: str, description: str, slots: Sequence[Slot]
) -> SafeString:
    """Calls per slot, the accepted part of each bar darker, the acceptance rate as a line."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    top = nice_top(max((slot.calls for slot in slots), default=0))
    slot_w = plot_w / max(len(slots), 1)
    bar_w = max(slot_w * 0.7, 1.0)
    label_every = max(1, math.ceil(len(slots) / LABEL_EVERY_MAX))

    def y(count: float) -> float:
        return base - plot_h * count / top

    def rate_y(rate: float) -> float:
        return base - plot_h * rate

    grid = format_html_join(
        "",
        '<line class="grid" x1="{0}" x2="{1}" y1="{2}" y2="{2}"/>'
        '<text class="axis" x="{3}" y="{2}" text-anchor="end" dy="0.32em">{4}</text>'
        '<text class="axis rate-axis" x="{5}" y="{2}" dy="0.32em">{6}%</text>',
        (
            (
                LEFT,
                WIDTH - RIGHT,
                _n(y(top * i / 4)),
                LEFT - 6,
                f"{top * i // 4:,}",
                WIDTH - RIGHT + 6,
                25 * i,
            )
            for i in range(5)
        ),
    )

    bars = []
    for index, slot in enumerate(slots):
        x = LEFT + index * slot_w + (slot_w - bar_w) / 2
        if slot.rate is None:
            rate = "no calls screened"
        elif slot.rate_shown is None:
            rate = f"acceptance {slot.rate:.0%} of only {slot.screened} screened (not drawn)"
        else:
            rate = f"acceptance {slot.rate:.1%} of {slot.screened or 'the'} screened"
        label = ""
        if index % label_every == 0:
            label = format_html(
                '<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                _n(x + bar_w / 2),
                base + 16,
                slot.label,
            )
        bars.append(
            format_html(
                '<g class="slot"><title>{}: {} calls, {} accepted, {}</title>'
                '<rect class="hit" x="{}" y="{}" width="{}" height="{}"/>'
                '<rect class="calls" x="{}" y="{}" width="{}" height="{}"/>'
                '<rect class="accepted" x="{}" y="{}" width="{}" height="{}"/>'
                "{}</g>",
                slot.description,
                slot.calls,
                slot.accepted,
                rate,
                _n(LEFT + index * slot_w),
                TOP,
                _n(slot_w),
                plot_h,
                _n(x),
                _n(y(slot.calls)),
                _n(bar_w),
                _n(base - y(slot.calls)),
                _n(x),
                _n(y(slot.accepted)),
                _n(bar_w),
                _n(base - y(slot.accepted)),
                label,
            )
        )

    # The rate line breaks where nothing (or too little) was screened rather than pretending
    # the rate was 0 % or drawing a spike from one call.
    segments: list[list[tuple[float, float]]] = [[]]
    for index, slot in enumerate(slots):
        if slot.rate_shown is None:
            segments.append([])
        else:
            segments[-1].append((LEFT + (index + 0.5) * slot_w, rate_y(slot.rate_shown)))
    lines = format_html_join(
        "",
        '<polyline class="rate" points="{}"/>',
        ((" ".join(f"{_n(px)},{_n(py)}" for px, py in points),) for points in segments if points),
    )
    dots = format_html_join(
        "",
        '<circle class="rate" cx="{}" cy="{}" r="2.5"/>',
        ((_n(px), _n(py)) for segment in segments for px, py in segment),
    )

    legend = format_html(
        '<g class="legend" transform="translate({},{})">'
        '<rect class="calls" width="10" height="10" y="-9"/><text x="14">Calls</text>'
        '<rect class="accepted" x="64" width="10" height="10" y="-9"/>'
        '<text x="78">Accepted</text>'
        '<line class="rate" x1="150" x2="166" y1="-4" y2="-4"/>'
        '<text x="170">Acceptance rate (right axis, when 5+ screened)</text></g>',
        LEFT,
        TOP - 12,
    )

    return format_html(
        '<svg class="chart" id="{0}" viewBox="0 0 {1} {2}" role="img" '
        'aria-labelledby="{0}-title {0}-desc" preserveAspectRatio="xMidYMid meet">'
        '<title id="{0}-title">{3}</title><desc id="{0}-desc">{4}</desc>'
        "{5}{6}{7}{8}{9}"
        '<line class="baseline" x1="{10}" x2="{11}" y1="{12}" y2="{12}"/></svg>',
        chart_id,
        WIDTH,
        HEIGHT,
        title,
        description,
        legend,
        grid,
        mark_safe("".join(bars)),  # each piece was escaped by format_html above
        lines,
        dots,
        LEFT,
        WIDTH - RIGHT,
        base,
    )


def _n(value: float) -> str:
    # One decimal is finer than a pixel and keeps the markup short.
    return f"{value:.1f}"
