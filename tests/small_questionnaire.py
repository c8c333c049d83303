"""A small valid questionnaire written to disk, for tests of storage and the web layer.

It is written inline rather than taken from questionnaires/, so that these tests do not
change whenever the bundled content does.
"""

from __future__ import annotations

from pathlib import Path

QUESTIONNAIRE = """\
kind: questionnaire
id: small
version: "1"
title: {en: Small twin-transition check}
description: {en: A short check used by the tests.}
sectors: [furniture, agri_food]
estimated_minutes: 20
catalog: catalog.yaml
include: [modules/data.yaml]
pillars:
  - {id: digital, title: {en: Digital}}
  - {id: green, title: {en: Green}}
dimensions:
  - {id: data, title: {en: Data}, pillar: digital}
  - {id: energy, title: {en: Energy}, pillar: green}
levels:
  - {id: basic, title: {en: Basic}, from: 0}
  - {id: advanced, title: {en: Advanced}, from: 50}
sections:
  - id: energy
    title: {en: Energy}
    questions:
      - kind: number
        id: kwh
        text: {en: Yearly electricity use in kWh}
        dimension: energy
        bands: [{at_least: 0, points: 0}, {at_least: 100, points: 1}]
      - kind: yes_no
        id: audit
        text: {en: Have you had an energy audit?}
        dimension: energy
recommendations:
  - id: data_first
    title: {en: Organise your data}
    when: "dimension.data < 50"
    rationale: {en: "Your data score is {dimension.data}."}
    instruments: [iv]
"""

MODULE = """\
kind: module
id: data
sections:
  - id: data
    title: {en: Data}
    questions:
      - kind: single_choice
        id: tools
        text: {en: Which tools hold your customer data?}
        dimension: data
        options:
          - {id: erp, text: {en: An ERP or CRM}, points: 1}
          - {id: none, text: {en: None}}
"""

CATALOG = """\
kind: catalog
id: cat
instruments:
  - {id: iv, kind: innovation_voucher, title: {en: Innovation voucher}, description: {en: Funds projects.}}
"""


def write_small_questionnaire(folder: Path) -> Path:
    """Write the questionnaire, its module and its catalog into ``folder``; return the
    questionnaire file."""
    (folder / "modules").mkdir(parents=True, exist_ok=True)
    (folder / "catalog.yaml").write_text(CATALOG, encoding="utf-8")
    (folder / "modules" / "data.yaml").write_text(MODULE, encoding="utf-8")
    path = folder / "small.yaml"
    path.write_text(QUESTIONNAIRE, encoding="utf-8")
    return path
