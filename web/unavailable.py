"""When the database cannot serve, or a request takes too long: an honest 503.

A request that fails because the database is unreachable, restarting, frozen, locked by
another process or gone (``unavailable_reason``), or that has not started its response
within RECENTRE_REQUEST_TIMEOUT (``deadline``), answers 503 with ``Retry-After``: the API
with its JSON error, the pages with an error page in the reader's language. Neither claims
that nothing was changed: a write whose commit was under way when the connection broke may
have been stored. Each such failure is logged in one line (route template, method, reason),
never with a traceback: an outage fails thousands of requests the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from assessment.store import db
from questionnaires.messages import N_

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
"""What ``Retry-After`` asks clients to wait: a database restart takes a few seconds."""

HEADING = N_("Please try again in a moment")
READ_FAILED = N_("This page cannot be shown just now: the service's database is not answering. Try again in a minute.")
WRITE_FAILED = N_(
    "The service's database is not answering, so it cannot tell whether this was saved. "
    "Try again in a minute: the page then shows what was saved."
)
API_READ_FAILED = "Service unavailable: the database is not answering. Try again in a moment."
API_WRITE_FAILED = (
    "Service unavailable: the database is not answering, so it is not known whether this request was carried out. "
    "Try again in a moment: saving the same answers again is safe, and a submit that was carried out answers 409."
)


class DeadlineExceeded(Exception):
    """The request's response had not started within RECENTRE_REQUEST_TIMEOUT."""


def unavailable_reason(exc: BaseException) -> str | None:
    """Why the request could not be served, for the log, when it is none of its own doing
    (the database, or the deadline); None for every other error."""
    if isinstance(exc, DeadlineExceeded):
        return str(exc)
    return db.unavailable_reason(exc)


def writes(request: Request) -> bool:
    return request.method not in ("GET", "HEAD", "OPTIONS")


def log_unavailable(request: Request, reason: str) -> None:
    """One line per failure: the route's template (never the path, which can hold a token)."""
    log.error("%s %s: 503, %s", request.method, request.scope.get("path_template") or "(no route)", reason)


RETRY_AFTER = {"Retry-After": str(RETRY_AFTER_S)}


def deadline(seconds: float) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware: a request whose response has not started after ``seconds`` is cancelled
    and answers 503 (``DeadlineExceeded``, which the exception handlers turn into the page
    or the JSON error). A response that has started, such as a streamed download, runs on."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def with_deadline(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = False

            async def sending(message: Message) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                    # Expired, the deadline's cancellation was turned into an error response
                    # on the way (the driver's clean-up can do that): let it through.
                    if not timeout.expired():
                        timeout.reschedule(None)
                await send(message)

            try:
                async with asyncio.timeout(seconds) as timeout:
                    await app(scope, receive, sending)
            except TimeoutError:
                if started or not timeout.expired():
                    raise
                raise DeadlineExceeded(f"no response within {seconds:g} s (RECENTRE_REQUEST_TIMEOUT)") from None

        return with_deadline

    return middleware
