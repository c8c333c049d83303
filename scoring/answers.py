"""Answers: checking them against a compiled questionnaire, and which questions are visible.

An answer set maps question ids to values. What a value can be depends on the question's
kind (README, "Question kinds"; each kind's ``answer_check`` in ``questionnaires.kinds``):
an option id, a list of them, a number, true or false, text, a mapping of matrix rows...;
``"na"`` is "don't know / not applicable", where the question allows it.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

import msgspec

from questionnaires.checks import CompiledExpression
from questionnaires.compile import CompiledQuestionnaire
from questionnaires.diagnostics import MAX_SUGGESTED_NAME, did_you_mean
from questionnaires.expressions import EvaluationError
from questionnaires.kinds import kind_of
from questionnaires.kinds.base import AnswerCheck, BadAnswer, QuestionBase
from questionnaires.schema import Company

_NOTHING_HIDDEN: frozenset[str] = frozenset()


class ScoringError(Exception):
    """The engine's own error: nothing else escapes from checking or scoring answers."""


class AnswerProblem(msgspec.Struct, frozen=True):
    question: str
    message: str

    def __str__(self) -> str:
        return f"{self.question}: {self.message}"


MAX_PROBLEMS = 50
"""The problems one answer set is refused with, at most; the rest are counted in a last one."""
MAX_SUGGESTIONS = 10
"""Unknown question ids of one answer set that get a did-you-mean suggestion, at most: each
costs a comparison with every question id, and a request can name thousands."""


def limit_problems(problems: list[AnswerProblem]) -> list[AnswerProblem]:
    """``problems``, the first MAX_PROBLEMS of them and then one that counts the others."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    more = len(problems) - MAX_PROBLEMS
    counted = "1 more problem is" if more == 1 else f"{more} more problems are"
    return [*problems[:MAX_PROBLEMS], AnswerProblem("answers", f"{counted} not listed; fix these first")]


class AnswersError(ScoringError):
    """Answers that do not fit the questionnaire; lists each problem with its question id
    (``limit_problems``: a bounded list, however many there are)."""

    def __init__(self, problems: list[AnswerProblem]):
        self.problems = limit_problems(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class ExpressionFailure(ScoringError):
    """An expression that failed at run time, with where it was written."""

    def __init__(self, where: str, owner: str, message: str):
        self.where = where
        self.owner = owner
        super().__init__(f"{where}: {owner}: {message}")


class Env:
    """What expressions see. A plain class with slots, since closures read it in the hot path."""

    __slots__ = ("answers", "scores", "points", "dimensions", "pillars", "levels", "overall", "archetype", "company")

    def __init__(self, answers: dict[str, Any], company: dict[str, Any]):
        self.answers = answers
        self.company = company
        self.scores: dict[str, float | None] = {}
        self.points: dict[str, float | None] = {}
        self.dimensions: dict[str, float | None] = {}
        self.pillars: dict[str, float | None] = {}
        self.levels: dict[str, str | None] = {}
        self.overall: float | None = None
        self.archetype: str | None = None


def company_dict(company: Company | Mapping[str, Any] | None) -> dict[str, Any]:
    """The company's attributes as expressions see them; raises AnswersError for bad ones."""
    if company is None:
        company = Company()
    if isinstance(company, Company):
        return {"size": company.size, "sector": company.sector, "country": company.country, "cluster": company.cluster}
    try:
        c = msgspec.convert(dict(company), Company)
    except (msgspec.ValidationError, TypeError, ValueError) as exc:
        raise AnswersError([AnswerProblem("company", str(exc))]) from None
    return company_dict(c)


def evaluate(compiled_expression: CompiledExpression, env: Env) -> Any:
    """The value of an expression; raises ExpressionFailure, with where it was written."""
    try:
        return compiled_expression.evaluate(env)
    except EvaluationError as exc:
        raise ExpressionFailure(str(compiled_expression.location), compiled_expression.owner, str(exc)) from None


def visible_answers(compiled: CompiledQuestionnaire, answers: Mapping[str, Any], company: dict[str, Any]) -> tuple[dict[str, Any], frozenset[str] | set[str]]:
    """The answers to visible questions, and the ids of hidden questions.

    Conditions only use earlier answers (the compiler checks this), so one pass in page order
    settles every question, and a hidden question's answer is never seen by a later one.
    """
    conditions = compiled.visibility
    if not conditions:
        return answers if isinstance(answers, dict) else dict(answers), _NOTHING_HIDDEN
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


