"""HTML pages: the landing page, /healthz, and an SME's pass through a questionnaire.

The SME's flow, each step a page that works without JavaScript (a form that posts, then a
redirect: post/redirect/get):

1. ``/start``: cluster, sector questionnaire and language;
2. ``/start/privacy``: the privacy notice, to accept, and whether the cluster's advisors
   may see the results, both kept in a signed cookie (``web.consent``), never in an address;
3. ``/start/company``: the company profile; posting it creates the assessment;
4. ``/a/{token}/s/{section}``: one page per section. Without JavaScript, "Save and
   continue" posts the whole page; with htmx, each question posts itself when it changes
   and the server answers with its fragment, plus out-of-band swaps for the questions whose
   visibility changed and for the progress. One handler serves both;
5. ``/a/{token}/review``, ``POST /a/{token}/submit``, ``/a/{token}/results``.

``/a/{token}`` is the private resume link: it leads back to where the SME left off. The token
is a key; it is never logged (refusals are logged by route template) and pages that show it
are never cached. Every answer is saved by ``assessment.store.saving.save_answers``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import msgspec
from jinja2 import Environment, pass_context
from litestar import MediaType, Request, Response, Router, get, post
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from assessment.store import responses
from assessment.store.by_token import Draft, ResultRef
from assessment.store.inputs import has_control_characters
from assessment.store.models import Assessment, QuestionnaireVersion
from assessment.store.responses import CompanyProfile, ResponseError
from assessment.store.saving import Change, save_answers
from questionnaires.compile import CompiledQuestionnaire
from questionnaires.reference import CLUSTERS, LANGUAGE_NAMES, LANGUAGES, SIZES
from questionnaires.schema import Section
from scoring.profile import Profile
from scoring.render.i18n import translations
from scoring.render.labels import Labels

from . import api, flow, page_cache, unavailable
from .consent import Consent, consent_cookie, consent_of, ended_consent_cookie
from .context import AppContext, Context, ReadSession, Transaction, client_address
from .failures import failure_text
from .flow import Shown, shown
from .languages import Refusal, is_workspace, page_language, reader_language

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
"""A section page posts a few kilobytes; a text answer is at most 10,000 characters."""
NO_STORE = CacheControlHeader(no_store=True)
"""Pages that show a token or answers stay out of every cache."""

# Countries a company of the Eurocluster is likely to be in: the EU, the EEA and the
# neighbours. Names come from Babel in the page's language.
COUNTRIES = ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "AL", "BA", "CH", "GB", "IS", "LI", "MD", "ME", "MK", "NO", "RS", "TR", "UA"]
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
_NACE = re.compile(r"^[A-U]? ?\d{2}(\.\d{1,2}){0,2}$", re.IGNORECASE)


class NoLongerOffered(ResponseError):
    status_code = 410


Gettext = Callable[[str], str]


def gettext_for(lang: str) -> Gettext:
    return translations(lang).gettext


def install_translations(environment: Environment) -> None:
    """gettext for the templates (``{{ _("Start") }}``) in the language of each page: the
    callables read ``lang`` from the template's context, so one environment serves every
    language at once: the SME's pages set it from the assessment or the start page's choice,
    the workspace's from its reader (``web.languages``); a template without one is English."""
    environment.add_extension("jinja2.ext.i18n")

    @pass_context
    def gettext(context, message: str) -> str:
        return translations(context.get("lang") or "en").gettext(message)

    @pass_context
    def ngettext(context, singular: str, plural: str, n: int) -> str:
        return translations(context.get("lang") or "en").ngettext(singular, plural, n)

    environment.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]


def page(name: str, lang: str, context: dict | None = None, status_code: int = 200, headers: dict | None = None) -> Template:
    return Template(template_name=name, context={"lang": lang, **(context or {})}, status_code=status_code, headers=headers)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def route_of(request: Request) -> str:
    # The route's template, never the path: paths of assessments hold their tokens.
    return request.scope.get("path_template") or "(no route)"


# --- Landing page and health -------------------------------------------------------------


@get("/", include_in_schema=False)
async def landing(request: Request, context: Context, lang: FromQuery[str | None] = None) -> Template:
    return page(
        "landing.html",
        page_language(request, lang),
        {"questionnaires": list(context.questionnaires.values()), "languages": LANGUAGE_NAMES},
    )


HEALTH_CHECK_S = 3
"""How long /healthz waits for the database before it answers 503 (less when the request
deadline is shorter, so that the answer is still this JSON)."""


@get("/healthz", media_type=MediaType.JSON, tags=["operations"])
async def healthz(context: Context) -> Response[dict[str, str | int]]:
    """``{"status": "ok", "database": "ok", "questionnaires": N}`` (N questionnaires offered)
    once the database has answered a query within HEALTH_CHECK_S: on the connections of
    autosave (and on PostgreSQL those of the other requests too), and on SQLite in the file
    the server opened, still in its place. Otherwise a 503 with ``"status": "unavailable"``
    and ``"database": "unavailable"``, and Retry-After. JSON whatever happens, for monitors."""
    offered = len(context.questionnaires)
    try:
        async with asyncio.timeout(min(HEALTH_CHECK_S, context.settings.request_timeout / 2)):
            await context.tokens.check()
            if context.tokens.postgresql:
                # SQLite's engine shares the file checked above, and its one connection may
                # be waiting for another process's lock: a wait, not a failure.
                async with context.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
    except Exception as exc:  # whatever fails, the database is not fit to serve
        # The reason goes to the log only: it can name hosts and users.
        log.error("health check: database unavailable: %s", unavailable.unavailable_reason(exc) or f"{type(exc).__name__}: {exc}")
        body: dict[str, str | int] = {"status": "unavailable", "database": "unavailable", "questionnaires": offered}
        return Response(body, status_code=503, headers=unavailable.RETRY_AFTER)
    return Response({"status": "ok", "database": "ok", "questionnaires": offered})


