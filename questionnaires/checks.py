"""Checks that span fields and files, run on a resolved questionnaire: unique ids, references
that resolve (with did-you-mean suggestions), expressions that parse and name known things,
consistent weights and thresholds, reachable archetypes, and missing translations (warnings).
Every problem is collected with its location, so that one run reports all of them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import msgspec

from . import expressions as ex
from .diagnostics import Diagnostics, Location, did_you_mean
from .kinds import Question, kind_of
from .primitives import Text
from .reference import DMA_DIMENSIONS, LANGUAGES
from .resolve import Resolved
from .schema import ArchetypeMatrix, DmaDimensions, Recommendation


@dataclass(frozen=True)
class CompiledExpression:
    """An expression with where it came from, for messages at run time."""

    expression: ex.Expression
    location: Location
    owner: str  # what it belongs to, e.g. "question q1 show_if"

    @property
    def text(self) -> str:
        return self.expression.text

    def evaluate(self, env: ex.Environment) -> Any:
        """The expression's value in ``env``; raises EvaluationError when it has none."""
        return self.expression.evaluate(env)


def _scored(q: Question) -> bool:
    return kind_of(q).unscored_reason(q) is None


ANSWERS_ONLY = frozenset({"answer", "company"})
"""What conditions may read: they are evaluated before anything is scored."""

LocationOf = Callable[[int], Location]
"""The place of a character of an expression, by its offset."""


