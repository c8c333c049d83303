"""What an SME may do with its data from its private link: see what is stored and who sees
it, download all of it as JSON, change its sharing choice, and erase its assessment.

``/a/{token}/data`` is the page; ``/a/{token}/data.json`` the download; posting
``/a/{token}/sharing`` records the choice (withdrawing it takes effect at the commit, in every
workspace view and download, and in the kept analyses: ``erasure.set_sharing``);
``/a/{token}/erase`` asks for confirmation, and posting it erases the assessment
(``erasure.erase``) and leads to ``/erased``. Every form carries its CSRF token; the JSON API
has the same under /api/v1 (``web.api``).
"""

from __future__ import annotations

import msgspec
from litestar import MediaType, Request, Response, Router, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from assessment.store import erasure, responses
from assessment.store.models import Assessment
from questionnaires.reference import CLUSTERS

from .context import AppContext, Context, ReadSession, Transaction
from .languages import page_language
from .pages import (
    MAX_BODY_BYTES,
    NO_STORE,
    gettext_for,
    http_error_page,
    learn_reader,
    page,
    response_error_page,
    server_error_page,
)


def data_url(token: str) -> str:
    return f"/a/{token}/data"


def data_context(context: AppContext, token: str, assessment: Assessment, **extra) -> dict:
    settings = context.settings
    return {
        "token": token,
        "assessment": assessment,
        "share": bool(assessment.share_with_advisors),
        "cluster_name": _cluster_name(assessment.cluster),
        "draft_days": settings.retain_draft_days,
        "submitted_days": settings.retain_submitted_days,
        **extra,
    }


def _cluster_name(cluster: str) -> str:
    found = CLUSTERS.get(cluster)
    return found.name if found else cluster


async def _opened(request: Request, session, token: str) -> Assessment:
    assessment = await responses.open_assessment(session, token)
    learn_reader(request, token, assessment.language)
    return assessment


@get("/a/{token:str}/data", include_in_schema=False)
async def data_page(request: Request, context: Context, session: ReadSession, token: FromPath[str], saved: FromQuery[str | None] = None) -> Template:
    """What is stored, who sees it, and the SME's three choices."""
    assessment = await _opened(request, session, token)
    return page("your_data.html", assessment.language, data_context(context, token, assessment, saved=saved == "sharing"))


@get("/a/{token:str}/data.json", include_in_schema=False)
async def data_download(request: Request, context: Context, session: ReadSession, token: FromPath[str]) -> Response[bytes]:
    """All that is stored about the assessment, as a JSON file."""
    assessment = await _opened(request, session, token)
    body = msgspec.json.encode(await erasure.export_of(session, assessment))
    name = f"recentre-assessment-{assessment.created_at.date().isoformat()}.json"
    return Response(body, media_type=MediaType.JSON, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@post("/a/{token:str}/sharing", include_in_schema=False, status_code=303)
async def change_sharing(request: Request, transaction: Transaction, token: FromPath[str]) -> Redirect:
    """The sharing choice, as the page's form posts it (its box ticked or not)."""
    assessment = await _opened(request, transaction, token)
    form = await request.form()
    await erasure.set_sharing(transaction, assessment, form.get("share") == "yes")
    return Redirect(f"{data_url(token)}?saved=sharing", status_code=303)


@get("/a/{token:str}/erase", include_in_schema=False)
async def erase_form(request: Request, context: Context, session: ReadSession, token: FromPath[str]) -> Template:
    assessment = await _opened(request, session, token)
    return page("erase.html", assessment.language, data_context(context, token, assessment, error=None))


@post("/a/{token:str}/erase", include_in_schema=False, status_code=303)
async def erase(request: Request, context: Context, transaction: Transaction, token: FromPath[str]) -> Template | Redirect:
    """Erase the assessment once the SME ticked the confirmation; its link then opens nothing."""
    assessment = await _opened(request, transaction, token)
    form = await request.form()
    if form.get("confirm") != "yes":
        _ = gettext_for(assessment.language)
        error = _("Tick the box to confirm that the assessment is to be erased, or go back.")
        return page("erase.html", assessment.language, data_context(context, token, assessment, error=error), status_code=422)
    language = assessment.language
    await erasure.erase(transaction, [assessment.id])
    # The draft autosave kept in memory: the next save reads the database, and finds nothing.
    context.tokens.drafts.pop(responses.hash_token(token), None)
    return Redirect(f"/erased?lang={language}", status_code=303)


@get("/erased", include_in_schema=False)
async def erased(request: Request, lang: FromQuery[str | None] = None) -> Template:
    return page("erased.html", page_language(request, lang), {})


router = Router(
    path="/",
    route_handlers=[data_page, data_download, change_sharing, erase_form, erase, erased],
    # The same error pages as the rest of the SME's pass (web.pages).
    exception_handlers={HTTPException: http_error_page, responses.ResponseError: response_error_page, Exception: server_error_page},
    request_max_body_size=MAX_BODY_BYTES,
    cache_control=NO_STORE,
)