# --- Starting: cluster, questionnaire, language ------------------------------------------


def start_context(context: AppContext, lang: str, values: dict, errors: dict) -> dict:
    choices = flow.sector_choices(context.questionnaires)
    labels = Labels(lang)
    return {
        "choices": choices,
        "sector_names": {c.sector: labels.sector(c.sector) for c in choices},
        "cluster_names": {c: labels.cluster(c) for c in CLUSTERS},
        "clusters": CLUSTERS,
        "languages": LANGUAGE_NAMES,
        "values": values,
        "errors": errors,
    }


def start_values(form) -> dict:
    return {
        "q": str(form.get("q") or ""),
        "cluster": str(form.get("cluster") or ""),
        "lang": str(form.get("lang") or ""),
    }


def start_errors(context: AppContext, values: dict, _: Gettext) -> dict[str, str]:
    errors = {}
    if flow.find_choice(context.questionnaires, values["q"]) is None:
        errors["q"] = _("Choose the questionnaire of your sector.")
    if not flow.is_cluster(values["cluster"]):
        errors["cluster"] = _("Choose your cluster.")
    if values["lang"] not in LANGUAGES:
        errors["lang"] = _("Choose a language.")
    return errors


@get("/start", include_in_schema=False)
async def start_form(
    request: Request, context: Context, lang: FromQuery[str | None] = None, q: FromQuery[str | None] = None, cluster: FromQuery[str | None] = None
) -> Template:
    # The language preselected: the one chosen before (?lang=), else the browser's first.
    lang = page_language(request, lang)
    return page("start.html", lang, start_context(context, lang, {"q": q or "", "cluster": cluster or "", "lang": lang}, {}))


@post("/start", include_in_schema=False, status_code=303)
async def start(request: Request, context: Context) -> Template | Redirect:
    values = start_values(await request.form())
    lang = page_language(request, values["lang"])
    errors = start_errors(context, values, gettext_for(lang))
    if errors:
        return page("start.html", lang, start_context(context, lang, values, errors), status_code=422)
    return Redirect(f"/start/privacy?{urlencode(values)}", status_code=303)


# --- The privacy notice ------------------------------------------------------------------


def _valid_start(context: AppContext, values: dict) -> bool:
    return not start_errors(context, values, lambda s: s)


def privacy_context(context: AppContext, values: dict, errors: dict) -> dict:
    choice = flow.find_choice(context.questionnaires, values["q"])
    return {"values": values, "errors": errors, "cluster": CLUSTERS[values["cluster"]], "choice": choice, **notice_context(context)}


def notice_context(context: AppContext) -> dict:
    """What the privacy notice (_privacy_notice.html) states: how long links and data last,
    from the settings that ``recentre purge`` applies."""
    return {
        "lifetime_days": responses.TOKEN_LIFETIME.days,
        "draft_days": context.settings.retain_draft_days,
        "submitted_days": context.settings.retain_submitted_days,
    }


@get("/start/privacy", include_in_schema=False)
async def privacy_form(
    request: Request, context: Context, q: FromQuery[str | None] = None, cluster: FromQuery[str | None] = None, lang: FromQuery[str | None] = None
) -> Template | Redirect:
    values = {"q": q or "", "cluster": cluster or "", "lang": lang or ""}
    if not _valid_start(context, values):
        return Redirect(f"/start?{urlencode(values)}", status_code=303)
    shown_now = privacy_context(context, values, {})
    # Back from the company page to change the choice: it is ticked as the SME left it.
    given = consent_of(request, context.settings.secret_key, values["cluster"])
    shown_now["share"] = bool(given and given.share)
    return page("privacy.html", values["lang"], shown_now)


def cookies_secure(request: Request, context: AppContext) -> bool:
    """As ``web.auth`` marks its cookies: Secure over https, or when the settings say so."""
    return request.url.scheme == "https" or context.settings.secure_cookies


@post("/start/privacy", include_in_schema=False, status_code=303)
async def privacy(request: Request, context: Context) -> Template | Redirect:
    """The notice's form: the only place the notice is accepted and the sharing chosen; both
    are kept in a signed cookie (``web.consent``), never in the next page's address."""
    form = await request.form()
    values = start_values(form)
    if not _valid_start(context, values):
        return Redirect(f"/start?{urlencode(values)}", status_code=303)
    _ = gettext_for(values["lang"])
    share = form.get("share") == "yes"
    if form.get("accept") != "yes":
        errors = {"accept": _("Accept the privacy notice to continue, or leave this page if you do not agree.")}
        shown_again = privacy_context(context, values, errors)
        shown_again["share"] = share
        return page("privacy.html", values["lang"], shown_again, status_code=422)
    given = Consent(cluster=values["cluster"], share=share, at=int(time.time()))
    cookie = consent_cookie(context.settings.secret_key, given, secure=cookies_secure(request, context))
    return Redirect(f"/start/company?{urlencode(values)}", status_code=303, cookies=[cookie])


