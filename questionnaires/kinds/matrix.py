"""``matrix``: rows that share one scale, one set of columns with points, or a set of tick
columns (``multiple``). It scores the mean over its rows; rows answered "na", or hidden by
their condition, are left out."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from ..diagnostics import did_you_mean
from .base import (
    MAX_LISTED,
    NA,
    NO_NA,
    UNSCORED,
    AnswerCheck,
    BadAnswer,
    Choice,
    ChoiceOut,
    ConditionalScorer,
    DefinitionChecks,
    FieldValues,
    FormReading,
    Gettext,
    Grid,
    Kind,
    Option,
    QuestionBase,
    QuestionOut,
    QuestionScorer,
    Row,
    RowOut,
    ScalePoint,
    ScalePointOut,
    Score,
    Visible,
    Widget,
    Words,
    describe_value,
    form_text,
    is_number,
    na_choice,
    pick_ranked,
    plain_words,
    question_out_fields,
    ratio,
    tick,
    ticked_boxes,
)


class Matrix(QuestionBase, tag="matrix"):
    """Rows that share one scale, one option set, or a set of tick columns."""

    rows: Annotated[list[Row], Meta(min_length=1)] = msgspec.field(default_factory=list)
    scale: Annotated[Annotated[list[ScalePoint], Meta(min_length=2)] | None, Meta(description='A numeric scale, such as 0 = Not used ... 5 = Operational; scores mean / max.')] = None
    columns: Annotated[Annotated[list[Option], Meta(min_length=1)] | None, Meta(description='An option set with points, such as No (0) / Partially (0.5) / Yes (1).')] = None
    multiple: Annotated[bool, Meta(description='With `columns`: each row is a set of tick boxes (for example "already invested" and "plan to invest"), scored as the row\'s ticked points over the row\'s maximum.')] = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.scale is None) == (self.columns is None):
            raise ValueError("a matrix needs exactly one of `scale` or `columns`")
        if self.multiple and self.columns is None:
            raise ValueError("`multiple: true` needs `columns`")


class MatrixOut(QuestionOut, tag="matrix"):
    """A matrix: per row, a point of ``scale``, a column, or (``multiple``) a list of columns."""

    rows: list[RowOut] = msgspec.field(default_factory=list)
    scale: list[ScalePointOut] | None = None
    columns: list[ChoiceOut] | None = None
    multiple: bool = False


CellScorer = Any  # a function from one row's answer to (score or None, points)


def cell_scorer(q: Matrix) -> CellScorer:
    """Scores one row's answer: its scale value, column, or ticked columns."""
    if q.scale is not None:
        low = q.scale[0].value
        span = q.scale[-1].value - low

        def scale_cell(v: int) -> Score:
            return (v - low) / span, float(v)

        return scale_cell
    column_points = {c.id: c.points for c in q.columns or []}
    if q.multiple:
        top = sum(p for p in column_points.values() if p > 0)

        def ticked_cell(v: list[str]) -> Score:
            p = 0.0
            for c in v:
                p += column_points[c]
            return ratio(p, top), p

        return ticked_cell
    highest = max(column_points.values())

    def column_cell(v: str) -> Score:
        p = column_points[v]
        return ratio(p, highest), p

    return column_cell


def cell_check(q: Matrix) -> Any:
    """Checks one row's answer other than "na": the normalised value, or a problem."""
    if q.scale is not None:
        values = [p.value for p in q.scale]
        expected = ", ".join(map(str, values))

        def scale_cell(rid: str, cell: Any) -> int:
            if not is_number(cell) or cell not in values:
                raise BadAnswer(f"row '{rid}': expected one of {expected}, got {describe_value(cell)}")
            return int(cell)

        return scale_cell
    columns = {c.id: c for c in q.columns or []}
    order = list(columns)
    if q.multiple:

        def ticked_cell(rid: str, cell: Any) -> list[str]:
            if isinstance(cell, str):
                cell = [cell]
            if not isinstance(cell, list) or not all(isinstance(c, str) and c in columns for c in cell):
                raise BadAnswer(f"row '{rid}': expected a list of column ids ({', '.join(columns)}), got {describe_value(cell)}")
            return sorted(set(cell), key=order.index)

        return ticked_cell

    def column_cell(rid: str, cell: Any) -> str:
        if not isinstance(cell, str) or cell not in columns:
            raise BadAnswer(f"row '{rid}': expected one of {', '.join(columns)}, got {describe_value(cell)}")
        return cell

    return column_cell


