"""Signing in to the workspace, and who may see what.

For handlers of the workspace (``/workspace/...``):

- guard a handler with ``guards=[requires_user]`` (advisors and organisers) or
  ``guards=[requires_organiser]``; without a valid session the guard answers 401 (a sign-in
  page under /workspace), and an advisor on an organiser's page gets 403;
- ``user_of(request)`` gives the signed-in ``CurrentUser`` (id, email, role, cluster) and
  fails closed when the handler has no guard;
- ``visible_assessments(user)`` is the SQL condition on ``Assessment`` rows the user may see;
  add it to every query that reads assessments or what hangs off them;
- ``visible_assessment(session, user, id)`` loads one assessment or answers 404 (not 403:
  another cluster's ids must not be told apart from ids that do not exist);
- ``contact_of(user, assessment)`` and ``contact_columns(user)`` give the contact details only
  where the SME agreed to share them; never read ``contact_name``/``contact_email`` directly.

The chooser of the workspace's layout posts to ``/workspace/language``, which keeps the choice
in a cookie (``web.languages``).
"""

from __future__ import annotations

import re
from gettext import NullTranslations
from typing import Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromQuery
from litestar.response import Redirect, Response, Template
from litestar.types import ExceptionHandlersMap
from sqlalchemy import ColumnElement, and_, case, null, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from assessment.settings import Settings
from assessment.store.models import Assessment
from assessment.workspace import accounts
from assessment.workspace.accounts import AccountError, CurrentUser, current_user_of
from questionnaires.messages import N_
from questionnaires.reference import LANGUAGES

from .context import Context, Transaction, client_address, context_of
from .languages import COOKIE_LIFETIME, LANGUAGE_COOKIE, Refusal, gettext_of, translator, workspace_page
from .pages import error_for_reader

SESSION_COOKIE = "recentre_session"
HOME = "/workspace"
LOGIN = "/workspace/login"
# In English here, translated where they are shown.
GENERIC_LOGIN_ERROR = N_("The email or password is wrong.")
TOO_MANY_ATTEMPTS = N_("Too many failed sign-ins. Wait 15 minutes, then try again.")
# Where a sign-in may lead back to: a path of the workspace, nothing that a browser could
# read as another site (//host, /\host) or that carries a scheme.
_SAFE_NEXT = re.compile(r"^/workspace(?:[/?][A-Za-z0-9_\-./?=&%+:,]*)?$")
_NO_USER = object()
MAX_ID = 2**31 - 1
"""The largest id an INTEGER column holds on PostgreSQL."""


# --- Who is signed in --------------------------------------------------------------------


async def load_user(connection: ASGIConnection) -> CurrentUser | None:
    """The user of the request's session cookie, looked up once per request. Guards run
    before the handler's dependencies are resolved, so the look-up has a short session of
    its own, closed before the handler's opens."""
    cached = connection.state.get("user", _NO_USER)
    if cached is not _NO_USER:
        return cached
    token = connection.cookies.get(SESSION_COOKIE, "")
    user = None
    if token:
        async with context_of(connection.app).sessions() as session:
            found = await accounts.user_of_session(session, token)
            user = current_user_of(found) if found else None
    connection.state.user = user
    return user


