"""YAML files → one immutable, checked, compiled questionnaire.

The steps, each a function below:

1. ``load_file``: read one file safely and decode it into the Structs of ``assessment.schema``;
2. ``resolve``: splice in included modules, apply a sector variant's changes to its base, and
   attach the catalog, giving one self-contained ``Resolved`` value;
3. ``check``: every check that spans fields or files, with every problem collected;
4. ``build``: index ids, parse expressions and fingerprint the resolved content.

``compile_questionnaire`` runs them in order. Problems are gathered in a ``Diagnostics`` list
that carries ``file:line:column`` for each one, in the manner of pyxform's warnings list.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable

import msgspec

from . import expressions as ex
from .diagnostics import Diagnostics, Location, QuestionnaireError, did_you_mean
from .schema import (
    LANGUAGES,
    CatalogFile,
    Changes,
    Dimension,
    FreeText,
    Level,
    Matrix,
    ModuleFile,
    MultipleChoice,
    Number,
    Option,
    Question,
    QuestionnaireFile,
    Recommendation,
    Scale,
    Section,
    SingleChoice,
    SourceFile,
    Text,
    YesNo,
)
from .source import Source, SourceError, load_source

BUNDLED = Path(__file__).resolve().parent.parent / "questionnaires"

KIND_NAMES = {QuestionnaireFile: "questionnaire", ModuleFile: "module", CatalogFile: "catalog"}


# --- 1. Loading ---------------------------------------------------------------------------


@dataclass
class Loaded:
    """A decoded file and the place of every Struct in it."""

    path: Path
    source: Source
    doc: SourceFile
    paths: dict[int, tuple] = field(default_factory=dict)  # id(struct) -> path in the file

    def where(self, obj: Any, *rest) -> Location:
        return self.source.location(self.paths.get(id(obj), ()) + rest)


_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[\.\.\.\]")


def _parse_msgspec_path(text: str) -> tuple:
    parts: list = []
    for m in _PATH_PART.finditer(text):
        if m.group(1) is not None:
            parts.append(m.group(1))
        elif m.group(2) is not None:
            parts.append(int(m.group(2)))
    return tuple(parts)


def _explain_validation(message: str, value_at_path) -> str:
    """Reword msgspec's messages for organisers."""
    m = re.match(r"Object contains unknown field `(.+)`", message)
    if m:
        return f"unknown key '{m.group(1)}'"
    m = re.match(r"Object missing required field `(.+)`", message)
    if m:
        return f"missing required key '{m.group(1)}'"
    m = re.match(r"Expected `(.+?)`, got `(.+?)`", message)
    if m:
        want, got = m.groups()
        want = want.replace(" | null", "")
        want = {"str": "text", "int": "a whole number", "float": "a number", "array": "a list",
                "object": "a mapping of keys", "bool": "true or false"}.get(want, want)
        hint = ""
        if got == "bool":
            hint = " (true and false mean true or false in YAML; put them in quotes to mean text)"
        if got == "null":
            got = "nothing"
        return f"expected {want}, got {got}{hint}"
    m = re.match(r"Invalid value '(.+)'", message)
    if m:
        return f"invalid value '{m.group(1)}'"
    if message.startswith("Expected `str` matching regex"):
        return "an id must be lower-case letters, digits and underscores, starting with a letter"
    return message[0].lower() + message[1:] if message else "invalid value"


def _index_structs(obj: Any, path: tuple, out: dict[int, tuple]) -> None:
    if isinstance(obj, msgspec.Struct):
        out[id(obj)] = path
        encoded = getattr(type(obj), "__struct_encode_fields__", obj.__struct_fields__)
        for name, key in zip(obj.__struct_fields__, encoded):
            _index_structs(getattr(obj, name), path + (key,), out)
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            _index_structs(item, path + (i,), out)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            _index_structs(item, path + (key,), out)


def decode(source: Source, path: Path) -> Loaded:
    """Decode a parsed source into its Struct; raise SourceError with a location if invalid."""
    value = source.value
    if not isinstance(value, dict):
        raise SourceError(source.location(), "the file must be a mapping of keys, such as 'kind: questionnaire'")
    if "kind" not in value:
        raise SourceError(source.location(), "missing key 'kind': one of questionnaire, module, catalog")
    try:
        doc = msgspec.convert(value, SourceFile, strict=True)
    except msgspec.ValidationError as exc:
        text = str(exc)
        message, _, where = text.partition(" - at `")
        parts = _parse_msgspec_path(where.rstrip("`"))
        m = re.match(r"Object contains unknown field `(.+)`", message)
        if m:
            parts = parts + (m.group(1),)
        if parts == ("kind",) or (message.startswith("Invalid value") and parts[-1:] == ("kind",)):
            kinds = "single_choice, multiple_choice, scale, matrix, number, yes_no, text"
            if parts == ("kind",):
                kinds = "questionnaire, module, catalog"
            raise SourceError(source.location(parts), f"{_explain_validation(message, None)} for 'kind'; use one of {kinds}") from None
        raise SourceError(source.location(parts), _explain_validation(message, None)) from None
    loaded = Loaded(path, source, doc)
    _index_structs(doc, (), loaded.paths)
    return loaded


