"""The web application: ``create_app`` builds it, ``recentre serve`` runs it.

Nothing outside ``web`` imports this package (the CLI imports it lazily), so the engine can
be used and tested without Litestar.
"""

from __future__ import annotations

import gc
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import HTTPException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope

from assessment.settings import Settings
from assessment.store.by_token import TokenStore
from assessment.store.db import create_engine, ensure_migrated, session_factory
from assessment.store.models import store_questionnaire_version
from assessment.store.rescoring import offered_questionnaires
from assessment.store.responses import Versions
from questionnaires.compile import CompiledQuestionnaire
from questionnaires.reference import LANGUAGE_NAMES
from questionnaires.schema import Text

from . import analysis, api, auth, dashboard, downloads, languages, library, pages, partners, reports, review, unavailable, your_data
from .context import AppContext, context_of, dependencies

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# Scripts only from this site's own files: htmx is served from /static, and nothing inline,
# so an answer that slipped through escaping still cannot run as script.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


_SECURITY_HEADER_LINES = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items()]


async def add_security_headers(message: Message, scope: Scope) -> None:
    # A before_send hook rather than middleware: it also sees error responses and 404s for
    # paths that match no route. Appended, not set: no handler sends these headers itself,
    # and looking for them in every response cost more than the rest of this hook.
    if message["type"] == "http.response.start":
        message["headers"] = [*message.get("headers", ()), *_SECURITY_HEADER_LINES]


_STATIC_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


async def plain_static_name(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """A guard of /static: the name of one of its files (letters, digits, ``_.-``), else 404
    before the file system is asked. A NUL made the look-up fail with a 500, and so did a
    name longer than the file system allows."""
    path = connection.path_params.get("file_path")
    if path is None or not _STATIC_NAME.fullmatch(str(path).lstrip("/")):
        raise NotFoundException()


def in_language(text: Text | None, lang: str) -> str:
    """A template filter: ``{{ q.meta.title | t(lang) }}``."""
    return text.get(lang) if text is not None else ""


def configure_jinja(engine: JinjaTemplateEngine) -> None:
    # Templates are files of the installed package: checking their dates at every render
    # (Jinja's default) cost a stat() per template per request. Restart to pick up an edit.
    engine.engine.auto_reload = False
    engine.engine.filters["t"] = in_language
    engine.engine.globals["language_names"] = LANGUAGE_NAMES
    pages.install_translations(engine.engine)
    languages.install_number_filters(engine.engine)
    languages.install_name_filters(engine.engine)


@asynccontextmanager
async def opened_context(settings: Settings, offered: dict[str, CompiledQuestionnaire] | None = None) -> AsyncIterator[AppContext]:
    """The app's context for as long as the block runs: the database migrated, the offered
    questionnaires (``offered``, else compiled from their folder) stored, the engine and the
    TokenStore open, each wait bounded by the settings' timeouts."""
    engine_pool, tokens_pool = settings.pool_sizes
    timeouts = settings.database_timeouts
    engine = create_engine(settings.database_url, pool_size=engine_pool, timeouts=timeouts)
    try:
        await ensure_migrated(engine)
        offered = offered or offered_questionnaires(settings.questionnaires)
        sessions = session_factory(engine)
        versions = Versions(sessions)
        offered_versions: dict[str, int] = {}
        async with sessions() as session, session.begin():
            for compiled in offered.values():
                version = await store_questionnaire_version(session, compiled)
                versions.remember(version, compiled)
                offered_versions[compiled.id] = version.id
        tokens = await TokenStore.open(engine, pool_size=tokens_pool, timeouts=timeouts)
        try:
            yield AppContext(
                settings=settings,
                engine=engine,
                sessions=sessions,
                tokens=tokens,
                questionnaires=offered,
                offered_versions=offered_versions,
                versions=versions,
            )
        finally:
            await tokens.close()
    finally:
        await engine.dispose()


def lifespan(settings: Settings, offered: dict[str, CompiledQuestionnaire] | None = None) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The app's lifespan: its context (``opened_context``), kept as ``app.state.context``."""

    @asynccontextmanager
    async def serving(app: Litestar) -> AsyncIterator[None]:
        async with opened_context(settings, offered) as context:
            app.state.context = context
            # What start-up loaded (modules, compiled questionnaires) lives as long as the
            # app: frozen, the collector no longer walks it, where a full collection took
            # some 100 ms and stalled every request in flight. Unfrozen at shutdown, for
            # processes (such as the tests) that start many apps.
            gc.collect()
            gc.freeze()
            try:
                yield
            finally:
                gc.unfreeze()

    return serving


def csrf_config(settings: Settings) -> CSRFConfig:
    """Every form posts a token (``{{ csrf_input | safe }}``) that must match a cookie, so that
    another site cannot make a signed-in browser post to this one."""
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name="recentre_csrf",
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
    )


PRIVATE = CacheControlHeader(private=True, no_store=True)
"""What the workspace's pages show (contacts, notes, results) is kept by no cache, shared or
the browser's own."""


def workspace_router() -> Router:
    """Every page and download of ``/workspace``, none of them kept by a cache."""
    routes = [*auth.ROUTES, *dashboard.ROUTES, *review.ROUTES, *library.ROUTES, *analysis.ROUTES, *downloads.ROUTES, *partners.ROUTES]
    return Router(path="/", route_handlers=routes, cache_control=PRIVATE)


def create_app(settings: Settings | None = None, offered: dict[str, CompiledQuestionnaire] | None = None) -> Litestar:
    """The web app, configured by ``settings`` (else by the environment), offering
    ``offered`` (else the questionnaires compiled from their folder at start-up)."""
    settings = settings or Settings.from_env()

    def provide_context() -> AppContext:
        return context_of(app)

    app = Litestar(
        route_handlers=[
            pages.router,
            your_data.router,
            pages.healthz,
            api.router,
            reports.page_report,
            workspace_router(),
            create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False, guards=[plain_static_name]),
        ],
        lifespan=[lifespan(settings, offered)],
        middleware=[unavailable.deadline(settings.request_timeout)],
        dependencies=dependencies(provide_context),
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=configure_jinja),
        before_send=[add_security_headers],
        plugins=[api.StrictBodies()],
        csrf_config=csrf_config(settings),
        exception_handlers={HTTPException: pages.error_for_reader, Exception: pages.error_for_reader, **auth.EXCEPTION_HANDLERS},
        openapi_config=OpenAPIConfig(
            title="recentre",
            version="1",
            path="/schema",
            # The JSON alone: the HTML viewers load scripts from CDNs, which the policy
            # above forbids and which would tell third parties who reads the docs.
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
        ),
    )
    return app
