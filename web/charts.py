"""The results page's two charts as inline SVG, drawn on the server: the dimension radar and
the twin-transition matrix. No script draws them, so they show without JavaScript and in
the page's own Content-Security-Policy.

Callers pass numbers and texts already translated; every text is escaped here, so a label
holding ``<`` or ``&`` prints as typed. Each chart is an ``<svg role="img">`` named by its
``<title>`` and described by its ``<desc>``; the page puts a table of the same numbers beside
it for those who cannot see the picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

SCORE_MAX = 100.0
RINGS = (25, 50, 75, 100)
LABEL_CHAR_WIDTH = 9.0
"""About how wide a character of the 16px bold company label is, in viewBox units."""


def _n(value: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros, no ``-0``."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _clamp(score: float | None) -> float:
    if score is None or not math.isfinite(score):
        return 0.0
    return max(0.0, min(SCORE_MAX, score))


def wrap(text: str, width: int) -> list[str]:
    """Words into lines of at most ``width`` characters (a longer word keeps its line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _text_lines(x: float, y: float, lines: Sequence[str], *, line_height: float, css: str, anchor: str = "middle") -> str:
    """Centred lines around ``y``: SVG has no wrapping of its own."""
    first = y - (len(lines) - 1) * line_height / 2
    spans = "".join(
        f'<tspan x="{_n(x)}" y="{_n(first + i * line_height)}">{escape(line)}</tspan>' for i, line in enumerate(lines)
    )
    return f'<text class="{css}" text-anchor="{anchor}" dominant-baseline="middle">{spans}</text>'


def _open(width: float, height: float, id_prefix: str, title: str, description: str, css: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'role="img" aria-labelledby="{id_prefix}-title {id_prefix}-desc" focusable="false">'
        f'<title id="{id_prefix}-title">{escape(title)}</title>'
        f'<desc id="{id_prefix}-desc">{escape(description)}</desc>'
    )


# --- Radar -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    label: str
    """Short: the chart shows it at the end of the spoke (the page uses the row number of
    the table beside the chart, which stays legible on a phone)."""
    score: float | None


def radar_point(index: int, count: int, score: float | None, centre: float, radius: float) -> tuple[float, float]:
    """Where ``score`` lies on spoke ``index`` of ``count``: the first spoke points up, the
    others follow clockwise."""
    angle = -math.pi / 2 + 2 * math.pi * index / count
    r = radius * _clamp(score) / SCORE_MAX
    return centre + r * math.cos(angle), centre + r * math.sin(angle)


def radar_chart(axes: Sequence[Axis], *, title: str, description: str, id_prefix: str = "radar", size: int = 360) -> Markup:
    """A spider chart of scores from 0 to 100, one spoke per axis, rings at 25, 50, 75 and
    100. A score of None (not scored) sits at the centre, with its label marked as such."""
    count = len(axes)
    if count < 3:
        raise ValueError("a radar chart needs at least three axes")
    centre = size / 2
    # Room outside the outer ring for two-digit labels on every side.
    radius = size / 2 - 42
    parts = [_open(size, size, id_prefix, title, description, "radar")]
    parts.append('<g class="grid" aria-hidden="true">')
    for ring in RINGS:
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in (radar_point(i, count, ring, centre, radius) for i in range(count)))
        parts.append(f'<polygon points="{points}" class="ring"/>')
    for i in range(count):
        x, y = radar_point(i, count, SCORE_MAX, centre, radius)
        parts.append(f'<line x1="{_n(centre)}" y1="{_n(centre)}" x2="{_n(x)}" y2="{_n(y)}" class="spoke"/>')
    for ring in RINGS:
        parts.append(
            f'<text x="{_n(centre + 3)}" y="{_n(centre - radius * ring / SCORE_MAX)}" class="tick" dominant-baseline="middle">{ring}</text>'
        )
    parts.append("</g>")
    shape = " ".join(f"{_n(x)},{_n(y)}" for x, y in (radar_point(i, count, a.score, centre, radius) for i, a in enumerate(axes)))
    parts.append(f'<polygon points="{shape}" class="area"/>')
    for i, a in enumerate(axes):
        x, y = radar_point(i, count, a.score, centre, radius)
        css = "dot" if a.score is not None else "dot unscored"
        parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="4" class="{css}"/>')
    for i, a in enumerate(axes):
        x, y = radar_point(i, count, SCORE_MAX, centre, radius + 18)
        anchor = "middle" if abs(x - centre) < 1 else ("start" if x > centre else "end")
        label = a.label if a.score is not None else f"{a.label}*"
        parts.append(_text_lines(x, y, [label], line_height=14, css="axis-label", anchor=anchor))
    parts.append("</svg>")
    return Markup("".join(parts))


# --- Twin-transition matrix ------------------------------------------------------------------


