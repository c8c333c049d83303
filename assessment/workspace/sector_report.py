"""The sector report: the sector analysis of the workspace as a PDF a cluster can hand on
(how a sector and cluster stand in each dimension, where the common gaps are, and how many
SMEs each instrument and training topic is recommended to).

``render_sector_report(analysis, details)`` is a pure function of its inputs and needs
ReportLab and the packaged fonts only, not the web stack. It reuses the look of the SME
report (``scoring.render.report`` styles, ``scoring.render.charts`` fonts and colours) and its words:
labels from the gettext catalogs and numbers and dates written the locale's way
(``scoring.render.labels.Labels``), in ``details.language``, the reader's; the titles of dimensions,
levels and instruments come with the analysis, shaped in that language. Every text is
escaped before it reaches a Paragraph.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import msgspec
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table

from assessment.workspace.analysis import BUCKET, DEMAND_GROUPS, Analysis
from questionnaires.reference import cluster_name
from scoring.render import charts
from scoring.render.charts import FONT, FONT_BOLD, INK, MUTED, PANEL, RULE
from scoring.render.i18n import format_score
from scoring.render.labels import Labels
from scoring.render.report import AUTHOR, column, styles, text, tstyle

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
FRAME_PADDING = 6
"""The padding SimpleDocTemplate's frame keeps on each side, inside the margins."""
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN - 2 * FRAME_PADDING


class SectorReportDetails(msgspec.Struct, frozen=True, kw_only=True):
    created: date
    sector: str = ""
    """The sector the figures cover (``furniture``), shown by name; "" for every sector."""
    cluster: str = ""
    """The cluster the figures cover (``did``), shown by name; "" for every cluster."""
    shared_only: bool = False
    """The figures are of the assessments shared with advisors only (an advisor's view)."""
    language: str = "en"
    """The reader's language: the words and numbers of the report, and the language the
    analysis was shaped in."""


def capitalised(words: str) -> str:
    return words[:1].upper() + words[1:]


def scope_of(L: Labels, details: SectorReportDetails) -> str:
    """What the figures cover: "IT and software, dID – Distretto Interni e Design"."""
    _ = L.gettext
    sector = L.sector(details.sector) if details.sector else capitalised(_("all sectors"))
    cluster = cluster_name(details.cluster) if details.cluster else _("all clusters")
    return f"{sector}, {cluster}"


def _percent(L: Labels, n: int, total: int) -> str:
    return L.share(n / total) if total else "–"


def histogram_drawing(counts: Sequence[int], width: float = 160, height: float = 70, number: Callable[[int], str] = str) -> Drawing:
    """Bars per 10-point band, with the count above each (written by ``number``) and the
    band's start below."""
    d = charts.make_drawing(width, height)
    bottom, top = 10, 10
    slot = width / max(1, len(counts))
    peak = max(counts, default=0) or 1
    d.add(Line(0, bottom, width, bottom, strokeColor=MUTED, strokeWidth=0.5))
    for i, n in enumerate(counts):
        h = (height - bottom - top) * n / peak
        d.add(Rect(i * slot + 1, bottom, slot - 2, h, fillColor=charts.COMPANY, strokeColor=None))
        d.add(String(i * slot + slot / 2, bottom + h + 2, number(n), fontName=FONT, fontSize=5, fillColor=INK, textAnchor="middle"))
        d.add(String(i * slot + slot / 2, 2, str(i * BUCKET), fontName=FONT, fontSize=5, fillColor=MUTED, textAnchor="middle"))
    return d


def bar_drawing(value: float, maximum: float, width: float = 90, height: float = 8) -> Drawing:
    d = charts.make_drawing(width, height)
    d.add(Rect(0, 0, width, height, fillColor=PANEL, strokeColor=None))
    d.add(Rect(0, 0, width * (value / maximum if maximum else 0), height, fillColor=charts.COMPANY, strokeColor=None))
    return d


