"""Partners for an SME's innovation-voucher project, on its page in the workspace
(``assessment.workspace.matchmaking``): SMEs of other sectors that agreed to share their results,
strong where this one has gaps, with the reason for each.

The assessment is loaded through ``visible_assessment`` (another cluster's id answers 404)
and partners are drawn from what the reader may see: an advisor gets partners of their own
cluster, an organiser partners of every cluster.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from assessment.store.responses import current_result, decode_profile
from assessment.workspace.matchmaking import GAP, STRENGTH, Partner, suggest_partners

from .auth import requires_user, user_of, visible_assessment, visible_assessments
from .context import Context, ReadSession
from .languages import format_score, translator, workspace_language, workspace_page


def reason(partner: Partner, _: Callable[[str], str], lang: str) -> str:
    """Why ``partner`` is suggested, in one sentence of ``lang`` (``Partner.reason`` in English)."""
    parts = [
        _("%(dimension)s %(theirs)s (yours %(ours)s)") % {"dimension": m.title, "theirs": format_score(m.theirs, lang, 0), "ours": format_score(m.ours, lang, 0)}
        for m in partner.matches
    ]
    return _("Strong where you have gaps: %(gaps)s.") % {"gaps": "; ".join(parts)}


@get("/workspace/assessments/{assessment_id:int}/partners", guards=[requires_user], include_in_schema=False)
async def partners_page(request: Request, context: Context, session: ReadSession, assessment_id: FromPath[int]) -> Template:
    user = user_of(request)
    lang = workspace_language(request)
    _ = translator(request).gettext
    titles = {d: title for d, (title, _pillar) in context.labels(lang).dimensions.items()}
    assessment = await visible_assessment(session, user, assessment_id)
    result = await current_result(session, assessment)
    profile = decode_profile(result) if result else None
    partners = await suggest_partners(session, assessment, visible_assessments(user), titles) if result else []
    gaps = sorted(
        ((titles.get(d, d), v.score) for d, v in (profile.dimensions.items() if profile else []) if v.score is not None and v.score <= GAP),
        key=lambda pair: pair[1],
    )
    hints = [r.cross_sector for r in profile.recommendations if r.cross_sector] if profile else []
    return workspace_page(
        request,
        "workspace/partners.html",
        {
            "user": user,
            "assessment": assessment,
            "profile": profile,
            "partners": partners,
            "gaps": gaps,
            "hints": list(dict.fromkeys(hints)),
            "strength": STRENGTH,
            "gap": GAP,
            "reason": lambda partner: reason(partner, _, lang),
        },
    )


ROUTES = [partners_page]
