"""The report's look: fonts, colours and the two charts (dimension radar, twin-transition
matrix), built from ReportLab's graphics so that they stay vector graphics in the PDF.

Nothing here knows about questionnaires or profiles: callers pass numbers and texts that
are already translated, which keeps the charts easy to test and to reuse on the web.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from reportlab.graphics.charts.spider import SpiderChart
from reportlab.graphics.shapes import Circle, Drawing, Group, Line, PolyLine, Rect, String, mmult, rotate, translate
from reportlab.lib import colors
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable

# --- Fonts ----------------------------------------------------------------------------------

FONT = "Roboto"
FONT_BOLD = "Roboto-Bold"
FONT_ITALIC = "Roboto-Italic"
FONT_LICENCE = "Apache License 2.0"
"""Roboto (Google), packaged on PyPI as ``font-roboto``; it covers Latin with the
Romanian, Italian and Spanish diacritics, and Cyrillic."""

_fonts_lock = threading.Lock()
_fonts_registered = False


def font_files() -> dict[str, Path]:
    import font_roboto

    files = Path(font_roboto.__file__).resolve().parent / "files"
    return {
        FONT: files / "Roboto-Regular.ttf",
        FONT_BOLD: files / "Roboto-Bold.ttf",
        FONT_ITALIC: files / "Roboto-Italic.ttf",
    }


def register_fonts() -> None:
    """Register the embedded fonts with ReportLab, once per process.

    Parsing a TrueType file costs tens of milliseconds; ReportLab keeps one registry per
    process, and each document subsets the fonts it uses, so doing it once is enough.
    """
    global _fonts_registered
    if _fonts_registered:
        return
    with _fonts_lock:
        if _fonts_registered:
            return
        for name, path in font_files().items():
            pdfmetrics.registerFont(TTFont(name, str(path)))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD)
        _fonts_registered = True


# --- Colours --------------------------------------------------------------------------------

INK = colors.HexColor("#1B2433")
MUTED = colors.HexColor("#5B6473")
RULE = colors.HexColor("#D3D9E1")
PANEL = colors.HexColor("#F2F4F7")
WHITE = colors.white

DIGITAL = colors.HexColor("#1F5FA8")
GREEN = colors.HexColor("#2E7D32")
RESILIENCE = colors.HexColor("#B86E00")
PILLAR_COLOURS = {"digital": DIGITAL, "green": GREEN, "resilience": RESILIENCE}

COMPANY = colors.HexColor("#14325C")
PEERS = colors.HexColor("#7A8290")
UP = GREEN
DOWN = colors.HexColor("#B3261E")


def tint(colour: colors.Color, amount: float) -> colors.Color:
    """``colour`` mixed with white; ``amount`` 0 is white, 1 the colour itself."""
    return colors.Color(
        1 - (1 - colour.red) * amount,
        1 - (1 - colour.green) * amount,
        1 - (1 - colour.blue) * amount,
    )


def pillar_colour(pillar: str) -> colors.Color:
    return PILLAR_COLOURS.get(pillar, INK)


def make_drawing(width: float, height: float) -> Drawing:
    """A Drawing whose text state starts in the embedded font (ReportLab's default,
    Helvetica, would otherwise be referenced by the PDF without being embedded)."""
    d = Drawing(width, height)
    d.initialFontName = FONT
    return d


# --- Text in drawings -----------------------------------------------------------------------


def fit_lines(text: str, width: float, height: float, size: float, font: str = FONT, min_size: float = 5.5) -> tuple[list[str], float]:
    """``text`` wrapped to ``width``, at the largest size up to ``size`` whose lines fit
    ``height``; below ``min_size`` the lines are kept and may run over, never cut."""
    while True:
        lines = simpleSplit(text, font, size, width)
        if len(lines) * size * 1.2 <= height or size <= min_size:
            return lines, size
        size = max(min_size, size - 0.5)


def _text_block(group: Group, lines: list[str], x: float, y_top: float, size: float, anchor: str, colour: colors.Color, font: str = FONT) -> None:
    leading = size * 1.2
    for i, line in enumerate(lines):
        group.add(String(x, y_top - size - i * leading, line, fontName=font, fontSize=size, fillColor=colour, textAnchor=anchor))


# --- Radar ----------------------------------------------------------------------------------

RINGS = (25, 50, 75, 100)


def _clamped(values: Sequence[float | None]) -> list[float]:
    """Scores held to 0-100, with unscored ones (None) at 0."""
    return [min(100.0, max(0.0, v or 0.0)) for v in values]


def radar(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    label_colours: Sequence[colors.Color] | None = None,
    peer: Sequence[float | None] | None = None,
    width: float = 460,
    height: float = 330,
    radius: float = 112,
) -> Drawing:
    """A spider chart of 0-100 scores, one spoke per label, with rings at 25/50/75/100.

    ``peer`` draws a second, dashed outline (the sector average). Unscored values (None)
    are drawn at 0. SpiderChart scales to the largest value it is given, so the outer ring
    (always 100) fixes the scale and two reports can be compared by eye.
    """
    register_fonts()
    n = len(labels)
    if n < 3:
        raise ValueError("a radar needs at least three dimensions")
    drawing = make_drawing(width, height)
    chart = SpiderChart()
    chart.x = width / 2 - radius
    chart.y = height / 2 - radius
    chart.width = chart.height = 2 * radius
    data = [[float(r)] * n for r in reversed(RINGS)]
    data.append(_clamped(values))
    if peer is not None:
        data.append(_clamped(peer))
    chart.data = data
    chart.labels = list(labels)
    chart.strands.strokeWidth = 0.5
    chart.strands.strokeColor = RULE
    chart.strands.fillColor = None
    rings = len(RINGS)
    company = chart.strands[rings]
    company.strokeColor = COMPANY
    company.strokeWidth = 1.8
    company.fillColor = colors.Color(COMPANY.red, COMPANY.green, COMPANY.blue, alpha=0.16)
    company.symbol = "FilledCircle"
    company.symbolSize = 4
    if peer is not None:
        p = chart.strands[rings + 1]
        p.strokeColor = PEERS
        p.strokeWidth = 1.4
        p.strokeDashArray = (4, 2.5)
        p.fillColor = None
    for i in range(rings):
        chart.strands[i].symbol = None
    chart.spokes.strokeColor = RULE
    chart.spokes.strokeWidth = 0.5
    chart.spokes.labelRadius = 1.07
    chart.spokeLabels.fontName = FONT
    chart.spokeLabels.fontSize = 7.5
    chart.spokeLabels.leading = 9
    chart.spokeLabels.maxWidth = 92
    chart.spokeLabels.boxAnchor = "autox"
    chart.spokeLabels.fillColor = INK
    for i, colour in enumerate(label_colours or []):
        chart.spokeLabels[i].fillColor = colour
    drawing.add(chart)
    cx, cy = width / 2, height / 2
    for ring in RINGS[:-1]:  # the outer ring is plainly 100, and its label would meet the first spoke's
        drawing.add(String(cx + 2.5, cy + radius * ring / 100 + 1.5, str(ring), fontName=FONT, fontSize=6, fillColor=MUTED))
    return drawing


# --- Twin-transition matrix -----------------------------------------------------------------


def _on_axis(origin: float, length: float, value: float) -> float:
    """Where ``value`` (0-100, held to that range) falls on an axis of ``length`` from ``origin``."""
    return origin + length * min(100.0, max(0.0, value)) / 100


def twin_matrix(
    *,
    x_cuts: Sequence[float],
    y_cuts: Sequence[float],
    cell_titles: Sequence[Sequence[str]],
    x_label: str,
    y_label: str,
    x_colour: colors.Color = DIGITAL,
    y_colour: colors.Color = GREEN,
    point: tuple[float, float] | None = None,
    previous: tuple[float, float] | None = None,
    highlight: tuple[int, int] | None = None,
    size: float = 230,
    width: float = 300,
) -> Drawing:
    """The archetype grid: ``x`` pillar across, ``y`` pillar up, cells cut at ``x_cuts`` and
    ``y_cuts``; ``cell_titles[row][col]`` with rows from low ``y`` to high ``y``.

    ``point`` places the company, ``previous`` its earlier position (joined by a line), and
    ``highlight`` (row, col) marks the company's cell.
    """
    register_fonts()
    left, bottom = 38.0, 32.0
    drawing = make_drawing(width, size + bottom + 8)
    sx = partial(_on_axis, left, size)
    sy = partial(_on_axis, bottom, size)
    xs = [0.0, *x_cuts, 100.0]
    ys = [0.0, *y_cuts, 100.0]
    cols, rows = len(xs) - 1, len(ys) - 1
    for r in range(rows):
        for c in range(cols):
            x0, x1, y0, y1 = sx(xs[c]), sx(xs[c + 1]), sy(ys[r]), sy(ys[r + 1])
            # Cells grow bluer to the right and greener upwards: the colours of the two pillars.
            fx = c / (cols - 1) if cols > 1 else 0.0
            fy = r / (rows - 1) if rows > 1 else 0.0
            chosen = highlight == (r, c)
            if fx or fy:
                mix = colors.Color(*((a * fx + b * fy) / (fx + fy) for a, b in zip(x_colour.rgb(), y_colour.rgb(), strict=True)))
                fill = tint(mix, (0.26 if chosen else 0.10) + 0.06 * max(fx, fy))
            else:
                fill = tint(MUTED, 0.22) if chosen else PANEL
            drawing.add(Rect(x0, y0, x1 - x0, y1 - y0, fillColor=fill, strokeColor=WHITE, strokeWidth=1.5))
            title = cell_titles[r][c] if r < len(cell_titles) and c < len(cell_titles[r]) else ""
            lines, fs = fit_lines(title, x1 - x0 - 10, (y1 - y0) * 0.6, 8.5, FONT_BOLD if chosen else FONT)
            block = Group()
            top = (y0 + y1) / 2 + len(lines) * fs * 1.2 / 2
            _text_block(block, lines, (x0 + x1) / 2, top, fs, "middle", INK if chosen else MUTED, FONT_BOLD if chosen else FONT)
            drawing.add(block)
    drawing.add(Rect(sx(0), sy(0), size, size, fillColor=None, strokeColor=RULE, strokeWidth=0.8))
    for v in [0.0, *x_cuts, 100.0]:
        drawing.add(String(sx(v), bottom - 13, f"{v:g}", fontName=FONT, fontSize=6.5, fillColor=MUTED, textAnchor="middle"))
    for v in [0.0, *y_cuts, 100.0]:
        drawing.add(String(left - 8, sy(v) - 2.2, f"{v:g}", fontName=FONT, fontSize=6.5, fillColor=MUTED, textAnchor="end"))
    for v in x_cuts:
        drawing.add(Line(sx(v), sy(0), sx(v), sy(100), strokeColor=MUTED, strokeWidth=0.8, strokeDashArray=(3, 2)))
    for v in y_cuts:
        drawing.add(Line(sx(0), sy(v), sx(100), sy(v), strokeColor=MUTED, strokeWidth=0.8, strokeDashArray=(3, 2)))
    drawing.add(String(sx(50), bottom - 25, x_label, fontName=FONT_BOLD, fontSize=8, fillColor=x_colour, textAnchor="middle"))
    drawing.add(Group(
        String(0, 0, y_label, fontName=FONT_BOLD, fontSize=8, fillColor=y_colour, textAnchor="middle"),
        transform=mmult(translate(left - 25, sy(50)), rotate(90)),
    ))
    if previous is not None:
        px, py = sx(previous[0]), sy(previous[1])
        if point is not None:
            drawing.add(PolyLine([px, py, sx(point[0]), sy(point[1])], strokeColor=COMPANY, strokeWidth=1, strokeDashArray=(2, 2)))
        drawing.add(Circle(px, py, 4, fillColor=WHITE, strokeColor=COMPANY, strokeWidth=1.2))
    if point is not None:
        drawing.add(Circle(sx(point[0]), sy(point[1]), 5.5, fillColor=COMPANY, strokeColor=WHITE, strokeWidth=1.5))
    return drawing


def legend_marker(kind: str, size: float = 10) -> Drawing:
    """A small key for the charts' legends: ``company``, ``previous``, ``peers``."""
    d = make_drawing(size * 2.2, size)
    mid = size / 2
    if kind == "company":
        d.add(Line(0, mid, size * 2.2, mid, strokeColor=COMPANY, strokeWidth=1.8))
        d.add(Circle(size * 1.1, mid, 2.6, fillColor=COMPANY, strokeColor=COMPANY))
    elif kind == "peers":
        d.add(Line(0, mid, size * 2.2, mid, strokeColor=PEERS, strokeWidth=1.4, strokeDashArray=(4, 2.5)))
    elif kind == "previous":
        d.add(Circle(size * 1.1, mid, 3.5, fillColor=WHITE, strokeColor=COMPANY, strokeWidth=1.2))
    elif kind == "point":
        d.add(Circle(size * 1.1, mid, 4.5, fillColor=COMPANY, strokeColor=WHITE, strokeWidth=1.2))
    else:
        raise ValueError(f"unknown legend marker {kind!r}")
    return d