def _table(rows: list[list[Any]], widths: Sequence[float], numeric_from: int = 1, padding: float = 6) -> Table:
    """A table of figures; ``padding`` is the space left and right of each cell's text."""
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
                # Headings of one line and of two (in a longer language) share their baseline.
                ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("LEFTPADDING", (0, 0), (-1, -1), padding),
                ("RIGHTPADDING", (0, 0), (-1, -1), padding),
            ]
        ),
    )


def _cell(value: str) -> Paragraph:
    return text(value, styles()["cell"])


def _head(value: str, right: bool = True) -> Paragraph:
    return text(value, styles()["cell_head_right" if right else "cell_head"])


def counts_section(analysis: Analysis, L: Labels) -> list[Flowable]:
    _ = L.gettext
    s = styles()
    rows = [[_head(_("Sector"), False), _head(_("Cluster"), False), _head(_("Companies")), _head(_("Assessments"))]] + [
        [_cell(L.sector(sector)), _cell(cluster_name(cluster)), L.count(n), L.count(analysis.assessment_counts.get((sector, cluster), n))]
        for (sector, cluster), n in sorted(analysis.counts.items())
    ]
    return [text(_("SMEs by sector and cluster"), s["h2"]), _table(rows, [55 * mm, 65 * mm, 25 * mm, 25 * mm], numeric_from=2)]


