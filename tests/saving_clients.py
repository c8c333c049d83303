"""SMEs saving answers to a live server (tests/live_server.py) over real HTTP, the three ways
the app takes answers: the API's PATCH, htmx's autosave of one question, and the section page
posted without JavaScript. For the fault tests: each save's answer, whether the server
acknowledged it, and what was in flight when the server or its database went away.

They answer the small test questionnaire (tests/small_questionnaire.py): ``kwh`` is a number
with no upper bound, so each save can give a new value.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

import httpx

API = "/api/v1"
KINDS = ("api", "htmx", "form")
NEW = {"questionnaire": "small", "cluster": "did", "sector": "furniture", "privacy_accepted": True}
"""A new assessment of the small questionnaire, as the API takes it."""


def browser(base_url: str) -> httpx.Client:
    """A client that keeps cookies, as a browser does (``csrf`` gets it the form's token)."""
    return httpx.Client(base_url=base_url, timeout=30)


def csrf(client: httpx.Client) -> str:
    """The token the forms carry; its cookie comes with the first page."""
    if "recentre_csrf" not in client.cookies:
        client.get("/start").raise_for_status()
    return client.cookies["recentre_csrf"]


def create(client: httpx.Client) -> str:
    """The token of a new assessment of the small questionnaire."""
    response = client.post(f"{API}/assessments", json=NEW)
    assert response.status_code == 201, response.text
    return response.json()["token"]


def save(client: httpx.Client, token: str, kind: str, kwh: int, **extra: str) -> httpx.Response:
    """The response to a save of ``kwh`` (and ``extra`` fields of the energy page) in the
    way ``kind`` says."""
    if kind == "api":
        return client.patch(f"{API}/assessments/{token}/answers", json={"kwh": kwh, **extra})
    if kind == "htmx":
        headers = {"HX-Request": "true", "x-csrftoken": csrf(client)}
        return client.post(f"/a/{token}/s/energy", data={"kwh": str(kwh), "_autosave": "kwh"}, headers=headers)
    data = {"kwh": str(kwh), "_csrf_token": csrf(client), "action": "next", **extra}
    return client.post(f"/a/{token}/s/energy", data=data, follow_redirects=False)


def acknowledged(kind: str, response: httpx.Response) -> bool:
    """Whether the server said the save was stored: 200 (API, htmx) or the redirect onwards."""
    return response.status_code == (303 if kind == "form" else 200)


def stored_kwh(client: httpx.Client, token: str) -> int | None:
    response = client.get(f"{API}/assessments/{token}")
    assert response.status_code == 200, response.text
    return response.json()["answers"].get("kwh")


@dataclass
class Tally:
    """What one assessment saw: the last value acknowledged, and the values sent after it
    whose fate is unknown (no answer, or a failure that cannot say)."""

    acknowledged: int | None = None
    unknown: set[int] = field(default_factory=set)

    def allows(self, stored: int | None) -> bool:
        """Whether ``stored`` is what these saves may have left: the last acknowledged value,
        or one sent after it."""
        return stored == self.acknowledged or stored in self.unknown


class Saver(threading.Thread):
    """Saves one increasing ``kwh`` after another to its assessments, by turns in each way,
    until ``stop`` is set or the server stops answering; counts the statuses it got."""

    def __init__(self, base_url: str, tokens: list[str], stop: threading.Event, start_at: int = 1):
        super().__init__(daemon=True)
        self.base_url = base_url
        self.tokens = tokens
        self.stop = stop
        self.value = start_at
        self.tallies = {t: Tally() for t in tokens}
        self.statuses: Counter[int] = Counter()
        self.refusals: list[str] = []
        """Responses that are neither an acknowledgement nor a 503 (bodies, for the message)."""
        self.retry_after_missing = 0

    def run(self) -> None:
        client = browser(self.base_url)
        try:
            while not self.stop.is_set():
                for token in self.tokens:
                    self._save_once(client, token)
        except httpx.TransportError:
            pass  # the server went away; what was in flight is in ``unknown``
        finally:
            client.close()

    def _save_once(self, client: httpx.Client, token: str) -> None:
        kind = KINDS[self.value % len(KINDS)]
        value = self.value
        self.value += 1
        tally = self.tallies[token]
        tally.unknown.add(value)
        response = save(client, token, kind, value)
        self.statuses[response.status_code] += 1
        if acknowledged(kind, response):
            tally.acknowledged = value
            tally.unknown = {v for v in tally.unknown if v > value}
        elif response.status_code == 503:
            self.retry_after_missing += "retry-after" not in response.headers
        else:
            tally.unknown.discard(value)
            self.refusals.append(f"{kind} {response.status_code}: {response.text[:300]}")


def unkept(base_url: str, savers: list[Saver]) -> list[str]:
    """Each assessment whose stored answer is not what its acknowledged saves left."""
    wrong = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for saver in savers:
            for token, tally in saver.tallies.items():
                stored = stored_kwh(client, token)
                if not tally.allows(stored):
                    wrong.append(f"stored {stored}, acknowledged {tally.acknowledged}, unknown {sorted(tally.unknown)}")
    return wrong