class Checker:
    def __init__(
        self,
        resolved: Resolved,
        locs: dict[int, Location],
        diags: Diagnostics,
        file: str,
        expression_locs: dict[tuple[int, str], LocationOf] | None = None,
    ):
        self.r = resolved
        self.q = resolved.questionnaire
        self.locs = locs
        self.expression_locs = expression_locs or {}
        self.diags = diags
        self.file = file
        self.questions: dict[str, Question] = {}
        self.section_of: dict[str, str] = {}
        self.show_if: dict[tuple[str, ...], CompiledExpression] = {}
        self.formulas: dict[str, CompiledExpression] = {}
        self.conditions: dict[str, CompiledExpression] = {}

    def at(self, obj: Any) -> Location:
        return self.locs.get(id(obj), Location(self.file))

    def error(self, obj: Any, message: str) -> None:
        self.diags.error(self.at(obj), message)

    # Uniqueness and references

    def unique(self, items: Iterable[Any], what: str) -> dict[str, Any]:
        seen: dict[str, Any] = {}
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
        kind = kind_of(question)
        for did in question.scoring():
            if did not in self.dimensions:
                self.error(question, f"question '{question.id}' names unknown dimension '{did}'{did_you_mean(did, self.dimensions)}")
        unscored = kind.unscored_reason(question)
        if question.scoring() and unscored is not None:
            self.error(question, f"question '{question.id}' has a dimension but {unscored}")
        kind.check_definition(question, self)

    def check_scoring_model(self) -> None:
        self.check_dimensions()
        self.check_pillars()
        self.check_levels()
        if self.q.archetypes is not None:
            self.check_archetypes(self.q.archetypes)
        if self.q.dma is not None:
            self.check_dma(self.q.dma)

    def check_dimensions(self) -> None:
        scored_dims = {d for question in self.questions.values() for d, w in question.scoring().items() if w > 0}
        for d in self.q.dimensions:
            if d.pillar not in self.pillars:
                self.error(d, f"dimension '{d.id}' is in pillar '{d.pillar}', which is not declared under 'pillars'")
            if d.formula is None and d.id not in scored_dims:
                self.error(d, f"dimension '{d.id}' has no scored questions and no formula")

    def check_pillars(self) -> None:
        q = self.q
        for p in q.pillars:
            members = [d for d in q.dimensions if d.pillar == p.id]
            if p.weight > 0 and not members:
                self.error(p, f"pillar '{p.id}' has weight {p.weight:g} but no dimensions")
            elif members and sum(d.weight for d in members) <= 0:
                self.error(p, f"the dimensions of pillar '{p.id}' all have weight 0")
        if q.pillars and sum(p.weight for p in q.pillars) <= 0:
            self.error(q.pillars[0], "the pillar weights add up to 0")

    def check_levels(self) -> None:
        q = self.q
        if q.dimensions and not q.levels:
            self.error(q, "the questionnaire has dimensions but no maturity 'levels'")
        if q.levels and q.levels[0].from_ != 0:
            self.error(q.levels[0], f"the first level must start 'from: 0', not {q.levels[0].from_:g}")
        for a, b in itertools.pairwise(q.levels):
            if b.from_ <= a.from_:
                self.error(b, f"level '{b.id}' must start above level '{a.id}' ({b.from_:g} <= {a.from_:g})")

    def check_archetypes(self, m: ArchetypeMatrix) -> None:
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

    def check_dma(self, dma: DmaDimensions) -> None:
        """Each DMA dimension names a dimension of the questionnaire, and none is named twice."""
        named: dict[str, str] = {}
        for key in DMA_DIMENSIONS:
            did = getattr(dma, key)
            if did not in self.dimensions:
                self.error(dma, f"dma: '{key}' names unknown dimension '{did}'{did_you_mean(did, self.dimensions)}")
            elif did in named:
                self.error(dma, f"dma: '{key}' and '{named[did]}' both name dimension '{did}'; each DMA dimension needs its own")
            else:
                named[did] = key

    # Expressions

    def expression(self, owner_obj: Any, key: str, text: str, owner: str, allowed: AbstractSet[str], self_id: str | None = None) -> CompiledExpression | None:
        base = self.at(owner_obj)
        loc_src = self.expression_locs.get((id(owner_obj), key))
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
                rows = kind_of(question).member_ids(question)
                if rows is None:
                    self.diags.error(where, f"{owner}: '{name}.{ref.member}': only matrix questions have rows")
                    return False
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

    def check_literals(self, tree: ex.Node, loc_src: LocationOf | None, base: Location, owner: str) -> bool:
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
    def literal_strings(node: ex.Node) -> list[tuple[str, int]] | None:
        if isinstance(node, ex.Literal) and isinstance(node.value, str):
            return [(node.value, node.offset)]
        if isinstance(node, ex.ListNode):
            return [(n.value, n.offset) for n in node.items if isinstance(n, ex.Literal) and isinstance(n.value, str)]
        return None

    def known_values(self, ref: ex.Ref) -> set[str] | None:
        if ref.namespace == "answer" and ref.name in self.questions:
            question = self.questions[ref.name]
            kind = kind_of(question)
            return kind.answer_values(question) if ref.member is None else kind.member_values(question)
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
        self.check_section_conditions()
        self.check_question_conditions()
        self.check_formulas()
        everything = {"answer", "score", "points", "dimension", "pillar", "level", "overall", "archetype", "company"}
        for rec in self.q.recommendations:
            c = self.expression(rec, "when", rec.when, f"recommendation '{rec.id}' when", everything)
            if c:
                self.conditions[rec.id] = c

    def check_section_conditions(self) -> None:
        for s in self.q.sections:
            if not s.show_if:
                continue
            c = self.expression(s, "show_if", s.show_if, f"section '{s.id}' show_if", ANSWERS_ONLY)
            if c:
                self.show_if[("section", s.id)] = c
                earlier = set(self.questions)
                for later in self.q.sections[self.q.sections.index(s):]:
                    earlier -= {q.id for q in later.questions}
                for ref in c.expression.refs():
                    if ref.namespace == "answer" and ref.name not in earlier:
                        self.error(s, f"section '{s.id}' show_if uses '{ref.name}', which is not on an earlier page; a condition may only use earlier answers")

    def check_question_conditions(self) -> None:
        order = {qid: i for i, qid in enumerate(self.questions)}
        for question in self.questions.values():
            if question.show_if:
                c = self.expression(question, "show_if", question.show_if, f"question '{question.id}' show_if", ANSWERS_ONLY, question.id)
                if c:
                    self.show_if[("question", question.id)] = c
                    for ref in c.expression.refs():
                        if ref.namespace == "answer" and order.get(ref.name, -1) > order[question.id]:
                            self.error(question, f"question '{question.id}' show_if uses '{ref.name}', which comes later; a condition may only use earlier answers")
            for kind, item in kind_of(question).conditional_items(question):
                if item.show_if:
                    c = self.expression(item, "show_if", item.show_if, f"{kind} '{question.id}.{item.id}' show_if", ANSWERS_ONLY, question.id)
                    if c:
                        self.show_if[(kind, question.id, item.id)] = c

    def check_formulas(self) -> None:
        computed = {d.id for d in self.q.dimensions if d.formula}
        for d in self.q.dimensions:
            if not d.formula:
                continue
            c = self.expression(d, "formula", d.formula, f"dimension '{d.id}' formula", {"answer", "score", "points", "dimension", "company"})
            if c:
                for ref in c.expression.refs():
                    if ref.namespace == "dimension" and ref.name in computed:
                        self.error(d, f"dimension '{d.id}' formula uses dimension '{ref.name}', which is itself computed by a formula")
                self.formulas[d.id] = c

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
            if e.dma is not None and self.q.dma is None:
                self.error(case, f"test '{case.name}' expects a DMA score, but the questionnaire declares no 'dma' dimensions")
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


