"""The PDF report an SME takes away: its profile, what drove each score, and ranked
recommendations it can act on, with the vouchers and training that fund them.

``render_report(compiled, profile, details)`` is a pure function of its inputs and returns
the PDF's bytes; the same inputs give the same bytes (the creation date is the assessment
date). It needs ReportLab and the packaged Roboto font, not the web stack, so the CLI, the
web app and batch jobs all use it; ``render_report_async`` runs it off the event loop.

Every text that comes from a questionnaire, a company or an advisor is escaped before it
reaches a ReportLab Paragraph, whose mini-language would otherwise read ``<b>`` or ``&`` as
markup. The report's own labels come from the gettext catalogs of ``scoring.render.i18n``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeAlias
from xml.sax.saxutils import escape

import msgspec
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from questionnaires.compile import CompiledQuestionnaire
from questionnaires.primitives import Text
from questionnaires.reference import CLUSTERS, LANGUAGES
from questionnaires.schema import ArchetypeMatrix, Level
from scoring.profile import Archetype as PlacedArchetype
from scoring.profile import Profile

from . import charts
from .charts import FONT, FONT_BOLD, INK, MUTED, PANEL, RULE, WHITE
from .labels import Labels

MIN_PEERS = 5
"""The fewest other assessments a sector average may be built from before it is shown: an
average of two or three companies would let each of them guess the others' answers."""

AUTHOR = "RE-CENTRE self-assessment"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 20 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 20 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

StyleCommand: TypeAlias = tuple[str, tuple[int, int], tuple[int, int], *tuple[Any, ...]]
"""One command of a ReportLab TableStyle: its name, the first and the last cell it applies
to, then its values, as in ``("LINEBELOW", (0, 0), (-1, 0), 0.9, MUTED)``."""

Rows: TypeAlias = Sequence[Sequence[object]]
"""A table's cells, row by row: text, a Flowable, or a list of Flowables."""


# --- Inputs ---------------------------------------------------------------------------------


class Note(msgspec.Struct, frozen=True, kw_only=True):
    """An advisor's note on the assessment."""

    author: str
    time: datetime
    text: str


class ActionItem(msgspec.Struct, frozen=True, kw_only=True):
    """One step of the action plan agreed with an advisor."""

    action: str
    owner: str | None = None
    due: date | None = None
    status: str | None = None
    recommendation: str | None = None
    """The id of the recommendation it carries out, if any."""


class ReportDetails(msgspec.Struct, frozen=True, kw_only=True):
    """What the report shows beyond the profile.

    ``sector``, ``cluster`` and ``country`` are the ids of the company profile (``furniture``,
    ``did``, ``IT``); known ones are shown by name in ``language``, others as given.
    ``peer_average`` is the sector's mean score per dimension over the *other* companies
    (each once, with its latest submitted assessment), and ``peer_count`` how many; it is
    drawn only from ``MIN_PEERS`` up.
    """

    company_name: str
    sector: str
    cluster: str
    country: str
    assessment_date: date
    language: str = "en"
    previous: Profile | None = None
    previous_date: date | None = None
    peer_average: dict[str, float] | None = None
    peer_count: int = 0
    advisor_notes: list[Note] = msgspec.field(default_factory=list)
    action_plan: list[ActionItem] = msgspec.field(default_factory=list)


def shown_peer_average(details: ReportDetails) -> dict[str, float] | None:
    """The sector average the report may show: none below ``MIN_PEERS`` other assessments."""
    if details.peer_average and details.peer_count >= MIN_PEERS:
        return details.peer_average
    return None


# --- Styles ---------------------------------------------------------------------------------

_styles: dict[str, ParagraphStyle] | None = None


def styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles, built once: they depend on nothing but the registered fonts."""
    global _styles
    if _styles is None:
        charts.register_fonts()
        base = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13.2, textColor=INK, spaceAfter=4)
        s = {
            "body": base,
            "small": ParagraphStyle("small", base, fontSize=8, leading=10.6, textColor=MUTED, spaceAfter=2),
            "cell": ParagraphStyle("cell", base, fontSize=8.3, leading=10.6, spaceAfter=0),
            "cell_indent": ParagraphStyle("cell_indent", base, fontSize=8.3, leading=10.6, spaceAfter=0, leftIndent=9),
            "cell_muted": ParagraphStyle("cell_muted", base, fontSize=8.3, leading=10.6, spaceAfter=0, textColor=MUTED),
            "cell_bold": ParagraphStyle("cell_bold", base, fontName=FONT_BOLD, fontSize=8.3, leading=10.6, spaceAfter=0),
            "cell_right": ParagraphStyle("cell_right", base, fontSize=8.3, leading=10.6, spaceAfter=0, alignment=TA_RIGHT),
            "cell_head": ParagraphStyle("cell_head", base, fontName=FONT_BOLD, fontSize=7.8, leading=10, spaceAfter=0, textColor=MUTED),
            "cell_head_right": ParagraphStyle("cell_head_right", base, fontName=FONT_BOLD, fontSize=7.8, leading=10, spaceAfter=0, textColor=MUTED, alignment=TA_RIGHT),
            "h1": ParagraphStyle("h1", base, fontName=FONT_BOLD, fontSize=19, leading=24, spaceAfter=10, textColor=INK),
            "h2": ParagraphStyle("h2", base, fontName=FONT_BOLD, fontSize=12.5, leading=16, spaceBefore=10, spaceAfter=5),
            "h3": ParagraphStyle("h3", base, fontName=FONT_BOLD, fontSize=10, leading=13, spaceBefore=6, spaceAfter=2),
            "h3_flush": ParagraphStyle("h3_flush", base, fontName=FONT_BOLD, fontSize=10, leading=13, spaceAfter=2),
            "label": ParagraphStyle("label", base, fontName=FONT_BOLD, fontSize=7.8, leading=10, textColor=MUTED, spaceAfter=1),
            "lead": ParagraphStyle("lead", base, fontSize=10.5, leading=14.5, textColor=INK, spaceAfter=8),
            "big": ParagraphStyle("big", base, fontName=FONT_BOLD, fontSize=30, leading=34, textColor=charts.COMPANY, spaceAfter=0),
            "big_level": ParagraphStyle("big_level", base, fontName=FONT_BOLD, fontSize=13, leading=16, textColor=INK, spaceAfter=2),
            "cover_title": ParagraphStyle("cover_title", base, fontName=FONT_BOLD, fontSize=26, leading=31, textColor=WHITE, spaceAfter=6),
            "cover_sub": ParagraphStyle("cover_sub", base, fontSize=12, leading=16, textColor=colors.HexColor("#DCE6F2")),
            "cover_company": ParagraphStyle("cover_company", base, fontName=FONT_BOLD, fontSize=22, leading=27, textColor=INK, spaceAfter=14),
            "center_small": ParagraphStyle("center_small", base, fontSize=8, leading=10.6, textColor=MUTED, alignment=TA_CENTER),
            "rec_title": ParagraphStyle("rec_title", base, fontName=FONT_BOLD, fontSize=11, leading=14, spaceAfter=0),
            "badge": ParagraphStyle("badge", base, fontName=FONT_BOLD, fontSize=11, leading=14, textColor=WHITE, alignment=TA_CENTER, spaceAfter=0),
            "left": ParagraphStyle("left", base, alignment=TA_LEFT),
        }
        _styles = s
    return _styles


_variants: dict[tuple[str, str], ParagraphStyle] = {}


def variant(name: str, colour: colors.Color) -> ParagraphStyle:
    """Style ``name`` in another text colour (a pillar's), made once."""
    key = (name, colour.hexval())
    style = _variants.get(key)
    if style is None:
        style = _variants[key] = ParagraphStyle(f"{name}_{colour.hexval()}", styles()[name], textColor=colour)
    return style


_parsed: dict[tuple[str, int], tuple[ParagraphStyle, list[Any]]] = {}
_PARSED_MAX = 4096


def _frags(value: str, style: ParagraphStyle) -> list[Any]:
    """The parsed fragments of paragraph markup, from a cache.

    Parsing markup is a third of building a report, and most of a report's texts (labels,
    question texts, level descriptions) recur in every report of a questionnaire. Each
    paragraph gets copies, since ReportLab may annotate fragments while it lays them out.
    The key holds the style itself (styles are long-lived: ``styles()`` and ``variant``), so
    an id is never reused for another style while its entries exist."""
    key = (value, id(style))
    hit = _parsed.get(key)
    if hit is None:
        frags = Paragraph(value, style).frags
        if len(_parsed) >= _PARSED_MAX:
            _parsed.clear()
        hit = _parsed[key] = (style, frags)
    return [f.clone() for f in hit[1]]


def column(*labels: str, minimum: float = 0.0, font: str = FONT_BOLD, size: float = 7.8, padding: float = 10.5) -> float:
    """A column width that fits the longest word of ``labels`` (headers in any language), so
    that a table never breaks a word in two; at least ``minimum``."""
    words = [w for label in labels for w in label.split()]
    widths: list[float] = [stringWidth(w, font, size) + padding for w in words]
    return max([minimum] + widths)


def tstyle(commands: Sequence[StyleCommand]) -> TableStyle:
    """A table style whose cells default to the embedded font, not to Helvetica: even an
    empty cell sets its font, and a Helvetica reference would be an unembedded font."""
    return TableStyle([("FONT", (0, 0), (-1, -1), FONT, 8.3), ("TEXTCOLOR", (0, 0), (-1, -1), INK), *commands])


SPLIT_IN_ROW = 36
"""The least height (points, about three lines) of either part of a table row broken across
pages: shorter rows move to the next page whole."""


def flowing_table(rows: Rows, widths: Sequence[float], style: Sequence[StyleCommand]) -> Table:
    """A table that can break anywhere, even inside a row, so that no length of text can
    make it overflow a page.

    The header is not repeated on the following page: ReportLab first splits between rows
    and then tries the rest in the same frame, where a repeated header would appear a second
    time on the same page, above the row it splits."""
    return Table(rows, colWidths=list(widths), style=tstyle(style), repeatRows=0, splitInRow=SPLIT_IN_ROW, hAlign="LEFT")


class Para(Paragraph):  # type: ignore[misc]  # reportlab has no type hints: Paragraph is Any
    """A Paragraph that remembers its last line breaking.

    Tables wrap every cell to measure it, again when they split, and again when they draw;
    the lines depend on the width alone, so breaking them once per width (which is most of a
    report's rendering time) is enough."""

    _wrapped: tuple[float, tuple[float, float]] | None = None

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        # Paragraph.split drops blPara when it gives up; then the lines must be broken again.
        if self._wrapped is not None and self._wrapped[0] == availWidth and "blPara" in self.__dict__:
            self.width, self.height = self._wrapped[1]
            return self._wrapped[1]
        size: tuple[float, float] = super().wrap(availWidth, availHeight)
        self._wrapped = (availWidth, size)
        return size


def text(value: str | None, style: ParagraphStyle) -> Paragraph:
    """A Paragraph of plain text: markup-like characters come out literally, and line
    breaks in free text are kept."""
    value = escape(value or "").replace("\n", "<br/>")
    return Para(value, style, frags=_frags(value, style))


def markup(value: str, style: ParagraphStyle) -> Paragraph:
    """A Paragraph of markup the report wrote itself; every interpolated value must be
    escaped by the caller."""
    return Para(value, style, frags=_frags(value, style))


# --- Page furniture -------------------------------------------------------------------------


def _fit(textvalue: str, font: str, size: float, width: float) -> str:
    """``textvalue`` cut with an ellipsis to fit ``width`` on one line (page headers only)."""
    if stringWidth(textvalue, font, size) <= width:
        return textvalue
    while textvalue and stringWidth(textvalue + "…", font, size) > width:
        textvalue = textvalue[:-1]
    return textvalue.rstrip() + "…"


def _numbered_canvas(page_label: Callable[[int, int], str], created: date) -> type[Canvas]:
    """A canvas that holds its pages back until the end, so that each can say "Page N of M"
    in one pass instead of building the whole document twice.

    Its creation date is ``created`` (the assessment date): with ReportLab's invariant mode
    for the rest, the same inputs give the same bytes."""
    stamp = f"D:{created.year:04d}{created.month:02d}{created.day:02d}000000+00'00'"

    class NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type hints: Canvas is Any
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved_pages: list[dict[str, Any]] = []
            self.setDateFormatter(lambda *_args: stamp)

        def showPage(self) -> None:
            self._saved_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved_pages)
            for state in self._saved_pages:
                self.__dict__.update(state)
                number = self.getPageNumber()
                if number > 1:  # the cover carries no number
                    self.setFont(FONT, 7.5)
                    self.setFillColor(MUTED)
                    self.drawRightString(PAGE_WIDTH - MARGIN_X, MARGIN_BOTTOM - 11 * mm, page_label(number, total))
                super().showPage()
            super().save()

    return NumberedCanvas


class _Doc(BaseDocTemplate):  # type: ignore[misc]  # reportlab has no type hints: BaseDocTemplate is Any
    """Adds a PDF bookmark for every flowable that carries ``_bookmark`` (the headings)."""

    def afterFlowable(self, flowable: Flowable) -> None:
        title = getattr(flowable, "_bookmark", None)
        if title:
            key = f"h{id(flowable)}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(title, key, level=getattr(flowable, "_bookmark_level", 0))


def _heading(title: str, style: ParagraphStyle, level: int = 0) -> Paragraph:
    p = text(title, style)
    p._bookmark = title
    p._bookmark_level = level
    return p


# --- The report -----------------------------------------------------------------------------


