"""The language of the application's own pages: Accept-Language as the first guess, the
workspace's chooser and its cookie, and every workspace page in each of the five languages
with its labels from the catalogs and its numbers written the locale's way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from litestar.testing import TestClient
from markupsafe import escape

from scoring.render import i18n
from scoring.render.i18n import LANGUAGES, negotiate
from tests.environment import ROOT
from tests.workspace import add_members, post_form, sign_in, workspace_settings
from web.app import create_app
from web.languages import LANGUAGE_COOKIE, format_count, format_score


@pytest.mark.parametrize(
    "header, expected",
    [
        ("bg-BG,bg;q=0.9,en;q=0.8", "bg"),
        ("en-US,en;q=0.9,bg;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,it;q=0.5,es;q=0.7", "es"),  # by q-value, not by place
        ("ro-RO", "ro"),
        ("es-419", "es"),
        ("BG", "bg"),
        ("it-CH;q=0.4, de", "it"),
        ("bg;q=0, ro", "ro"),  # q=0: not this one
        ("ro;q=abc, it;q=0.1", "it"),  # a q-value that is no number counts as 0
        ("de-DE,de;q=0.9", None),
        ("*", None),
        ("", None),
        (None, None),
    ],
)
def test_accept_language_is_negotiated_by_quality_and_region(header, expected):
    assert negotiate(header) == expected


@pytest.fixture
def settings(database_url: str, questionnaire_dir: Path, tmp_path: Path):
    return workspace_settings(database_url, questionnaire_dir, tmp_path / "data")


@pytest.fixture
def members(settings, questionnaire_dir):
    """Assessments of two clusters, shared or not, and the accounts that look at them."""
    return add_members(settings.database_url, questionnaire_dir)


@pytest.fixture
def client(settings):
    with TestClient(app=create_app(settings)) as client:
        yield client


def checked_language(page: str) -> str:
    return re.search(r'id="f-lang-(\w+)" name="lang" value="\w+" checked', page).group(1)


def test_the_browser_language_is_the_first_guess_on_the_home_and_start_pages(client):
    bg = i18n.translations("bg").gettext
    landing = client.get("/", headers={"Accept-Language": "bg-BG,bg;q=0.9,en;q=0.8"}).text
    assert '<html lang="bg">' in landing
    assert escape(bg("Start the self-assessment")) in landing
    assert 'href="/start?lang=bg"' in landing
    start = client.get("/start", headers={"Accept-Language": "bg-BG,bg;q=0.9"}).text
    assert '<html lang="bg">' in start and checked_language(start) == "bg"
    # A language chosen on the page wins over the browser's.
    assert checked_language(client.get("/start?lang=it", headers={"Accept-Language": "bg"}).text) == "it"
    # No language of ours asked for: English.
    assert checked_language(client.get("/start", headers={"Accept-Language": "de-DE,de"}).text) == "en"
    assert checked_language(client.get("/start").text) == "en"


def test_the_workspace_follows_the_browser_then_the_chooser_which_is_remembered(client, members):
    sign_in(client, "organiser@recentre.example")
    assert '<html lang="bg">' in client.get("/workspace", headers={"Accept-Language": "bg-BG"}).text
    assert '<html lang="en">' in client.get("/workspace").text
    page = client.get("/workspace/analysis").text
    for code in LANGUAGES:
        assert f'<button type="submit" name="lang" value="{code}" lang="{code}"' in page
    chosen = post_form(client, "/workspace/analysis", "/workspace/language", {"lang": "ro", "next": "/workspace/analysis"})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/workspace/analysis"
    assert client.cookies.get(LANGUAGE_COOKIE) == "ro"
    # Remembered, and it wins over the browser's language.
    assert '<html lang="ro">' in client.get("/workspace", headers={"Accept-Language": "bg"}).text
    assert '<html lang="ro">' in client.get("/workspace/assessments/%d" % members["rossi"].id).text
    # A language that is not ours changes nothing; a way back out of the workspace is not followed.
    refused = post_form(client, "/workspace", "/workspace/language", {"lang": "xx", "next": "//evil.example/"})
    assert refused.headers["location"] == "/workspace" and client.cookies.get(LANGUAGE_COOKIE) == "ro"


def test_the_sign_in_page_has_the_chooser_too(client):
    page = client.get("/workspace/login", headers={"Accept-Language": "it-IT,it"}).text
    assert '<html lang="it">' in page
    post_form(client, "/workspace/login", "/workspace/language", {"lang": "es", "next": "/workspace/login"})
    assert '<html lang="es">' in client.get("/workspace/login").text


class Recording:
    """A catalog that notes every message asked of it."""

    def __init__(self, real, asked: set):
        self.real, self.asked = real, asked

    def gettext(self, message):
        self.asked.add(message)
        return self.real.gettext(message)

    def ngettext(self, singular, plural, n):
        self.asked.add((singular, plural))
        return self.real.ngettext(singular, plural, n)


def workspace_pages(members) -> list[str]:
    rossi = members["rossi"].id
    return [
        "/workspace",
        "/workspace?size=huge&page=0",
        "/workspace?sort=company&page=9",
        f"/workspace/assessments/{rossi}",
        f"/workspace/assessments/{members['draft'].id}",
        f"/workspace/assessments/{rossi}/history",
        f"/workspace/assessments/{rossi}/partners",
        "/workspace/analysis",
        "/workspace/analysis?sector=furniture&cluster=did",
        "/workspace/analysis?sector=nowhere",
        "/workspace/library",
        "/workspace/library/small",
        "/workspace/password",
    ]


def test_every_workspace_page_in_every_language(client, members, monkeypatch):
    """Each page says its language, shows the catalog's words for it (whatever they are
    today: a label still untranslated shows in English) and writes numbers the locale's way;
    every label the pages ask for is in messages.pot, so that translators see it."""
    asked: set = set()
    real = i18n._cached
    monkeypatch.setattr(i18n, "_cached", lambda lang: Recording(real(lang), asked))
    sign_in(client, "organiser@recentre.example")
    bianchi = members["bianchi"].id
    for lang in LANGUAGES:
        _ = real(lang).gettext
        client.cookies.set(LANGUAGE_COOKIE, lang, path="/workspace")
        for path in workspace_pages(members):
            response = client.get(path)
            assert response.status_code in (200, 400), (lang, path)
            page = response.text
            assert f'<html lang="{lang}">' in page, (lang, path)
            for label in ("Sector analysis", "Sign out", "Assessments"):
                assert escape(_(label)) in page, (lang, path, label)
        assessment = client.get(f"/workspace/assessments/{bianchi}").text
        assert f"<dd>{format_score(0.0, lang)} · " in assessment  # the overall score, 0.0 or 0,0
        assert escape(_("How the scores came about")) in assessment
        analysis = client.get("/workspace/analysis").text
        assert f"<strong>{format_count(4, lang)}</strong>" in analysis
        assert escape(_("Most common gaps")) in analysis
        signed_out = TestClient(app=client.app)  # the same app, already started
        signed_out.cookies.set(LANGUAGE_COOKIE, lang, path="/workspace")
        assert escape(_("Sign in to the workspace")) in signed_out.get("/workspace/login").text
    template = {m.id for m in read_po((ROOT / "messages.pot").open("rb")) if m.id}
    assert asked and asked - template == set(), "labels the pages ask for but messages.pot lacks (run pybabel extract)"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_workspace_errors_are_pages_in_the_readers_language(client, members, lang):
    _ = i18n.translations(lang).gettext
    sign_in(client, "advisor@did.example")
    client.cookies.set(LANGUAGE_COOKIE, lang)
    cases = [
        ("/workspace/assessments/999999", 404, _("No such assessment.")),
        ("/workspace/assessments/%d" % members["muebles"].id, 404, _("No such assessment.")),  # another cluster's
        ("/workspace/library", 403, _("Only organisers can see this page.")),
        ("/workspace/no-such-page", 404, _("This page does not exist.")),
    ]
    for path, status, message in cases:
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert f'<html lang="{lang}">' in response.text and f'<p class="lead">{escape(message)}</p>' in response.text, path
        assert '<a href="/workspace">' in response.text
    # The API keeps its JSON errors.
    assert client.get("/api/v1/no-such-route").json()["error"]["status"] == 404
