"""The words a rendered profile is shown in, in one language: gettext labels, Babel numbers,
dates and country names, and answers in words. It loads neither ReportLab nor the web stack, so
the web pages use it as the PDF reports do."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from questionnaires.compile import CompiledQuestionnaire
from questionnaires.kinds import describe_answer
from questionnaires.kinds.base import plain_words
from questionnaires.reference import CLUSTERS, DMA_BANDS, DMA_DIMENSIONS, INSTRUMENT_KINDS, SECTORS, SIZES
from scoring.profile import Dma

from .i18n import format_count, format_share, translations


def sector_name(sector_id: str, lang: str) -> str:
    """The sector's name in ``lang``; a sector the Eurocluster does not name, by its id with
    spaces (``agri_food`` → ``agri food``)."""
    if sector_id in SECTORS:
        return translations(lang).gettext(SECTORS[sector_id])
    return sector_id.replace("_", " ") or "–"


class Labels:
    """The report's words in one language: gettext for labels, Babel for numbers, dates and
    country names."""

    def __init__(self, lang: str):
        from babel import Locale
        from babel.numbers import parse_pattern

        self.lang = lang
        t = translations(lang)
        self.gettext = t.gettext
        self.ngettext = t.ngettext
        self.locale = Locale.parse(lang)
        # Parsed once: format_decimal parses its pattern and looks the locale up at every
        # call, which took a fifth of the time of the web results page.
        self._one_decimal = parse_pattern("0.#")

    def number(self, value: float | None) -> str:
        if value is None:
            return "–"
        text: str = self._one_decimal.apply(round(value, 1), self.locale)
        return text

    def count(self, n: int) -> str:
        """A whole number with the locale's grouping: ``1,204``, ``1 204``, ``1.204``."""
        return format_count(n, self.lang)

    def share(self, share: float) -> str:
        """A share from 0 to 1 as a whole percentage: ``38%``, ``38 %``."""
        return format_share(share, self.lang)

    def change(self, value: float) -> str:
        if round(value, 1) == 0:
            return "±0"
        return ("+" if value > 0 else "−") + self.number(abs(value))

    def date(self, value: date) -> str:
        from babel.dates import format_date

        return format_date(value, "long", locale=self.lang)

    def datetime(self, value: datetime) -> str:
        from babel.dates import format_datetime

        return format_datetime(value, "medium", tzinfo=value.tzinfo, locale=self.lang)

    def country(self, code: str) -> str:
        return self.locale.territories.get(code.upper(), code) if code else "–"

    def cluster(self, cluster_id: str) -> str:
        """The cluster's name and its country: "Green Synergy Cluster (Bulgaria)"."""
        if cluster_id in CLUSTERS:
            cluster = CLUSTERS[cluster_id]
            return f"{cluster.name} ({self.country(cluster.country)})"
        return cluster_id or "–"

    def sector(self, sector_id: str) -> str:
        """The sector's name (``sector_name``)."""
        return sector_name(sector_id, self.lang)

    def size(self, size_id: str) -> str:
        """The company size's name: "Medium-sized"; an unknown id as it is."""
        return self.gettext(SIZES[size_id].name) if size_id in SIZES else size_id

    def size_people(self, size_id: str) -> str:
        """How many people a company of that size employs: "50 to 249 people"."""
        return self.gettext(SIZES[size_id].people) if size_id in SIZES else ""

    def instrument_kind(self, kind: str) -> str:
        """The kind of a support instrument: "Innovation voucher"; an unknown kind as it is."""
        return self.gettext(INSTRUMENT_KINDS[kind]) if kind in INSTRUMENT_KINDS else kind

    def dma_band(self, band_id: str | None) -> str:
        """The name of an official band of the EU DMA score: "Moderately advanced"."""
        names = {band.id: band.name for band in DMA_BANDS}
        return self.gettext(names[band_id]) if band_id in names else "–"

    def dma_dimension(self, key: str) -> str:
        """The EDIH name of a DMA dimension: "Digital Business Strategy"."""
        return self.gettext(DMA_DIMENSIONS[key]) if key in DMA_DIMENSIONS else key

    def dma(self, dma: Dma) -> dict[str, Any]:
        """The EU DMA reading of a profile in words: its score, band and six dimensions."""
        return {
            "score": self.number(dma.score),
            "band": self.dma_band(dma.band),
            "dimensions": [{"title": self.dma_dimension(key), "score": self.number(value)} for key, value in dma.dimensions.items()],
        }

    def answer(self, compiled: CompiledQuestionnaire, qid: str, value: Any) -> str:
        """An answer in words, on one line."""
        return "; ".join(self.answer_parts(compiled, qid, value))

    def answer_parts(self, compiled: CompiledQuestionnaire, qid: str, value: Any) -> list[str]:
        """An answer in words, one part per ticked option or matrix row: option and row
        texts from the questionnaire, the other words from the catalogs."""
        question = compiled.questions.get(qid)
        if question is None:
            return [plain_words(value, self)]
        return describe_answer(question, value, self)

    # The words answers are described in (questionnaires.kinds.base.Words).

    def not_answered(self) -> str:
        _ = self.gettext
        return _("Not answered")

    def not_applicable(self) -> str:
        _ = self.gettext
        return _("Don't know / not applicable")

    def yes_no(self, value: bool) -> str:
        _ = self.gettext
        return _("Yes") if value else _("No")

    def none_ticked(self) -> str:
        _ = self.gettext
        return _("None ticked")

    def quantity(self, value: float, unit: str) -> str:
        """A number with its unit: ``12.5 kWh``, and ``40%`` in English."""
        space = "" if unit.startswith("%") and self.lang == "en" else " "
        return f"{self.number(value)}{space}{unit}".rstrip()