class MatrixKind(Kind[Matrix, Row]):
    statistics = "matrix"

    def check_definition(self, q: Matrix, checks: DefinitionChecks) -> None:
        checks.unique(q.rows, f"row (in question '{q.id}')")
        if q.columns is not None:
            checks.unique(q.columns, f"column (in question '{q.id}')")
            if q.scoring() and max(c.points for c in q.columns) <= 0:
                checks.error(q, f"question '{q.id}' is scored but no column has positive points")
        if q.scale is not None:
            values = [p.value for p in q.scale]
            if len(set(values)) != len(values) or values != sorted(values):
                checks.error(q, f"question '{q.id}': scale values must rise without repeats")

    def member_ids(self, q: Matrix) -> list[str]:
        return [r.id for r in q.rows]

    def member_values(self, q: Matrix) -> set[str] | None:
        if q.columns is None:
            return None
        return {c.id for c in q.columns} | ({NA} if q.allow_na else set())

    def options(self, q: Matrix) -> Sequence[Option]:
        return q.columns or ()

    def conditional_items(self, q: Matrix) -> Sequence[tuple[str, Row]]:
        return [("row", r) for r in q.rows]

    def value_check(self, q: Matrix) -> AnswerCheck:
        rows = {r.id for r in q.rows}
        check_cell = cell_check(q)

        def check(value: Any) -> dict[str, Any]:
            if not isinstance(value, dict):
                raise BadAnswer(f"expected a mapping of row id to value, got {describe_value(value)}")
            problems: list[str] = []
            out: dict[str, Any] = {}
            unknown = [rid for rid in value if rid not in rows]
            problems += [f"unknown row {describe_value(str(rid))}{did_you_mean(str(rid), rows)}" for rid in unknown[:MAX_LISTED]]
            if len(unknown) > MAX_LISTED:
                problems.append(f"and {len(unknown) - MAX_LISTED} more unknown rows")
            for rid, cell in value.items():
                if rid not in rows or cell is None:
                    continue
                elif cell != NA:
                    try:
                        out[rid] = check_cell(rid, cell)
                    except BadAnswer as exc:
                        problems.extend(exc.messages)
                elif q.allow_na:
                    out[rid] = NA
                else:
                    problems.append(f"row '{rid}': {NO_NA}")
            if problems:
                raise BadAnswer(*problems)
            return out

        return check

    def chosen_items(self, q: Matrix, value: Any) -> Iterable[tuple[str, str]]:
        return [("row", rid) for rid in value] if isinstance(value, dict) else ()

    def scorer(self, q: Matrix) -> QuestionScorer:
        rows = tuple(r.id for r in q.rows)
        cell_score = cell_scorer(q)

        def matrix(a: Any) -> Score:
            if a is None:
                return 0.0, 0.0
            if a == NA:
                return UNSCORED
            total = 0.0
            points = 0.0
            counted = 0
            for rid in rows:
                v = a.get(rid)
                if v == NA:
                    continue
                counted += 1
                if v is not None:
                    s, p = cell_score(v)
                    if s is None:
                        return UNSCORED
                    total += s
                    points += p
            if not counted:
                return UNSCORED
            return total / counted, points

        return matrix

    def can_earn_points(self, q: Matrix) -> bool:
        return q.scale is not None or any(c.points > 0 for c in q.columns or [])

    def conditional_scorer(self, q: Matrix, base: QuestionScorer, visible: Visible) -> ConditionalScorer:
        def matrix(a: Any, env: Any) -> Score:
            if isinstance(a, dict):
                hidden = {r.id: NA for r in q.rows if not visible(r.id, env)}
                a = {**a, **hidden}  # a hidden row counts like "not applicable"
            return base(a)

        return matrix

    def draw_uniform(self, q: Matrix, rng: random.Random, shown: Sequence[Row]) -> dict[str, Any]:
        if q.scale is not None:
            scale = q.scale
            return {r.id: rng.choice(scale).value for r in shown}
        columns = q.columns or []
        if q.multiple:
            return {r.id: [c.id for c in columns if rng.random() < 0.5] for r in shown}
        return {r.id: rng.choice(columns).id for r in shown}

    def draw_leaning(self, q: Matrix, p: float, rng: random.Random, shown: Sequence[Row], texts: Sequence[str]) -> dict[str, Any]:
        if q.scale is not None:
            points = sorted(q.scale, key=lambda s: s.value)
            return {r.id: pick_ranked(points, p, rng).value for r in shown}
        columns = q.columns or []
        if q.multiple:
            return {r.id: [c.id for c in columns if tick(p, c.points, rng)] for r in shown}
        ranked = sorted(columns, key=lambda c: c.points)
        return {r.id: pick_ranked(ranked, p, rng).id for r in shown}

    def draw_best(self, q: Matrix, shown: Sequence[Row]) -> dict[str, Any]:
        if q.scale is not None:
            return {r.id: q.scale[-1].value for r in shown}
        columns = q.columns or []
        if q.multiple:
            return {r.id: [c.id for c in columns if c.points > 0] for r in shown}
        return {r.id: max(columns, key=lambda c: c.points).id for r in shown}

    def describe(self, q: Matrix, value: Any, words: Words) -> list[str]:
        if not isinstance(value, dict):
            return [plain_words(value, words)]
        rows = {r.id: r.text.get(words.lang) for r in q.rows}
        return [f"{rows.get(row, row)}: {cell_words(q, cell, words)}" for row, cell in value.items()]

    def parse(self, q: Matrix, values: FieldValues, stored: Any, shown: Sequence[Row], _: Gettext) -> FormReading:
        scale = {str(p.value): p.value for p in q.scale} if q.scale is not None else None
        before = stored if isinstance(stored, dict) else {}
        answer: dict[str, Any] = {}
        adjusted = False
        for row in shown:
            cell = values(f"{q.id}.{row.id}")
            if not cell:
                continue
            if q.multiple:
                kept, changed = ticked_boxes(cell, {NA} if q.allow_na else set(), before.get(row.id))
                adjusted = adjusted or changed
                answer[row.id] = kept
            elif len(cell) > 1:
                return FormReading(error=_("Choose one answer in each row."), adjusted=adjusted)
            elif cell[0] == NA or scale is None:
                answer[row.id] = cell[0]
            else:
                answer[row.id] = scale.get(cell[0], cell[0])  # an unknown value stays text, and the check names it
        return FormReading(answer=answer or None, adjusted=adjusted)

    def form_values(self, q: Matrix, value: Any) -> dict[str, list[str]]:
        if value == NA:
            return {f"{q.id}.{r.id}": [NA] for r in q.rows}
        if not isinstance(value, dict):
            return {}
        return {
            f"{q.id}.{row}": [form_text(c) for c in cell] if isinstance(cell, list) else [form_text(cell)]
            for row, cell in value.items()
            if cell is not None
        }

    def field_names(self, q: Matrix, shown: Sequence[Row]) -> list[str]:
        return [f"{q.id}.{r.id}" for r in shown]

    def view(self, q: Matrix, shown: Sequence[Row], lang: str, _: Gettext) -> Widget:
        if q.scale is not None:
            choices = [Choice(str(p.value), str(p.value), p.text.get(lang)) for p in q.scale]
        else:
            choices = [Choice(c.id, c.id, c.text.get(lang)) for c in q.columns or []]
        if q.allow_na:
            choices.append(na_choice(_))
        rows = tuple(Choice(r.id, r.id, r.text.get(lang)) for r in shown)
        return Grid(tuple(choices), rows, multiple=q.multiple)

    def describe_for_api(self, q: Matrix, lang: str) -> QuestionOut:
        out = MatrixOut(**question_out_fields(q, lang), rows=[RowOut(id=r.id, text=r.text.get(lang), show_if=r.show_if) for r in q.rows])
        if q.scale is not None:
            out.scale = [ScalePointOut(value=p.value, text=p.text.get(lang)) for p in q.scale]
        else:
            out.columns = [ChoiceOut(id=c.id, text=c.text.get(lang)) for c in q.columns or []]
            out.multiple = q.multiple
        return out


def cell_words(q: Matrix, cell: Any, words: Words) -> str:
    """One row's answer in words: a scale point's label, a column's text, ticked columns."""
    if cell is None:
        return words.not_answered()
    if cell == NA:
        return words.not_applicable()
    if isinstance(cell, list):
        return ", ".join(cell_words(q, c, words) for c in cell) or words.none_ticked()
    if isinstance(cell, int) and not isinstance(cell, bool) and q.scale is not None:
        for point in q.scale:
            if point.value == cell:
                return point.text.get(words.lang)
    if isinstance(cell, str):
        for column in q.columns or []:
            if column.id == cell:
                return column.text.get(words.lang)
    return plain_words(cell, words)


KIND = MatrixKind(Matrix, MatrixOut)