async def requires_user(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """A guard: advisors and organisers only."""
    if await load_user(connection) is None:
        raise NotAuthorizedException(detail="Sign in to see this page.")


async def requires_organiser(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """A guard: organisers only."""
    user = await load_user(connection)
    if user is None:
        raise NotAuthorizedException(detail="Sign in to see this page.")
    if not user.is_organiser:
        raise Refusal(status_code=403, detail=N_("Only organisers can see this page."))


def user_of(request: Request) -> CurrentUser:
    """The signed-in user, as the handler's guard found them."""
    user = request.state.get("user")
    if user is None:
        # A handler without a guard: refuse rather than serve the page to anyone.
        raise NotAuthorizedException(detail="Sign in to see this page.")
    return user


# --- Who sees what -----------------------------------------------------------------------


def visible_assessments(user: CurrentUser) -> ColumnElement[bool]:
    """The condition on ``Assessment`` for the rows ``user`` may see: an organiser all of
    them, an advisor those of their cluster whose SME agreed to share them."""
    if user.is_organiser:
        return true()
    return and_(Assessment.cluster == user.cluster, Assessment.share_with_advisors.is_(True))


def may_see(user: CurrentUser, assessment: Assessment) -> bool:
    """``visible_assessments`` for an assessment already loaded."""
    return user.is_organiser or (assessment.cluster == user.cluster and bool(assessment.share_with_advisors))


async def visible_assessment(session: AsyncSession, user: CurrentUser, assessment_id: int) -> Assessment:
    """The assessment if ``user`` may see it; 404 otherwise, as for one that does not exist."""
    if not 1 <= assessment_id <= MAX_ID:
        # Beyond what the id column holds: the database would refuse the number with a 500.
        raise Refusal(status_code=404, detail=N_("No such assessment."))
    assessment = await session.scalar(select(Assessment).where(Assessment.id == assessment_id, visible_assessments(user)))
    if assessment is None:
        raise Refusal(status_code=404, detail=N_("No such assessment."))
    return assessment


def may_see_contact(user: CurrentUser, assessment: Assessment) -> bool:
    # Advisors only ever see shared assessments; organisers see all, contacts only if shared.
    return bool(assessment.share_with_advisors)


def contact_of(user: CurrentUser, assessment: Assessment) -> tuple[str | None, str | None]:
    """(contact name, contact email), or (None, None) when the SME did not agree to share."""
    if not may_see_contact(user, assessment):
        return None, None
    return assessment.contact_name, assessment.contact_email


def contact_columns(user: CurrentUser) -> tuple[Any, Any]:
    """``contact_name`` and ``contact_email`` for a SELECT, NULL where the SME did not agree."""
    shared = Assessment.share_with_advisors.is_(True)
    return (
        case((shared, Assessment.contact_name), else_=null()).label("contact_name"),
        case((shared, Assessment.contact_email), else_=null()).label("contact_email"),
    )


# --- Cookies -----------------------------------------------------------------------------


def cookies_secure(request: Request, settings: Settings) -> bool:
    return request.url.scheme == "https" or settings.secure_cookies


def session_cookie(request: Request, settings: Settings, token: str) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=token,
        path="/",
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=cookies_secure(request, settings),
    )


def expired_session_cookie(request: Request, settings: Settings) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value="", path="/", max_age=0, httponly=True, samesite="lax", secure=cookies_secure(request, settings))


def safe_next(value: str | None) -> str:
    if value and _SAFE_NEXT.match(value) and "//" not in value:
        return value
    return HOME


# --- Pages -------------------------------------------------------------------------------


def login_page(request: Request, *, next_url: str, error: str | None = None, email: str = "", status_code: int = 200) -> Template:
    return workspace_page(
        request,
        "workspace/login.html",
        {"next": safe_next(next_url), "error": gettext_of(request)(error) if error else None, "email": email},
        status_code=status_code,
    )


def unauthorised(request: Request, exc: NotAuthorizedException) -> Response:
    """Inside the workspace, the sign-in page, which brings the person back where they
    were; elsewhere the app's usual error response."""
    if not request.url.path.startswith(HOME + "/") and request.url.path != HOME:
        return error_for_reader(request, exc)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    next_url = safe_next(here) if request.method == "GET" else HOME
    response = login_page(request, next_url=next_url, status_code=401)
    if request.headers.get("hx-request"):
        # htmx does not swap a 401 into the page: send the whole browser to the sign-in page.
        response.headers["HX-Redirect"] = f"{LOGIN}?next={quote(next_url, safe='/')}"
    return response


@get(LOGIN, include_in_schema=False)
async def login_form(request: Request, next: FromQuery[str | None] = None) -> Template | Redirect:
    if await load_user(request) is not None:
        return Redirect(safe_next(next), status_code=303)
    return login_page(request, next_url=next or HOME)


@post(LOGIN, include_in_schema=False, status_code=303)
async def login(request: Request, context: Context) -> Template | Redirect:
    """Signing in: no session of the request's, since the password is checked between two
    short transactions of ``accounts.sign_in`` and must hold no connection meanwhile."""
    form = await request.form()
    email = str(form.get("email") or "")[:254]
    password = str(form.get("password") or "")
    next_url = safe_next(str(form.get("next") or ""))
    try:
        token = await accounts.sign_in(
            context.sessions, email, password, client_address(request),
            previous_token=request.cookies.get(SESSION_COOKIE, ""), limiter=context.hashing,
        )
    except accounts.TooManyAttempts:
        return login_page(request, next_url=next_url, error=TOO_MANY_ATTEMPTS, email=email, status_code=429)
    if token is None:
        return login_page(request, next_url=next_url, error=GENERIC_LOGIN_ERROR, email=email, status_code=401)
    return Redirect(next_url, status_code=303, cookies=[session_cookie(request, context.settings, token)])