# --- The company profile; creating the assessment -----------------------------------------


def countries(lang: str) -> list[tuple[str, str]]:
    from babel import Locale

    names = Locale.parse(lang).territories
    return sorted(((code, names.get(code, code)) for code in COUNTRIES), key=lambda item: item[1])


COMPANY_TARGETS = {"name": "f-name", "size": "f-size-micro", "country": "f-country", "nace": "f-nace", "contact_name": "f-contact_name", "contact_email": "f-contact_email"}
"""Where the error summary's link for each field leads."""


def company_context(context: AppContext, values: dict, company: dict, errors: dict, share: bool) -> dict:
    labels = Labels(values["lang"])
    choice = flow.find_choice(context.questionnaires, values["q"])
    assert choice is not None, "_valid_start accepted it"
    return {
        "share": share,
        "problems": [(target, errors[name]) for name, target in COMPANY_TARGETS.items() if name in errors],
        "values": values,
        "company": company,
        "errors": errors,
        "choice": choice,
        "sector_name": labels.sector(choice.sector),
        "cluster": CLUSTERS[values["cluster"]],
        "sizes": [(size, labels.size(size), labels.size_people(size)) for size in SIZES],
        "countries": countries(values["lang"]),
    }


def company_errors(company: dict, _: Gettext) -> dict[str, str]:
    errors = {}
    if not company["name"].strip():
        errors["name"] = _("Enter the name of your company.")
    elif len(company["name"]) > 200:
        errors["name"] = _("Shorten the name to 200 characters or fewer.")
    elif has_control_characters(company["name"].strip()):
        errors["name"] = _("Remove the tabs, line breaks and other control characters from the name.")
    if company["size"] not in SIZES:
        errors["size"] = _("Choose the size of your company.")
    if company["country"] not in COUNTRIES:
        errors["country"] = _("Choose the country of your company.")
    if company["nace"] and not _NACE.match(company["nace"].strip()):
        errors["nace"] = _("Enter a NACE code such as 31.01, or leave it empty.")
    if len(company["contact_name"]) > 200:
        errors["contact_name"] = _("Shorten the name to 200 characters or fewer.")
    elif has_control_characters(company["contact_name"].strip()):
        errors["contact_name"] = _("Remove the tabs, line breaks and other control characters from the name.")
    if company["contact_email"] and (len(company["contact_email"]) > 254 or not _EMAIL.match(company["contact_email"].strip())):
        errors["contact_email"] = _("Enter an e-mail address such as name@example.com, or leave it empty.")
    return errors


COMPANY_FIELDS = ("name", "size", "country", "nace", "contact_name", "contact_email")


@get("/start/company", include_in_schema=False)
async def company_form(
    request: Request,
    context: Context,
    q: FromQuery[str | None] = None,
    cluster: FromQuery[str | None] = None,
    lang: FromQuery[str | None] = None,
) -> Template | Redirect:
    values = {"q": q or "", "cluster": cluster or "", "lang": lang or ""}
    if not _valid_start(context, values):
        return Redirect(f"/start?{urlencode(values)}", status_code=303)
    given = consent_of(request, context.settings.secret_key, values["cluster"])
    if given is None:
        # Whatever the address says: the notice is accepted on its own page, or not at all.
        return Redirect(f"/start/privacy?{urlencode(values)}", status_code=303)
    company = dict.fromkeys(COMPANY_FIELDS, "")
    company["country"] = CLUSTERS[values["cluster"]].country
    return page("company.html", values["lang"], company_context(context, values, company, {}, given.share))


@post("/start/company", include_in_schema=False, status_code=303)
async def company(request: Request, context: Context, transaction: Transaction) -> Template | Redirect:
    form = await request.form()
    values = start_values(form)
    if not _valid_start(context, values):
        return Redirect(f"/start?{urlencode(values)}", status_code=303)
    given = consent_of(request, context.settings.secret_key, values["cluster"])
    if given is None:
        return Redirect(f"/start/privacy?{urlencode(values)}", status_code=303)
    lang = values["lang"]
    company = {name: str(form.get(name) or "") for name in COMPANY_FIELDS}
    errors = company_errors(company, gettext_for(lang))
    if errors:
        return page("company.html", lang, company_context(context, values, company, errors, given.share), status_code=422)
    choice = flow.find_choice(context.questionnaires, values["q"])
    assert choice is not None, "_valid_start accepted it"
    compiled = choice.questionnaire
    request.state.lang = lang  # a refusal's page in the language chosen on the start page
    await responses.count_new_assessment(transaction, client_address(request), context.settings.new_assessments_per_hour)
    version = await transaction.get_one(QuestionnaireVersion, context.offered_versions[compiled.id])
    assessment, token = await responses.create_assessment(
        transaction,
        version,
        language=lang,
        cluster=values["cluster"],
        sector=choice.sector,
        share_with_advisors=given.share,
        company=CompanyProfile(**{name: value.strip() for name, value in company.items()}),
    )
    company_now = responses.company_of(assessment)
    first = shown(compiled, {}, company_now).sections
    assessment.current_section = first[0].id if first else None
    ended = ended_consent_cookie(secure=cookies_secure(request, context))
    return Redirect(section_url(token, first[0].id) if first else review_url(token), status_code=303, cookies=[ended])


# --- The assessment's pages --------------------------------------------------------------


def base_url(token: str) -> str:
    return f"/a/{token}"


