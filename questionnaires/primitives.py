"""The pieces every Struct of the questionnaire language is built from: ids, expressions,
weights, and texts in several languages. ``questionnaires.schema`` (the files) and
``questionnaires.kinds`` (the questions) both use them."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from .reference import LANGUAGES

Id = Annotated[
    str,
    Meta(
        pattern=r"^[a-z][a-z0-9_]*$",
        max_length=64,
        description="Lower-case letters, digits and underscores, starting with a letter.",
    ),
]
Expression = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=2000,
        description="An expression in the recentre expression language (see README).",
    ),
]
Weight = Annotated[float, Meta(ge=0, description="A relative weight; 0 switches the item off.")]


class Text(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Text in several languages. ``en`` is required; the others fall back to it."""

    en: Annotated[str, Meta(min_length=1)]
    bg: str | None = None
    it: str | None = None
    es: str | None = None
    ro: str | None = None

    def get(self, lang: str) -> str:
        """The text in ``lang``, or in English where it has none."""
        value: str | None = getattr(self, lang, None)
        return value or self.en

    def missing(self) -> list[str]:
        """The languages this text has no words for."""
        return [lang for lang in LANGUAGES if not getattr(self, lang)]


class Base(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """Every Struct of a file: an unknown key is an error, not silently ignored."""
