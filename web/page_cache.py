"""Rendered pages kept in memory, for pages that change only when their data does.

The results page of a submitted assessment is the same at every visit: its result is never
changed in place (a re-scoring stores a new one), yet drawing it (charts, tables,
recommendations in words) took some 3 ms. So it is drawn once per result and kept. The one
thing that differs between two visitors is their CSRF token, which the page carries in its
forms: it is cut out of the kept copy and put back for each request.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Hashable

from litestar import Request
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

MAX_BYTES = 32 * 1024 * 1024
"""What all kept pages may weigh together; the least recently used go first."""


def csrf_token_of(request: Request) -> str:
    """The token the CSRF middleware set for this request, as Litestar's templates see it."""
    return value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")


def render(request: Request, template_name: str, context: dict) -> str:
    """The page as Litestar's Template response would draw it, as text."""
    engine = request.app.template_engine
    assert engine is not None, "web.app configures the template engine"
    template = engine.get_template(template_name)
    token = csrf_token_of(request)
    return template.render(
        **context,
        request=request,
        csrf_input=f'<input type="hidden" name="_csrf_token" value="{html.escape(token)}" />',
    )


class PageCache:
    """Pages by key, each kept as the bytes around the places its CSRF token goes."""

    def __init__(self, max_bytes: int = MAX_BYTES):
        self.max_bytes = max_bytes
        self.size = 0
        self.pages: OrderedDict[Hashable, tuple[list[bytes], int]] = OrderedDict()

    def get(self, key: Hashable, request: Request) -> bytes | None:
        found = self.pages.get(key)
        if found is None:
            return None
        self.pages.move_to_end(key)
        return html.escape(csrf_token_of(request)).encode().join(found[0])

    def keep(self, key: Hashable, request: Request, page: str) -> bytes:
        """Keep ``page``, drawn for ``request``, and return it as bytes."""
        body = page.encode()
        token = html.escape(csrf_token_of(request)).encode()
        if not token:
            return body  # without a token to cut out, the page cannot be shared
        parts = body.split(token)
        weight = len(body)
        if key in self.pages:
            self.size -= self.pages.pop(key)[1]
        self.pages[key] = (parts, weight)
        self.size += weight
        while self.size > self.max_bytes and len(self.pages) > 1:
            self.size -= self.pages.popitem(last=False)[1][1]
        return body