def section_url(token: str, section_id: str) -> str:
    return f"/a/{token}/s/{section_id}"


def review_url(token: str) -> str:
    return f"/a/{token}/review"


def results_url(token: str) -> str:
    return f"/a/{token}/results"


async def open_draft_or_submitted(
    request: Request, context: AppContext, session: AsyncSession, token: str
) -> tuple[Assessment, CompiledQuestionnaire]:
    """The assessment and its questionnaire version (from the database when the files no
    longer hold it). The error pages learn its language and that the token is good."""
    assessment = await responses.open_assessment(session, token)
    learn_reader(request, token, assessment.language)
    return assessment, await context.versions.get(assessment.questionnaire_version_id, session)


def learn_reader(request: Request, token: str, lang: str) -> None:
    """Tell the error pages the SME's language, and that the token opens an assessment."""
    request.state.lang = lang
    request.state.token = token


def resume_link(request: Request, token: str) -> str:
    return f"{str(request.base_url).rstrip('/')}{base_url(token)}"


def where_to_resume(token: str, assessment: Assessment, now: Shown) -> str:
    if assessment.status != "draft":
        return results_url(token)
    target = now.section(assessment.current_section or "") or (now.sections[0] if now.sections else None)
    return section_url(token, target.id) if target else review_url(token)


@get("/a/{token:str}", include_in_schema=False)
async def resume(request: Request, context: Context, session: ReadSession, token: FromPath[str]) -> Redirect:
    """The private link: back to where the SME left off."""
    assessment, compiled = await open_draft_or_submitted(request, context, session, token)
    answers = await responses.load_answers(session, assessment)
    return Redirect(where_to_resume(token, assessment, shown(compiled, answers, responses.company_of(assessment))), status_code=303)


def section_context(
    request: Request,
    token: str,
    assessment: Assessment | Draft,
    compiled: CompiledQuestionnaire,
    now: Shown,
    section,
    *,
    values: dict | None = None,
    errors: dict[str, str] | None = None,
    raw: dict | None = None,
    general_errors: list[str] | None = None,
) -> dict:
    """What section.html draws. ``values`` are answers posted but not stored (a refused
    page shows what was typed, not what is stored)."""
    lang = assessment.language
    _ = gettext_for(lang)
    values = values or {}
    errors = errors or {}
    raw = raw or {}
    views = {}
    for q in now.questions_of(section):
        value = values[q.id] if q.id in values else now.visible.get(q.id)
        views[q.id] = flow.question_view(q, now, lang, _, value=value, error=errors.get(q.id), raw=raw.get(q.id))
    position = now.position(section.id)
    return {
        "token": token,
        "assessment": assessment,
        "compiled": compiled,
        "section": section,
        "views": views,
        "position": position,
        "now": now,
        "previous": now.sections[position - 1] if position > 0 else None,
        "next": now.sections[position + 1] if 0 <= position < len(now.sections) - 1 else None,
        "post_url": section_url(token, section.id),
        "resume_link": resume_link(request, token),
        "problems": [(v.first_input_id, f"{v.text}: {v.error}") for v in views.values() if v.error] + [(None, m) for m in general_errors or []],
        "languages": LANGUAGE_NAMES,
        "revealed": request.query_params.get("revealed") == "1",
    }


def section_of(compiled: CompiledQuestionnaire, section_id: str, _: Gettext):
    section = next((s for s in compiled.sections if s.id == section_id), None)
    if section is None:
        raise responses.NotFound(_("This page of the questionnaire does not exist."))
    return section


@get("/a/{token:str}/s/{section_id:str}", include_in_schema=False)
async def section_page(
    request: Request, context: Context, session: ReadSession, token: FromPath[str], section_id: FromPath[str]
) -> Template | Redirect:
    assessment, compiled = await open_draft_or_submitted(request, context, session, token)
    if assessment.status != "draft":
        return Redirect(results_url(token), status_code=303)
    answers = await responses.load_answers(session, assessment)
    lang = assessment.language
    section = section_of(compiled, section_id, gettext_for(lang))
    now = shown(compiled, answers, responses.company_of(assessment))
    if now.section(section.id) is None:
        # Every question of this page is hidden by the answers: on to the next page shown.
        return Redirect(next_after(token, compiled, now, section.id), status_code=303)
    return page("section.html", lang, section_context(request, token, assessment, compiled, now, section))


def next_after(token: str, compiled: CompiledQuestionnaire, now: Shown, section_id: str) -> str:
    order = [s.id for s in compiled.sections]
    later = order[order.index(section_id) + 1 :]
    target = next((s for s in now.sections if s.id in later), None)
    return section_url(token, target.id) if target else review_url(token)


def before(token: str, compiled: CompiledQuestionnaire, now: Shown, section_id: str) -> str:
    order = [s.id for s in compiled.sections]
    earlier = order[: order.index(section_id)]
    target = next((s for s in reversed(now.sections) if s.id in earlier), None)
    return section_url(token, (target or now.section(section_id) or now.sections[0]).id)


def unexpected_messages(unexpected: flow.Unexpected, compiled: CompiledQuestionnaire, lang: str, _: Gettext) -> list[str]:
    messages = []
    for qid in unexpected.hidden:
        messages.append(_("“%(question)s” is not asked with your answers, so it cannot be answered.") % {"question": compiled.questions[qid].text.get(lang)})
    for qid in unexpected.elsewhere:
        messages.append(_("“%(question)s” is on another page.") % {"question": compiled.questions[qid].text.get(lang)})
    if unexpected.unknown:
        messages.append(_("The form held fields that belong to no question: %(names)s.") % {"names": ", ".join(unexpected.unknown[:5])})
    return messages


