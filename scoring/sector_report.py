"""The sector report: the sector analysis of the workspace as a PDF a cluster can hand on
(how a sector and cluster stand in each dimension, where the common gaps are, and how many
SMEs each instrument and training topic is recommended to).

``render_sector_report(analysis, details)`` is a pure function of its inputs and needs
ReportLab and the packaged fonts only, not the web stack. It reuses the look of the SME
report (``scoring.report`` styles, ``scoring.charts`` fonts and colours); every text is
escaped before it reaches a Paragraph.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import msgspec
from reportlab.graphics.shapes import Line, Rect, String
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, SimpleDocTemplate, Spacer, Table

from assessment.analysis import BUCKET, DEMAND_GROUPS, Analysis

from . import charts
from .charts import FONT, FONT_BOLD, INK, MUTED, PANEL, RULE
from .report import column, styles, text, tstyle

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN


class SectorReportDetails(msgspec.Struct, frozen=True, kw_only=True):
    scope: str
    """What the figures cover, in words: "Furniture, dID – Distretto Interni e Design"."""
    viewer: str
    """Whose view it is: "all clusters" or "shared assessments of cluster X"."""
    created: date


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _percent(n: int, total: int) -> str:
    return f"{100 * n / total:.0f} %" if total else "–"


def histogram_drawing(counts: Sequence[int], width: float = 160, height: float = 70):
    """Bars per 10-point band, with the count above each and the band's start below."""
    d = charts.make_drawing(width, height)
    bottom, top = 10, 10
    slot = width / max(1, len(counts))
    peak = max(counts, default=0) or 1
    d.add(Line(0, bottom, width, bottom, strokeColor=MUTED, strokeWidth=0.5))
    for i, n in enumerate(counts):
        h = (height - bottom - top) * n / peak
        d.add(Rect(i * slot + 1, bottom, slot - 2, h, fillColor=charts.COMPANY, strokeColor=None))
        d.add(String(i * slot + slot / 2, bottom + h + 2, str(n), fontName=FONT, fontSize=5, fillColor=INK, textAnchor="middle"))
        d.add(String(i * slot + slot / 2, 2, str(i * BUCKET), fontName=FONT, fontSize=5, fillColor=MUTED, textAnchor="middle"))
    return d


def bar_drawing(value: float, maximum: float, width: float = 90, height: float = 8):
    d = charts.make_drawing(width, height)
    d.add(Rect(0, 0, width, height, fillColor=PANEL, strokeColor=None))
    d.add(Rect(0, 0, width * (value / maximum if maximum else 0), height, fillColor=charts.COMPANY, strokeColor=None))
    return d