def matrix_position(score: float | None, origin: float, length: float, *, upwards: bool = False) -> float:
    """Where a score from 0 to 100 lies along an axis ``length`` long from ``origin``."""
    offset = length * _clamp(score) / SCORE_MAX
    return origin - offset if upwards else origin + offset


def twin_matrix(
    *,
    x: float | None,
    y: float | None,
    x_cuts: Sequence[float],
    y_cuts: Sequence[float],
    cells: Sequence[Sequence[str]],
    x_label: str,
    y_label: str,
    point_label: str,
    title: str,
    description: str,
    id_prefix: str = "matrix",
    current: tuple[int, int] | None = None,
) -> Markup:
    """The archetype grid, ``x`` across and ``y`` up, cut where the questionnaire says;
    ``cells[row][column]`` are the profiles' titles, rows from low ``y`` to high. The company
    is a dot (none when a score is missing); ``current`` (row, column) shades its cell."""
    width, height = 420.0, 380.0
    left, top, right, bottom = 46.0, 14.0, 12.0, 44.0
    plot_w, plot_h = width - left - right, height - top - bottom
    x0, y0 = left, top + plot_h  # the (0, 0) corner
    xs = [0.0, *sorted(x_cuts), SCORE_MAX]
    ys = [0.0, *sorted(y_cuts), SCORE_MAX]
    parts = [_open(width, height, id_prefix, title, description, "matrix")]
    parts.append('<g class="cells">')
    for row in range(len(ys) - 1):
        for col in range(len(xs) - 1):
            cx1, cx2 = matrix_position(xs[col], x0, plot_w), matrix_position(xs[col + 1], x0, plot_w)
            cy1, cy2 = matrix_position(ys[row + 1], y0, plot_h, upwards=True), matrix_position(ys[row], y0, plot_h, upwards=True)
            css = "cell current" if current == (row, col) else "cell"
            parts.append(f'<rect x="{_n(cx1)}" y="{_n(cy1)}" width="{_n(cx2 - cx1)}" height="{_n(cy2 - cy1)}" class="{css}"/>')
            label = cells[row][col] if row < len(cells) and col < len(cells[row]) else ""
            # About 9 units per character at the page's 16px label size.
            chars = max(8, int((cx2 - cx1) / 9.5))
            parts.append(_text_lines((cx1 + cx2) / 2, (cy1 + cy2) / 2, wrap(label, chars), line_height=18, css="cell-label"))
    parts.append("</g>")
    parts.append('<g class="axes" aria-hidden="true">')
    parts.append(f'<line x1="{_n(x0)}" y1="{_n(y0)}" x2="{_n(x0 + plot_w)}" y2="{_n(y0)}" class="axis"/>')
    parts.append(f'<line x1="{_n(x0)}" y1="{_n(y0)}" x2="{_n(x0)}" y2="{_n(top)}" class="axis"/>')
    for tick in (0, 50, 100):
        tx = matrix_position(tick, x0, plot_w)
        ty = matrix_position(tick, y0, plot_h, upwards=True)
        parts.append(f'<text x="{_n(tx)}" y="{_n(y0 + 14)}" class="tick" text-anchor="middle" dominant-baseline="middle">{tick}</text>')
        parts.append(f'<text x="{_n(x0 - 6)}" y="{_n(ty)}" class="tick" text-anchor="end" dominant-baseline="middle">{tick}</text>')
    parts.append(
        f'<text x="{_n(x0 + plot_w / 2)}" y="{_n(height - 8)}" class="axis-label" text-anchor="middle">{escape(x_label)} →</text>'
    )
    parts.append(
        f'<text transform="translate(14 {_n(top + plot_h / 2)}) rotate(-90)" class="axis-label" text-anchor="middle" '
        f'dominant-baseline="middle">{escape(y_label)} →</text>'
    )
    parts.append("</g>")
    if x is not None and y is not None:
        px, py = matrix_position(x, x0, plot_w), matrix_position(y, y0, plot_h, upwards=True)
        parts.append(f'<circle cx="{_n(px)}" cy="{_n(py)}" r="8" class="company"/>')
        # Centred over the dot (under it near the top), but moved sideways as far as it takes
        # to stay inside the picture: labels run long in some languages.
        half = min(len(point_label) * LABEL_CHAR_WIDTH / 2, (width - 8) / 2)
        lx = min(max(px, half + 4), width - 4 - half)
        ly = py + 26 if py < top + 30 else py - 14
        parts.append(f'<text x="{_n(lx)}" y="{_n(ly)}" class="company-label" text-anchor="middle">{escape(point_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def grid_cell(score: float | None, cuts: Sequence[float]) -> int:
    """The band a score falls in; a score equal to a cut goes to the higher band, as the
    engine places archetypes."""
    value = _clamp(score)
    return sum(1 for cut in sorted(cuts) if value >= cut)