@dataclass
class Posted:
    """A section page's post, read against the answers stored before it."""

    section: Section
    before: Shown
    on_page_ids: set[str]
    targets: list
    parsed: flow.Parsed
    general: list[str]
    updates: dict


def read_post(compiled: CompiledQuestionnaire, answers: dict, company: dict, section, form, autosave: str | None, lang: str, _) -> Posted:
    """What a post to a section page asks to store: the page's answers, or with htmx
    (``autosave``) one question's, each parsed and checked on its own."""
    before_save = shown(compiled, answers, company)
    on_page = before_save.questions_of(section) if before_save.section(section.id) else []
    on_page_ids = {q.id for q in on_page}
    if autosave is not None:
        if not on_page:
            raise responses.InvalidAnswers(_("This page has no questions to answer with your answers."))
        targets = [q for q in on_page if q.id == autosave]
        if not targets:
            raise responses.InvalidAnswers(_("This question is not on this page, or not asked with your answers."))
    else:
        targets = on_page
    unexpected = flow.unexpected_fields(form, on_page_ids, before_save)
    parsed = flow.parse_page(targets, form, before_save, _)
    general = unexpected_messages(unexpected, compiled, lang, _)
    updates = {q: v for q, v in parsed.answers.items() if q not in parsed.errors}
    # Answers below a question that this very post hides: dropped, as the SME could not
    # have known (without JavaScript, the page still showed them).
    for qid in flow.hidden_by(compiled, answers, updates, company):
        updates.pop(qid)
    return Posted(section, before_save, on_page_ids, targets, parsed, general, updates)


def checked_post(posted: Posted, compiled: CompiledQuestionnaire, answers: dict, company: dict, _) -> responses.Saved | None:
    """The answers once the post's are stored, or None with the post's problems noted in
    ``posted`` (at their questions, or for the page)."""
    parsed, general = posted.parsed, posted.general
    if parsed.errors or general:
        return None
    try:
        return responses.checked_updates(compiled, answers, company, posted.updates)
    except responses.InvalidAnswers as exc:
        for problem in exc.problems:
            if problem.question in posted.on_page_ids:
                parsed.errors.setdefault(problem.question, _("This answer cannot be saved: %(reason)s.") % {"reason": problem.message})
            else:
                general.append(problem.message)
        if not parsed.errors and not general:
            general.append(exc.message)
        return None


class RefusedPost(responses.InvalidAnswers):
    """A post whose problems are drawn at their questions (the page, or htmx's fragment).
    Raised inside the save, so that a refusal decided on a kept draft is decided again on
    the stored one."""

    def __init__(self, posted: Posted, draft: Draft, compiled: CompiledQuestionnaire):
        super().__init__("Some answers could not be saved.")
        self.posted = posted
        self.draft = draft
        self.compiled = compiled


@dataclass(frozen=True, kw_only=True)
class PagePost(Change):
    """A section page's save, with the post it was read from and, without JavaScript, the
    page to go to next."""

    posted: Posted
    target: str | None = None


@post("/a/{token:str}/s/{section_id:str}", include_in_schema=False, status_code=303)
async def save_section(request: Request, context: Context, token: FromPath[str], section_id: FromPath[str]) -> Template | Redirect:
    """Without JavaScript: the whole page's answers, then where the button leads. With htmx
    (``_autosave`` names the question): that question's answer, and its fragment back. Both
    are saved by ``save_answers``, through a kept draft and one write."""
    form = await request.form()
    question = form.get("_autosave")
    question = None if question is None else str(question)

    def change(draft: Draft, compiled: CompiledQuestionnaire) -> PagePost:
        return section_change(request, token, section_id, form, question, draft, compiled)

    try:
        written = await save_answers(context.tokens, context.versions, token, change)
    except RefusedPost as refused:
        posted = refused.posted
        log.info("%s %s refused: 422 (%d problems)", request.method, route_of(request), len(posted.parsed.errors) + len(posted.general))
        return refused_page(request, token, form, question, refused)
    if written.change.target is not None:  # without JavaScript: where the button leads
        return Redirect(written.change.target, status_code=303)
    after = shown(written.compiled, written.draft.answers, written.draft.company)
    posted = written.change.posted
    return autosave_response(form, token, written.draft.language, posted.before, after, posted, {})


def section_change(
    request: Request, token: str, section_id: str, form, question: str | None, draft: Draft, compiled: CompiledQuestionnaire
) -> PagePost:
    """What a post to a section page asks to save, read against ``draft``: the page's
    answers, or with htmx (``question``) that question's; RefusedPost with their problems."""
    lang = draft.language
    learn_reader(request, token, lang)
    _ = gettext_for(lang)
    if draft.status != "draft":
        raise responses.AlreadySubmitted(_("This assessment has already been submitted, so its answers can no longer change."))
    section = section_of(compiled, section_id, _)
    company = draft.company
    posted = read_post(compiled, draft.answers, company, section, form, question, lang, _)
    if question is None and posted.before.section(section.id) is None:
        # Every question of the page is hidden by the stored answers: nothing to save.
        return PagePost(saved=None, section=draft.section, posted=posted, target=next_after(token, compiled, posted.before, section.id))
    saved = checked_post(posted, compiled, draft.answers, company, _)
    if saved is None:
        raise RefusedPost(posted, draft, compiled)
    if question is not None:
        return PagePost(saved=saved, section=section.id, posted=posted)
    return whole_page_change(token, form, compiled, company, posted, saved)


