"""The reference data is written once (questionnaires/reference.py): every id the language
accepts has its name there, and the names are labels of the catalogs, shown in the reader's
language; the store's refusals are marked for the catalogs where they are defined."""

from __future__ import annotations

from typing import get_args

import pytest

from assessment.store import responses, saving
from assessment.store.models import STATUSES, Status
from assessment.workspace.analysis import DEMAND_GROUPS
from questionnaires.reference import (
    INSTRUMENT_KINDS,
    LANGUAGE_NAMES,
    LANGUAGES,
    SECTORS,
    SIZES,
    CompanySize,
    InstrumentKind,
    cluster_name,
)
from scoring.render.i18n import translations
from scoring.render.labels import Labels, sector_name
from web import reports


def test_every_id_the_language_accepts_has_its_name():
    assert tuple(SIZES) == get_args(CompanySize)
    assert tuple(INSTRUMENT_KINDS) == get_args(InstrumentKind)
    assert tuple(LANGUAGE_NAMES) == LANGUAGES
    assert tuple(STATUSES) == get_args(Status)
    assert list(DEMAND_GROUPS) == [*INSTRUMENT_KINDS, "topic"]


@pytest.mark.parametrize(
    ("lang", "sector", "size", "people", "kind", "cluster"),
    [
        ("en", "Furniture and interiors", "Medium-sized", "50 to 249 people", "Innovation voucher", "CENFIM (Spain)"),
        ("it", "Mobile e arredo", "Media impresa", "da 50 a 249 persone", "Voucher per l'innovazione", "CENFIM (Spagna)"),
    ],
)
def test_names_are_shown_in_the_readers_language(lang, sector, size, people, kind, cluster):
    labels = Labels(lang)
    assert labels.sector("furniture") == sector
    assert (labels.size("medium"), labels.size_people("medium")) == (size, people)
    assert labels.instrument_kind("innovation_voucher") == kind
    assert labels.cluster("cenfim") == cluster


def test_ids_without_a_name_are_shown_as_they_are():
    assert sector_name("agri_food", "bg") == "agri food"
    assert sector_name("", "en") == "–"
    assert cluster_name("nowhere") == "nowhere"
    assert (Labels("en").size("huge"), Labels("en").instrument_kind("loan")) == ("huge", "loan")


def test_cluster_names_are_proper_names_that_no_catalog_translates():
    assert Labels("bg").cluster("did") == "dID – Distretto Interni e Design (Италия)"
    assert [cluster_name(c) for c in ("green_synergy", "did", "cenfim", "cluj_it")] == [
        "Green Synergy Cluster",
        "dID – Distretto Interni e Design",
        "CENFIM",
        "Cluj IT Cluster",
    ]


@pytest.mark.parametrize(
    "message",
    [
        responses.NOT_VALID,
        responses.EXPIRED,
        responses.UNAVAILABLE,
        responses.SUBMITTED,
        responses.ALREADY_SUBMITTED,
        responses.NOT_SAVED,
        saving.CHANGED,
        reports.NOT_SUBMITTED,
        *SECTORS.values(),
        *(name for size in SIZES.values() for name in size),
        *INSTRUMENT_KINDS.values(),
        *STATUSES.values(),
        *DEMAND_GROUPS.values(),
    ],
)
def test_messages_marked_where_defined_are_translated(message):
    assert all(translations(lang).gettext(message) != message for lang in LANGUAGES if lang != "en")
