"""What the app keeps for its life, as one typed object, and the dependencies that hand it
and database sessions to the handlers.

The lifespan (``web.app``) opens an ``AppContext`` at start-up and keeps it as the one
attribute ``app.state.context``. Handlers never read ``app.state``: they name what they need
as parameters, and Litestar's dependency injection provides it:

- ``context: Context``: the ``AppContext``: settings, engine, the ``TokenStore``, the offered
  questionnaires, compiled versions and the caches;
- ``session: ReadSession``: a session for reading, closed when the handler is done;
- ``transaction: Transaction``: a session in a transaction, committed when the handler
  returns and rolled back when it raises.

A handler takes ``session`` or ``transaction``, never both: on SQLite the app has one
connection, which the second would wait for. Autosave and the results page take neither:
they go through ``context.tokens``, whose connections are its own. Signing in and changing
one's password take neither too: ``accounts.sign_in`` hashes the password between two short
transactions of its own (``context.sessions``), holding no connection while it hashes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import anyio
from litestar import Litestar, Request
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from assessment.settings import Settings
from assessment.store.by_token import TokenStore
from assessment.store.responses import Versions
from assessment.workspace.analysis import AnalysisCache, Labels
from questionnaires.compile import CompiledQuestionnaire

from .page_cache import PageCache

HASHING_THREADS = 2
"""Passwords hashed at once per server process (argon2id takes tens of milliseconds of CPU)."""


@dataclass
class AppContext:
    """Everything a request may need that lives as long as the app."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tokens: TokenStore
    """Autosave's and the results page's connections and kept drafts (assessment/store/by_token.py)."""
    questionnaires: dict[str, CompiledQuestionnaire]
    """The offered questionnaires by id, compiled at start-up."""
    offered_versions: dict[str, int]
    """The database id of each offered questionnaire's version."""
    versions: Versions
    """Compiled versions by database id, so that requests never compile: the offered ones, and
    older ones compiled from the database on first use."""
    hashing: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(HASHING_THREADS))
    """The worker threads that hash passwords, at most HASHING_THREADS at a time: a burst of
    sign-ins queues here instead of taking every core (made in the lifespan's event loop)."""
    pages: PageCache = field(default_factory=PageCache)
    """Results pages, drawn once per result (web/page_cache.py)."""
    analyses: AnalysisCache = field(init=False)
    """The workspace's sector analyses, counted once per change of the data."""
    _labels: dict[str, Labels] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.analyses = AnalysisCache(self.sessions)

    def labels(self, lang: str = "en") -> Labels:
        """Titles from the offered questionnaires in ``lang``, looked up once per language."""
        found = self._labels.get(lang)
        if found is None:
            found = self._labels[lang] = Labels.of(self.questionnaires.values(), lang)
        return found


Context = NamedDependency[AppContext]
"""A handler's parameter ``context``: the app's ``AppContext``."""
ReadSession = NamedDependency[AsyncSession]
"""A handler's parameter ``session``: a session to read in."""
Transaction = NamedDependency[AsyncSession]
"""A handler's parameter ``transaction``: a session whose changes are committed together."""


def client_address(request: Request) -> str:
    """The address a request came from, which rate limits count by. Behind a proxy listed in
    RECENTRE_TRUSTED_PROXIES, ``recentre serve`` (uvicorn) has put there the address the
    proxy was asked from; from any other peer, X-Forwarded-For is not believed."""
    return request.client.host if request.client else ""


def context_of(app: Litestar) -> AppContext:
    """The app's context, for what the dependencies do not reach: guards, which run before
    dependencies are resolved, and the ``context`` dependency itself."""
    return app.state.context


async def provide_session(context: Context) -> AsyncIterator[AsyncSession]:
    """The ``session`` dependency: a session to read in, closed after the handler."""
    async with context.sessions() as session:
        yield session


async def provide_transaction(context: Context) -> AsyncIterator[AsyncSession]:
    """The ``transaction`` dependency: committed once the handler has returned (before the
    response is sent), rolled back if it raised."""
    async with context.sessions() as session, session.begin():
        yield session


def dependencies(provide_context: Callable[[], AppContext]) -> dict[str, Provide]:
    """The app's dependencies, for ``Litestar(dependencies=...)``; ``provide_context`` gives
    the app's context, and takes no parameters, so that Litestar has none to parse at each
    request (autosave and the results page take this dependency alone)."""
    return {
        "context": Provide(provide_context, sync_to_thread=False),
        "session": Provide(provide_session),
        "transaction": Provide(provide_transaction),
    }