def whole_page_change(token: str, form, compiled: CompiledQuestionnaire, company: dict, posted: Posted, saved: responses.Saved) -> PagePost:
    """The page's answers, and where its button leads, which is also where the SME will
    resume; the language chooser changes the assessment's language in the same save."""
    section = posted.section
    after = shown(compiled, saved.answers, company)
    action = str(form.get("action") or "next")
    language = None
    revealed = [q.id for q in after.questions_of(section) if q.id not in posted.on_page_ids] if after.section(section.id) else []
    if action == "language":
        choice = str(form.get("lang") or "")
        language = choice if choice in LANGUAGES else None
        target = section_url(token, section.id)
    elif action == "previous":
        target = before(token, compiled, after, section.id)
    elif action == "later":
        target = f"/a/{token}/later"
    elif revealed:
        # New questions on this page, revealed by an answer on it: show them first.
        target = f"{section_url(token, section.id)}?revealed=1#q-{revealed[0]}"
    else:
        target = next_after(token, compiled, after, section.id)
    match = re.match(r"^/a/[^/]+/s/([a-z0-9_]+)", target)
    return PagePost(saved=saved, section=match.group(1) if match else section.id, language=language, posted=posted, target=target)


def refused_page(request: Request, token: str, form, question: str | None, refused: RefusedPost) -> Template:
    """The post refused: htmx's fragment with the problem at its question, or the whole page
    with what was typed and each problem."""
    posted, draft = refused.posted, refused.draft
    if question is not None:
        return autosave_response(form, token, draft.language, posted.before, posted.before, posted, dict(posted.parsed.answers))
    context = section_context(
        request, token, draft, refused.compiled, posted.before, posted.section,
        values=dict(posted.parsed.answers), errors=posted.parsed.errors, raw=posted.parsed.raw, general_errors=posted.general,
    )
    return page("section.html", draft.language, context, status_code=422)


def autosave_response(form, token: str, lang: str, before_save: Shown, after: Shown, posted: Posted, values: dict) -> Template:
    """The question's fragment, and out of band: the questions of the page whose visibility
    changed, the progress and the status line.

    The fragment is swapped in only when the browser shows something else than what was
    stored: an error to show or to take away (``_shown_error``), or boxes the server
    cleared. Otherwise ``HX-Reswap: none`` keeps the question as it is, since swapping it
    could undo a box ticked while the request was under way."""
    _ = gettext_for(lang)
    section, target, parsed, general = posted.section, posted.targets[0], posted.parsed, posted.general
    error = parsed.errors.get(target.id) or ("; ".join(general) if general else None)
    swap = bool(error) or target.id in parsed.adjusted or form.get("_shown_error") == "1"
    view = None
    if swap:  # else htmx applies only the out-of-band parts: the fragment would be drawn for nothing
        value = values[target.id] if target.id in values else after.visible.get(target.id)
        view = flow.question_view(target, after, lang, _, value=value, error=error, raw=parsed.raw.get(target.id))
    changed = []
    for q in section.questions:
        if q.id != target.id and before_save.signature(q.id) != after.signature(q.id):
            changed.append(q.id if q.id in after.hidden else flow.question_view(q, after, lang, _, value=after.visible.get(q.id)))
    context = {
        "v": view,
        "changed": changed,
        "now": after,
        "position": max(after.position(section.id), 0),
        "post_url": section_url(token, section.id),
        "status": _("Not saved: see the message at the question.") if error else _("Saved."),
        "failed": bool(error),
    }
    headers = {} if swap else {"HX-Reswap": "none"}
    return page("_autosave.html", lang, context, status_code=422 if error else 200, headers=headers)


# --- Continue later, review, submit ------------------------------------------------------


@get("/a/{token:str}/later", include_in_schema=False)
async def later(request: Request, context: Context, session: ReadSession, token: FromPath[str]) -> Template:
    assessment, compiled = await open_draft_or_submitted(request, context, session, token)
    return page(
        "later.html",
        assessment.language,
        {
            "token": token,
            "assessment": assessment,
            "compiled": compiled,
            "resume_link": resume_link(request, token),
            "expires_on": Labels(assessment.language).date(assessment.expires_at.date()),
            "lifetime_days": responses.TOKEN_LIFETIME.days,
        },
    )


def review_context(request: Request, token: str, assessment: Assessment, compiled: CompiledQuestionnaire, answers: dict) -> dict:
    lang = assessment.language
    company = responses.company_of(assessment)
    now = shown(compiled, answers, company)
    missing = set(responses.unanswered(compiled, answers, company))
    required = set(responses.required_unanswered(compiled, answers, company))
    groups = []
    for section in now.sections:
        items = [
            {"id": q.id, "text": q.text.get(lang), "required": q.id in required}
            for q in now.questions_of(section)
            if q.id in missing
        ]
        if items:
            groups.append({"section": section, "items": items, "url": section_url(token, section.id)})
    last = now.sections[-1] if now.sections else None
    return {
        "token": token,
        "assessment": assessment,
        "compiled": compiled,
        "now": now,
        "groups": groups,
        "missing": len(missing),
        "required": len(required),
        "last_url": section_url(token, last.id) if last else None,
        "resume_link": resume_link(request, token),
    }


