"""Loading questionnaire files and resolving them into one self-contained value.

``load``: read one file safely (``questionnaires.source``) and decode it into the Structs of
``questionnaires.schema``, mapping msgspec's ``$.path`` errors back to lines. ``resolve``: splice
in included modules, apply a sector variant's changes to its base, and attach the catalog,
giving one ``Resolved`` value: what is fingerprinted and stored with every response.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from .diagnostics import Diagnostics, Location, did_you_mean
from .schema import (
    CatalogFile,
    Changes,
    Dimension,
    ModuleFile,
    Pillar,
    Question,
    QuestionnaireFile,
    Recommendation,
    Section,
    SourceFile,
)
from .source import Source, SourceError, YamlPath, load_source

KIND_NAMES: dict[type[SourceFile], str] = {QuestionnaireFile: "questionnaire", ModuleFile: "module", CatalogFile: "catalog"}


# --- Loading ---------------------------------------------------------------------------


@dataclass
class Loaded:
    """A decoded file and the place of every Struct in it."""

    path: Path
    source: Source
    doc: SourceFile
    paths: dict[int, YamlPath] = field(default_factory=dict)  # id(struct) -> path in the file

    def where(self, obj: Any, *rest: str | int) -> Location:
        return self.source.location(self.paths.get(id(obj), ()) + rest)


_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[\.\.\.\]")


def _parse_msgspec_path(text: str) -> YamlPath:
    parts: list[str | int] = []
    for m in _PATH_PART.finditer(text):
        if m.group(1) is not None:
            parts.append(m.group(1))
        elif m.group(2) is not None:
            parts.append(int(m.group(2)))
    return tuple(parts)


def _explain_validation(message: str) -> str:
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


def _index_structs(obj: Any, path: YamlPath, out: dict[int, YamlPath]) -> None:
    if isinstance(obj, msgspec.Struct):
        out[id(obj)] = path
        encoded = getattr(type(obj), "__struct_encode_fields__", obj.__struct_fields__)
        for name, key in zip(obj.__struct_fields__, encoded, strict=True):
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
            raise SourceError(source.location(parts), f"{_explain_validation(message)} for 'kind'; use one of {kinds}") from None
        raise SourceError(source.location(parts), _explain_validation(message)) from None
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


# --- Resolution ------------------------------------------------------------------------


class Resolved(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A questionnaire with every include and variant applied: all it needs, in one value.

    This is what is stored with each response and fingerprinted, so that a response keeps
    its own version of the questionnaire whatever later happens to the files.
    """

    questionnaire: QuestionnaireFile
    catalog: CatalogFile | None = None


_Weighted = TypeVar("_Weighted", Dimension, Pillar)
_Kind = TypeVar("_Kind", QuestionnaireFile, ModuleFile, CatalogFile)


