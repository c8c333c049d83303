"""Answers: checking them against a compiled questionnaire, and which questions are visible.

An answer set maps question ids to values:

* single choice: an option id;      multiple choice: a list of option ids;
* scale: a whole number;            number: a number;
* yes/no: true or false ("yes"/"no" are accepted too);
* text: a string;                   matrix: a mapping of row id to a scale number, a column id,
  or (for tick columns) a list of column ids;
* ``"na"`` for "don't know / not applicable", where the question allows it (also per row).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec

from questionnaires.compile import CompiledQuestionnaire
from questionnaires.diagnostics import did_you_mean
from questionnaires.expressions import EvaluationError
from questionnaires.schema import (
    Company,
    FreeText,
    Matrix,
    MultipleChoice,
    Number,
    Scale,
    SingleChoice,
    YesNo,
)

NA = "na"
_NOTHING_HIDDEN: frozenset = frozenset()


class ScoringError(Exception):
    """The engine's own error: nothing else escapes from checking or scoring answers."""


class AnswerProblem(msgspec.Struct, frozen=True):
    question: str
    message: str

    def __str__(self) -> str:
        return f"{self.question}: {self.message}"


class AnswersError(ScoringError):
    """Answers that do not fit the questionnaire; lists every problem with its question id."""

    def __init__(self, problems: list[AnswerProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class ExpressionFailure(ScoringError):
    """An expression that failed at run time, with where it was written."""

    def __init__(self, where: str, owner: str, message: str):
        self.where = where
        self.owner = owner
        super().__init__(f"{where}: {owner}: {message}")


class Env:
    """What expressions see. A plain class with slots, since closures read it in the hot path."""

    __slots__ = ("answers", "scores", "points", "dimensions", "pillars", "levels", "overall", "archetype", "company")

    def __init__(self, answers: dict, company: dict):
        self.answers = answers
        self.company = company
        self.scores: dict = {}
        self.points: dict = {}
        self.dimensions: dict = {}
        self.pillars: dict = {}
        self.levels: dict = {}
        self.overall = None
        self.archetype = None


def company_dict(company: Company | Mapping | None) -> dict:
    if company is None:
        company = Company()
    if isinstance(company, Company):
        return {"size": company.size, "sector": company.sector, "country": company.country, "cluster": company.cluster}
    try:
        c = msgspec.convert(dict(company), Company)
    except (msgspec.ValidationError, TypeError, ValueError) as exc:
        raise AnswersError([AnswerProblem("company", str(exc))]) from None
    return company_dict(c)


def evaluate(compiled_expression, env: Env):
    try:
        return compiled_expression.evaluate(env)
    except EvaluationError as exc:
        raise ExpressionFailure(str(compiled_expression.location), compiled_expression.owner, str(exc)) from None


def visible_answers(compiled: CompiledQuestionnaire, answers: Mapping[str, Any], company: dict) -> tuple[dict, set[str]]:
    """The answers to visible questions, and the ids of hidden questions.

    Conditions only use earlier answers (the compiler checks this), so one pass in page order
    settles every question, and a hidden question's answer is never seen by a later one.
    """
    conditions = compiled.visibility
    if not conditions:
        return answers, _NOTHING_HIDDEN
    visible = dict(answers)
    env = Env(visible, company)
    hidden: set[str] = set()
    for cond, qids in conditions:
        if qids[0] in hidden:
            continue  # its section is hidden already
        if not evaluate(cond, env):
            hidden.update(qids)
            for qid in qids:
                visible.pop(qid, None)
    return visible, hidden


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_each(compiled: CompiledQuestionnaire, answers: Mapping[str, Any]) -> tuple[dict, list[AnswerProblem]]:
    """Check each answer on its own (question, options, type, range), without conditions:
    the normalised answers that pass, and the problems of those that do not."""
    problems: list[AnswerProblem] = []
    normalised: dict = {}
    for qid, value in answers.items():
        if not isinstance(qid, str) or qid not in compiled.questions:
            problems.append(AnswerProblem(str(qid), f"unknown question{did_you_mean(str(qid), compiled.questions)}"))
            continue
        if value is None:
            continue
        found = len(problems)
        result = _check_value(compiled, compiled.questions[qid], value, problems)
        if result is not None and len(problems) == found:
            normalised[qid] = result
    return normalised, problems


def check_answers(
    compiled: CompiledQuestionnaire, answers: Mapping[str, Any], company: Company | Mapping | None = None
) -> dict:
    """Return the answers normalised (yes/no as booleans); raise AnswersError listing every
    problem: unknown questions or options, wrong types, numbers out of range, and answers to
    hidden questions or options."""
    if not isinstance(answers, Mapping):
        raise AnswersError([AnswerProblem("answers", "answers must be a mapping of question id to value")])
    company_values = company_dict(company)
    normalised, problems = check_each(compiled, answers)
    # Hidden questions and options depend on the other answers, so check them on the result.
    if not problems and compiled.show_if:
        try:
            _, hidden = visible_answers(compiled, normalised, company_values)
            problems += hidden_answer_problems(compiled, normalised, normalised, hidden, company_values)
        except ScoringError as exc:
            problems.append(AnswerProblem("show_if", str(exc)))
    if problems:
        raise AnswersError(problems)
    return normalised


def hidden_answer_problems(
    compiled: CompiledQuestionnaire, given: Mapping[str, Any], seen: dict, hidden: set[str], company: dict
) -> list[AnswerProblem]:
    """The problems of ``given`` answers that are hidden, or that choose options or rows
    hidden, when the conditions read the answers ``seen`` (those ``visible_answers`` let
    through, ``hidden`` being the rest)."""
    problems: list[AnswerProblem] = []
    env = Env(seen, company)
    for qid, value in given.items():
        if qid in hidden:
            problems.append(AnswerProblem(qid, "this question is hidden by its show_if condition, so it cannot be answered"))
        else:
            _check_hidden_items(compiled, qid, value, env, problems)
    return problems


def _check_hidden_items(compiled, qid, value, env, problems) -> None:
    q = compiled.questions[qid]
    if isinstance(q, (SingleChoice, MultipleChoice)):
        chosen = value if isinstance(value, list) else [value]
        for oid in chosen:
            cond = compiled.show_if.get(("option", qid, oid))
            if cond is not None and not evaluate(cond, env):
                problems.append(AnswerProblem(qid, f"option '{oid}' is hidden by its show_if condition"))
    elif isinstance(q, Matrix) and isinstance(value, dict):
        for rid in value:
            cond = compiled.show_if.get(("row", qid, rid))
            if cond is not None and not evaluate(cond, env):
                problems.append(AnswerProblem(qid, f"row '{rid}' is hidden by its show_if condition"))


def _check_value(compiled, q, value, problems: list[AnswerProblem]):
    qid = q.id

    def bad(message: str):
        problems.append(AnswerProblem(qid, message))
        return None

    if value == NA and not isinstance(q, FreeText):
        if not q.allow_na:
            return bad("this question does not offer \"don't know / not applicable\"")
        return NA
    if isinstance(q, SingleChoice):
        if not isinstance(value, str):
            return bad(f"expected an option id, got {_describe(value)}")
        if value not in compiled.options[qid]:
            return bad(f"unknown option '{value}'{did_you_mean(value, compiled.options[qid])}")
        return value
    if isinstance(q, MultipleChoice):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return bad(f"expected a list of option ids, got {_describe(value)}")
        options = compiled.options[qid]
        unknown = [v for v in value if v not in options]
        if unknown:
            return bad("unknown option" + ("s " if len(unknown) > 1 else " ") + ", ".join(f"'{u}'{did_you_mean(u, options)}" for u in unknown))
        if len(set(value)) != len(value):
            return bad("an option is ticked twice")
        exclusive = [v for v in value if options[v].exclusive]
        if exclusive and len(value) > 1:
            return bad(f"option '{exclusive[0]}' excludes every other option")
        return list(value)
    if isinstance(q, Scale):
        if not _is_number(value) or value != int(value):
            return bad(f"expected a whole number from {q.min} to {q.max}, got {_describe(value)}")
        if not q.min <= value <= q.max:
            return bad(f"{value} is outside the scale {q.min}..{q.max}")
        return int(value)
    if isinstance(q, Number):
        if not _is_number(value):
            return bad(f"expected a number, got {_describe(value)}")
        if q.integer and value != int(value):
            return bad(f"expected a whole number, got {value}")
        if q.min is not None and value < q.min:
            return bad(f"{value:g} is below the minimum {q.min:g}")
        if q.max is not None and value > q.max:
            return bad(f"{value:g} is above the maximum {q.max:g}")
        return value
    if isinstance(q, YesNo):
        if isinstance(value, bool):
            return value
        if value in ("yes", "no"):
            return value == "yes"
        return bad(f"expected yes or no, got {_describe(value)}")
    if isinstance(q, FreeText):
        if not isinstance(value, str):
            return bad(f"expected text, got {_describe(value)}")
        if len(value) > q.max_length:
            return bad(f"the text is {len(value)} characters long; the limit is {q.max_length}")
        return value
    if isinstance(q, Matrix):
        if not isinstance(value, dict):
            return bad(f"expected a mapping of row id to value, got {_describe(value)}")
        rows = {r.id for r in q.rows}
        out = {}
        for rid, cell in value.items():
            if rid not in rows:
                bad(f"unknown row '{rid}'{did_you_mean(str(rid), rows)}")
                continue
            if cell is None:
                continue
            if cell == NA:
                if not q.allow_na:
                    bad(f"row '{rid}': this question does not offer \"don't know / not applicable\"")
                else:
                    out[rid] = NA
                continue
            if q.scale is not None:
                values = [p.value for p in q.scale]
                if not _is_number(cell) or cell not in values:
                    bad(f"row '{rid}': expected one of {', '.join(map(str, values))}, got {_describe(cell)}")
                    continue
                out[rid] = int(cell)
            elif q.multiple:
                if isinstance(cell, str):
                    cell = [cell]
                columns = compiled.options[qid]
                if not isinstance(cell, list) or not all(isinstance(c, str) and c in columns for c in cell):
                    bad(f"row '{rid}': expected a list of column ids ({', '.join(columns)}), got {_describe(cell)}")
                    continue
                out[rid] = sorted(set(cell), key=list(columns).index)
            else:
                columns = compiled.options[qid]
                if not isinstance(cell, str) or cell not in columns:
                    bad(f"row '{rid}': expected one of {', '.join(columns)}, got {_describe(cell)}")
                    continue
                out[rid] = cell
        return out
    return bad("this question cannot be answered")  # pragma: no cover - every kind is handled above


def _describe(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"'{shown}'"
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
