"""A profile as plain text, for the terminal."""

from __future__ import annotations

from datetime import date
from typing import Any

from questionnaires import kinds
from questionnaires.compile import CompiledQuestionnaire
from questionnaires.kinds.base import plain_words
from questionnaires.reference import DMA_BANDS, DMA_DIMENSIONS

from .profile import Profile


class PlainWords:
    """The words of the terminal: English, and numbers as Python writes them."""

    def __init__(self, lang: str = "en"):
        self.lang = lang

    def not_answered(self) -> str:
        return "not answered"

    def not_applicable(self) -> str:
        return "don't know / not applicable"

    def yes_no(self, value: bool) -> str:
        return "yes" if value else "no"

    def none_ticked(self) -> str:
        return "none ticked"

    def quantity(self, value: float, unit: str) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    def date(self, value: date) -> str:
        return value.isoformat()


def describe_answer(compiled: CompiledQuestionnaire, qid: str, value: Any, lang: str = "en") -> str:
    """An answer as a person would read it: option texts instead of ids, yes/no, rows."""
    words = PlainWords(lang)
    question = compiled.questions.get(qid)
    if question is None:
        return plain_words(value, words)
    parts = kinds.describe_answer(question, value, words)
    return (", " if isinstance(value, list) else "; ").join(parts)


def _bar(score: float | None, width: int = 20) -> str:
    if score is None:
        return " " * width
    filled = round(score / 100 * width)
    return "#" * filled + "." * (width - filled)


def _value(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _score(score: float | None) -> str:
    return "  n/a" if score is None else f"{score:5.1f}"


def _dma_score_line(profile: Profile) -> list[str]:
    """The EU DMA score and its band, named apart from the RE-CENTRE index; none without DMA."""
    if profile.dma is None:
        return []
    band = next((b.name for b in DMA_BANDS if b.id == profile.dma.band), "-")
    return [f"EU DMA   {_score(profile.dma.score)}  {band}  (the EU Digital Maturity Assessment score: the mean of its six dimensions)"]


def _dma_dimension_lines(profile: Profile) -> list[str]:
    """The six DMA dimensions under their EDIH names; none without DMA."""
    if profile.dma is None:
        return []
    return ["", "EU Digital Maturity Assessment (DMA)"] + [
        f"  {DMA_DIMENSIONS[key]:<38} {_score(value)}  {_bar(value)}" for key, value in profile.dma.dimensions.items()
    ]


def render_text(compiled: CompiledQuestionnaire, profile: Profile, lang: str = "en", explain: bool = False) -> str:
    level_titles: dict[str | None, str] = {lv.id: lv.title.get(lang) for lv in compiled.levels}
    lines = [f"{compiled.meta.title.get(lang)} ({compiled.id} {compiled.version})", ""]
    lines.append(f"Overall  {_score(profile.overall.score)}  {level_titles.get(profile.overall.level, '-')}  (the RE-CENTRE twin-transition index)")
    lines += _dma_score_line(profile)
    if profile.archetype and compiled.archetypes:
        titles = {a.id: a.title.get(lang) for a in compiled.archetypes.archetypes}
        lines.append(f"Archetype  {titles[profile.archetype.id]} ({profile.archetype.x_pillar} {profile.archetype.x:g}, {profile.archetype.y_pillar} {profile.archetype.y:g})")
    lines += ["", "Pillars"]
    for pid, p in profile.pillars.items():
        lines.append(f"  {compiled.pillars[pid].title.get(lang):<34} {_score(p.score)}  {_bar(p.score)}")
    lines += ["", "Dimensions"]
    for did, d in profile.dimensions.items():
        title = compiled.dimensions[did].title.get(lang)
        lines.append(f"  {title:<34} {_score(d.score)}  {_bar(d.score)}  {level_titles.get(d.level, '-')}")
        if explain and d.contributions is not None:
            for c in d.contributions:
                text = compiled.questions[c.question].text.get(lang)
                text = text if len(text) <= 60 else text[:57] + "..."
                answer = describe_answer(compiled, c.question, c.answer, lang)
                lines.append(f"      +{c.contribution:5.1f}  {c.question}: {text}  [answer: {answer}; score {_score(c.score).strip()}, weight {c.weight:g}]")
    dims = compiled.dimensions
    lines += _dma_dimension_lines(profile)
    lines += ["", "Strengths: " + (", ".join(dims[d].title.get(lang) for d in profile.strengths) or "-")]
    lines.append("Gaps:      " + (", ".join(dims[d].title.get(lang) for d in profile.gaps) or "-"))
    lines += ["", f"Recommendations ({len(profile.recommendations)})"]
    for i, r in enumerate(profile.recommendations, 1):
        lines.append(f"  {i}. {r.title}  [priority {r.priority}]")
        lines.append(f"     {r.rationale}")
        if r.next_step:
            lines.append(f"     Next step: {r.next_step}")
        names = [compiled.instruments[x].title.get(lang) for x in r.instruments]
        names += [compiled.training_topics[t].title.get(lang) for t in r.training]
        if names:
            lines.append(f"     Support: {'; '.join(names)}")
        if r.cross_sector:
            lines.append(f"     Cross-sector: {r.cross_sector}")
        triggers = ", ".join(
            f"{t.name} = {describe_answer(compiled, t.name, t.value, lang) if t.name in compiled.questions else _value(t.value)}"
            for t in r.triggered_by
        )
        lines.append(f"     Because: {triggers}")
    return "\n".join(lines) + "\n"
