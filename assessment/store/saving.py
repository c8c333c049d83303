"""Saving answers: every answer given to an assessment (the section page without JavaScript,
htmx's autosave of one question, the API's PATCH) is written by ``save_answers``, and by
nothing else.

A save goes:

1. the draft the token opens, kept in memory from the last save or read from the database
   (``TokenStore.open_draft``, in ``by_token.py``, the fast path);
2. its compiled questionnaire version (``Versions``: from memory, else once from the database);
3. the caller's ``change(draft, compiled)``: what the request asks, checked against the draft
   by ``responses.checked_updates`` (which refuses with InvalidAnswers), as a ``Change``: the
   answers, where the SME left off and, from the page's language chooser, a new language;
4. one write of all of it, only where the assessment is still a draft with the ``updated_at``
   that was read (``TokenStore.store_answers``).

The saves of one assessment take turns in a process (``TokenStore.turn``), from step 1 to
step 4, so that answers sent at once (htmx's autosaves, one per question) are written one
after the other, each checked against the answers the one before it wrote.

When the write finds the assessment changed meanwhile (another process saved, or it was
submitted), nothing is written and the save starts again from the stored draft. A refusal
decided on a kept draft is decided again on the stored one, since only a write finds out
that a kept draft is out of date. After ``SAVE_ATTEMPTS`` the save gives up (409).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from questionnaires.compile import CompiledQuestionnaire
from questionnaires.messages import N_

from .by_token import Draft, DraftChanged, TokenStore
from .responses import SUBMITTED, AlreadySubmitted, InvalidAnswers, ResponseError, Saved, Versions, checked_updates

SAVE_ATTEMPTS = 3
"""How often a save is checked again when its assessment changed while it was checked."""

CHANGED = N_("This assessment kept changing while the answers were saved; nothing was saved. Send them again.")


class ChangedMeanwhile(ResponseError):
    status_code = 409


@dataclass(frozen=True, kw_only=True)
class Change:
    """What one save writes. Callers may add fields of their own (a subclass) to get back
    what they worked out along with it, such as the page to go to next."""

    saved: Saved | None
    """What ``checked_updates`` accepted; None writes nothing (the page posted is not shown
    with the stored answers)."""
    section: str | None
    """Where the SME left off: the section to resume at."""
    language: str | None = None
    """The assessment's new language; None keeps it."""


@dataclass(frozen=True, kw_only=True)
class AnswersChange(Change):
    """A change that always writes answers (the API's PATCH)."""

    saved: Saved


C = TypeVar("C", bound=Change)


@dataclass(frozen=True)
class Written(Generic[C]):
    """A save done: the draft as it is now stored, its questionnaire, and what was written."""

    draft: Draft
    compiled: CompiledQuestionnaire
    change: C


async def save_answers(
    tokens: TokenStore, versions: Versions, token: str, change: Callable[[Draft, CompiledQuestionnaire], C]
) -> Written[C]:
    """Save what ``change(draft, compiled)`` asks (see the module's docstring) and return it as
    written. ``change`` sees the draft whatever its status, so that it can refuse a submitted
    one in its own words; a submitted one is refused anyway (AlreadySubmitted). The errors of
    ``open_assessment``, the refusals of ``change``, and ChangedMeanwhile."""
    async with tokens.turn(token):
        for _ in range(SAVE_ATTEMPTS):
            draft = await tokens.open_draft(token)
            compiled = await versions.get(draft.version_id)
            try:
                wanted = change(draft, compiled)
            except InvalidAnswers:
                if not draft.kept:
                    raise
                tokens.forget(draft)
                continue
            if wanted.saved is None:
                if draft.kept:  # decided on a kept draft: decide again on the stored one
                    tokens.forget(draft)
                    continue
                return Written(draft, compiled, wanted)
            try:
                stored = await tokens.store_answers(draft, wanted.saved, wanted.section, wanted.language)
            except DraftChanged:
                continue
            return Written(stored, compiled, wanted)
    raise ChangedMeanwhile(CHANGED)


def answers_patch(updates: dict) -> Callable[[Draft, CompiledQuestionnaire], AnswersChange]:
    """The change a merge patch of answers asks (the API's PATCH): ``updates`` over the stored
    answers, None clearing one; the SME left off at the page of the last question named."""

    def change(draft: Draft, compiled: CompiledQuestionnaire) -> AnswersChange:
        if draft.status != "draft":
            raise AlreadySubmitted(SUBMITTED)
        saved = checked_updates(compiled, draft.answers, draft.company, updates)
        # Every name is a known question here, or checked_updates would have refused it.
        section = compiled.section_of[max(updates, key=page_order(compiled).__getitem__)] if updates else draft.section
        return AnswersChange(saved=saved, section=section)

    return change


_page_orders: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def page_order(compiled: CompiledQuestionnaire) -> dict[str, int]:
    """Question id -> its position in the questionnaire, worked out once per version."""
    order = _page_orders.get(compiled)
    if order is None:
        order = _page_orders[compiled] = {q: i for i, q in enumerate(compiled.questions)}
    return order