class _Report:
    def __init__(self, compiled: CompiledQuestionnaire, profile: Profile, details: ReportDetails):
        if details.language not in LANGUAGES:
            raise ValueError(f"unknown report language {details.language!r}; one of {', '.join(LANGUAGES)}")
        if profile.language != details.language:
            raise ValueError(
                f"the profile's texts are in {profile.language!r} but the report is in {details.language!r}; "
                f"score the answers with lang={details.language!r}"
            )
        if profile.questionnaire.fingerprint != compiled.fingerprint:
            raise ValueError("the profile was scored with another version of the questionnaire")
        self.c = compiled
        self.p = profile
        self.d = details
        self.lang = details.language
        self.L = Labels(self.lang)
        self._ = self.L.gettext
        self.s = styles()
        self.peers = shown_peer_average(details)
        self.levels = {lv.id: lv for lv in compiled.levels}
        self.company_name = details.company_name.strip() or self._("Your company")

    # Helpers on questionnaire texts

    def t(self, value: Text | None) -> str:
        return value.get(self.lang) if value is not None else ""

    def level_title(self, level_id: str | None) -> str:
        lv = self.levels.get(level_id) if level_id else None
        return self.t(lv.title) if lv else self._("Not scored")

    def dimension_title(self, did: str) -> str:
        dim = self.c.dimensions.get(did)
        return self.t(dim.title) if dim else did

    def pillar_title(self, pid: str) -> str:
        pillar = self.c.pillars.get(pid)
        return self.t(pillar.title) if pillar else pid

    def score_text(self, value: float | None) -> str:
        return self.L.number(value) if value is not None else self._("Not scored")

    def table(self, rows: Rows, widths: Sequence[float], style: Sequence[StyleCommand], *, header: bool = True) -> Table:
        base: list[StyleCommand] = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 5),
            ("RIGHTPADDING", (0, 0), (-1, -1), 5),
            ("TOPPADDING", (0, 0), (-1, -1), 3.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
            ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
        ]
        if header:
            base += [("LINEBELOW", (0, 0), (-1, 0), 0.9, MUTED)]
        return flowing_table(rows, widths, [*base, *style])

        # Page templates

    def decorate_cover(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        _ = self._
        canvas.saveState()
        band = 92 * mm
        canvas.setFillColor(charts.COMPANY)
        canvas.rect(0, PAGE_HEIGHT - band, PAGE_WIDTH, band, stroke=0, fill=1)
        stripe = PAGE_WIDTH / 3
        for i, colour in enumerate((charts.DIGITAL, charts.GREEN, charts.RESILIENCE)):
            canvas.setFillColor(colour)
            canvas.rect(i * stripe, PAGE_HEIGHT - band - 3 * mm, stripe, 3 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.HexColor("#DCE6F2"))
        canvas.setFont(FONT_BOLD, 9)
        canvas.drawString(MARGIN_X, PAGE_HEIGHT - 16 * mm, _("RE-CENTRE Eurocluster").upper())
        canvas.setFillColor(MUTED)
        canvas.setFont(FONT, 7.5)
        clusters = " · ".join(self.L.cluster(c) for c in CLUSTERS)
        for i, line in enumerate(simpleSplit(clusters, FONT, 7.5, CONTENT_WIDTH)):
            canvas.drawString(MARGIN_X, 21 * mm - i * 10, line)
        canvas.restoreState()

    def decorate_body(self, canvas: Canvas, doc: BaseDocTemplate) -> None:
        _ = self._
        canvas.saveState()
        top = PAGE_HEIGHT - MARGIN_TOP + 7 * mm
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN_X, top - 2.5 * mm, PAGE_WIDTH - MARGIN_X, top - 2.5 * mm)
        canvas.setFont(FONT_BOLD, 7.5)
        canvas.setFillColor(charts.COMPANY)
        left = _("Twin-transition self-assessment")
        canvas.drawString(MARGIN_X, top, left)
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        room = CONTENT_WIDTH - stringWidth(left, FONT_BOLD, 7.5) - 12 * mm
        canvas.drawRightString(PAGE_WIDTH - MARGIN_X, top, _fit(self.company_name, FONT, 7.5, room))
        bottom = MARGIN_BOTTOM - 11 * mm
        canvas.line(MARGIN_X, bottom + 4 * mm, PAGE_WIDTH - MARGIN_X, bottom + 4 * mm)
        footer = f"RE-CENTRE · {self.c.id} {self.c.version} · {self.L.date(self.d.assessment_date)}"
        canvas.drawString(MARGIN_X, bottom, _fit(footer, FONT, 7.5, CONTENT_WIDTH - 40 * mm))
        canvas.restoreState()

    # Sections

    def cover(self) -> list[Flowable]:
        _ = self._
        s = self.s
        d = self.d
        out: list[Flowable] = [
            Spacer(1, 20 * mm),
            text(_("Twin-transition self-assessment"), s["cover_title"]),
            text(_("Digital, green and resilience profile with recommendations for your company"), s["cover_sub"]),
            Spacer(1, 46 * mm),
            text(self.company_name, s["cover_company"]),
        ]
        rows = [
            (_("Sector"), self.L.sector(d.sector)),
            (_("Cluster"), self.L.cluster(d.cluster)),
            (_("Country"), self.L.country(d.country)),
            (_("Assessment date"), self.L.date(d.assessment_date)),
        ]
        if d.previous is not None and d.previous_date is not None:
            rows.append((_("Previous assessment"), self.L.date(d.previous_date)))
        fingerprint = _("fingerprint")
        rows += [
            (_("Questionnaire"), f"{self.t(self.c.meta.title)} ({self.c.id})"),
            (_("Version"), f"{self.c.version} · {fingerprint} {self.c.fingerprint[:12]}"),
        ]
        table = self.table(
            [[text(k, s["cell_head"]), text(v, s["cell"])] for k, v in rows],
            [42 * mm, CONTENT_WIDTH - 42 * mm],
            [("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE), ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)],
            header=False,
        )
        out += [table, Spacer(1, 10 * mm)]
        out.append(text(_("Confidential: prepared for the company and its cluster advisors."), s["small"]))
        return out

    def summary(self) -> list[Flowable]:
        _ = self._
        s = self.s
        p = self.p
        out: list[Flowable] = [_heading(_("Summary"), s["h1"])]
        level = self.levels.get(p.overall.level) if p.overall.level else None
        score_cell = [
            text(_("RE-CENTRE twin-transition index"), s["label"]),
            markup(f"{escape(self.score_text(p.overall.score))}<font size='13' color='#5B6473'> / 100</font>", s["big"]),
            text(self.level_title(p.overall.level), s["big_level"]),
        ]
        if p.dma is not None:
            score_cell += [
                Spacer(1, 6),
                text(_("EU DMA score"), s["label"]),
                markup(f"<b>{escape(self.score_text(p.dma.score))}</b><font color='#5B6473'> / 100</font> · {escape(self.L.dma_band(p.dma.band))}", s["big_level"]),
            ]
        level_cell: list[Flowable] = []
        if level is not None and level.description:
            level_cell += [text(_("What this level means"), s["label"]), text(self.t(level.description), s["body"])]
        pillar_rows = []
        for pid, pillar in p.pillars.items():
            colour = charts.pillar_colour(pid)
            pillar_rows.append([
                text(self.pillar_title(pid), variant("cell_bold", colour)),
                charts.score_bar(pillar.score, colour, width=58 * mm),
                text(self.score_text(pillar.score), s["cell_right"]),
            ])
        if pillar_rows:
            level_cell.append(Spacer(1, 4))
            level_cell.append(Table(pillar_rows, colWidths=[34 * mm, 60 * mm, 14 * mm], hAlign="LEFT", splitInRow=SPLIT_IN_ROW,
                                    style=tstyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                                      ("RIGHTPADDING", (0, 0), (-1, -1), 2), ("TOPPADDING", (0, 0), (-1, -1), 2),
                                                      ("BOTTOMPADDING", (0, 0), (-1, -1), 2)])))
        top = Table([[score_cell, level_cell]], colWidths=[52 * mm, CONTENT_WIDTH - 52 * mm], hAlign="LEFT", splitInRow=SPLIT_IN_ROW,
                    style=tstyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BACKGROUND", (0, 0), (-1, -1), PANEL),
                                      ("LEFTPADDING", (0, 0), (-1, -1), 10), ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                                      ("TOPPADDING", (0, 0), (-1, -1), 9), ("BOTTOMPADDING", (0, 0), (-1, -1), 9),
                                      ("LINEBEFORE", (1, 0), (1, 0), 0.5, RULE)]))
        out.append(top)
        if p.archetype is not None and self.c.archetypes is not None:
            arch = {a.id: a for a in self.c.archetypes.archetypes}.get(p.archetype.id)
            if arch is not None:
                out.append(text(_("Twin-transition profile"), s["h2"]))
                out.append(text(self.t(arch.title), s["h3"]))
                if arch.description:
                    out.append(text(self.t(arch.description), s["body"]))
        top3 = p.recommendations[:3]
        out.append(text(_("Your three top priorities") if len(top3) == 3 else _("Your top priorities"), s["h2"]))
        if not top3:
            out.append(text(_("No recommendation applies to your answers: keep improving where your scores are lowest."), s["body"]))
        next_step = _("Next step")
        for i, rec in enumerate(top3, 1):
            body = [text(rec.title, s["rec_title"]), text(rec.rationale, s["cell"])]
            if rec.next_step:
                body.append(markup(f"<b>{escape(next_step)}:</b> {escape(rec.next_step)}", s["cell"]))
            out.append(self._numbered(i, body))
            out.append(Spacer(1, 4))
        dims = [("strengths", _("Strengths")), ("gaps", _("Gaps"))]
        cells = []
        for key, label in dims:
            ids = getattr(p, key)
            items = [text(label, s["label"])]
            for did in ids:
                score = p.dimensions[did].score if did in p.dimensions else None
                items.append(markup(f"{escape(self.dimension_title(did))} <font color='#5B6473'>{escape(self.score_text(score))}</font>", s["cell"]))
            if not ids:
                items.append(text("–", s["cell"]))
            cells.append(items)
        if any(getattr(p, k) for k, _l in dims):
            out.append(Spacer(1, 6))
            out.append(Table([cells], colWidths=[CONTENT_WIDTH / 2] * 2, hAlign="LEFT", splitInRow=SPLIT_IN_ROW,
                             style=tstyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                               ("LINEABOVE", (0, 0), (-1, 0), 0.5, RULE), ("TOPPADDING", (0, 0), (-1, -1), 6)])))
        return out

    def _numbered(self, number: int, body: list[Flowable], colour: colors.Color = charts.COMPANY) -> Table:
        badge = markup(str(number), self.s["badge"])
        return Table([[badge, body]], colWidths=[9 * mm, CONTENT_WIDTH - 9 * mm], hAlign="LEFT", splitInRow=SPLIT_IN_ROW,
                     style=tstyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BACKGROUND", (0, 0), (0, 0), colour),
                                       ("LEFTPADDING", (0, 0), (0, 0), 0), ("RIGHTPADDING", (0, 0), (0, 0), 0),
                                       ("TOPPADDING", (0, 0), (0, 0), 3), ("BOTTOMPADDING", (0, 0), (0, 0), 3),
                                       ("LEFTPADDING", (1, 0), (1, 0), 8), ("TOPPADDING", (1, 0), (1, 0), 1),
                                       ("BOTTOMPADDING", (1, 0), (1, 0), 2)]))

    def dma_section(self) -> list[Flowable]:
        """The EU DMA reading of the result, named apart from the RE-CENTRE index, each with
        what it measures; nothing for a questionnaire without DMA dimensions."""
        _ = self._
        s = self.s
        dma = self.p.dma
        if dma is None:
            return []
        out: list[Flowable] = [_heading(_("EU Digital Maturity Assessment (DMA)"), s["h1"])]
        out.append(text(_("The EU DMA score measures digital maturity as the European Digital Innovation Hubs (EDIH) do: the plain mean of the six DMA "
                          "dimensions, banded Basic (0–25), Average (26–50), Moderately advanced (51–75) or Advanced (76–100). It can be compared "
                          "with results of the EDIH."), s["body"]))
        out.append(text(_("The RE-CENTRE twin-transition index measures how far your company has come in the digital and the green transition "
                          "and in resilience: the weighted mean of these pillars."), s["body"]))
        out.append(Spacer(1, 4))
        out.append(markup(f"{escape(_('EU DMA score'))}: <b>{escape(self.score_text(dma.score))}</b> / 100 · <b>{escape(self.L.dma_band(dma.band))}</b>", s["h3"]))
        colour = charts.pillar_colour("digital")
        rows = [[text(_("DMA dimension"), s["cell_head"]), "", text(_("Score"), s["cell_head_right"])]]
        for key, value in dma.dimensions.items():
            rows.append([text(self.L.dma_dimension(key), s["cell"]), charts.score_bar(value, colour, width=60 * mm), text(self.score_text(value), s["cell_right"])])
        score_w = column(_("Score"), "100.0", minimum=16 * mm)
        out.append(self.table(rows, [CONTENT_WIDTH - 64 * mm - score_w, 64 * mm, score_w], [("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        return out

    def profile_page(self) -> list[Flowable]:
        _ = self._
        s = self.s
        p = self.p
        out: list[Flowable] = [_heading(_("Your profile by dimension"), s["h1"])]
        dim_ids = list(p.dimensions)
        # An outline with a gap would have to dip to 0 where the average is unknown, which
        # would misstate it: the outline is drawn only when every dimension has an average.
        outline = [self.peers[d] for d in dim_ids] if self.peers is not None and all(self.peers.get(d) is not None for d in dim_ids) else None
        if len(dim_ids) >= 3:
            labels = [self.dimension_title(d) for d in dim_ids]
            label_colours = [charts.pillar_colour(p.dimensions[d].pillar) for d in dim_ids]
            out.append(charts.radar(labels, [p.dimensions[d].score for d in dim_ids], label_colours=label_colours, peer=outline,
                                    width=CONTENT_WIDTH, height=92 * mm, radius=31 * mm))
        legend = [[charts.legend_marker("company"), text(self.company_name, s["cell"])]]
        if self.peers and outline is not None:
            count = self.d.peer_count
            label = self.L.ngettext("Sector average of %(count)d other company", "Sector average of %(count)d other companies", count) % {"count": count}
            legend.append([charts.legend_marker("peers"), text(label, s["cell"])])
        out.append(Table(legend, colWidths=[10 * mm, CONTENT_WIDTH - 10 * mm], hAlign="LEFT", splitInRow=SPLIT_IN_ROW,
                         style=tstyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                           ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)])))
        if not self.peers:
            out.append(text(_("The sector average appears once at least %(count)d other companies of your sector have completed the assessment.") % {"count": MIN_PEERS}, s["small"]))
        out.append(Spacer(1, 6))
        head = [text(_("Dimension"), s["cell_head"]), text(_("Pillar"), s["cell_head"]), text(_("Score"), s["cell_head_right"]),
                "", text(_("Level"), s["cell_head"])]
        level_words = [self.t(lv.title) for lv in self.c.levels]
        widths = [0.0, column(*(self.pillar_title(x) for x in p.pillars), _("Pillar"), font=FONT, size=8.3),
                  column(_("Score"), "100"), 28 * mm, column(*level_words, _("Level"), font=FONT, size=8.3, minimum=24 * mm)]
        if self.peers:
            # TRANSLATORS: column header: the mean score of the other companies of the same sector.
            head.append(text(_("Sector average"), s["cell_head_right"]))
            widths.append(column(_("Sector average"), minimum=16 * mm))
        widths[0] = CONTENT_WIDTH - sum(widths)
        rows = [head]
        for did in dim_ids:
            dim = p.dimensions[did]
            colour = charts.pillar_colour(dim.pillar)
            peer_value = self.peers.get(did) if self.peers else None
            row = [text(self.dimension_title(did), s["cell"]), text(self.pillar_title(dim.pillar), variant("cell", colour)),
                   self.L.number(dim.score), charts.score_bar(dim.score, colour, width=widths[3] - 10, marker=peer_value),
                   text(self.level_title(dim.level), s["cell"])]
            if self.peers:
                row.append(self.L.number(peer_value))
            rows.append(row)
        out.append(self.table(rows, widths, [("VALIGN", (3, 1), (3, -1), "MIDDLE"), ("ALIGN", (2, 1), (2, -1), "RIGHT"), ("ALIGN", (5, 1), (5, -1), "RIGHT")]))
        if self.peers:
            out.append(text(_("The black tick on each bar marks the sector average."), s["small"]))
        return out

    def matrix_section(self) -> list[Flowable]:
        """The twin-transition matrix with the company's place and profile beside it, then
        every profile and what it means."""
        _ = self._
        s = self.s
        m = self.c.archetypes
        placed = self.p.archetype
        if placed is None or m is None:
            return []
        titles = {a.id: self.t(a.title) for a in m.archetypes}
        previous = self.previous_placement(placed)
        layout = Table([[self.matrix_drawing(m, titles, placed, previous), self.matrix_side(m, titles, placed, previous)]],
                       colWidths=[94 * mm, CONTENT_WIDTH - 94 * mm], hAlign="LEFT", splitInRow=SPLIT_IN_ROW,
                       style=tstyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                         ("LEFTPADDING", (1, 0), (1, 0), 6), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        return [_heading(_("Twin-transition matrix"), s["h1"]),
                text(_("Where your company stands in the digital and green transition, and what each profile means."), s["lead"]),
                layout, Spacer(1, 10), text(_("The profiles"), s["h2"]),
                self.profiles_table(m, titles, placed)]

    def previous_placement(self, placed: PlacedArchetype) -> PlacedArchetype | None:
        """The previous assessment's place in the matrix, when it was placed by the same two
        pillars as this one."""
        prev = self.d.previous
        if prev is None or prev.archetype is None:
            return None
        if (prev.archetype.x_pillar, prev.archetype.y_pillar) != (placed.x_pillar, placed.y_pillar):
            return None
        return prev.archetype

    def matrix_drawing(self, m: ArchetypeMatrix, titles: dict[str, str], placed: PlacedArchetype, previous: PlacedArchetype | None) -> Flowable:
        """The grid of profiles with the company's point (and the previous one) on it."""
        highlight = None
        for r, row in enumerate(m.grid):
            for c, a in enumerate(row):
                if a == placed.id:
                    highlight = (r, c)
        return charts.twin_matrix(
            x_cuts=list(m.x_cuts), y_cuts=list(m.y_cuts), cell_titles=[[titles.get(a, a) for a in row] for row in m.grid],
            x_label=self.pillar_title(m.x), y_label=self.pillar_title(m.y),
            x_colour=charts.pillar_colour(m.x), y_colour=charts.pillar_colour(m.y),
            point=(placed.x or 0.0, placed.y or 0.0), previous=(previous.x or 0.0, previous.y or 0.0) if previous is not None else None,
            highlight=highlight, size=74 * mm, width=92 * mm,
        )

    def matrix_side(self, m: ArchetypeMatrix, titles: dict[str, str], placed: PlacedArchetype, previous: PlacedArchetype | None) -> list[Flowable]:
        """Beside the matrix: the company's profile, how it is placed, and the key to the points."""
        _ = self._
        s = self.s
        x_title, y_title = self.pillar_title(placed.x_pillar), self.pillar_title(placed.y_pillar)
        side: list[Flowable] = [
            text(titles.get(placed.id, placed.id), s["h3"]),
        ]
        arch = {a.id: a for a in m.archetypes}.get(placed.id)
        if arch is not None and arch.description:
            side.append(text(self.t(arch.description), s["body"]))
        # TRANSLATORS: %(x)s and %(y)s are pillar names, such as Digital and Green.
        side.append(text(_("Your company is placed by its %(x)s score (across) and its %(y)s score (up). The dashed lines are where one profile ends and the next begins.")
                         % {"x": x_title, "y": y_title}, s["small"]))
        key = [[charts.legend_marker("point"), text(f"{self.company_name}: {x_title} {self.L.number(placed.x)}, {y_title} {self.L.number(placed.y)}", s["cell"])]]
        if previous is not None:
            previous_label = _("Previous assessment")
            if self.d.previous_date:
                previous_label = f"{previous_label} ({self.L.date(self.d.previous_date)})"
            key.append([charts.legend_marker("previous"),
                        text(f"{previous_label}: {x_title} {self.L.number(previous.x)}, {y_title} {self.L.number(previous.y)}", s["cell"])])
        side.append(Spacer(1, 4))
        side.append(Table(key, colWidths=[10 * mm, CONTENT_WIDTH - 100 * mm], hAlign="LEFT", splitInRow=SPLIT_IN_ROW,
                          style=tstyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                            ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)])))
        return side

    def profiles_table(self, m: ArchetypeMatrix, titles: dict[str, str], placed: PlacedArchetype) -> Flowable:
        """Every profile of the grid once, highest ``y`` first as in the chart, the company's
        own shaded."""
        s = self.s
        described = {a.id: a for a in m.archetypes}
        yours = self._("your profile")
        rows: list[tuple[str, bool, list[Paragraph]]] = []
        for r in reversed(range(len(m.grid))):  # high y first, as in the chart
            for aid in m.grid[r]:
                if any(aid == row[0] for row in rows):
                    continue
                a = described.get(aid)
                chosen = aid == placed.id
                label = titles.get(aid, aid) + (f" · {yours}" if chosen else "")
                rows.append((aid, chosen, [text(label, s["cell_bold"] if chosen else s["cell"]),
                                           text(self.t(a.description) if a is not None else "", s["cell"])]))
        style = [("BACKGROUND", (0, i), (-1, i), PANEL) for i, (_aid, chosen, _r) in enumerate(rows) if chosen]
        return self.table([r for _aid, _c, r in rows], [48 * mm, CONTENT_WIDTH - 48 * mm], style, header=False)

    def dimensions(self) -> list[Flowable]:
        _ = self._
        s = self.s
        p = self.p
        out: list[Flowable] = [_heading(_("Dimension by dimension"), s["h1"]),
                               text(_("For each dimension: where you stand, the answers that made the score, and what the next level looks like."), s["lead"])]
        levels = list(self.c.levels)
        for did, dim in p.dimensions.items():
            meta = self.c.dimensions.get(did)
            colour = charts.pillar_colour(dim.pillar)
            title = self.dimension_title(did)
            header = Table(
                [[[text(self.pillar_title(dim.pillar).upper(), variant("label", colour)), text(title, s["h3_flush"])],
                  [markup(f"<b>{escape(self.score_text(dim.score))}</b> / 100", s["cell_right"]), text(self.level_title(dim.level), s["cell_right"])]]],
                colWidths=[CONTENT_WIDTH - 48 * mm, 48 * mm], hAlign="LEFT", splitInRow=SPLIT_IN_ROW,
                style=tstyle([("BACKGROUND", (0, 0), (-1, -1), PANEL), ("LINEBEFORE", (0, 0), (0, 0), 3, colour),
                                  ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 5),
                                  ("BOTTOMPADDING", (0, 0), (-1, -1), 5), ("LEFTPADDING", (0, 0), (-1, -1), 8), ("RIGHTPADDING", (0, 0), (-1, -1), 8)]),
            )
            header._bookmark, header._bookmark_level = title, 1
            block: list[Flowable] = [header, Spacer(1, 3), charts.score_bar(dim.score, colour, width=CONTENT_WIDTH, height=4), Spacer(1, 4)]
            if meta is not None and meta.description:
                block.append(text(self.t(meta.description), s["small"]))
            level = self.levels.get(dim.level) if dim.level else None
            if level is not None and level.description:
                block += [text(_("What this level means"), s["label"]), text(self.t(level.description), s["body"])]
            rest: list[Flowable] = []
            if dim.computed:
                rest.append(text(_("This score is calculated from other scores and answers by the questionnaire's formula."), s["small"]))
            elif dim.contributions:
                rows = [[text(_("Question"), s["cell_head"]), text(_("Your answer"), s["cell_head"]),
                         # TRANSLATORS: column headers: the question's own score (0-100) and the points it added to the dimension's score.
                         text(_("Score"), s["cell_head_right"]), text(_("Points added"), s["cell_head_right"])]]
                for contribution in dim.contributions:
                    question = self.c.questions.get(contribution.question)
                    qtext = self.t(question.text) if question else contribution.question
                    score = self.L.number(contribution.score)
                    parts = self.L.answer_parts(self.c, contribution.question, contribution.answer)
                    answer = "<br/>".join(f"• {escape(x)}" for x in parts) if len(parts) > 1 else escape(parts[0])
                    rows.append([text(qtext, s["cell"]), markup(answer, s["cell_muted"]),
                                 score, self.L.change(contribution.contribution) if contribution.score is not None else "–"])
                numeric = [column(_("Score"), "100", minimum=14 * mm), column(_("Points added"), "+100", minimum=16 * mm)]
                widths = [64 * mm, CONTENT_WIDTH - 64 * mm - sum(numeric), *numeric]
                # The header and first row are a table of their own, kept with the heading,
                # so that a page never ends on a header without rows; the other rows follow in
                # a second table that may break anywhere.
                numbers = [("ALIGN", (2, 0), (3, -1), "RIGHT")]
                rest += [text(_("What drove the score"), s["label"]), self.table(rows[:2], widths, numbers)]
                if len(rows) > 2:
                    rest.append(self.table(rows[2:], widths, numbers, header=False))
            elif dim.contributions is not None:
                rest.append(text(_("No answer counted towards this dimension."), s["small"]))
            nxt = self._next_level_text(level, levels)
            if nxt:
                rest += [Spacer(1, 4), KeepTogether([text(_("What the next level looks like"), s["label"]), text(nxt, s["body"])])]
            out.append(Spacer(1, 8))
            # The heading stays with the start of its content; a long answers table may then
            # run on to the next page rather than leave half a page empty.
            out.append(KeepTogether(block + rest[:2]))
            out += rest[2:]
        return out

    def _next_level_text(self, level: Level | None, levels: list[Level]) -> str | None:
        if level is None:
            return None
        if level.next_step:
            return self.t(level.next_step)
        index = levels.index(level)
        if index + 1 < len(levels):
            following = levels[index + 1]
            if following.description:
                return f"{self.t(following.title)}: {self.t(following.description)}"
        return None

    def recommendations(self) -> list[Flowable]:
        _ = self._
        s = self.s
        recs = self.p.recommendations
        out: list[Flowable] = [_heading(_("Recommendations"), s["h1"])]
        if not recs:
            out.append(text(_("No recommendation applies to your answers: keep improving where your scores are lowest."), s["body"]))
            return out
        out.append(text(_("Ranked by priority: start at the top. Each one names the RE-CENTRE support that can fund or teach it."), s["lead"]))
        labels = [_("Why"), _("Support you can apply for"), _("Training topics"), _("Eligibility"), _("Next step"), _("Cross-sector opportunity")]
        label_w = 9 * mm + 8 + column(*labels, padding=6, minimum=22 * mm)
        described: dict[str, int] = {}
        for i, rec in enumerate(recs, 1):
            rows: list[list[object]] = []

            def add(label: str, content: list[Flowable] | Flowable, rows: list[list[object]] = rows) -> None:
                rows.append([text(label, s["cell_head"]), content])

            # TRANSLATORS: row labels of a recommendation: why it is recommended, then the support, eligibility, next step.
            add(_("Why"), text(rec.rationale, s["cell"]))
            support: list[Flowable] = []
            for iid in rec.instruments:
                inst = self.c.instruments.get(iid)
                if inst is None:
                    continue
                support.append(markup(f"<font color='#5B6473'>{escape(self.L.instrument_kind(inst.kind))}</font><br/><b>{escape(self.t(inst.title))}</b>", s["cell"]))
                # Several recommendations often share an instrument: describe it once.
                if iid in described:
                    support.append(text(_("Described under recommendation %(number)d.") % {"number": described[iid]}, s["cell_muted"]))
                else:
                    described[iid] = i
                    support.append(text(self.t(inst.description), s["cell"]))
                    if inst.url:
                        support.append(text(inst.url, s["cell_muted"]))
                support.append(Spacer(1, 3))
            if support:
                add(_("Support you can apply for"), support)
            topics: list[Flowable] = []
            for tid in rec.training:
                topic = self.c.training_topics.get(tid)
                if topic is None:
                    continue
                line = f"<b>{escape(self.t(topic.title))}</b>"
                if topic.description:
                    line += f": {escape(self.t(topic.description))}"
                topics.append(markup(line, s["cell"]))
            if topics:
                add(_("Training topics"), topics)
            if rec.eligibility_note:
                add(_("Eligibility"), text(rec.eligibility_note, s["cell"]))
            if rec.next_step:
                add(_("Next step"), text(rec.next_step, s["cell_bold"]))
            if rec.cross_sector:
                add(_("Cross-sector opportunity"), text(rec.cross_sector, s["cell"]))
            title_row = [self._numbered(i, [text(rec.title, s["rec_title"])], colour=charts.COMPANY if i <= 3 else MUTED), ""]
            widths = [label_w, CONTENT_WIDTH - label_w]
            body = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, -1), 9 * mm + 8),
                    ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5)]
            # The title and the first row form a table of their own, kept together, so that a
            # page never ends on a recommendation's title; the other rows may break anywhere.
            first = flowing_table([title_row, rows[0]], widths, body + [
                ("SPAN", (0, 0), (1, 0)), ("LEFTPADDING", (0, 0), (0, 0), 0), ("RIGHTPADDING", (0, 0), (0, 0), 0),
                ("TOPPADDING", (0, 0), (-1, 0), 0), ("BOTTOMPADDING", (0, 0), (-1, 0), 6)])
            out += [Spacer(1, 8), KeepTogether([first])]
            if len(rows) > 1:
                out.append(flowing_table(rows[1:], widths, body))
            out.append(Spacer(1, 2))
        return out

    def progress(self) -> list[Flowable]:
        prev = self.d.previous
        if prev is None:
            return []
        _ = self._
        s = self.s
        p = self.p
        out: list[Flowable] = [_heading(_("Progress since the previous assessment"), s["h1"])]
        when = self.L.date(self.d.previous_date) if self.d.previous_date else None
        intro = (_("Scores of %(before)s compared with %(now)s") % {"before": when, "now": self.L.date(self.d.assessment_date)}) if when \
            else _("Scores of the previous assessment compared with this one.")
        out.append(text(intro, s["lead"]))
        if prev.questionnaire.id != p.questionnaire.id or prev.questionnaire.version != p.questionnaire.version:
            out.append(text(_("The previous assessment used questionnaire %(id)s, version %(version)s; a dash marks what only one of the two assessments measured.")
                            % {"id": prev.questionnaire.id, "version": prev.questionnaire.version}, s["small"]))
