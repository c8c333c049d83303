"""The SME's forms as a browser posts them through Litestar's test client: a whole page
with its CSRF token, or one question's autosave as htmx sends it; another browser on the
same app; and the answers stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import msgspec
from litestar.testing import TestClient
from sqlalchemy import select

from assessment.store.models import Answer, Assessment
from assessment.store.responses import hash_token
from tests.database import query

HTMX = {"HX-Request": "true"}


@contextmanager
def another_browser(client: TestClient) -> Iterator[TestClient]:
    """The client with an empty cookie jar, for as long as the block runs: another visitor
    of the same running app (a second TestClient would start the app a second time)."""
    mine = client.cookies
    client.cookies = httpx.Cookies()
    try:
        yield client
    finally:
        client.cookies = mine


def csrf(client: TestClient) -> str:
    """The token the forms carry (its cookie comes with the first page)."""
    if not client.cookies.get("recentre_csrf"):
        client.get("/start")
    return client.cookies["recentre_csrf"]


def post(client: TestClient, path: str, data: dict | None = None, **kwargs):
    """The response to a form posted without JavaScript, redirects not followed."""
    return client.post(path, data={**(data or {}), "_csrf_token": csrf(client)}, follow_redirects=False, **kwargs)


def autosave(client: TestClient, token: str, section: str, question: str, fields: dict, **extra):
    """The response to what htmx sends when a question changes: its own fields, the token as
    a header."""
    return client.post(
        f"/a/{token}/s/{section}",
        data={**fields, "_autosave": question, **extra},
        headers={**HTMX, "x-csrftoken": csrf(client)},
        follow_redirects=False,
    )


def stored(database_url: str, token: str) -> dict:
    """The answers stored for the assessment of ``token``, by question id."""
    rows = query(
        database_url,
        select(Answer.question_id, Answer.value).join(Assessment, Answer.assessment_id == Assessment.id).where(Assessment.token_hash == hash_token(token)),
    )
    return {q: msgspec.json.decode(v) for q, v in rows}