def _table(rows: list[list], widths: Sequence[float], numeric_from: int = 1) -> Table:
    return Table(
        rows,
        colWidths=list(widths),
        repeatRows=1,
        hAlign="LEFT",
        style=tstyle(
            [
                ("FONT", (0, 0), (-1, 0), FONT_BOLD, 7.8),
                ("TEXTCOLOR", (0, 0), (-1, 0), MUTED),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        ),
    )


def _cell(value: str):
    return text(value, styles()["cell"])


def counts_section(analysis: Analysis) -> list:
    s = styles()
    rows = [["Sector", "Cluster", "SMEs"]] + [
        [_cell(sector), _cell(cluster), f"{n:,}"] for (sector, cluster), n in sorted(analysis.counts.items())
    ]
    return [text("SMEs by sector and cluster", s["h2"]), _table(rows, [60 * mm, 70 * mm, 25 * mm], numeric_from=2)]


def dimensions_section(analysis: Analysis) -> list:
    s = styles()
    levels = analysis.labels.levels
    head = ["Dimension", "SMEs", "Mean", "Q1", "Median", "Q3", *(text(title, s["cell_head_right"]) for _, title in levels)]
    rows = [head] + [
        [_cell(d.title), f"{d.scored:,}", _fmt(d.mean), _fmt(d.quantile(0.25), 0), _fmt(d.quantile(0.5), 0), _fmt(d.quantile(0.75), 0),
         *(f"{d.levels.get(level, 0):,}" for level, _ in levels)]
        for d in analysis.dimensions
    ]
    # Wide enough for the longest word of any level's title, so that none breaks in two.
    level_w = column(*(title for _, title in levels), minimum=12 * mm, padding=14)
    name_w = CONTENT_WIDTH - 5 * 12 * mm - level_w * len(levels)
    out = [
        text("Scores by dimension", s["h2"]),
        text("Scores run from 0 to 100; Q1, median and Q3 say under which score a quarter, half and three quarters of the SMEs lie (to the point). The last columns count the SMEs at each level.", s["small"]),
        _table(rows, [name_w, 12 * mm, 12 * mm, 12 * mm, 12 * mm, 12 * mm, *([level_w] * len(levels))]),
        text("Distribution of each dimension (SMEs per 10 points)", s["h3"]),
    ]
    # Each chart with its title in one cell, so that a page break never parts them.
    width = CONTENT_WIDTH / 3
    cells = [
        Table([[text(d.title, s["cell_bold"])], [histogram_drawing(d.buckets, width=width - 8)]], colWidths=[width], style=tstyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
        for d in analysis.dimensions
    ]
    grid = [cells[i : i + 3] + [""] * (3 - len(cells[i : i + 3])) for i in range(0, len(cells), 3)]
    if grid:
        out.append(Table(grid, colWidths=[width] * 3, hAlign="LEFT", style=tstyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM")])))
    return out


def gaps_section(analysis: Analysis) -> list:
    s = styles()
    lowest = analysis.labels.levels[0][1] if analysis.labels.levels else "lowest"
    lowest_id = analysis.labels.lowest_level
    gaps = analysis.gaps(limit=len(analysis.dimensions))
    rows = [["Dimension", "Among the three weakest", "", f"At the {lowest} level"]] + [
        [_cell(g.title), f"{g.bottom_three:,} ({_percent(g.bottom_three, analysis.smes)})", bar_drawing(g.bottom_three, analysis.smes),
         _percent(g.levels.get(lowest_id, 0), g.scored) if lowest_id else "–"]
        for g in gaps
    ]
    return [
        text("Most common gaps", s["h2"]),
        text("How often each dimension is among an SME's three weakest, and the share of SMEs at the lowest level in it.", s["small"]),
        _table(rows, [62 * mm, 36 * mm, 34 * mm, 30 * mm]),
    ]


def demand_section(analysis: Analysis) -> list:
    s = styles()
    out = [
        text("Demand for instruments and training", s["h2"]),
        text("How many SMEs each instrument and training topic was recommended to; an SME counts once per instrument.", s["small"]),
    ]
    for group, heading in DEMAND_GROUPS.items():
        items = [d for d in analysis.demand if d.group == group]
        if not items:
            continue
        rows = [[heading, "SMEs", "", "Share"]] + [
            [_cell(d.title), f"{d.smes:,}", bar_drawing(d.smes, analysis.smes), _percent(d.smes, analysis.smes)] for d in items
        ]
        out.append(KeepTogether([Spacer(1, 4), _table(rows, [84 * mm, 22 * mm, 34 * mm, 22 * mm])]))
    return out


def render_sector_report(analysis: Analysis, details: SectorReportDetails) -> bytes:
    charts.register_fonts()
    s = styles()
    story: list = [
        text("Sector analysis", s["h1"]),
        text(details.scope, s["lead"]),
        text(f"{analysis.smes:,} SMEs with a submitted assessment, each with its latest result; {details.viewer}. {details.created.isoformat()}.", s["small"]),
    ]
    if analysis.smes:
        story += counts_section(analysis) + dimensions_section(analysis) + gaps_section(analysis) + demand_section(analysis)
    else:
        story.append(text("No submitted assessment matches.", s["body"]))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"Sector analysis: {details.scope}",
        author="RE-CENTRE self-assessment",
        invariant=1,
    )
    doc.build(story)
    return out.getvalue()
