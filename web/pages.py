"""HTML pages."""

from __future__ import annotations

import logging

from litestar import MediaType, get
from litestar.datastructures import State
from litestar.exceptions import ServiceUnavailableException
from litestar.response import Template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)


@get("/", include_in_schema=False)
async def landing(state: State) -> Template:
    return Template(
        template_name="landing.html",
        context={"questionnaires": list(state.questionnaires.values()), "lang": "en"},
    )


@get("/healthz", media_type=MediaType.JSON, tags=["operations"])
async def healthz(state: State) -> dict[str, str]:
    """``{"status": "ok"}`` once the database has answered a query."""
    try:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        # The reason goes to the log only: it can name hosts and users.
        log.warning("health check: database unavailable: %s", exc)
        raise ServiceUnavailableException(detail="database unavailable") from None
    return {"status": "ok"}
