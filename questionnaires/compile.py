"""YAML files → one immutable, checked, compiled questionnaire.

The steps, each in its own module:

1. ``questionnaires.resolve.load``/``Loader``: read each file safely and decode it;
2. ``questionnaires.resolve.resolve``: splice in modules, apply sector variants, attach the catalog;
3. ``questionnaires.checks.Checker``: every check that spans fields or files;
4. ``build`` (here): index ids, keep the parsed expressions and fingerprint the content.

``compile_questionnaire`` runs them in order. Problems are gathered in a ``Diagnostics`` list
that carries ``file:line:column`` for each one, in the manner of pyxform's warnings list.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import MappingProxyType

import msgspec

from .checks import Checker, CompiledExpression, LocationOf
from .diagnostics import Diagnostic, Diagnostics, Location, QuestionnaireError
from .kinds import Question, kind_of
from .kinds.base import Option
from .reference import DMA_DIMENSIONS
from .resolve import Loader, Resolved, resolve
from .schema import (
    ArchetypeMatrix,
    Dimension,
    Instrument,
    Level,
    Pillar,
    QuestionnaireFile,
    Recommendation,
    Section,
    TestCase,
    TrainingTopic,
)
from .source import SourceError

__all__ = [
    "BUNDLED",
    "CompiledExpression",
    "CompiledQuestionnaire",
    "Loader",
    "Resolved",
    "compile_questionnaire",
    "compile_resolved",
    "find_questionnaire",
    "load_bundled",
    "validate_paths",
]

BUNDLED = Path(__file__).resolve().parent / "bundled"


@dataclass(frozen=True, eq=False)
class CompiledQuestionnaire:
    """An immutable, validated questionnaire: what scoring, the web flow and reports use."""

    resolved: Resolved
    fingerprint: str
    file: str
    sections: tuple[Section, ...]
    questions: MappingProxyType[str, Question]  # in page order
    section_of: MappingProxyType[str, str]  # question id -> section id
    options: MappingProxyType[str, MappingProxyType[str, Option]]  # question id -> {option id -> Option}
    dimensions: MappingProxyType[str, Dimension]
    pillars: MappingProxyType[str, Pillar]
    levels: tuple[Level, ...]
    recommendations: tuple[Recommendation, ...]
    instruments: MappingProxyType[str, Instrument]
    training_topics: MappingProxyType[str, TrainingTopic]
    show_if: MappingProxyType[tuple[str, ...], CompiledExpression]  # ("section"|"question"|"option"|"row", id...)
    formulas: MappingProxyType[str, CompiledExpression]  # dimension id -> its formula
    conditions: MappingProxyType[str, CompiledExpression]  # recommendation id -> its rule
    warnings: tuple[Diagnostic, ...] = ()
    visibility: tuple[tuple[CompiledExpression, tuple[str, ...]], ...] = ()
    """Section and question conditions in page order, each with the question ids it hides."""
    locations: MappingProxyType[tuple[str, str | int], Location] = field(default_factory=lambda: MappingProxyType({}))
    """("question"|"dimension"|"recommendation"|"test", id or index) -> Location."""

    def where(self, kind: str, key: str | int) -> Location:
        """Where the question, dimension, recommendation or test (by index) was written."""
        return self.locations.get((kind, key), Location(self.file))

    @property
    def meta(self) -> QuestionnaireFile:
        return self.resolved.questionnaire

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def version(self) -> str:
        return self.meta.version

    @property
    def archetypes(self) -> ArchetypeMatrix | None:
        return self.meta.archetypes

    @property
    def tests(self) -> list[TestCase]:
        return self.meta.tests

    @property
    def dma(self) -> dict[str, str]:
        """The questionnaire's dimension id of each EU DMA dimension (by the keys of
        ``questionnaires.reference.DMA_DIMENSIONS``); empty when it declares no ``dma``."""
        dma = self.meta.dma
        return {key: getattr(dma, key) for key in DMA_DIMENSIONS} if dma is not None else {}


def fingerprint(resolved: Resolved) -> str:
    return hashlib.sha256(msgspec.json.encode(resolved, order="deterministic")).hexdigest()


def build(resolved: Resolved, checker: Checker, warnings: list[Diagnostic], file: str) -> CompiledQuestionnaire:
    options: dict[str, MappingProxyType[str, Option]] = {}
    for qid, question in checker.questions.items():
        named = kind_of(question).options(question)
        if named:
            options[qid] = MappingProxyType({o.id: o for o in named})
    cat = resolved.catalog
    return CompiledQuestionnaire(
        resolved=resolved,
        fingerprint=fingerprint(resolved),
        file=file,
        sections=tuple(resolved.questionnaire.sections),
        questions=MappingProxyType(dict(checker.questions)),
        section_of=MappingProxyType(dict(checker.section_of)),
        options=MappingProxyType(options),
        dimensions=MappingProxyType({d.id: d for d in resolved.questionnaire.dimensions}),
        pillars=MappingProxyType({p.id: p for p in resolved.questionnaire.pillars}),
        levels=tuple(resolved.questionnaire.levels),
        recommendations=tuple(resolved.questionnaire.recommendations),
        instruments=MappingProxyType({i.id: i for i in cat.instruments} if cat else {}),
        training_topics=MappingProxyType({t.id: t for t in cat.training_topics} if cat else {}),
        show_if=MappingProxyType(checker.show_if),
        formulas=MappingProxyType(checker.formulas),
        conditions=MappingProxyType(checker.conditions),
        warnings=tuple(warnings),
        visibility=_visibility(resolved, checker.show_if),
        locations=MappingProxyType(_locations(resolved, checker)),
    )


def _visibility(
    resolved: Resolved, show_if: dict[tuple[str, ...], CompiledExpression]
) -> tuple[tuple[CompiledExpression, tuple[str, ...]], ...]:
    out = []
    for section in resolved.questionnaire.sections:
        cond = show_if.get(("section", section.id))
        if cond is not None and section.questions:
            out.append((cond, tuple(q.id for q in section.questions)))
        for q in section.questions:
            cond = show_if.get(("question", q.id))
            if cond is not None:
                out.append((cond, (q.id,)))
    return tuple(out)


def _locations(resolved: Resolved, checker: Checker) -> dict[tuple[str, str | int], Location]:
    q = resolved.questionnaire
    out: dict[tuple[str, str | int], Location] = {}
    items: Iterable[Question | Dimension | Recommendation | Section]
    for kind, items in (("question", checker.questions.values()), ("dimension", q.dimensions), ("recommendation", q.recommendations), ("section", q.sections)):
        for item in items:
            if id(item) in checker.locs:
                out[(kind, item.id)] = checker.locs[id(item)]
    for i, case in enumerate(q.tests):
        if id(case) in checker.locs:
            out[("test", i)] = checker.locs[id(case)]
    return out


def _expression_locations(loader: Loader) -> dict[tuple[int, str], LocationOf]:
    """Where each expression string sits, character by character, by (id of the Struct
    that holds it, key)."""
    out: dict[tuple[int, str], LocationOf] = {}
    for loaded in loader.cache.values():
        if isinstance(loaded, SourceError):
            continue
        for obj_id, path in loaded.paths.items():
            for key in ("show_if", "formula", "when"):
                full = path + (key,)
                if full in loaded.source._marks:
                    out.setdefault((obj_id, key), partial(loaded.source.location_in, full))
    return out


def compile_questionnaire(path: Path, loader: Loader | None = None, diags: Diagnostics | None = None) -> CompiledQuestionnaire:
    """Compile the questionnaire file at ``path``; raise QuestionnaireError listing every error."""
    loader = loader or Loader()
    diags = diags if diags is not None else Diagnostics()
    start = len(diags.items)
    try:
        loaded = loader.load(path)
    except SourceError as exc:
        diags.error(exc.location, exc.message)
        raise QuestionnaireError(diags.items[start:]) from None
    resolved, locs = resolve(loaded, loader, diags)
    checker = Checker(resolved, locs, diags, loaded.source.name, _expression_locations(loader))
    if not diags.errors:
        checker.run()
    mine = diags.items[start:]
    if any(d.severity == "error" for d in mine):
        raise QuestionnaireError(mine)
    return build(resolved, checker, [d for d in mine if d.severity == "warning"], loaded.source.name)


def compile_resolved(resolved: Resolved, name: str = "<stored>") -> CompiledQuestionnaire:
    """Compile a stored ``Resolved`` value again, without reading any file."""
    diags = Diagnostics()
    checker = Checker(resolved, {}, diags, name)
    checker.run()
    if diags.errors:
        raise QuestionnaireError(diags.errors)
    return build(resolved, checker, diags.warnings, name)


def questionnaire_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files to look at: files as given, folders searched (modules included)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*.yaml") if f.is_file()))
        else:
            out.append(p)
    return out


@dataclass
class ValidationReport:
    compiled: list[CompiledQuestionnaire]
    diagnostics: Diagnostics


def validate_paths(paths: Iterable[Path]) -> ValidationReport:
    """Load every file; compile each questionnaire among them. Modules and catalogs are
    checked as files, and again through the questionnaires that include them."""
    loader = Loader()
    diags = Diagnostics()
    compiled: list[CompiledQuestionnaire] = []
    reported: set[tuple[str, str]] = set()
    for path in questionnaire_files(paths):
        try:
            loaded = loader.load(path)
        except SourceError as exc:
            key = (str(exc.location), exc.message)
            if key not in reported:
                reported.add(key)
                diags.error(exc.location, exc.message)
            continue
        if isinstance(loaded.doc, QuestionnaireFile):
            local = Diagnostics()
            with contextlib.suppress(QuestionnaireError):  # its errors are in `local`
                compiled.append(compile_questionnaire(path, loader, local))
            for d in local.items:
                key = (str(d.location), d.message)
                if key not in reported:
                    reported.add(key)
                    diags.items.append(d)
    return ValidationReport(compiled, diags)


def find_questionnaire(name: str, root: Path | None = None) -> Path:
    """A questionnaire file given as a path, or as the id of a bundled questionnaire."""
    path = Path(name)
    if path.exists() or path.suffix in (".yaml", ".yml") or "/" in name:
        return path
    return (root or BUNDLED) / f"{name}.yaml"


def load_bundled(root: Path | None = None) -> list[CompiledQuestionnaire]:
    """Compile every questionnaire in ``root`` (the bundled folder by default)."""
    report = validate_paths([root or BUNDLED])
    if report.diagnostics.errors:
        raise QuestionnaireError(report.diagnostics.errors)
    return report.compiled
