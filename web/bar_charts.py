"""Server-rendered SVG bar charts for the sector analysis: a histogram and horizontal bars.

Each chart is an ``<svg role="img">`` whose ``<title>`` and ``<desc>`` say what it shows, in
words a screen reader reads out; the pages put a table of the same figures beside it. Colours
come from classes (static/analysis.css) and presentation attributes, never from inline
``style``, which the Content-Security-Policy forbids. Every text is escaped here.

The words and numbers are the caller's, in the page's language: titles, labels, ``number``
(how a count is written) and, where a chart needs them, ``share`` and ``empty``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


def _number(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _frame(id_prefix: str, width: float, height: float, title: str, description: str, body: list[str], css_class: str) -> Markup:
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    return Markup(
        f'<svg class="{css_class}" viewBox="0 0 {_number(width)} {_number(height)}" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">'
        f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(description)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def histogram(
    counts: Sequence[int],
    labels: Sequence[str],
    *,
    title: str,
    id_prefix: str,
    highlight: Sequence[bool] | None = None,
    number: Callable[[int], str] = str,
) -> Markup:
    """Vertical bars, one per count, labelled below; the description lists every bar."""
    width, height, top, bottom, left = 320.0, 150.0, 16.0, 22.0, 4.0
    plot_h = height - top - bottom
    slot = (width - left) / max(1, len(counts))
    peak = max(counts, default=0) or 1
    body = [f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}"/>']
    for i, (n, label) in enumerate(zip(counts, labels, strict=True)):
        h = plot_h * n / peak
        x = left + i * slot + 2
        y = height - bottom - h
        css = "bar bar-highlight" if highlight and highlight[i] else "bar"
        body.append(f'<rect class="{css}" x="{_number(x)}" y="{_number(y)}" width="{_number(slot - 4)}" height="{_number(h)}"/>')
        body.append(f'<text class="bar-value" x="{_number(x + (slot - 4) / 2)}" y="{_number(y - 3)}" text-anchor="middle">{escape(number(n))}</text>')
        body.append(
            f'<text class="bar-label" x="{_number(x + (slot - 4) / 2)}" y="{_number(height - 7)}" text-anchor="middle">{escape(label)}</text>'
        )
    description = "; ".join(f"{label}: {number(n)}" for n, label in zip(counts, labels, strict=True))
    return _frame(id_prefix, width, height, title, description, body, "chart histogram")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str
    """The value as the chart writes it, such as ``1,204 (38 %)``."""


def horizontal_bars(bars: Sequence[Bar], *, title: str, id_prefix: str, maximum: float | None = None, empty: str = "no data") -> Markup:
    """One labelled bar per row, longest for the largest value (or ``maximum``); ``empty``
    describes a chart without bars."""
    row, label_w, value_w, width = 22.0, 240.0, 110.0, 600.0
    height = max(1, len(bars)) * row + 4
    plot_w = width - label_w - value_w
    top = maximum if maximum else max((b.value for b in bars), default=0) or 1
    body = []
    for i, bar in enumerate(bars):
        y = 2 + i * row
        w = plot_w * max(0.0, bar.value) / top
        # About 6 px a character at 11 px: longer labels are cut (the table beside has them whole).
        label = bar.label if len(bar.label) <= 36 else bar.label[:35] + "…"
        body.append(f'<text class="bar-label" x="{_number(label_w - 6)}" y="{_number(y + 15)}" text-anchor="end">{escape(label)}</text>')
        body.append(f'<rect class="bar" x="{_number(label_w)}" y="{_number(y + 3)}" width="{_number(w)}" height="{_number(row - 6)}"/>')
        body.append(f'<text class="bar-value" x="{_number(label_w + w + 5)}" y="{_number(y + 15)}">{escape(bar.shown)}</text>')
    description = "; ".join(f"{b.label}: {b.shown}" for b in bars) or empty
    return _frame(id_prefix, width, height, title, description, body, "chart bars")


def _percent(share: float) -> str:
    return f"{100 * share:.0f} %"


def stacked_share(
    parts: Sequence[tuple[str, int]],
    *,
    title: str,
    id_prefix: str,
    number: Callable[[int], str] = str,
    share: Callable[[float], str] = _percent,
) -> Markup:
    """One bar split into parts (such as the SMEs at each level), each as wide as its share;
    parts are told apart by their class ``part-0``, ``part-1``, ... (lowest first)."""
    width, height = 240.0, 18.0
    total = sum(n for _, n in parts) or 1
    body, x = [], 0.0
    for i, (label, n) in enumerate(parts):
        w = width * n / total
        body.append(f'<rect class="part part-{i}" x="{_number(x)}" y="0" width="{_number(w)}" height="{_number(height)}"><title>{escape(label)}: {escape(number(n))}</title></rect>')
        x += w
    description = "; ".join(f"{label}: {number(n)} ({share(n / total)})" for label, n in parts)
    return _frame(id_prefix, width, height, title, description, body, "chart stacked")