class Loader:
    """Loads each file once per compilation run, however many questionnaires include it."""

    def __init__(self, root: Path | None = None):
        self.root = root
        self.cache: dict[Path, Loaded | SourceError] = {}

    def display(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def load(self, path: Path) -> Loaded:
        path = path.resolve()
        cached = self.cache.get(path)
        if cached is None:
            try:
                cached = decode(load_source(path, self.display(path)), path)
            except SourceError as exc:
                cached = exc
            self.cache[path] = cached
        if isinstance(cached, SourceError):
            raise cached
        return cached


# --- 2. Resolution ------------------------------------------------------------------------


class Resolved(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A questionnaire with every include and variant applied: all it needs, in one value.

    This is what is stored with each response and fingerprinted, so that a response keeps
    its own version of the questionnaire whatever later happens to the files.
    """

    questionnaire: QuestionnaireFile
    catalog: CatalogFile | None = None


class _Resolver:
    def __init__(self, loader: Loader, diags: Diagnostics):
        self.loader = loader
        self.diags = diags
        self.locs: dict[int, Location] = {}
        self.stack: list[Path] = []

    def note(self, loaded: Loaded) -> None:
        for obj_id, path in loaded.paths.items():
            self.locs.setdefault(obj_id, loaded.source.location(path))

    def where(self, obj: Any) -> Location:
        return self.locs.get(id(obj), Location("?"))

    def relative(self, loaded: Loaded, obj: Any, key: str, target: str, index: int | None = None) -> Loaded | None:
        path = (loaded.path.parent / target)
        where_path = loaded.paths.get(id(obj), ()) + ((key,) if index is None else (key, index))
        location = loaded.source.location(where_path)
        if not path.exists():
            siblings = [str(p.relative_to(loaded.path.parent)) for p in loaded.path.parent.rglob("*.yaml")]
            self.diags.error(location, f"'{target}' not found{did_you_mean(target, siblings)}")
            return None
        if path.resolve() in self.stack:
            self.diags.error(location, f"'{target}' includes itself (through {' -> '.join(p.name for p in self.stack)})")
            return None
        try:
            target_loaded = self.loader.load(path)
        except SourceError as exc:
            self.diags.error(exc.location, exc.message)
            return None
        self.note(target_loaded)
        return target_loaded

    def expect_kind(self, loaded: Loaded, kind: type, location: Location) -> bool:
        if not isinstance(loaded.doc, kind):
            self.diags.error(location, f"'{loaded.source.name}' is a {KIND_NAMES[type(loaded.doc)]}, not a {KIND_NAMES[kind]}")
            return False
        return True

    def section(self, loaded: Loaded, section: Section) -> Section:
        if not section.include:
            return section
        questions: list[Question] = []
        for i, target in enumerate(section.include):
            module = self.relative(loaded, section, "include", target, i)
            if module and self.expect_kind(module, ModuleFile, loaded.where(section, "include", i)):
                questions.extend(module.doc.questions)
        new = msgspec.structs.replace(section, include=[], questions=questions + list(section.questions))
        self.locs[id(new)] = self.where(section)
        return new

    def questionnaire(self, loaded: Loaded) -> QuestionnaireFile:
        doc: QuestionnaireFile = loaded.doc
        self.stack.append(loaded.path.resolve())
        try:
            if doc.extends:
                base_loaded = self.relative(loaded, doc, "extends", doc.extends)
                if base_loaded and self.expect_kind(base_loaded, QuestionnaireFile, loaded.where(doc, "extends")):
                    base = self.questionnaire(base_loaded)
                else:
                    base = msgspec.structs.replace(doc, sections=[], extends=None)
                merged = self.extend(loaded, base, doc)
            else:
                merged = doc
            sections: list[Section] = []
            dimensions: list[Dimension] = []
            recommendations: list[Recommendation] = []
            for i, target in enumerate(doc.include):
                module = self.relative(loaded, doc, "include", target, i)
                if module and self.expect_kind(module, ModuleFile, loaded.where(doc, "include", i)):
                    sections.extend(self.section(module, s) for s in module.doc.sections)
                    dimensions.extend(module.doc.dimensions)
                    recommendations.extend(module.doc.recommendations)
            own_sections = [self.section(loaded, s) for s in merged.sections] if not doc.extends else list(merged.sections)
            if doc.extends:
                # A variant's includes come after the base's content.
                result = msgspec.structs.replace(
                    merged,
                    sections=own_sections + sections,
                    dimensions=list(merged.dimensions) + dimensions,
                    recommendations=list(merged.recommendations) + recommendations,
                    include=[], extends=None, changes=None,
                )
            else:
                result = msgspec.structs.replace(
                    merged,
                    sections=sections + own_sections,
                    dimensions=dimensions + list(merged.dimensions),
                    recommendations=recommendations + list(merged.recommendations),
                    include=[], extends=None, changes=None,
                )
            self.locs[id(result)] = self.where(doc)
            return result
        finally:
            self.stack.pop()

    def extend(self, loaded: Loaded, base: QuestionnaireFile, doc: QuestionnaireFile) -> QuestionnaireFile:
        """Apply a sector variant to its (already resolved) base."""
        sections = [msgspec.structs.replace(s, questions=list(s.questions)) for s in base.sections]
        for old, new in zip(base.sections, sections):
            self.locs[id(new)] = self.where(old)
        changes = doc.changes or Changes()
        by_id = {s.id: s for s in sections}

        def find_question(qid: str):
            for s in sections:
                for i, q in enumerate(s.questions):
                    if q.id == qid:
                        return s, i
            return None, None

        all_qids = [q.id for s in sections for q in s.questions]
        for i, qid in enumerate(changes.remove_questions):
            s, j = find_question(qid)
            if s is None:
                self.diags.error(loaded.where(changes, "remove_questions", i), f"cannot remove unknown question '{qid}'{did_you_mean(qid, all_qids)}")
            else:
                del s.questions[j]
        for i, sid in enumerate(changes.remove_sections):
            if sid not in by_id:
                self.diags.error(loaded.where(changes, "remove_sections", i), f"cannot remove unknown section '{sid}'{did_you_mean(sid, by_id)}")
            else:
                sections.remove(by_id.pop(sid))
        for q in changes.replace_questions:
            s, j = find_question(q.id)
            if s is None:
                self.diags.error(self.where(q), f"cannot replace unknown question '{q.id}'{did_you_mean(q.id, all_qids)}; use add_questions for a new one")
            else:
                s.questions[j] = q
        for add in changes.add_sections:
            position = len(sections)
            if add.after is not None:
                if add.after not in by_id:
                    self.diags.error(self.where(add), f"unknown section '{add.after}' in 'after'{did_you_mean(add.after, by_id)}")
                else:
                    position = sections.index(by_id[add.after]) + 1
            new_sections = [self.section(loaded, s) for s in add.sections]
            sections[position:position] = new_sections
            by_id.update({s.id: s for s in new_sections})
        for add in changes.add_questions:
            s = by_id.get(add.section)
            if s is None:
                self.diags.error(self.where(add), f"unknown section '{add.section}'{did_you_mean(add.section, by_id)}")
                continue
            position = len(s.questions)
            if add.after is not None:
                ids = [q.id for q in s.questions]
                if add.after not in ids:
                    self.diags.error(self.where(add), f"question '{add.after}' is not in section '{add.section}'{did_you_mean(add.after, ids)}")
                else:
                    position = ids.index(add.after) + 1
            s.questions[position:position] = add.questions
        for qid, weight in changes.question_weights.items():
            s, j = find_question(qid)
            if s is None:
                self.diags.error(loaded.where(changes, "question_weights", qid), f"unknown question '{qid}'{did_you_mean(qid, all_qids)}")
                continue
            q = s.questions[j]
            if q.dimensions is not None:
                new_q = msgspec.structs.replace(q, dimensions={d: weight for d in q.dimensions})
            else:
                new_q = msgspec.structs.replace(q, weight=weight)
            self.locs[id(new_q)] = self.where(q)
            s.questions[j] = new_q
        dimensions = list(base.dimensions) + list(doc.dimensions)
        dim_ids = [d.id for d in dimensions]
        for did, weight in changes.dimension_weights.items():
            if did not in dim_ids:
                self.diags.error(loaded.where(changes, "dimension_weights", did), f"unknown dimension '{did}'{did_you_mean(did, dim_ids)}")
                continue
            i = dim_ids.index(did)
            new_d = msgspec.structs.replace(dimensions[i], weight=weight)
            self.locs[id(new_d)] = self.where(dimensions[i])
            dimensions[i] = new_d
        pillars = list(doc.pillars or base.pillars)
        for pid, weight in changes.pillar_weights.items():
            ids = [p.id for p in pillars]
            if pid not in ids:
                self.diags.error(loaded.where(changes, "pillar_weights", pid), f"unknown pillar '{pid}'{did_you_mean(pid, ids)}")
                continue
            i = ids.index(pid)
            new_p = msgspec.structs.replace(pillars[i], weight=weight)
            self.locs[id(new_p)] = self.where(pillars[i])
            pillars[i] = new_p
        recommendations = list(base.recommendations)
        rec_ids = [r.id for r in recommendations]
        for i, rid in enumerate(changes.remove_recommendations):
            if rid not in rec_ids:
                self.diags.error(loaded.where(changes, "remove_recommendations", i), f"cannot remove unknown recommendation '{rid}'{did_you_mean(rid, rec_ids)}")
            else:
                recommendations = [r for r in recommendations if r.id != rid]
        recommendations += list(changes.add_recommendations) + list(doc.recommendations)
        own = [self.section(loaded, s) for s in doc.sections]
        return msgspec.structs.replace(
            doc,
            description=doc.description or base.description,
            sectors=doc.sectors or base.sectors,
            estimated_minutes=doc.estimated_minutes or base.estimated_minutes,
            catalog=None,
            sections=sections + own,
            pillars=pillars,
            dimensions=dimensions,
            levels=doc.levels or base.levels,
            archetypes=doc.archetypes or base.archetypes,
            recommendations=recommendations,
            include=doc.include,
        )

    def catalog_for(self, loaded: Loaded, seen: frozenset = frozenset()) -> CatalogFile | None:
        """The catalog named by this file, or by the base it extends."""
        doc: QuestionnaireFile = loaded.doc
        if loaded.path in seen:
            return None  # a cycle of `extends`, reported by `questionnaire`
        seen = seen | {loaded.path}
        if doc.catalog:
            cat = self.relative(loaded, doc, "catalog", doc.catalog)
            if cat and self.expect_kind(cat, CatalogFile, loaded.where(doc, "catalog")):
                return cat.doc
            return None
        if doc.extends:
            path = loaded.path.parent / doc.extends
            try:
                base = self.loader.load(path)
            except (SourceError, OSError):
                return None
            if isinstance(base.doc, QuestionnaireFile):
                return self.catalog_for(base, seen)
        return None


def resolve(loaded: Loaded, loader: Loader, diags: Diagnostics) -> tuple[Resolved, dict[int, Location]]:
    resolver = _Resolver(loader, diags)
    resolver.note(loaded)
    questionnaire = resolver.questionnaire(loaded)
    catalog = resolver.catalog_for(loaded)
    return Resolved(questionnaire, catalog), resolver.locs


# --- 3 and 4. Checks and the compiled questionnaire ----------------------------------------


@dataclass(frozen=True)
class CompiledExpression:
    """An expression with where it came from, for messages at run time."""

    expression: ex.Expression
    location: Location
    owner: str  # what it belongs to, e.g. "question q1 show_if"

    @property
    def text(self) -> str:
        return self.expression.text

    def evaluate(self, env):
        return self.expression.evaluate(env)


@dataclass(frozen=True, eq=False)
class CompiledQuestionnaire:
    """An immutable, validated questionnaire: what scoring, the web flow and reports use."""

    resolved: Resolved
    fingerprint: str
    file: str
    sections: tuple[Section, ...]
    questions: MappingProxyType  # id -> Question, in page order
    section_of: MappingProxyType  # question id -> section id
    options: MappingProxyType  # question id -> {option id -> Option}
    dimensions: MappingProxyType  # id -> Dimension
    pillars: MappingProxyType  # id -> Pillar
    levels: tuple[Level, ...]
    recommendations: tuple[Recommendation, ...]
    instruments: MappingProxyType
    training_topics: MappingProxyType
    show_if: MappingProxyType  # ("section"|"question"|"option"|"row", id...) -> CompiledExpression
    formulas: MappingProxyType  # dimension id -> CompiledExpression
    conditions: MappingProxyType  # recommendation id -> CompiledExpression
    warnings: tuple = ()
    visibility: tuple = ()
    """Section and question conditions in page order, each with the question ids it hides."""
    locations: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    """("question"|"dimension"|"recommendation"|"test", id or index) -> Location."""

    def where(self, kind: str, key) -> Location:
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
    def archetypes(self):
        return self.meta.archetypes

    @property
    def tests(self):
        return self.meta.tests


def fingerprint(resolved: Resolved) -> str:
    return hashlib.sha256(msgspec.json.encode(resolved, order="deterministic")).hexdigest()


def _scored(q: Question) -> bool:
    if isinstance(q, FreeText):
        return False
    if isinstance(q, Number):
        return bool(q.bands)
    return True


def _answer_options(q: Question) -> set[str] | None:
    """The literal values an answer to ``q`` can take, where there is a closed set."""
    if isinstance(q, (SingleChoice, MultipleChoice)):
        return {o.id for o in q.options} | ({"na"} if q.allow_na else set())
    if isinstance(q, YesNo):
        return None  # yes/no answers are true/false
    return None


class _Checker:
    def __init__(self, resolved: Resolved, locs: dict[int, Location], diags: Diagnostics, file: str):
        self.r = resolved
        self.q = resolved.questionnaire
        self.locs = locs
        self.diags = diags
        self.file = file
        self.questions: dict[str, Question] = {}
        self.section_of: dict[str, str] = {}
        self.show_if: dict[tuple, CompiledExpression] = {}
        self.formulas: dict[str, CompiledExpression] = {}
        self.conditions: dict[str, CompiledExpression] = {}

    def at(self, obj: Any) -> Location:
        return self.locs.get(id(obj), Location(self.file))

    def error(self, obj: Any, message: str) -> None:
        self.diags.error(self.at(obj), message)

    # Uniqueness and references

    def unique(self, items: Iterable, what: str) -> dict:
        seen: dict = {}
        for item in items:
            if item.id in seen:
                first = self.at(seen[item.id])
                self.error(item, f"duplicate {what} id '{item.id}' (first defined at {first})")
            else:
                seen[item.id] = item
        return seen

    def run(self) -> None:
        q = self.q
        if not q.sections:
            self.error(q, "the questionnaire has no sections")
        self.sections = self.unique(q.sections, "section")
        for s in q.sections:
            for question in s.questions:
                if question.id in self.questions:
                    first = self.at(self.questions[question.id])
                    self.error(question, f"duplicate question id '{question.id}' (first defined at {first})")
                    continue
                if question.id in ex.RESERVED:
                    self.error(question, f"'{question.id}' is a reserved word of the expression language; choose another question id")
                self.questions[question.id] = question
                self.section_of[question.id] = s.id
            if not s.questions:
                self.error(s, f"section '{s.id}' has no questions")
        self.pillars = self.unique(q.pillars, "pillar")
        self.dimensions = self.unique(q.dimensions, "dimension")
        self.levels = self.unique(q.levels, "level")
        self.recommendations = self.unique(q.recommendations, "recommendation")
        cat = self.r.catalog
        self.instruments = self.unique(cat.instruments, "instrument") if cat else {}
        self.topics = self.unique(cat.training_topics, "training topic") if cat else {}
        self.archetype_ids = self.unique(q.archetypes.archetypes, "archetype") if q.archetypes else {}
        for question in self.questions.values():
            self.check_question(question)
        self.check_scoring_model()
        self.check_expressions()
        self.check_recommendations()
        self.check_tests()
        self.check_translations()

    def check_question(self, question: Question) -> None:
        for did, weight in question.scoring().items():
            if did not in self.dimensions:
                self.error(question, f"question '{question.id}' names unknown dimension '{did}'{did_you_mean(did, self.dimensions)}")
        if question.scoring() and not _scored(question):
            what = "free text is never scored" if isinstance(question, FreeText) else "a number needs 'bands' to be scored"
            self.error(question, f"question '{question.id}' has a dimension but {what}")
        if isinstance(question, (SingleChoice, MultipleChoice)):
            self.unique(question.options, f"option (in question '{question.id}')")
            if isinstance(question, SingleChoice):
                if any(o.exclusive for o in question.options):
                    self.error(question, f"question '{question.id}': 'exclusive' applies to multiple choice only")
                if question.scoring() and max(o.points for o in question.options) <= 0:
                    self.error(question, f"question '{question.id}' is scored but no option has positive points")
            else:
                maximum = question.max_points if question.max_points is not None else sum(o.points for o in question.options if o.points > 0 and not o.exclusive)
                if question.scoring() and maximum <= 0:
                    self.error(question, f"question '{question.id}' is scored but its options can earn no points")
        if isinstance(question, Scale):
            if question.min >= question.max:
                self.error(question, f"question '{question.id}': 'min' must be below 'max'")
            for point in question.labels:
                if not question.min <= point.value <= question.max:
                    self.error(point, f"label value {point.value} is outside {question.min}..{question.max}")
        if isinstance(question, Matrix):
            self.unique(question.rows, f"row (in question '{question.id}')")
            if question.columns is not None:
                self.unique(question.columns, f"column (in question '{question.id}')")
                if question.scoring() and max(c.points for c in question.columns) <= 0:
                    self.error(question, f"question '{question.id}' is scored but no column has positive points")
            if question.scale is not None:
                values = [p.value for p in question.scale]
                if len(set(values)) != len(values) or values != sorted(values):
                    self.error(question, f"question '{question.id}': scale values must rise without repeats")
        if isinstance(question, Number):
            levels = [b.at_least for b in question.bands]
            if levels != sorted(levels) or len(set(levels)) != len(levels):
                self.error(question, f"question '{question.id}': bands must be listed with 'at_least' rising")
            if question.scoring() and question.bands and max(b.points for b in question.bands) <= 0:
                self.error(question, f"question '{question.id}' is scored but no band has positive points")

    def check_scoring_model(self) -> None:
        q = self.q
        scored_dims = {d for question in self.questions.values() for d, w in question.scoring().items() if w > 0}
        for d in q.dimensions:
            if d.pillar not in self.pillars:
                self.error(d, f"dimension '{d.id}' is in pillar '{d.pillar}', which is not declared under 'pillars'")
            if d.formula is None and d.id not in scored_dims:
                self.error(d, f"dimension '{d.id}' has no scored questions and no formula")
        for p in q.pillars:
            members = [d for d in q.dimensions if d.pillar == p.id]
            if p.weight > 0 and not members:
                self.error(p, f"pillar '{p.id}' has weight {p.weight:g} but no dimensions")
            elif members and sum(d.weight for d in members) <= 0:
                self.error(p, f"the dimensions of pillar '{p.id}' all have weight 0")
        if q.pillars and sum(p.weight for p in q.pillars) <= 0:
            self.error(q.pillars[0], "the pillar weights add up to 0")
        if q.dimensions and not q.levels:
            self.error(q, "the questionnaire has dimensions but no maturity 'levels'")
        if q.levels:
            if q.levels[0].from_ != 0:
                self.error(q.levels[0], f"the first level must start 'from: 0', not {q.levels[0].from_:g}")
            for a, b in zip(q.levels, q.levels[1:]):
                if b.from_ <= a.from_:
                    self.error(b, f"level '{b.id}' must start above level '{a.id}' ({b.from_:g} <= {a.from_:g})")
        m = q.archetypes
        if m is not None:
            for axis, pid in (("x", m.x), ("y", m.y)):
                if pid not in self.pillars:
                    self.error(m, f"archetype axis {axis} uses pillar '{pid}', which is not declared")
            for cuts, name in ((m.x_cuts, "x_cuts"), (m.y_cuts, "y_cuts")):
                if cuts != sorted(cuts) or len(set(cuts)) != len(cuts) or any(c <= 0 or c >= 100 for c in cuts):
                    self.error(m, f"'{name}' must rise strictly and lie between 0 and 100")
            rows, cols = len(m.y_cuts) + 1, len(m.x_cuts) + 1
            if len(m.grid) != rows or any(len(r) != cols for r in m.grid):
                self.error(m, f"'grid' must have {rows} rows of {cols} archetype ids (one more than the cuts)")
            for row in m.grid:
                for aid in row:
                    if aid not in self.archetype_ids:
                        self.error(m, f"grid names unknown archetype '{aid}'{did_you_mean(aid, self.archetype_ids)}")
            unused = set(self.archetype_ids) - {a for row in m.grid for a in row}
            for aid in sorted(unused):
                self.error(self.archetype_ids[aid], f"archetype '{aid}' is not placed in the grid")

    # Expressions

    def expression(self, owner_obj: Any, key: str, text: str, owner: str, allowed: set[str], self_id: str | None = None) -> CompiledExpression | None:
        base = self.at(owner_obj)
        loc_src = self.locs.get(("expr", id(owner_obj), key))
        try:
            compiled = ex.compile_expression(text)
        except ex.ExpressionError as exc:
            where = loc_src(exc.offset) if loc_src else base
            self.diags.error(where, f"{owner}: {exc.message}")
            return None
        ok = True
        for ref in compiled.refs():
            where = loc_src(ref.offset) if loc_src else base
            if ref.namespace not in allowed:
                label = ref.namespace if ref.namespace in ("overall", "archetype") else f"{ref.namespace}.*"
                self.diags.error(where, f"{owner}: '{label}' cannot be used here; allowed: {', '.join(sorted(allowed))}")
                ok = False
                continue
            if not self.check_ref(ref, where, owner, self_id):
                ok = False
        ok = self.check_literals(compiled.tree, loc_src, base, owner) and ok
        if not ok:
            return None
        return CompiledExpression(compiled, loc_src(0) if loc_src else base, owner)

    def check_ref(self, ref: ex.Ref, where: Location, owner: str, self_id: str | None) -> bool:
        ns, name = ref.namespace, ref.name
        if ns in ("answer", "score", "points"):
            if name not in self.questions:
                self.diags.error(where, f"{owner}: unknown question '{name}'{did_you_mean(name, self.questions)}")
                return False
            if name == self_id:
                self.diags.error(where, f"{owner}: a question's show_if cannot refer to the question itself")
                return False
            question = self.questions[name]
            if ns == "answer" and ref.member is not None:
                if not isinstance(question, Matrix):
                    self.diags.error(where, f"{owner}: '{name}.{ref.member}': only matrix questions have rows")
                    return False
                rows = [r.id for r in question.rows]
                if ref.member not in rows:
                    self.diags.error(where, f"{owner}: question '{name}' has no row '{ref.member}'{did_you_mean(ref.member, rows)}")
                    return False
            if ns in ("score", "points") and not _scored(question):
                self.diags.error(where, f"{owner}: question '{name}' is not scored, so it has no {ns}")
                return False
            return True
        if ns == "dimension" and name not in self.dimensions:
            self.diags.error(where, f"{owner}: unknown dimension '{name}'{did_you_mean(name, self.dimensions)}")
            return False
        if ns == "pillar" and name not in self.pillars:
            self.diags.error(where, f"{owner}: unknown pillar '{name}'{did_you_mean(name, self.pillars)}")
            return False
        if ns == "level" and name != "overall" and name not in self.dimensions:
            self.diags.error(where, f"{owner}: unknown dimension '{name}' in level.{name}{did_you_mean(name, list(self.dimensions) + ['overall'])}")
            return False
        return True

    def check_literals(self, tree, loc_src, base: Location, owner: str) -> bool:
        """Literal text compared with an answer, level or archetype must be a known id."""
        ok = True
        for node in ex.walk(tree):
            if not isinstance(node, ex.Binary) or node.op not in ("==", "!=", "in", "not in"):
                continue
            pairs = [(node.left, node.right), (node.right, node.left)] if node.op in ("==", "!=") else [(node.right, node.left)]
            for ref, lit in pairs:
                if not isinstance(ref, ex.Ref):
                    continue
                values = self.literal_strings(lit)
                if values is None:
                    continue
                known = self.known_values(ref)
                if known is None:
                    continue
                for value, offset in values:
                    if value not in known:
                        where = loc_src(offset) if loc_src else base
                        self.diags.error(where, f"{owner}: '{value}' is not {self.value_kind(ref)}{did_you_mean(value, known)}")
                        ok = False
        return ok

    @staticmethod
    def literal_strings(node) -> list[tuple[str, int]] | None:
        if isinstance(node, ex.Literal) and isinstance(node.value, str):
            return [(node.value, node.offset)]
        if isinstance(node, ex.ListNode):
            return [(n.value, n.offset) for n in node.items if isinstance(n.value, str)]
        return None

    def known_values(self, ref: ex.Ref) -> set[str] | None:
        if ref.namespace == "answer" and ref.name in self.questions:
            question = self.questions[ref.name]
            if ref.member is not None and isinstance(question, Matrix) and question.columns is not None:
                return {c.id for c in question.columns} | ({"na"} if question.allow_na else set())
            if ref.member is None:
                return _answer_options(question)
        if ref.namespace == "level":
            return {lv.id for lv in self.q.levels}
        if ref.namespace == "archetype":
            return set(self.archetype_ids)
        return None

    def value_kind(self, ref: ex.Ref) -> str:
        if ref.namespace == "level":
            return "a level id"
        if ref.namespace == "archetype":
            return "an archetype id"
        return f"an option of question '{ref.name}'"

    def check_expressions(self) -> None:
        # Conditions are evaluated before anything is scored, so they see answers only.
        answers_only = {"answer", "company"}
        for s in self.q.sections:
            if s.show_if:
                c = self.expression(s, "show_if", s.show_if, f"section '{s.id}' show_if", answers_only)
                if c:
                    self.show_if[("section", s.id)] = c
                    earlier = set(self.questions)
                    for later in self.q.sections[self.q.sections.index(s):]:
                        earlier -= {q.id for q in later.questions}
                    for ref in c.expression.refs():
                        if ref.namespace == "answer" and ref.name not in earlier:
                            self.error(s, f"section '{s.id}' show_if uses '{ref.name}', which is not on an earlier page; a condition may only use earlier answers")
        order = {qid: i for i, qid in enumerate(self.questions)}
        for question in self.questions.values():
            if question.show_if:
                c = self.expression(question, "show_if", question.show_if, f"question '{question.id}' show_if", answers_only, question.id)
                if c:
                    self.show_if[("question", question.id)] = c
                    for ref in c.expression.refs():
                        if ref.namespace == "answer" and order.get(ref.name, -1) > order[question.id]:
                            self.error(question, f"question '{question.id}' show_if uses '{ref.name}', which comes later; a condition may only use earlier answers")
            items = []
            if isinstance(question, (SingleChoice, MultipleChoice)):
                items = [("option", o) for o in question.options]
            elif isinstance(question, Matrix):
                items = [("row", r) for r in question.rows]
            for kind, item in items:
                if item.show_if:
                    c = self.expression(item, "show_if", item.show_if, f"{kind} '{question.id}.{item.id}' show_if", answers_only, question.id)
                    if c:
                        self.show_if[(kind, question.id, item.id)] = c
        computed = {d.id for d in self.q.dimensions if d.formula}
        for d in self.q.dimensions:
            if d.formula:
                c = self.expression(d, "formula", d.formula, f"dimension '{d.id}' formula", {"answer", "score", "points", "dimension", "company"})
                if c:
                    for ref in c.expression.refs():
                        if ref.namespace == "dimension" and ref.name in computed:
                            self.error(d, f"dimension '{d.id}' formula uses dimension '{ref.name}', which is itself computed by a formula")
                    self.formulas[d.id] = c
        everything = {"answer", "score", "points", "dimension", "pillar", "level", "overall", "archetype", "company"}
        for rec in self.q.recommendations:
            c = self.expression(rec, "when", rec.when, f"recommendation '{rec.id}' when", everything)
            if c:
                self.conditions[rec.id] = c

    def check_recommendations(self) -> None:
        for rec in self.q.recommendations:
            for iid in rec.instruments:
                if iid not in self.instruments:
                    hint = did_you_mean(iid, self.instruments) if self.instruments else " (the questionnaire names no catalog)"
                    self.error(rec, f"recommendation '{rec.id}' links unknown instrument '{iid}'{hint}")
            for tid in rec.training:
                if tid not in self.topics:
                    hint = did_you_mean(tid, self.topics) if self.topics else " (the questionnaire names no catalog)"
                    self.error(rec, f"recommendation '{rec.id}' links unknown training topic '{tid}'{hint}")
            for field_name in ("rationale", "next_step"):
                text = getattr(rec, field_name)
                if text is not None:
                    for lang in LANGUAGES:
                        value = getattr(text, lang)
                        if value:
                            self.check_placeholders(rec, value)

    def check_placeholders(self, rec: Recommendation, text: str) -> None:
        for m in re.finditer(r"\{([^{}]*)\}", text):
            name = m.group(1).strip()
            try:
                tree = ex.parse(name)
            except ex.ExpressionError as exc:
                self.error(rec, f"recommendation '{rec.id}': placeholder '{{{name}}}': {exc.message}")
                continue
            if not isinstance(tree, ex.Ref):
                self.error(rec, f"recommendation '{rec.id}': placeholder '{{{name}}}' must be a single name such as {{dimension.data}}")
                continue
            self.check_ref(tree, self.at(rec), f"recommendation '{rec.id}' placeholder", None)

    def check_tests(self) -> None:
        for case in self.q.tests:
            for qid in case.answers:
                if qid not in self.questions:
                    self.error(case, f"test '{case.name}' answers unknown question '{qid}'{did_you_mean(qid, self.questions)}")
            e = case.expect
            for did in list(e.dimensions):
                if did not in self.dimensions:
                    self.error(case, f"test '{case.name}' expects unknown dimension '{did}'{did_you_mean(did, self.dimensions)}")
            for pid in list(e.pillars):
                if pid not in self.pillars:
                    self.error(case, f"test '{case.name}' expects unknown pillar '{pid}'")
            level_ids = {lv.id for lv in self.q.levels}
            for did, lid in e.levels.items():
                if did != "overall" and did not in self.dimensions:
                    self.error(case, f"test '{case.name}' expects a level for unknown dimension '{did}'")
                if lid not in level_ids:
                    self.error(case, f"test '{case.name}' expects unknown level '{lid}'{did_you_mean(lid, level_ids)}")
            if e.archetype is not None and e.archetype not in self.archetype_ids:
                self.error(case, f"test '{case.name}' expects unknown archetype '{e.archetype}'{did_you_mean(e.archetype, self.archetype_ids)}")
            for rid in e.recommendations + e.not_recommendations:
                if rid not in self.recommendations:
                    self.error(case, f"test '{case.name}' names unknown recommendation '{rid}'{did_you_mean(rid, self.recommendations)}")

    def check_translations(self) -> None:
        wanted = [lang for lang in self.q.languages]
        if "en" not in wanted:
            self.error(self.q, "'languages' must include 'en'")
        seen: set[int] = set()

        def visit(obj: Any, owner: Any) -> None:
            if isinstance(obj, Text):
                if id(obj) in seen:
                    return
                seen.add(id(obj))
                missing = [lang for lang in wanted if not getattr(obj, lang, None)]
                if missing:
                    where = self.locs.get(id(obj)) or self.at(owner)
                    self.diags.warning(where, f"missing translation ({', '.join(missing)}) for '{obj.en[:50]}'")
            elif isinstance(obj, msgspec.Struct):
                if isinstance(obj, type(self.q)) and obj is not self.q:
                    return
                for name in obj.__struct_fields__:
                    if name == "tests":
                        continue
                    visit(getattr(obj, name), obj)
            elif isinstance(obj, list):
                for item in obj:
                    visit(item, owner)
            elif isinstance(obj, dict):
                for item in obj.values():
                    visit(item, owner)

        visit(self.r, self.q)


def build(resolved: Resolved, checker: _Checker, warnings: list, file: str) -> CompiledQuestionnaire:
    options = {}
    for qid, question in checker.questions.items():
        if isinstance(question, (SingleChoice, MultipleChoice)):
            options[qid] = MappingProxyType({o.id: o for o in question.options})
        elif isinstance(question, Matrix) and question.columns is not None:
            options[qid] = MappingProxyType({o.id: o for o in question.columns})
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


def _visibility(resolved: Resolved, show_if: dict) -> tuple:
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


def _locations(resolved: Resolved, checker: _Checker) -> dict:
    q = resolved.questionnaire
    out = {}
    for kind, items in (("question", checker.questions.values()), ("dimension", q.dimensions), ("recommendation", q.recommendations), ("section", q.sections)):
        for item in items:
            if id(item) in checker.locs:
                out[(kind, item.id)] = checker.locs[id(item)]
    for i, case in enumerate(q.tests):
        if id(case) in checker.locs:
            out[("test", i)] = checker.locs[id(case)]
    return out


def _expression_locations(loader: Loader, locs: dict) -> None:
    """Teach the checker where each expression string sits, character by character."""
    for loaded in loader.cache.values():
        if isinstance(loaded, SourceError):
            continue
        for obj_id, path in loaded.paths.items():
            for key in ("show_if", "formula", "when"):
                full = path + (key,)
                if full in loaded.source._marks:
                    src = loaded.source
                    locs.setdefault(("expr", obj_id, key), (lambda offset, src=src, full=full: src.location_in(full, offset)))


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
    if not isinstance(loaded.doc, QuestionnaireFile):
        raise ValueError(f"{loaded.source.name} is a {KIND_NAMES[type(loaded.doc)]}, not a questionnaire")
    resolved, locs = resolve(loaded, loader, diags)
    _expression_locations(loader, locs)
    checker = _Checker(resolved, locs, diags, loaded.source.name)
    if not diags.errors:
        checker.run()
    mine = diags.items[start:]
    if any(d.severity == "error" for d in mine):
        raise QuestionnaireError(mine)
    return build(resolved, checker, [d for d in mine if d.severity == "warning"], loaded.source.name)


def compile_resolved(resolved: Resolved, name: str = "<stored>") -> CompiledQuestionnaire:
    """Compile a stored ``Resolved`` value again, without reading any file."""
    diags = Diagnostics()
    checker = _Checker(resolved, {}, diags, name)
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
    reported: set[tuple] = set()
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
            try:
                compiled.append(compile_questionnaire(path, loader, local))
            except QuestionnaireError:
                pass
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