def shown_items(compiled: CompiledQuestionnaire, q: QuestionBase, env: Env) -> list[Any]:
    """The options or rows of ``q`` whose condition holds, in the question's order."""
    show_if = compiled.show_if
    return [
        item
        for name, item in kind_of(q).conditional_items(q)
        if (condition := show_if.get((name, q.id, item.id))) is None or evaluate(condition, env)
    ]


class _Checks:
    """What checking answers to one questionnaire needs, worked out once: each question's
    answer check, and the questions with options or rows of their own conditions."""

    __slots__ = ("by_question", "with_conditional_items", "__weakref__")

    def __init__(self, compiled: CompiledQuestionnaire):
        self.by_question: dict[str, AnswerCheck] = {qid: kind_of(q).answer_check(q) for qid, q in compiled.questions.items()}
        self.with_conditional_items = frozenset(key[1] for key in compiled.show_if if key[0] in ("option", "row"))


_checks: weakref.WeakKeyDictionary[CompiledQuestionnaire, _Checks] = weakref.WeakKeyDictionary()


def _checks_for(compiled: CompiledQuestionnaire) -> _Checks:
    checks = _checks.get(compiled)
    if checks is None:
        checks = _checks[compiled] = _Checks(compiled)
    return checks


def check_each(compiled: CompiledQuestionnaire, answers: Mapping[str, Any]) -> tuple[dict[str, Any], list[AnswerProblem]]:
    """Check each answer on its own (question, options, type, range), without conditions:
    the normalised answers that pass, and the problems of those that do not."""
    checks = _checks_for(compiled).by_question
    problems: list[AnswerProblem] = []
    normalised: dict[str, Any] = {}
    unknown = 0
    for qid, value in answers.items():
        check = checks.get(qid)
        if check is None:
            unknown += 1
            hint = did_you_mean(str(qid), compiled.questions) if unknown <= MAX_SUGGESTIONS else ""
            problems.append(AnswerProblem(shown_id(qid), f"unknown question{hint}"))
            continue
        if value is None:
            continue
        try:
            normalised[qid] = check(value)
        except BadAnswer as exc:
            problems.extend(AnswerProblem(qid, message) for message in exc.messages)
    return normalised, problems


def shown_id(name: Any) -> str:
    """An unknown question id as a problem names it: cut short where no id is that long."""
    text = str(name)
    return text if len(text) <= MAX_SUGGESTED_NAME else text[: MAX_SUGGESTED_NAME - 3] + "..."


def check_answers(
    compiled: CompiledQuestionnaire, answers: Mapping[str, Any], company: Company | Mapping[str, Any] | None = None
) -> dict[str, Any]:
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
    compiled: CompiledQuestionnaire,
    given: Mapping[str, Any],
    seen: dict[str, Any],
    hidden: frozenset[str] | set[str],
    company: dict[str, Any],
) -> list[AnswerProblem]:
    """The problems of ``given`` answers that are hidden, or that choose options or rows
    hidden, when the conditions read the answers ``seen`` (those ``visible_answers`` let
    through, ``hidden`` being the rest)."""
    problems: list[AnswerProblem] = []
    env = Env(seen, company)
    conditional = _checks_for(compiled).with_conditional_items
    for qid, value in given.items():
        if qid in hidden:
            problems.append(AnswerProblem(qid, "this question is hidden by its show_if condition, so it cannot be answered"))
        elif qid in conditional:
            problems += _hidden_items(compiled, qid, value, env)
    return problems


def _hidden_items(compiled: CompiledQuestionnaire, qid: str, value: Any, env: Env) -> list[AnswerProblem]:
    q = compiled.questions[qid]
    problems = []
    for item, item_id in kind_of(q).chosen_items(q, value):
        cond = compiled.show_if.get((item, qid, item_id))
        if cond is not None and not evaluate(cond, env):
            problems.append(AnswerProblem(qid, f"{item} '{item_id}' is hidden by its show_if condition"))
    return problems