@post("/workspace/logout", include_in_schema=False, status_code=303)
async def logout(request: Request, context: Context, transaction: Transaction) -> Redirect:
    await accounts.end_session(transaction, request.cookies.get(SESSION_COOKIE, ""))
    return Redirect(LOGIN, status_code=303, cookies=[expired_session_cookie(request, context.settings)])


def password_page(request: Request, user: CurrentUser, *, error: str | None = None, done: bool = False, status_code: int = 200) -> Template:
    return workspace_page(
        request,
        "workspace/password.html",
        {"user": user, "error": error, "done": done, "min_length": accounts.MIN_PASSWORD_LENGTH},
        status_code=status_code,
    )


def password_problem(exc: AccountError, new: str, t: NullTranslations) -> str:
    """Why ``accounts.change_password_of`` refused, in the reader's language."""
    if isinstance(exc, accounts.WrongPassword):
        return t.gettext("The current password is wrong.")
    if len(new) < accounts.MIN_PASSWORD_LENGTH:
        n = accounts.MIN_PASSWORD_LENGTH
        return t.ngettext("The password is too short: use at least %(count)d character.", "The password is too short: use at least %(count)d characters.", n) % {"count": n}
    if len(new) > accounts.MAX_PASSWORD_LENGTH:
        n = accounts.MAX_PASSWORD_LENGTH
        return t.ngettext("The password is too long: use at most %(count)d character.", "The password is too long: use at most %(count)d characters.", n) % {"count": n}
    if isinstance(exc, accounts.WeakPassword):
        return t.gettext(
            "The password is too easy to guess: avoid common passwords, words, names, dates, your email, repeated "
            "letters and keyboard rows; a few unrelated words make a strong one."
        )
    return str(exc)


@get("/workspace/password", guards=[requires_user], include_in_schema=False)
async def password_form(request: Request, done: FromQuery[bool] = False) -> Template:
    return password_page(request, user_of(request), done=done)


@post("/workspace/password", guards=[requires_user], include_in_schema=False, status_code=303)
async def change_password(request: Request, context: Context) -> Template | Redirect:
    """Changing one's password: as at sign-in, the hashing runs between short transactions
    of ``accounts.change_password_of``, so the handler takes no session."""
    current_user = user_of(request)
    t = translator(request)
    _ = t.gettext
    form = await request.form()
    current = str(form.get("current_password") or "")
    new = str(form.get("new_password") or "")
    if new != str(form.get("repeat_password") or ""):
        return password_page(request, current_user, error=_("The two new passwords differ."), status_code=400)
    try:
        # The same limit as at sign-in: a borrowed session must not become a way to guess.
        token = await accounts.change_password_of(context.sessions, current_user.id, current, new, client_address(request), limiter=context.hashing)
    except accounts.TooManyAttempts:
        return password_page(request, current_user, error=_(TOO_MANY_ATTEMPTS), status_code=429)
    except AccountError as exc:
        return password_page(request, current_user, error=password_problem(exc, new, t), status_code=400)
    # Every session ended with the old password; this browser carries on in a new one.
    return Redirect("/workspace/password?done=true", status_code=303, cookies=[session_cookie(request, context.settings, token)])


@post("/workspace/language", include_in_schema=False, status_code=303)
async def choose_language(request: Request, context: Context) -> Redirect:
    """The workspace's language chooser: the choice is kept in a cookie for a year, signed in
    or not, and the person goes back to the page they were on."""
    form = await request.form()
    lang = str(form.get("lang") or "")
    back = safe_next(str(form.get("next") or ""))
    if lang not in LANGUAGES:
        return Redirect(back, status_code=303)
    cookie = Cookie(
        key=LANGUAGE_COOKIE,
        value=lang,
        path=HOME,
        max_age=int(COOKIE_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=cookies_secure(request, context.settings),
    )
    return Redirect(back, status_code=303, cookies=[cookie])


ROUTES = [login_form, login, logout, password_form, change_password, choose_language]
EXCEPTION_HANDLERS: ExceptionHandlersMap = {NotAuthorizedException: unauthorised}