# TRANSLATORS: column headers of the progress table: scores at the previous assessment, now, and the difference.
        head = [text(_("Score"), s["cell_head"]), text(_("Before"), s["cell_head_right"]), text(_("Now"), s["cell_head_right"]),
                text(_("Change"), s["cell_head_right"]), text(_("Level now"), s["cell_head"])]
        rows = [head]
        bold_rows = []
        tones: list[StyleCommand] = []

        def row(label: str, before: float | None, now: float | None, level: str | None, style: ParagraphStyle, colour: colors.Color | None = None) -> None:
            change = (now - before) if (before is not None and now is not None) else None
            tone = MUTED if change is None or round(change, 1) == 0 else (charts.UP if change > 0 else charts.DOWN)
            tones.append(("TEXTCOLOR", (3, len(rows)), (3, len(rows)), tone))
            rows.append([
                text(label, variant(style.name, colour) if colour else style),
                self.L.number(before),
                self.L.number(now),
                self.L.change(change) if change is not None else "–",
                text(self.level_title(level) if level else "", s["cell"]),
            ])

        row(_("Overall"), prev.overall.score, p.overall.score, p.overall.level, s["cell_bold"])
        bold_rows.append(len(rows) - 1)
        for pid, pillar in p.pillars.items():
            before = prev.pillars[pid].score if pid in prev.pillars else None
            row(self.pillar_title(pid), before, pillar.score, None, s["cell_bold"], charts.pillar_colour(pid))
            bold_rows.append(len(rows) - 1)
            for did in pillar.dimensions:
                dim = p.dimensions[did]
                before = prev.dimensions[did].score if did in prev.dimensions else None
                row(self.dimension_title(did), before, dim.score, dim.level, s["cell_indent"])
        style: list[StyleCommand] = [("BACKGROUND", (0, r), (-1, r), PANEL) for r in bold_rows]
        style += [("ALIGN", (1, 1), (3, -1), "RIGHT"), ("FONT", (3, 1), (3, -1), FONT_BOLD, 8.3), *tones]
        numeric = [column(label, "100", minimum=15 * mm) for label in (_("Before"), _("Now"), _("Change"))]
        widths = [0.0, *numeric, column(*(self.t(lv.title) for lv in self.c.levels), _("Level now"), font=FONT, size=8.3, minimum=40 * mm)]
        widths[0] = CONTENT_WIDTH - sum(widths)
        out.append(self.table(rows, widths, style))
        if prev.archetype is not None and p.archetype is not None:
            titles = {a.id: self.t(a.title) for a in self.c.archetypes.archetypes} if self.c.archetypes else {}
            out.append(Spacer(1, 8))
            out.append(text(_("Twin-transition profile"), s["h3"]))
            before_label, now_label = _("Before"), _("Now")
            out.append(markup(f"<font color='#5B6473'>{escape(before_label)}:</font> {escape(titles.get(prev.archetype.id, prev.archetype.id))}<br/>"
                              f"<font color='#5B6473'>{escape(now_label)}:</font> <b>{escape(titles.get(p.archetype.id, p.archetype.id))}</b>", s["body"]))
        return out

    def advisor(self) -> list[Flowable]:
        _ = self._
        s = self.s
        d = self.d
        out: list[Flowable] = []
        if d.advisor_notes:
            out.append(_heading(_("Advisor notes"), s["h1"]))
            for note in d.advisor_notes:
                out.append(KeepTogether([text(f"{note.author} · {self.L.datetime(note.time)}", s["label"])]))
                out.append(text(note.text, s["body"]))
                out.append(Spacer(1, 4))
        if d.action_plan:
            titles = {r.id: r.title for r in self.p.recommendations}
            out.append(_heading(_("Action plan"), s["h1"] if not d.advisor_notes else s["h2"]))
            # TRANSLATORS: column headers of the action plan: what to do, who does it, by when, and how far it is.
            rows = [[text(_("Action"), s["cell_head"]), text(_("Owner"), s["cell_head"]), text(_("Due"), s["cell_head"]), text(_("Status"), s["cell_head"])]]
            for item in d.action_plan:
                action = [text(item.action, s["cell"])]
                if item.recommendation:
                    action.append(text(titles.get(item.recommendation, item.recommendation), s["cell_muted"]))
                rows.append([action, text(item.owner or "–", s["cell"]), text(self.L.date(item.due) if item.due else "–", s["cell"]), text(item.status or "–", s["cell"])])
            widths = [0.0, 38 * mm, column(_("Due"), minimum=30 * mm), column(_("Status"), minimum=26 * mm)]
            widths[0] = CONTENT_WIDTH - sum(widths)
            out.append(self.table(rows, widths, []))
        return out

    def about(self) -> list[Flowable]:
        _ = self._
        s = self.s
        out: list[Flowable] = [CondPageBreak(70 * mm), _heading(_("About this report"), s["h2"])]
        out.append(text(_("Each dimension scores from 0 to 100 from your answers. The dimensions combine into the digital, green and resilience pillars, "
                          "and the pillars into the RE-CENTRE twin-transition index. The same levels apply to every dimension, pillar and the index."), s["body"]))
        if self.c.dma:
            out.append(text(_("The EU DMA score is the plain mean of six dimensions of this questionnaire, which follow the EU Digital Maturity "
                              "Assessment of the European Digital Innovation Hubs (EDIH): %(dimensions)s.")
                            % {"dimensions": ", ".join(f"{self.L.dma_dimension(key)} ({self.dimension_title(did)})" for key, did in self.c.dma.items())},
                            s["body"]))
            out.append(text(_("Where public readings of the DMA differ, this report follows one of them (the open-source DMA tool "
                              "hassanzouhar/dmsa), which agrees with the other wherever the two agree. Digital business strategy is half the "
                              "table of investments (each business area where you have already invested counts 1 point and each where you plan "
                              "to invest 0.5, out of 15) and half the ways of being prepared (each one ticked, out of 10): having invested in all "
                              "ten areas and ticked nothing else gives 33.3. In data management, each of the seven data practices counts 1 point "
                              "and “Data is not collected digitally” −1, out of 6, kept between 0 and 100."), s["body"]))
        # TRANSLATORS: column headers: a maturity level, the lowest score that reaches it, and what it means.
        rows = [[text(_("Level"), s["cell_head"]), text(_("From score"), s["cell_head_right"]), text(_("What it means"), s["cell_head"])]]
        for lv in self.c.levels:
            rows.append([text(self.t(lv.title), s["cell_bold"]), self.L.number(lv.from_), text(self.t(lv.description), s["cell"])])
        from_w = column(_("From score"), "100", minimum=18 * mm)
        out.append(self.table(rows, [40 * mm, from_w, CONTENT_WIDTH - 40 * mm - from_w], [("ALIGN", (1, 1), (1, -1), "RIGHT")]))
        out.append(Spacer(1, 6))
        out.append(text(_("Questionnaire %(id)s, version %(version)s, fingerprint %(fingerprint)s.")
                        % {"id": self.c.id, "version": self.c.version, "fingerprint": self.c.fingerprint[:12]}, s["small"]))
        return out

    # Assembly

    def flowables(self) -> list[Flowable]:
        story: list[Flowable] = [NextPageTemplate("cover")]
        story += self.cover()
        story += [NextPageTemplate("body"), PageBreak()]
        story += self.summary()
        story += [PageBreak()]
        story += self.profile_page()
        dma = self.dma_section()
        if dma:
            story += [PageBreak()] + dma
        matrix = self.matrix_section()
        if matrix:
            story += [PageBreak()] + matrix
        story += [PageBreak()]
        story += self.dimensions()
        story += [PageBreak()]
        story += self.recommendations()
        if self.d.previous is not None:
            story += [PageBreak()]
            story += self.progress()
        if self.d.advisor_notes or self.d.action_plan:
            story += [PageBreak()]
            story += self.advisor()
        story += self.about()
        return story

    def render(self) -> bytes:
        _ = self._
        buffer = io.BytesIO()
        title = _("Twin-transition self-assessment")
        title = f"{title}: {self.company_name}"
        doc = _Doc(
            buffer,
            pagesize=A4,
            leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM,
            title=title,
            author=AUTHOR,
            subject=_("Digital, green and resilience profile with recommendations for your company"),
            creator="recentre",
            keywords=["RE-CENTRE", self.c.id, self.c.version],
            lang=self.lang,
            invariant=1,
            initialFontName=FONT,
            displayDocTitle=1,
        )
        frame = Frame(MARGIN_X, MARGIN_BOTTOM, CONTENT_WIDTH, PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM, id="body",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        cover_frame = Frame(MARGIN_X, 30 * mm, CONTENT_WIDTH, PAGE_HEIGHT - 30 * mm - 14 * mm, id="cover",
                            leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        doc.addPageTemplates([
            PageTemplate("cover", frames=[cover_frame], onPage=self.decorate_cover),
            PageTemplate("body", frames=[frame], onPage=self.decorate_body),
        ])
        page_label = lambda n, total: _("Page %(page)d of %(pages)d") % {"page": n, "pages": total}  # noqa: E731
        doc.build(self.flowables(), canvasmaker=_numbered_canvas(page_label, self.d.assessment_date))
        return buffer.getvalue()


def render_report(compiled: CompiledQuestionnaire, profile: Profile, details: ReportDetails) -> bytes:
    """The PDF report of ``profile`` (scored with ``explain=True`` for the answers behind each
    dimension) in ``details.language``; raises ValueError when the inputs do not belong
    together (another questionnaire version, or a profile scored in another language)."""
    return _Report(compiled, profile, details).render()


async def render_report_async(compiled: CompiledQuestionnaire, profile: Profile, details: ReportDetails) -> bytes:
    """``render_report`` in a worker thread, so that a web request does not block the event
    loop for the tens of milliseconds a report takes."""
    import anyio.to_thread

    return await anyio.to_thread.run_sync(render_report, compiled, profile, details)
