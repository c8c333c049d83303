"""An SME's control of its data from its private link, on SQLite and PostgreSQL: the copy
(page and API), the sharing choice changed at any time (a withdrawal seen at once by every
workspace view, download and kept analysis), and erasure with its confirmation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select, update

from assessment.store.models import Answer, Assessment, Note, Result
from tests.database import query, run_sql
from tests.workspace import HIGH, LOW, add_members, csrf_token, make_assessment, post_form, sign_in, workspace_settings
from web.app import create_app
from web.auth import SESSION_COOKIE

API = "/api/v1/assessments"


@pytest.fixture
def settings(database_url: str, questionnaire_dir: Path, tmp_path: Path):
    return workspace_settings(database_url, questionnaire_dir, tmp_path / "data")


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def members(settings, questionnaire_dir):
    return add_members(settings.database_url, questionnaire_dir)


def rows_left(url: str, assessment_id: int) -> list[int]:
    return [
        query(url, select(func.count()).select_from(table).where(table.assessment_id == assessment_id))[0][0]
        for table in (Answer, Result, Note)
    ] + [query(url, select(func.count()).select_from(Assessment).where(Assessment.id == assessment_id))[0][0]]


class As:
    """One client (one event loop for the app) acting as a signed-in user, or as the SME
    (no session), by the session cookie it sends."""

    def __init__(self, client: TestClient, email: str | None):
        self.client = client
        self.session = ""
        if email:
            client.cookies.pop(SESSION_COOKIE, None)
            assert sign_in(client, email).status_code == 303
            self.session = client.cookies[SESSION_COOKIE]
            client.cookies.pop(SESSION_COOKIE, None)

    def _use(self):
        self.client.cookies.pop(SESSION_COOKIE, None)
        if self.session:
            self.client.cookies[SESSION_COOKIE] = self.session
        return self.client

    def get(self, *args, **kwargs):
        return self._use().get(*args, **kwargs)


def test_withdrawing_sharing_hides_the_assessment_from_advisors_at_once(app, members):
    rossi = members["rossi"]
    with TestClient(app=app) as client:
        advisor, organiser = As(client, "advisor@did.example"), As(client, "organiser@recentre.example")
        sme = As(client, None)
        assert advisor.get(f"/workspace/assessments/{rossi.id}").status_code == 200
        assert "Mobili Rossi" in advisor.get("/workspace/assessments.csv").text
        before = advisor.get("/workspace/analysis.csv").text
        assert "anna@rossi.example" in organiser.get("/workspace/assessments.csv").text

        page = sme.get(f"/a/{rossi.token}/data")
        assert page.status_code == 200 and 'id="f-share" name="share" value="yes" aria-describedby="hint-share" checked' in page.text
        done = post_form(sme._use(), f"/a/{rossi.token}/data", f"/a/{rossi.token}/sharing", {})
        assert (done.status_code, done.headers["location"]) == (303, f"/a/{rossi.token}/data?saved=sharing")
        shown = sme.get(done.headers["location"])
        assert "no longer see your assessment" in shown.text and " checked" not in shown.text.split('id="f-share"')[1].split(">")[0]

        assert advisor.get(f"/workspace/assessments/{rossi.id}").status_code == 404
        assert "Mobili Rossi" not in advisor.get("/workspace").text
        assert "Mobili Rossi" not in advisor.get("/workspace/assessments.csv").text
        assert advisor.get("/workspace/analysis.csv").text != before  # the kept analysis counted again
        assert "anna@rossi.example" not in organiser.get("/workspace/assessments.csv").text
        assert "anna@rossi.example" not in organiser.get(f"/workspace/assessments/{rossi.id}").text

        # Given again, as freely.
        post_form(sme._use(), f"/a/{rossi.token}/data", f"/a/{rossi.token}/sharing", {"share": "yes"})
        assert advisor.get(f"/workspace/assessments/{rossi.id}").status_code == 200
        assert advisor.get("/workspace/analysis.csv").text == before


def test_the_data_download_holds_everything_stored(app, members):
    rossi = members["rossi"]
    with TestClient(app=app) as sme:
        response = sme.get(f"/a/{rossi.token}/data.json")
        assert response.status_code == 200
        assert response.headers["content-disposition"].startswith('attachment; filename="recentre-assessment-')
        assert response.headers["cache-control"] == "no-store"
        data = msgspec.json.decode(response.content)
        assert data["company"]["name"] == "Mobili Rossi" and data["company"]["contact_email"] == "anna@rossi.example"
        assert data["answers"] == HIGH
        assert [r["current"] for r in data["results"]] == [True] and set(data["results"][0]["profile"]["dimensions"]) == {"data", "energy"}
        api = sme.get(f"{API}/{rossi.token}/export").json()
        assert {**api, "exported_at": None} == {**data, "exported_at": None}


def test_erasing_asks_for_confirmation_then_removes_everything(app, members, settings):
    url, rossi = settings.database_url, members["rossi"]
    with TestClient(app=app) as client:
        organiser, sme = As(client, "organiser@recentre.example"), client
        post_form(organiser._use(), f"/workspace/assessments/{rossi.id}", f"/workspace/assessments/{rossi.id}/notes", {"kind": "note", "text": "Call in May"})
        assert rows_left(url, rossi.id) == [3, 1, 1, 1]

        form_page = f"/a/{rossi.token}/erase"
        client.cookies.pop(SESSION_COOKIE, None)
        assert "Erase your assessment?" in sme.get(form_page).text
        refused = post_form(sme, form_page, form_page, {})
        assert refused.status_code == 422 and "Tick the box to confirm" in refused.text
        assert rows_left(url, rossi.id) == [3, 1, 1, 1]

        done = post_form(sme, form_page, form_page, {"confirm": "yes"})
        assert (done.status_code, done.headers["location"]) == (303, "/erased?lang=en")
        assert "Your assessment has been erased" in sme.get("/erased?lang=en").text
        assert rows_left(url, rossi.id) == [0, 0, 0, 0]
        assert sme.get(f"/a/{rossi.token}/results").status_code == 404
        assert sme.get(f"{API}/{rossi.token}").status_code == 404
        assert "Mobili Rossi" not in organiser.get("/workspace").text
        assert "Mobili Rossi" not in organiser.get("/workspace/assessments.csv").text
        assert organiser.get(f"/workspace/assessments/{rossi.id}").status_code == 404


def test_erasing_a_draft_stops_its_autosave(app, settings, questionnaire_dir):
    draft = make_assessment(settings.database_url, questionnaire_dir, name="Bozza", submit=False, answers=LOW)
    with TestClient(app=app) as sme:
        assert sme.patch(f"{API}/{draft.token}/answers", json={"kwh": 20}).status_code == 200  # kept by the TokenStore
        token = csrf_token(sme, f"/a/{draft.token}/erase")
        assert sme.post(f"/a/{draft.token}/erase", data={"confirm": "yes", "_csrf_token": token}, follow_redirects=False).status_code == 303
        assert sme.patch(f"{API}/{draft.token}/answers", json={"kwh": 30}).status_code == 404
        assert rows_left(settings.database_url, draft.id) == [0, 0, 0, 0]


def test_the_api_changes_sharing_exports_and_erases(app, members, settings):
    secret = members["secret"]
    with TestClient(app=app) as client:
        assert client.get(f"{API}/{secret.token}").json()["share_with_advisors"] is False
        changed = client.patch(f"{API}/{secret.token}", json={"share_with_advisors": True})
        assert (changed.status_code, changed.json()) == (200, {"share_with_advisors": True})
        assert client.get(f"{API}/{secret.token}").json()["share_with_advisors"] is True
        bad = client.patch(f"{API}/{secret.token}", json={"share_with_advisors": True, "status": "draft"})
        assert bad.status_code == 400 and bad.json()["error"]["status"] == 400
        assert client.patch(f"{API}/{secret.token}", json={"share_with_advisors": "yes"}).status_code == 400

        exported = client.get(f"{API}/{secret.token}/export")
        assert exported.status_code == 200 and exported.json()["company"]["name"] == "Segreto Srl"

        erased = client.delete(f"{API}/{secret.token}")
        assert (erased.status_code, erased.content) == (204, b"")
        assert rows_left(settings.database_url, secret.id) == [0, 0, 0, 0]
        gone = client.delete(f"{API}/{secret.token}")
        assert gone.status_code == 404 and gone.json()["error"]["message"] == "This link is not valid. Check that you copied all of it."
        assert client.get(f"{API}/{secret.token}/export").status_code == 404


@pytest.mark.parametrize("lang", ["en", "bg", "it", "es", "ro"])
def test_the_privacy_notice_states_the_retention_periods_of_the_settings(settings, lang):
    from dataclasses import replace

    with TestClient(app=create_app(replace(settings, retain_draft_days=45, retain_submitted_days=999))) as client:
        notice = client.get(f"/start/privacy?q=small%3Afurniture&cluster=did&lang={lang}")
        assert notice.status_code == 200
        from web.pages import gettext_for

        _ = gettext_for(lang)
        expected = _(
            "An assessment you do not submit is erased %(days)s days after your last change; a submitted one, with its "
            "results, %(submitted)s days after you submit it."
        ) % {"days": 45, "submitted": 999}
        assert expected != "" and (lang == "en" or "45" in expected)
        assert expected in notice.text.replace("\n  ", " ")


def test_a_reassessment_asks_for_consent_and_the_sharing_choice_again(app, members, settings):
    rossi = members["rossi"]  # shared with advisors, accepted long ago
    run_sql(settings.database_url, update(Assessment).where(Assessment.id == rossi.id).values(privacy_accepted_at=datetime(2025, 1, 1, tzinfo=UTC)))
    with TestClient(app=app) as client:
        form = client.get(f"/a/{rossi.token}/reassess")
        assert form.status_code == 200 and "What is stored" in form.text
        assert ' checked' not in form.text.split('id="f-share"')[1].split(">")[0]  # asked again, not ticked
        refused = post_form(client, f"/a/{rossi.token}/reassess", f"/a/{rossi.token}/reassess", {"share": "yes"})
        assert refused.status_code == 422 and "Accept the privacy notice to continue" in refused.text
        assert 'id="f-share" name="share" value="yes" aria-describedby="hint-share" checked' in refused.text  # kept as chosen
        assert query(settings.database_url, select(func.count()).select_from(Assessment).where(Assessment.previous_id == rossi.id)) == [(0,)]

        started = post_form(client, f"/a/{rossi.token}/reassess", f"/a/{rossi.token}/reassess", {"accept": "yes"})
        assert started.status_code == 303
    t1 = query(settings.database_url, select(Assessment).where(Assessment.previous_id == rossi.id))[0][0]
    assert t1.share_with_advisors is False  # not copied from T0
    assert t1.privacy_accepted_at > datetime(2026, 1, 1, tzinfo=UTC)


# --- Organisers erase a company's assessments from the workspace -----------------------------


def test_an_organiser_erases_one_assessment_or_the_whole_company(app, members, settings, questionnaire_dir):
    url = settings.database_url
    rossi = members["rossi"]
    t1 = make_assessment(url, questionnaire_dir, previous=rossi.id, answers=HIGH)
    with TestClient(app=app) as client:
        sign_in(client, "organiser@recentre.example")
        page = client.get(f"/workspace/assessments/{rossi.id}")
        assert f'href="/workspace/assessments/{rossi.id}/erase"' in page.text
        form_page = f"/workspace/assessments/{rossi.id}/erase"
        shown = client.get(form_page)
        assert shown.status_code == 200 and "All 2 assessments of this company" in shown.text

        unconfirmed = post_form(client, form_page, form_page, {"which": "this"})
        assert unconfirmed.status_code == 400 and "Tick the box to confirm the erasure, or go back." in unconfirmed.text
        unchosen = post_form(client, form_page, form_page, {"confirm": "yes"})
        assert unchosen.status_code == 400 and "Choose what to erase" in unchosen.text
        assert rows_left(url, rossi.id)[3] == 1

        done = post_form(client, form_page, form_page, {"which": "this", "confirm": "yes"})
        assert (done.status_code, done.headers["location"]) == (303, "/workspace?erased=1")
        assert "Erased: 1 assessment(s)" in client.get(done.headers["location"]).text
        assert rows_left(url, rossi.id) == [0, 0, 0, 0] and rows_left(url, t1.id)[3] == 1
        assert client.get(f"/workspace/assessments/{t1.id}").status_code == 200  # T1 stands alone

        other = members["bianchi"]
        again = make_assessment(url, questionnaire_dir, previous=other.id, answers=HIGH)
        whole = f"/workspace/assessments/{again.id}/erase"
        assert post_form(client, whole, whole, {"which": "company", "confirm": "yes"}).headers["location"] == "/workspace?erased=2"
        assert rows_left(url, other.id) == [0, 0, 0, 0] and rows_left(url, again.id) == [0, 0, 0, 0]
        assert "Bianchi Design" not in client.get("/workspace/assessments.csv").text


def test_advisors_cannot_erase(app, members, settings):
    rossi = members["rossi"]
    with TestClient(app=app) as client:
        sign_in(client, "advisor@did.example")
        assert "/erase" not in client.get(f"/workspace/assessments/{rossi.id}").text
        path = f"/workspace/assessments/{rossi.id}/erase"
        token = csrf_token(client, f"/workspace/assessments/{rossi.id}")
        refused = client.post(path, data={"which": "company", "confirm": "yes", "_csrf_token": token}, follow_redirects=False)
        assert refused.status_code == 403
        assert rows_left(settings.database_url, rossi.id)[3] == 1
        # Without its CSRF token, an organiser's form is refused too.
        client.cookies.clear()
        sign_in(client, "organiser@recentre.example")
        assert client.post(path, data={"which": "company", "confirm": "yes"}, follow_redirects=False).status_code == 403
        assert rows_left(settings.database_url, rossi.id)[3] == 1
