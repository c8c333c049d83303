"""The four clusters of the RE-CENTRE Eurocluster: one list for every part of the program."""

from __future__ import annotations

from typing import NamedTuple


class Cluster(NamedTuple):
    id: str
    name: str
    country: str
    """ISO 3166 code."""
    language: str
    """The cluster's working language, besides English."""


CLUSTERS: dict[str, Cluster] = {
    c.id: c
    for c in (
        Cluster("green_synergy", "Green Synergy Cluster", "BG", "bg"),
        Cluster("did", "dID – Distretto Interni e Design", "IT", "it"),
        Cluster("cenfim", "CENFIM – Furnishings Cluster", "ES", "es"),
        Cluster("cluj_it", "Cluj IT Cluster", "RO", "ro"),
    )
}

SECTORS = ("furniture", "it", "energy")
SIZES = ("micro", "small", "medium", "large")
