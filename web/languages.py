"""The language of a page that no assessment decides: the workspace, the home and start
pages, and errors.

- An SME's assessment has its own language (chosen on the start page, changeable on every
  page, stored with the assessment); before it exists, ``?lang=`` or the browser's
  ``Accept-Language`` decide (``page_language``).
- In the workspace, the language chosen with the chooser of its layout is kept in the
  ``recentre_lang`` cookie for a year; without it, ``Accept-Language`` decides
  (``workspace_language``).

Numbers are written the locale's way by the template filters ``count``, ``score``,
``decimal`` and ``share``, with ``scoring.render.i18n``'s ``format_*`` functions (Babel's
patterns, parsed once per pattern), which the PDF reports use too. Ids of the reference data
are shown by name with the filters ``sector_name``, ``cluster_name``, ``size_name`` and
``status_name`` (``questionnaires.reference``, ``assessment.store.models.STATUSES``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from gettext import NullTranslations
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from litestar import Request
from litestar.exceptions import HTTPException
from litestar.response import Template

from assessment.store.models import STATUSES
from questionnaires.reference import LANGUAGES, SIZES, cluster_name
from scoring.render.i18n import DEFAULT, format_count, format_decimal, format_score, format_share, negotiate, translations
from scoring.render.labels import sector_name

LANGUAGE_COOKIE = "recentre_lang"
COOKIE_LIFETIME = timedelta(days=365)


def accepted_language(request: Request) -> str:
    """The language the browser asks for first among ours (``Accept-Language``), or English."""
    return negotiate(request.headers.get("accept-language")) or DEFAULT


def page_language(request: Request, chosen: str | None) -> str:
    """``chosen`` (from ``?lang=`` or a form) when it is one of ours, else the browser's."""
    return chosen if chosen in LANGUAGES else accepted_language(request)


def workspace_language(request: Request) -> str:
    """The language the person chose for the workspace, else the browser's."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LANGUAGES else accepted_language(request)


def reader_language(request: Request) -> str:
    """The language of whoever reads this response: the workspace's for its pages, else the
    page's (``?lang=``, else the browser's)."""
    if is_workspace(request):
        return workspace_language(request)
    return page_language(request, request.query_params.get("lang"))


def is_workspace(request: Request) -> bool:
    path = request.scope.get("path", "")
    return path == "/workspace" or path.startswith("/workspace/")


class Refusal(HTTPException):
    """An HTTP error whose detail is a sentence for the reader, written in English and marked
    with ``N_`` (``questionnaires.messages``), and shown translated on the error page
    (web/pages.py)."""


def translator(request: Request) -> NullTranslations:
    """The catalog of the workspace's reader, for messages written in Python."""
    return translations(workspace_language(request))


def gettext_of(request: Request) -> Callable[[str], str]:
    """``_`` in the workspace's reader's language."""
    return translator(request).gettext


def workspace_page(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200, headers: dict | None = None) -> Template:
    """A workspace template in the reader's language (``lang`` drives gettext and ``<html lang>``)."""
    return Template(template_name=name, context={"lang": workspace_language(request), **context}, status_code=status_code, headers=headers)


# --- Numbers (the formats themselves are scoring.render.i18n's, shared with the PDF reports) ---


def install_number_filters(environment) -> None:
    """``{{ n | count }}``, ``{{ x | score }}`` (``score(0)`` for whole points), ``{{ x | decimal }}``
    and ``{{ s | share }}`` in the language of the template's context."""

    @pass_context
    def count(context, n: int) -> str:
        return format_count(n, context.get("lang") or DEFAULT)

    @pass_context
    def score(context, value: float | None, digits: int = 1) -> str:
        return format_score(value, context.get("lang") or DEFAULT, digits)

    @pass_context
    def decimal(context, value: float) -> str:
        return format_decimal(value, context.get("lang") or DEFAULT)

    @pass_context
    def share(context, value: float) -> str:
        return format_share(value, context.get("lang") or DEFAULT)

    environment.filters.update(count=count, score=score, decimal=decimal, share=share)


def install_name_filters(environment: Environment) -> None:
    """``{{ id | sector_name }}``, ``cluster_name``, ``size_name`` and ``status_name``: the
    name of a sector, cluster, company size or assessment status, in the language of the
    template's context (a cluster's proper name in every language)."""

    def translated(names: dict[str, str]) -> Callable[[Context, str], str]:
        @pass_context
        def name(context: Context, value: str) -> str:
            return translations(context.get("lang") or DEFAULT).gettext(names[value]) if value in names else value

        return name

    @pass_context
    def sector(context: Context, value: str) -> str:
        return sector_name(value, context.get("lang") or DEFAULT)

    environment.filters.update(
        sector_name=sector,
        cluster_name=cluster_name,
        size_name=translated({size: s.name for size, s in SIZES.items()}),
        status_name=translated(STATUSES),
    )