@get("/a/{token:str}/review", include_in_schema=False)
async def review(request: Request, context: Context, session: ReadSession, token: FromPath[str]) -> Template | Redirect:
    assessment, compiled = await open_draft_or_submitted(request, context, session, token)
    if assessment.status != "draft":
        return Redirect(results_url(token), status_code=303)
    answers = await responses.load_answers(session, assessment)
    return page("review.html", assessment.language, review_context(request, token, assessment, compiled, answers))


@post("/a/{token:str}/submit", include_in_schema=False, status_code=303)
async def submit(request: Request, context: Context, transaction: Transaction, token: FromPath[str]) -> Template | Redirect:
    assessment, compiled = await open_draft_or_submitted(request, context, transaction, token)
    _ = gettext_for(assessment.language)
    if assessment.status != "draft":
        raise responses.AlreadySubmitted(_("This assessment has already been submitted, so its answers can no longer change."))
    answers = await responses.load_answers(transaction, assessment)
    if responses.required_unanswered(compiled, answers, responses.company_of(assessment)):
        shown_again = review_context(request, token, assessment, compiled, answers)
        shown_again["submit_refused"] = True
        log.info("%s %s refused: 422 (required questions unanswered)", request.method, route_of(request))
        return page("review.html", assessment.language, shown_again, status_code=422)
    await responses.submit(transaction, assessment, compiled, complete=True)
    return Redirect(results_url(token), status_code=303)


# --- Results and re-assessment -----------------------------------------------------------


@get("/a/{token:str}/results", include_in_schema=False)
async def results(request: Request, context: Context, token: FromPath[str]) -> Response[bytes] | Redirect:
    """The results page, drawn once per result and kept (web/page_cache.py): a result never
    changes, and a re-scoring makes a new one. Read through the TokenStore, like autosave."""
    found = await context.tokens.current_result(token)
    learn_reader(request, token, found.language)
    if found.status != "submitted" or found.result_id is None:
        return Redirect(review_url(token), status_code=303)
    link = resume_link(request, token)
    offered = found.questionnaire_id in context.offered_versions
    key = ("results", found.result_id, link, offered)
    body = context.pages.get(key, request)
    if body is None:
        drawn = page_cache.render(request, "results.html", await results_context(context, token, found, found.result_id, link, offered))
        body = context.pages.keep(key, request, drawn)
    return Response(body, media_type=MediaType.HTML)


async def results_context(context: AppContext, token: str, found: ResultRef, result_id: int, link: str, offered: bool) -> dict:
    """What results.html draws of ``found``'s current result, ``result_id``."""
    stored = await context.tokens.stored_result(result_id)
    # After a re-scoring, the current result belongs to the version it was scored with.
    compiled = await context.versions.get(stored.version_id)
    profile = msgspec.json.decode(stored.profile, type=Profile)
    return {
        "lang": profile.language,
        "token": token,
        "assessment": found,
        "company_name": stored.company_name,
        "compiled": compiled,
        "profile": profile,
        "view": flow.results_view(compiled, profile, profile.language),
        "submitted_on": Labels(profile.language).date(stored.submitted_at.date()),
        "report_url": f"/a/{token}/report.pdf",
        "resume_link": link,
        "offered": offered,
    }


async def reassessable(request: Request, context: AppContext, session: AsyncSession, token: str) -> tuple[Assessment, int]:
    """The submitted assessment ``token`` opens and the id of its questionnaire's version
    offered now; 409 for a draft, 410 when the questionnaire is no longer offered."""
    previous, _compiled = await open_draft_or_submitted(request, context, session, token)
    _ = gettext_for(previous.language)
    if previous.status != "submitted":
        raise responses.AlreadySubmitted(_("Submit this assessment before you start a new one."))
    version_id = context.offered_versions.get(previous.questionnaire_id)
    if version_id is None:
        raise NoLongerOffered(_("This questionnaire is no longer offered: start a new assessment from the home page."))
    return previous, version_id


def reassess_context(context: AppContext, token: str, previous: Assessment, errors: dict, share: bool) -> dict:
    return {"token": token, "errors": errors, "share": share, "cluster": CLUSTERS[previous.cluster], **notice_context(context)}


@get("/a/{token:str}/reassess", include_in_schema=False)
async def reassess_form(request: Request, context: Context, session: ReadSession, token: FromPath[str]) -> Template:
    """The privacy notice again, and the sharing choice again, unticked: a re-assessment is
    a new assessment, accepted on its own (the SME's earlier choice may be years old)."""
    previous, _version_id = await reassessable(request, context, session, token)
    return page("reassess.html", previous.language, reassess_context(context, token, previous, {}, False))