class ScoreBar(Flowable):  # type: ignore[misc]  # reportlab has no type hints: Flowable is Any
    """A 0-100 bar, with an optional tick (the sector average) across it.

    Two rectangles need no Drawing: a report has dozens of bars, and going through the
    graphics renderer for each cost more than the rest of their tables."""

    def __init__(self, score: float | None, colour: colors.Color, width: float = 120, height: float = 7, marker: float | None = None):
        super().__init__()
        self.score, self.colour, self.marker = score, colour, marker
        self.width, self.height = width, height + 2
        self.bar_height = height

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        c.setFillColor(tint(self.colour, 0.15))
        c.rect(0, 1, self.width, self.bar_height, stroke=0, fill=1)
        if self.score:
            c.setFillColor(self.colour)
            c.rect(0, 1, self.width * min(100.0, max(0.0, self.score)) / 100, self.bar_height, stroke=0, fill=1)
        if self.marker is not None:
            x = self.width * min(100.0, max(0.0, self.marker)) / 100
            c.setStrokeColor(INK)
            c.setLineWidth(1.2)
            c.line(x, 0, x, self.height)


def score_bar(score: float | None, colour: colors.Color, width: float = 120, height: float = 7, marker: float | None = None) -> ScoreBar:
    """A 0-100 bar; ``marker`` adds a tick (the sector average) on it."""
    return ScoreBar(score, colour, width, height, marker)