class _Sections:
    """A variant's sections while its changes apply: in order, by id, and the ids of the
    base's questions (what a misspelt question id is compared with)."""

    def __init__(self, sections: list[Section]):
        self.sections = sections
        self.by_id = {s.id: s for s in sections}
        self.base_questions = [q.id for s in sections for q in s.questions]

    def find_question(self, qid: str) -> tuple[Section, int] | None:
        """The section that holds question ``qid`` and its place there."""
        for s in self.sections:
            for i, q in enumerate(s.questions):
                if q.id == qid:
                    return s, i
        return None


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

    def relative(self, loaded: Loaded, obj: Any, key: str, target: str, kind: type[_Kind], index: int | None = None) -> tuple[Loaded, _Kind] | None:
        """The file that ``obj``'s ``key`` names (``target``, relative to ``loaded``) and its
        document; None, with the error reported, when it is missing, includes itself, does
        not load or is not a ``kind``."""
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
        doc = target_loaded.doc
        if not isinstance(doc, kind):
            self.diags.error(location, f"'{target_loaded.source.name}' is a {KIND_NAMES[type(doc)]}, not a {KIND_NAMES[kind]}")
            return None
        return target_loaded, doc

    def section(self, loaded: Loaded, section: Section) -> Section:
        if not section.include:
            return section
        questions: list[Question] = []
        for i, target in enumerate(section.include):
            included = self.relative(loaded, section, "include", target, ModuleFile, i)
            if included is not None:
                _, module = included
                questions.extend(module.questions)
        new = msgspec.structs.replace(section, include=[], questions=questions + list(section.questions))
        self.locs[id(new)] = self.where(section)
        return new

    def questionnaire(self, loaded: Loaded, doc: QuestionnaireFile) -> QuestionnaireFile:
        """``doc``, the questionnaire of ``loaded``, with its base, includes and changes applied."""
        self.stack.append(loaded.path.resolve())
        try:
            if doc.extends:
                extended = self.relative(loaded, doc, "extends", doc.extends, QuestionnaireFile)
                base = self.questionnaire(*extended) if extended is not None else msgspec.structs.replace(doc, sections=[], extends=None)
                merged = self.extend(loaded, base, doc)
            else:
                merged = doc
            sections: list[Section] = []
            dimensions: list[Dimension] = []
            recommendations: list[Recommendation] = []
            for i, target in enumerate(doc.include):
                included = self.relative(loaded, doc, "include", target, ModuleFile, i)
                if included is not None:
                    module_loaded, module = included
                    sections.extend(self.section(module_loaded, s) for s in module.sections)
                    dimensions.extend(module.dimensions)
                    recommendations.extend(module.recommendations)
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
        """Apply a sector variant to its (already resolved) base: its changes in the order the
        README gives them, each of which reports what it cannot find."""
        changes = doc.changes or Changes()
        sections = _Sections(self.copy_sections(base.sections))
        self.remove_questions(loaded, changes, sections)
        self.remove_sections(loaded, changes, sections)
        self.replace_questions(changes, sections)
        self.add_sections(loaded, changes, sections)
        self.add_questions(changes, sections)
        self.reweight_questions(loaded, changes, sections)
        dimensions = self.reweighted(loaded, changes, "dimension_weights", "dimension", list(base.dimensions) + list(doc.dimensions))
        pillars = self.reweighted(loaded, changes, "pillar_weights", "pillar", list(doc.pillars or base.pillars))
        recommendations = self.remaining_recommendations(loaded, changes, list(base.recommendations))
        own = [self.section(loaded, s) for s in doc.sections]
        return msgspec.structs.replace(
            doc,
            description=doc.description or base.description,
            sectors=doc.sectors or base.sectors,
            estimated_minutes=doc.estimated_minutes or base.estimated_minutes,
            catalog=None,
            sections=sections.sections + own,
            pillars=pillars,
            dimensions=dimensions,
            levels=doc.levels or base.levels,
            archetypes=doc.archetypes or base.archetypes,
            dma=doc.dma or base.dma,
            recommendations=recommendations + list(changes.add_recommendations) + list(doc.recommendations),
            include=doc.include,
        )

    def copy_sections(self, sections: list[Section]) -> list[Section]:
        """Copies of the base's sections with lists of questions of their own, for the
        variant's changes to edit, at the places of the originals."""
        copies = [msgspec.structs.replace(s, questions=list(s.questions)) for s in sections]
        for old, new in zip(sections, copies, strict=True):
            self.locs[id(new)] = self.where(old)
        return copies

    def remove_questions(self, loaded: Loaded, changes: Changes, sections: _Sections) -> None:
        for i, qid in enumerate(changes.remove_questions):
            found = sections.find_question(qid)
            if found is None:
                self.diags.error(loaded.where(changes, "remove_questions", i), f"cannot remove unknown question '{qid}'{did_you_mean(qid, sections.base_questions)}")
            else:
                s, j = found
                del s.questions[j]

    def remove_sections(self, loaded: Loaded, changes: Changes, sections: _Sections) -> None:
        for i, sid in enumerate(changes.remove_sections):
            if sid not in sections.by_id:
                self.diags.error(loaded.where(changes, "remove_sections", i), f"cannot remove unknown section '{sid}'{did_you_mean(sid, sections.by_id)}")
            else:
                sections.sections.remove(sections.by_id.pop(sid))

    def replace_questions(self, changes: Changes, sections: _Sections) -> None:
        for q in changes.replace_questions:
            found = sections.find_question(q.id)
            if found is None:
                self.diags.error(self.where(q), f"cannot replace unknown question '{q.id}'{did_you_mean(q.id, sections.base_questions)}; use add_questions for a new one")
            else:
                s, j = found
                s.questions[j] = q

    def add_sections(self, loaded: Loaded, changes: Changes, sections: _Sections) -> None:
        for add in changes.add_sections:
            position = len(sections.sections)
            if add.after is not None:
                if add.after not in sections.by_id:
                    self.diags.error(self.where(add), f"unknown section '{add.after}' in 'after'{did_you_mean(add.after, sections.by_id)}")
                else:
                    position = sections.sections.index(sections.by_id[add.after]) + 1
            new_sections = [self.section(loaded, s) for s in add.sections]
            sections.sections[position:position] = new_sections
            sections.by_id.update({s.id: s for s in new_sections})

    def add_questions(self, changes: Changes, sections: _Sections) -> None:
        for add in changes.add_questions:
            s = sections.by_id.get(add.section)
            if s is None:
                self.diags.error(self.where(add), f"unknown section '{add.section}'{did_you_mean(add.section, sections.by_id)}")
                continue
            position = len(s.questions)
            if add.after is not None:
                ids = [q.id for q in s.questions]
                if add.after not in ids:
                    self.diags.error(self.where(add), f"question '{add.after}' is not in section '{add.section}'{did_you_mean(add.after, ids)}")
                else:
                    position = ids.index(add.after) + 1
            s.questions[position:position] = add.questions

    def reweight_questions(self, loaded: Loaded, changes: Changes, sections: _Sections) -> None:
        """A question's new weight; one that scores into several dimensions gets it in each."""
        for qid, weight in changes.question_weights.items():
            found = sections.find_question(qid)
            if found is None:
                self.diags.error(loaded.where(changes, "question_weights", qid), f"unknown question '{qid}'{did_you_mean(qid, sections.base_questions)}")
                continue
            s, j = found
            q = s.questions[j]
            if q.dimensions is not None:
                new_q = msgspec.structs.replace(q, dimensions={d: weight for d in q.dimensions})
            else:
                new_q = msgspec.structs.replace(q, weight=weight)
            self.locs[id(new_q)] = self.where(q)
            s.questions[j] = new_q

    def reweighted(self, loaded: Loaded, changes: Changes, key: str, noun: str, items: list[_Weighted]) -> list[_Weighted]:
        """``items`` (dimensions or pillars) with the weights of ``changes.<key>``."""
        ids = [item.id for item in items]
        for item_id, weight in getattr(changes, key).items():
            if item_id not in ids:
                self.diags.error(loaded.where(changes, key, item_id), f"unknown {noun} '{item_id}'{did_you_mean(item_id, ids)}")
                continue
            i = ids.index(item_id)
            new = msgspec.structs.replace(items[i], weight=weight)
            self.locs[id(new)] = self.where(items[i])
            items[i] = new
        return items

    def remaining_recommendations(self, loaded: Loaded, changes: Changes, recommendations: list[Recommendation]) -> list[Recommendation]:
        """The base's recommendations less those the variant removes."""
        ids = [r.id for r in recommendations]
        for i, rid in enumerate(changes.remove_recommendations):
            if rid not in ids:
                self.diags.error(loaded.where(changes, "remove_recommendations", i), f"cannot remove unknown recommendation '{rid}'{did_you_mean(rid, ids)}")
            else:
                recommendations = [r for r in recommendations if r.id != rid]
        return recommendations

    def catalog_for(self, loaded: Loaded, doc: QuestionnaireFile, seen: frozenset[Path] = frozenset()) -> CatalogFile | None:
        """The catalog named by ``doc``, the questionnaire of ``loaded``, or by the base it extends."""
        if loaded.path in seen:
            return None  # a cycle of `extends`, reported by `questionnaire`
        seen = seen | {loaded.path}
        if doc.catalog:
            included = self.relative(loaded, doc, "catalog", doc.catalog, CatalogFile)
            return included[1] if included is not None else None
        if doc.extends:
            path = loaded.path.parent / doc.extends
            try:
                base = self.loader.load(path)
            except (SourceError, OSError):
                return None
            if isinstance(base.doc, QuestionnaireFile):
                return self.catalog_for(base, base.doc, seen)
        return None


def resolve(loaded: Loaded, loader: Loader, diags: Diagnostics) -> tuple[Resolved, dict[int, Location]]:
    """The questionnaire of ``loaded`` resolved, and the place of each Struct in its files;
    raises ValueError when ``loaded`` is a module or a catalog."""
    doc = loaded.doc
    if not isinstance(doc, QuestionnaireFile):
        raise ValueError(f"{loaded.source.name} is a {KIND_NAMES[type(doc)]}, not a questionnaire")
    resolver = _Resolver(loader, diags)
    resolver.note(loaded)
    questionnaire = resolver.questionnaire(loaded, doc)
    catalog = resolver.catalog_for(loaded, doc)
    return Resolved(questionnaire, catalog), resolver.locs