@post("/a/{token:str}/reassess", include_in_schema=False, status_code=303)
async def reassess(request: Request, context: Context, transaction: Transaction, token: FromPath[str]) -> Template | Redirect:
    """A new assessment for the same company (T1 after T0), pre-filled with the answers
    that still fit the questionnaire offered now; the new link replaces the old one. Only
    once the notice is accepted again on this form, with the sharing chosen on it."""
    previous, version_id = await reassessable(request, context, transaction, token)
    form = await request.form()
    share = form.get("share") == "yes"
    if form.get("accept") != "yes":
        _ = gettext_for(previous.language)
        errors = {"accept": _("Accept the privacy notice to continue, or leave this page if you do not agree.")}
        return page("reassess.html", previous.language, reassess_context(context, token, previous, errors, share), status_code=422)
    compiled = context.questionnaires[previous.questionnaire_id]
    await responses.count_new_assessment(transaction, client_address(request), context.settings.new_assessments_per_hour)
    version = await transaction.get_one(QuestionnaireVersion, version_id)
    assessment, new_token = await responses.start_reassessment(transaction, previous, version, compiled, share_with_advisors=share)
    await transaction.flush()
    answers = await responses.load_answers(transaction, assessment)
    now = shown(compiled, answers, responses.company_of(assessment))
    first = now.sections[0] if now.sections else None
    assessment.current_section = first.id if first else None
    return Redirect(section_url(new_token, first.id) if first else review_url(new_token), status_code=303)


# --- Errors ------------------------------------------------------------------------------


def error_response(request: Request, status: int, message: str, heading: str | None = None, headers: dict | None = None) -> Response:
    lang = request.state.get("lang") or reader_language(request)
    token = request.state.get("token")
    headers = {"Cache-Control": "no-store", **(headers or {})}
    if is_htmx(request):
        # htmx swaps no error page into a question: the browser reloads the whole page,
        # which shows the state as stored (or this error, as a page).
        headers["HX-Refresh"] = "true"
    _ = gettext_for(lang)
    headings = {
        400: _("The request could not be used"),
        403: _("The form could not be sent"),
        404: _("Not found"),
        405: _("Not found"),
        409: _("This cannot be done now"),
        410: _("No longer available"),
        413: _("Too much was sent"),
        422: _("Some answers could not be saved"),
        500: _("Something went wrong"),
    }
    context = {
        "status": status,
        "heading": heading or headings.get(status, _("The request was refused")),
        "message": message,
        "results_url": results_url(token) if token and status == 409 else None,
        "resume_url": base_url(token) if token else None,
        "workspace": is_workspace(request),
    }
    return page("error.html", lang, context, status_code=status, headers=headers)


def response_error_page(request: Request, exc: ResponseError) -> Response:
    log.info("%s %s refused: %d", request.method, route_of(request), exc.status_code)
    lang = request.state.get("lang") or reader_language(request)
    # Messages of this module are translated already; the service layer's are looked up.
    return error_response(request, exc.status_code, gettext_for(lang)(exc.message))


def http_error_page(request: Request, exc: HTTPException) -> Response:
    lang = request.state.get("lang") or reader_language(request)
    _ = gettext_for(lang)
    status = exc.status_code
    if isinstance(exc, Refusal):
        log.info("%s %s refused: %d", request.method, route_of(request), status)
        # Not a form's problem, as other 403s are (CSRF): a page this account may not see.
        heading = _("The request was refused") if status == 403 else None
        return error_response(request, status, _(exc.detail), heading)
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        message = _("This form has expired or did not come from this site. Go back, reload the page and send it again.")
    else:
        message = {
            400: _("The request could not be understood."),
            404: _("This page does not exist."),
            405: _("This page cannot be used that way."),
            413: _("What was sent is too large: at most %(size)s KiB.") % {"size": MAX_BODY_BYTES // 1024},
        }.get(status) or _("The request was refused.")
    if status >= 500:
        log.error("%s %s failed: %d", request.method, route_of(request), status)
    else:
        log.info("%s %s refused: %d", request.method, route_of(request), status)
    return error_response(request, status, message)


def server_error_page(request: Request, exc: Exception) -> Response:
    """A bug: the traceback goes to the log (by route, without the path), a page to the SME.
    The database unavailable, or the request too long: a 503 page (web/unavailable.py)."""
    reason = unavailable.unavailable_reason(exc)
    if reason is not None:
        return unavailable_page(request, reason)
    log.error("%s %s failed\n%s", request.method, route_of(request), failure_text(exc))
    _ = gettext_for(request.state.get("lang") or reader_language(request))
    return error_response(request, 500, _("Something went wrong on our side, and nothing was changed. Try again in a moment."))


def unavailable_page(request: Request, reason: str) -> Response:
    """The 503 page: try again, without claiming that nothing was changed."""
    unavailable.log_unavailable(request, reason)
    _ = gettext_for(request.state.get("lang") or reader_language(request))
    message = _(unavailable.WRITE_FAILED) if unavailable.writes(request) else _(unavailable.READ_FAILED)
    return error_response(request, 503, message, _(unavailable.HEADING), unavailable.RETRY_AFTER)


def error_for_reader(request: Request, exc: Exception) -> Response:
    """The app's own handler, for errors outside the routers that handle theirs (paths that
    match no route, the workspace's pages): the API's JSON error under /api, else an error
    page in the reader's language; never a traceback."""
    if api.is_api(request):
        return api.api_error(request, exc)
    if isinstance(exc, HTTPException):
        return http_error_page(request, exc)
    return server_error_page(request, exc)


router = Router(
    path="/",
    route_handlers=[
        landing,
        start_form,
        start,
        privacy_form,
        privacy,
        company_form,
        company,
        resume,
        section_page,
        save_section,
        later,
        review,
        submit,
        results,
        reassess_form,
        reassess,
    ],
    exception_handlers={
        HTTPException: http_error_page,
        ResponseError: response_error_page,
        Exception: server_error_page,
    },
    request_max_body_size=MAX_BODY_BYTES,
    cache_control=NO_STORE,
)
