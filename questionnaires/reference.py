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

DMA_DIMENSIONS: dict[str, str] = {
    "strategy": "Digital Business Strategy",
    "readiness": "Digital Readiness",
    "human": "Human-Centric Digitalisation",
    "data": "Data Management",
    "automation": "Automation & AI",
    "green_digital": "Green Digitalisation",
}
"""The six dimensions of the EDIH Digital Maturity Assessment by their ids in the bundled
questionnaires, with their titles as EDIH exports name them (English, in every language)."""


def cluster_name(cluster_id: str) -> str:
    """The cluster's proper name; an unknown id as it is."""
    return CLUSTERS[cluster_id].name if cluster_id in CLUSTERS else cluster_id
