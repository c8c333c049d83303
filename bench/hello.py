"""The baseline of bench/web.py: the smallest Litestar app, one JSON route, served by the
same uvicorn settings as `recentre serve`. What recentre's routes do per request is what
they cost above it."""

from __future__ import annotations

from litestar import Litestar, get


@get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


def create_app() -> Litestar:
    return Litestar(route_handlers=[hello])
