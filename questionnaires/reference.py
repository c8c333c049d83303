"""The reference data of the RE-CENTRE Eurocluster, one list each for every layer: clusters,
sectors, company sizes, instrument kinds, languages and the EDIH's DMA dimensions.

Ids stay ids. Names that are labels are English gettext messages marked with ``N_`` here and
translated where they are shown (``scoring.render.labels.Labels``); proper names, the
clusters' and the languages' own, are never translated.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, get_args

from .messages import N_


class Cluster(NamedTuple):
    id: str
    name: str
    """A proper name, never translated."""
    country: str
    """ISO 3166 code."""
    language: str
    """The cluster's working language, besides English."""


CLUSTERS: dict[str, Cluster] = {
    c.id: c
    for c in (
        Cluster("green_synergy", "Green Synergy Cluster", "BG", "bg"),
        Cluster("did", "dID – Distretto Interni e Design", "IT", "it"),
        Cluster("cenfim", "CENFIM", "ES", "es"),
        Cluster("cluj_it", "Cluj IT Cluster", "RO", "ro"),
    )
}

# TRANSLATORS: the RE-CENTRE sectors, as the start page, the workspace and the report name them.
SECTORS: dict[str, str] = {"furniture": N_("Furniture and interiors"), "it": N_("IT and software"), "energy": N_("Energy")}
"""The Eurocluster's sectors, in its order, with their names. Questionnaires may name other
sectors; those are shown by their id."""

CompanySize = Literal["micro", "small", "medium", "large"]
"""The EU's size classes of enterprises, by headcount."""


class Size(NamedTuple):
    name: str
    people: str
    """How many people such a company employs, in words."""


SIZES: dict[str, Size] = {
    "micro": Size(N_("Micro"), N_("fewer than 10 people")),
    "small": Size(N_("Small"), N_("10 to 49 people")),
    "medium": Size(N_("Medium-sized"), N_("50 to 249 people")),
    "large": Size(N_("Large"), N_("250 people or more")),
}
"""The names of the sizes of ``CompanySize``, smallest first."""

InstrumentKind = Literal["innovation_voucher", "internationalisation_voucher", "training"]

INSTRUMENT_KINDS: dict[str, str] = {
    "innovation_voucher": N_("Innovation voucher"),
    "internationalisation_voucher": N_("Internationalisation voucher (B2B missions to Mexico and Chile)"),
    "training": N_("Training"),
}
"""The names of the kinds of ``InstrumentKind``, as a recommendation's instrument is labelled."""

LanguageCode = Literal["en", "bg", "it", "es", "ro"]
LANGUAGES: tuple[LanguageCode, ...] = get_args(LanguageCode)
"""The languages of the questionnaires and of the application, English (the source) first."""
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "bg": "Български", "it": "Italiano", "es": "Español", "ro": "Română"}
"""Each language in its own words: a person looks for their language, not for our name of it."""

# TRANSLATORS: the six dimensions of the EU's Digital Maturity Assessment (DMA) of the European Digital Innovation Hubs, as the EDIH name them.
DMA_DIMENSIONS: dict[str, str] = {
    "digital_business_strategy": N_("Digital Business Strategy"),
    "digital_readiness": N_("Digital Readiness"),
    "human_centric_digitalisation": N_("Human-Centric Digitalisation"),
    "data_management": N_("Data Management and Connectedness"),
    "automation_ai": N_("Automation and Artificial Intelligence"),
    "green_digitalisation": N_("Green Digitalisation"),
}
"""The six dimensions of the EDIH Digital Maturity Assessment (SME questionnaire, module 2),
by the keys of a questionnaire's ``dma`` mapping and of the profile's ``dma.dimensions``,
with their names as the EDIH name them (in English in the exports, translated on pages)."""


class DmaBand(NamedTuple):
    id: str
    up_to: float
    """The highest score of the band: the official bands are whole-number ranges, so a
    score above 25 and up to 50 (25.1, 50) is Average."""
    name: str


# TRANSLATORS: the official bands of the EU Digital Maturity Assessment score.
DMA_BANDS: tuple[DmaBand, ...] = (
    DmaBand("basic", 25, N_("Basic")),
    DmaBand("average", 50, N_("Average")),
    DmaBand("moderately_advanced", 75, N_("Moderately advanced")),
    DmaBand("advanced", 100, N_("Advanced")),
)
"""The official interpretation bands of the DMA score, Basic 0-25, Average 26-50, Moderately
advanced 51-75 and Advanced 76-100, lowest first."""


def dma_band(score: float | None) -> str | None:
    """The id of the DMA band ``score`` (0-100) falls in; None without a score."""
    if score is None:
        return None
    return next((band.id for band in DMA_BANDS if score <= band.up_to), DMA_BANDS[-1].id)


def cluster_name(cluster_id: str) -> str:
    """The cluster's proper name; an unknown id as it is."""
    return CLUSTERS[cluster_id].name if cluster_id in CLUSTERS else cluster_id
