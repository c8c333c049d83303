"""The SME's acceptance of the privacy notice and its choice to share, between the notice and
the company page that creates the assessment.

Both must come from the notice's own form, posted by the SME (with its CSRF token), never
from a link: ``/start/company?...&privacy=accepted&share=yes`` skipped the notice and switched
sharing on, since the choice rode in the query and then a hidden field. Posting the notice
now sets a cookie, signed with the app's secret key, that says for which cluster the notice
was accepted and what was chosen; the company page reads the choice from it alone, and
creating the assessment ends it. A link cannot set a cookie, and a cookie altered or made
elsewhere does not carry the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

import msgspec
from litestar import Request
from litestar.datastructures import Cookie

CONSENT_COOKIE = "recentre_consent"
PATH = "/start"
LIFETIME_S = 2 * 60 * 60
"""Long enough to fill in the company page after reading the notice; after it, the notice
is shown again."""


@dataclass(frozen=True)
class Consent:
    """The notice accepted for ``cluster`` at ``at`` (seconds since the epoch), and whether
    the cluster's advisors may see the assessment."""

    cluster: str
    share: bool
    at: int


class _Payload(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    cluster: str
    share: bool
    at: int


def _signature(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), b"consent\0" + payload, hashlib.sha256).hexdigest()


def consent_cookie(secret: str, consent: Consent, *, secure: bool) -> Cookie:
    """The cookie the notice's form sets."""
    payload = msgspec.json.encode(_Payload(consent.cluster, consent.share, consent.at))
    value = base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + _signature(secret, payload)
    return Cookie(key=CONSENT_COOKIE, value=value, path=PATH, max_age=LIFETIME_S, httponly=True, samesite="strict", secure=secure)


def ended_consent_cookie(*, secure: bool) -> Cookie:
    """The cookie once the assessment is created: one acceptance, one assessment."""
    return Cookie(key=CONSENT_COOKIE, value="", path=PATH, max_age=0, httponly=True, samesite="strict", secure=secure)


def consent_of(request: Request, secret: str, cluster: str, *, now: float | None = None) -> Consent | None:
    """The consent this browser gave on the notice for ``cluster``, if it did within
    LIFETIME_S; None for none, another cluster's, an expired one or one not signed here."""
    value = request.cookies.get(CONSENT_COOKIE, "")
    encoded, _, signature = value.partition(".")
    if not encoded or len(value) > 512:
        return None
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        return None
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        return None
    try:
        found = msgspec.json.decode(payload, type=_Payload)
    except msgspec.DecodeError:
        return None
    age = (time.time() if now is None else now) - found.at
    if found.cluster != cluster or not 0 <= age <= LIFETIME_S:
        return None
    return Consent(found.cluster, found.share, found.at)
