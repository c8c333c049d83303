"""The application's own labels in the five RE-CENTRE languages, from gettext catalogs.

Questionnaire content (titles, question texts, recommendations) is translated in the YAML
files; this module covers only what the code itself says ("Overall", "Page 2 of 9", ...).

The catalogs are ``scoring/render/locale/<lang>/LC_MESSAGES/messages.po``, extracted with
``pybabel extract -F babel.cfg -o messages.pot .`` and compiled to ``messages.mo`` by
``make install``. A missing or out-of-date ``.mo`` is not an error: the ``.po`` is read
instead, so a fresh checkout and a translator's edit both show the current text.

Numbers are written the locale's way by ``format_count``, ``format_score``,
``format_decimal`` and ``format_share`` (Babel), for the web pages and the PDF reports alike.
"""

from __future__ import annotations

import functools
import gettext
import io
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from questionnaires.reference import LANGUAGES

if TYPE_CHECKING:
    from babel import Locale
    from babel.numbers import NumberPattern

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"

_lock = threading.Lock()


def catalog_paths(lang: str) -> tuple[Path, Path]:
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def _from_po(po: Path) -> gettext.GNUTranslations:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=po.parent.parent.name, domain=DOMAIN)
    buffer = io.BytesIO()
    # Fuzzy entries are a translator's unchecked guesses: English is better than a wrong label.
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _load(lang: str) -> gettext.NullTranslations:
    if lang not in LANGUAGES:
        return gettext.NullTranslations()
    po, mo = catalog_paths(lang)
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return gettext.GNUTranslations(f)
    if po.exists():
        return _from_po(po)
    return gettext.NullTranslations()


@functools.cache
def _cached(lang: str) -> gettext.NullTranslations:
    return _load(lang)


def translations(lang: str) -> gettext.NullTranslations:
    """The catalog for ``lang``; the source strings for unknown codes. English is the source
    language: its catalog's entries are empty, and show the code's text, unless an editor
    rewords one there."""
    # functools.cache may run _load twice for one key under threads; the lock keeps one copy.
    with _lock:
        return _cached(lang)


def clear_cache() -> None:
    """Forget loaded catalogs (after a catalog file changed on disk)."""
    with _lock:
        _cached.cache_clear()


def negotiate(accept_language: str | None, available: tuple[str, ...] = LANGUAGES) -> str | None:
    """The language of ``available`` that an HTTP ``Accept-Language`` header prefers, or
    ``None`` when it asks for none of them.

    Ranges are taken in order of their q-value (``q=0`` means "not this one"), a region
    subtag falls back to its language (``bg-BG`` → ``bg``), and ``*`` matches nothing in
    particular: the caller's default applies then. Babel's ``negotiate_locale`` matches
    each range against ``available``.
    """
    from babel import negotiate_locale

    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, *params = [part.strip() for part in item.split(";")]
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and 0 < quality <= 1:
            ranked.append((-quality, position, tag.lower().replace("_", "-")))
    preferred = [tag for _, _, tag in sorted(ranked)]
    return negotiate_locale(preferred, list(available), sep="-") if preferred else None


# --- Numbers -------------------------------------------------------------------------------


@functools.cache
def _locale(lang: str) -> Locale:
    from babel import Locale

    return Locale.parse(lang if lang in LANGUAGES else DEFAULT)


@functools.cache
def _pattern(pattern: str) -> NumberPattern:
    from babel.numbers import parse_pattern

    return parse_pattern(pattern)


def _apply(pattern: NumberPattern, value: float, locale: Locale) -> str:
    """``value`` written in ``pattern`` the way ``locale`` writes numbers."""
    text: str = pattern.apply(value, locale)  # babel leaves apply's return type out
    return text


def format_count(n: int, lang: str) -> str:
    """A whole number with the locale's grouping: ``1,204``, ``1 204``, ``1.204``."""
    return _apply(_pattern("#,##0"), n, _locale(lang))


def format_score(value: float | None, lang: str, digits: int = 1) -> str:
    """A score with ``digits`` decimals and the locale's decimal sign; ``–`` for none."""
    if value is None:
        return "–"
    return _apply(_pattern("#,##0" + ("." + "0" * digits if digits else "")), value, _locale(lang))


def format_decimal(value: float, lang: str) -> str:
    """A number with as many decimals as it needs, up to three: ``10``, ``377,5``."""
    return _apply(_pattern("#,##0.###"), value, _locale(lang))


def format_share(share: float, lang: str) -> str:
    """A share from 0 to 1 as a whole percentage, the locale's way: ``38%``, ``38 %``."""
    locale = _locale(lang)
    return _apply(locale.percent_formats[None], share, locale)