def dimensions_section(analysis: Analysis, L: Labels) -> list[Flowable]:
    _ = L.gettext
    s = styles()
    levels = analysis.labels.levels
    figures = [_("SMEs"), _("Mean"), _("Lower quartile"), _("Median"), _("Upper quartile"), *(title for _level, title in levels)]
    head = [_head(_("Dimension"), False), *(_head(title) for title in figures)]

    def whole(value: int | None) -> str:
        return "–" if value is None else L.count(value)

    rows = [head] + [
        # The mean as the analysis page writes it, with one decimal.
        [_cell(d.title), L.count(d.scored), format_score(d.mean, L.lang), whole(d.quantile(0.25)), whole(d.quantile(0.5)), whole(d.quantile(0.75)),
         *(L.count(d.levels.get(level, 0)) for level, _title in levels)]
        for d in analysis.dimensions
    ]
    # Each column wide enough for the longest word of its heading, in any language, so
    # that none breaks in two (with 3 points of padding each side, and 2 to spare); the
    # dimension's title takes the rest.
    widths = [column(title, minimum=10 * mm, padding=8) for title in figures]
    out = [
        text(_("Scores by dimension"), s["h2"]),
        text(" ".join([
            _("Scores run from 0 to 100. The quartiles say under which score a quarter, half and three quarters of the SMEs lie (to the point)."),
            _("The last columns count the SMEs at each level."),
        ]), s["small"]),
        _table(rows, [CONTENT_WIDTH - sum(widths), *widths], padding=3),
    ]
    heading = text(_("Distribution of each dimension (SMEs per 10 points)"), s["h3"])
    # Each chart with its title in one cell, so that a page break never parts them.
    width = CONTENT_WIDTH / 3
    cells = [
        Table([[text(d.title, s["cell_bold"])], [histogram_drawing(d.buckets, width=width - 8, number=L.count)]], colWidths=[width], style=tstyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
        for d in analysis.dimensions
    ]
    # A table per row of three charts, so that a page breaks between rows; the heading
    # stays with the first row, never alone at the foot of a page.
    grid = [
        Table([cells[i : i + 3] + [""] * (3 - len(cells[i : i + 3]))], colWidths=[width] * 3, hAlign="LEFT", style=tstyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
        for i in range(0, len(cells), 3)
    ]
    if grid:
        out += [KeepTogether([heading, grid[0]]), *grid[1:]]
    return out


def gaps_section(analysis: Analysis, L: Labels) -> list[Flowable]:
    _ = L.gettext
    s = styles()
    levels = analysis.labels.levels
    lowest_id = analysis.labels.lowest_level
    at_lowest = _("At the level: %(level)s") % {"level": levels[0][1]} if levels else _("At the lowest level")
    gaps = analysis.gaps(limit=len(analysis.dimensions))
    rows = [[_head(_("Dimension"), False), _head(_("Among the three weakest")), "", _head(at_lowest)]] + [
        [_cell(g.title), f"{L.count(g.bottom_three)} ({_percent(L, g.bottom_three, analysis.smes)})", bar_drawing(g.bottom_three, analysis.smes),
         _percent(L, g.levels.get(lowest_id, 0), g.scored) if lowest_id else "–"]
        for g in gaps
    ]
    return [
        text(_("Most common gaps"), s["h2"]),
        text(_("How often each dimension is among an SME's three weakest (its gaps), and how many SMEs are at the lowest level in it."), s["small"]),
        _table(rows, [62 * mm, 36 * mm, 34 * mm, 30 * mm]),
    ]


def demand_section(analysis: Analysis, L: Labels) -> list[Flowable]:
    _ = L.gettext
    s = styles()
    out = [
        text(_("Demand for instruments and training"), s["h2"]),
        text(_("How many SMEs were recommended each instrument and training topic: the demand for innovation vouchers, internationalisation vouchers and training. An SME counts once per instrument, however many of its recommendations point there."), s["small"]),
    ]
    for group, heading in DEMAND_GROUPS.items():
        items = [d for d in analysis.demand if d.group == group]
        if not items:
            continue
        rows = [[_head(_(heading), False), _head(_("SMEs")), "", _head(_("Share"))]] + [
            [_cell(d.title), L.count(d.smes), bar_drawing(d.smes, analysis.smes), _percent(L, d.smes, analysis.smes)] for d in items
        ]
        out.append(KeepTogether([Spacer(1, 4), _table(rows, [84 * mm, 22 * mm, 34 * mm, 22 * mm])]))
    return out


def introduction(analysis: Analysis, details: SectorReportDetails, L: Labels) -> str:
    """How many companies and assessments, whose, which assessment of each company, and when."""
    _ = L.gettext
    whose = _("Submitted assessments whose companies agreed to share them with advisors.") if details.shared_only else _("Submitted assessments of every cluster.")
    return " ".join([
        _("%(companies)s (%(assessments)s).") % {
            "companies": L.ngettext("%(count)s company", "%(count)s companies", analysis.smes) % {"count": L.count(analysis.smes)},
            "assessments": L.ngettext("%(count)s assessment", "%(count)s assessments", analysis.assessments) % {"count": L.count(analysis.assessments)},
        },
        whose,
        _("Each company counts once, with its latest submitted assessment: a re-assessment (T1) takes the place of the one before it (T0)."),
        _("Figures as of %(date)s.") % {"date": L.date(details.created)},
    ])


def render_sector_report(analysis: Analysis, details: SectorReportDetails) -> bytes:
    """The sector report of ``analysis`` (shaped with the titles of ``details.language``) in
    that language."""
    charts.register_fonts()
    L = Labels(details.language)
    _ = L.gettext
    s = styles()
    scope = scope_of(L, details)
    story: list[Flowable] = [
        text(_("Sector analysis"), s["h1"]),
        text(scope, s["lead"]),
        text(introduction(analysis, details, L), s["small"]),
    ]
    if analysis.smes:
        story += counts_section(analysis, L) + dimensions_section(analysis, L) + gaps_section(analysis, L) + demand_section(analysis, L)
    else:
        story.append(text(_("No submitted assessment matches these filters yet."), s["body"]))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{_('Sector analysis')}: {scope}",
        author=AUTHOR,
        creator="recentre",
        lang=details.language,
        displayDocTitle=1,
        invariant=1,
    )
    doc.build(story)
    return out.getvalue()
