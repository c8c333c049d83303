"""The workspace of advisors and organisers: the list of assessments with its filters, one
assessment with notes and action plan, progress from T0 to T1, and the questionnaire library,
on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, text

from assessment.store.models import Note
from tests.database import query, run_coroutine, run_sql
from tests.pdf import one_line, pdf_text
from tests.workspace import HIGH, LOW, MIDDLE, add_members, add_user, make_assessment, post_form, sign_in, workspace_settings
from web.app import create_app
from web.dashboard import MAX_PAGE, PAGE_SIZE


@pytest.fixture
def settings(database_url: str, questionnaire_dir: Path, tmp_path: Path):
    return workspace_settings(database_url, questionnaire_dir, tmp_path / "data")


@pytest.fixture
def client(settings):
    with TestClient(app=create_app(settings)) as client:
        yield client


@pytest.fixture
def members(settings, questionnaire_dir):
    """Assessments of two clusters, shared or not, and the accounts that look at them."""
    return add_members(settings.database_url, questionnaire_dir)


def companies(page: str) -> list[str]:
    """The company names in the list, in order."""
    return [html.unescape(name) for name in re.findall(r'<a href="/workspace/assessments/\d+">([^<]+)</a>', page)]


# --- The list ----------------------------------------------------------------------------


def test_an_advisor_lists_the_shared_assessments_of_their_cluster_only(client, members):
    sign_in(client, "advisor@did.example")
    page = client.get("/workspace")
    assert page.status_code == 200
    assert companies(page.text) == ["Arredo Bozza", "Bianchi Design", "Mobili Rossi"]
    assert "3 assessments" in page.text
    assert "Segreto" not in page.text and "Muebles" not in page.text


def test_an_organiser_lists_every_assessment(client, members):
    sign_in(client, "organiser@recentre.example")
    assert sorted(companies(client.get("/workspace").text)) == sorted(
        ["Mobili Rossi", "Bianchi Design", "Segreto Srl", "Muebles Garcia", "Arredo Bozza"]
    )


@pytest.mark.parametrize(
    "query_string, expected",
    [
        ("cluster=cenfim", ["Muebles Garcia"]),
        ("country=es", ["Muebles Garcia"]),
        ("size=micro", ["Bianchi Design"]),
        ("status=draft", ["Arredo Bozza"]),
        ("status=submitted&sort=company", ["Bianchi Design", "Mobili Rossi", "Muebles Garcia", "Segreto Srl"]),
        ("level=advanced", ["Mobili Rossi"]),
        ("level=basic&sort=company", ["Bianchi Design", "Muebles Garcia", "Segreto Srl"]),
        ("archetype=twin_leader", ["Mobili Rossi"]),
        ("archetype=starter", []),
        ("sector=furniture&q=mobili", ["Mobili Rossi"]),
        ("q=ROSSI", ["Mobili Rossi"]),
        ("q=%25", []),  # LIKE's wildcards are taken literally
        ("q=_", []),
        ("from=2026-02-01&to=2026-04-30", ["Mobili Rossi"]),
        ("to=2026-05-01&sort=date&order=asc", ["Mobili Rossi", "Bianchi Design"]),
        ("sort=score", ["Mobili Rossi", "Muebles Garcia", "Segreto Srl", "Bianchi Design", "Arredo Bozza"]),
        ("sort=score&order=asc", ["Bianchi Design", "Segreto Srl", "Muebles Garcia", "Mobili Rossi", "Arredo Bozza"]),  # ties by id
        ("sort=company&order=desc", ["Segreto Srl", "Muebles Garcia", "Mobili Rossi", "Bianchi Design", "Arredo Bozza"]),
        ("sector=energy", []),
        ("page=2", []),
        (f"page={MAX_PAGE}", []),
    ],
)
def test_filters_and_sorting(client, members, query_string, expected):
    sign_in(client, "organiser@recentre.example")
    response = client.get(f"/workspace?{query_string}")
    assert response.status_code == 200
    assert companies(response.text) == expected


@pytest.mark.parametrize(
    "query_string, message",
    [
        ("sector=' OR 1=1 --", "sector: not an identifier (lower-case letters, digits and _)"),
        ("sector=<script>alert(1)</script>", "sector: not an identifier (lower-case letters, digits and _)"),
        ("cluster=did' OR '1'='1", "cluster: unknown value; use one of green_synergy, did, cenfim, cluj_it"),
        ("country=ITA", "country: a two-letter code such as IT"),
        ("size=huge", "size: unknown value; use one of micro, small, medium, large"),
        ("status=deleted", "status: unknown value; use one of draft, submitted"),
        ("level=1;DROP TABLE assessment", "level: not an identifier (lower-case letters, digits and _)"),
        ("archetype=%00", "archetype: not an identifier (lower-case letters, digits and _)"),
        ("from=yesterday", "from: not a date; write it as YYYY-MM-DD"),
        ("to=2026-02-30", "to: not a date; write it as YYYY-MM-DD"),
        ("sort=password_hash", "sort: unknown value; use one of date, company, score"),
        ("order=sideways", "order: unknown value; use one of asc, desc"),
        (f"page={MAX_PAGE + 1}", f"page: a number from 1 to {MAX_PAGE}"),
        ("page=99999999999999999999999", f"page: a number from 1 to {MAX_PAGE}"),
        ("page=0", f"page: a number from 1 to {MAX_PAGE}"),
        ("page=-1", f"page: a number from 1 to {MAX_PAGE}"),
        ("page=1e9", f"page: a number from 1 to {MAX_PAGE}"),
        ("q=" + "x" * 101, "q: at most 100 characters"),
        # PostgreSQL refuses a NUL in a query: it was a 500, and cut the CSV download mid-stream.
        ("q=Rossi\x00", "q: remove the control characters (such as tabs or line breaks)"),
        ("q=Rossi\tBianchi", "q: remove the control characters (such as tabs or line breaks)"),
    ],
)
def test_bad_filter_values_get_a_400_naming_the_field(client, members, query_string, message):
    sign_in(client, "organiser@recentre.example")
    response = client.get("/workspace", params=dict([query_string.split("=", 1)]))
    assert response.status_code == 400
    assert html.escape(message) in response.text
    assert companies(response.text) == []
    assert "<script>alert" not in response.text


def test_a_search_with_a_nul_is_refused_before_the_csv_download_starts(client, members):
    sign_in(client, "organiser@recentre.example")
    for path in ("/workspace/assessments.csv", "/workspace/assessments.xlsx"):
        response = client.get(path, params={"q": "Rossi\x00"})
        assert response.status_code == 400, path
        assert response.text == "q: remove the control characters (such as tabs or line breaks)\n"


@pytest.mark.parametrize("query_string", ["to=9999-12-31", "from=0001-01-01", "from=0001-01-01&to=9999-12-31", "from=9999-12-31"])
def test_dates_at_the_ends_of_the_calendar_are_filters_like_any_other(client, members, query_string):
    sign_in(client, "organiser@recentre.example")
    response = client.get(f"/workspace?{query_string}")
    assert response.status_code == 200
    expected = [] if query_string == "from=9999-12-31" else companies(client.get("/workspace").text)
    assert companies(response.text) == expected
    assert client.get(f"/workspace/assessments.csv?{query_string}").status_code == 200


def test_script_like_search_text_is_escaped_and_finds_nothing(client, members):
    sign_in(client, "organiser@recentre.example")
    for q in ("<script>alert(1)</script>", "' OR '1'='1", "Rossi'; DROP TABLE assessment; --"):
        response = client.get("/workspace", params={"q": q})
        assert response.status_code == 200
        assert companies(response.text) == []
        assert "<script>alert(1)" not in response.text
    assert len(companies(client.get("/workspace").text)) == 5  # the table is still there


def test_a_company_name_is_escaped_in_the_list(client, settings, questionnaire_dir):
    make_assessment(settings.database_url, questionnaire_dir, name="<img src=x onerror=alert(1)> & Co")
    add_user(settings.database_url, "advisor@did.example")
    sign_in(client, "advisor@did.example")
    page = client.get("/workspace").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; Co" in page


def test_pages_of_results(client, settings, questionnaire_dir):
    for i in range(PAGE_SIZE + 2):
        make_assessment(settings.database_url, questionnaire_dir, name=f"Company {i:02d}", submit=False)
    add_user(settings.database_url, "advisor@did.example")
    sign_in(client, "advisor@did.example")
    first = client.get("/workspace?sort=company").text
    assert len(companies(first)) == PAGE_SIZE
    assert f"{PAGE_SIZE + 2} companies ({PAGE_SIZE + 2} assessments), page 1 of 2" in first
    assert 'href="/workspace?sort=company&amp;page=2" rel="next"' in first
    second = client.get("/workspace?sort=company&page=2").text
    assert companies(second) == [f"Company {PAGE_SIZE:02d}", f"Company {PAGE_SIZE + 1:02d}"]
    assert "Previous page" in second and "Next page" not in second
    past = client.get("/workspace?page=3")
    assert past.status_code == 200 and companies(past.text) == []
    assert "past the last one" in past.text


def test_htmx_gets_only_the_results(client, members):
    sign_in(client, "organiser@recentre.example")
    headers = {"HX-Request": "true", "HX-Target": "results"}
    response = client.get("/workspace?cluster=cenfim", headers=headers)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="results"')
    assert "<html" not in response.text and 'class="filters"' not in response.text
    assert companies(response.text) == ["Muebles Garcia"]
    bad = client.get("/workspace?size=huge", headers=headers)
    assert bad.status_code == 200 and "size: unknown value" in bad.text


def test_the_filter_form_works_without_javascript(client, members):
    sign_in(client, "organiser@recentre.example")
    page = client.get("/workspace").text
    assert '<form method="get" action="/workspace" class="filters"' in page
    assert 'hx-get="/workspace" hx-target="#results"' in page


# --- One assessment ----------------------------------------------------------------------


def test_an_advisor_reviews_a_members_results(client, members):
    sign_in(client, "advisor@did.example")
    page = client.get(f"/workspace/assessments/{members['bianchi'].id}")
    assert page.status_code == 200
    text = page.text
    assert "Bianchi Design" in text
    assert "RE-CENTRE twin-transition index</dt><dd>0.0 · Basic" in text and "EU DMA" not in text
    assert "Organise your data" in text  # the recommendation
    assert "Innovation voucher" in text  # the instrument it points to
    assert "How the scores came about" in text
    assert "Yearly electricity use in kWh" in text  # an explained answer
    assert "Which tools hold your customer data?" in text and "<td>None</td>" in text


def test_contact_details_show_only_where_the_company_agreed(client, members):
    sign_in(client, "organiser@recentre.example")
    shared = client.get(f"/workspace/assessments/{members['rossi'].id}").text
    assert "anna@rossi.example" in shared
    private = client.get(f"/workspace/assessments/{members['secret'].id}").text
    assert "Segreto Srl" in private
    assert "ceo@segreto.example" not in private
    assert "not shared by the company" in private


@pytest.mark.parametrize("who, which", [("advisor@did.example", "secret"), ("advisor@did.example", "muebles"), ("advisor@cenfim.example", "rossi")])
def test_assessments_an_advisor_may_not_see_answer_404(client, members, who, which):
    sign_in(client, who)
    for path in ("", "/history"):
        response = client.get(f"/workspace/assessments/{members[which].id}{path}")
        assert response.status_code == 404
        assert "Segreto" not in response.text and "Muebles" not in response.text and "Rossi" not in response.text


def test_ids_that_do_not_exist_or_are_not_numbers(client, members):
    sign_in(client, "organiser@recentre.example")
    assert client.get("/workspace/assessments/987654").status_code == 404
    assert client.get("/workspace/assessments/99999999999999999999999").status_code in (400, 404)
    assert client.get("/workspace/assessments/1%20OR%201=1").status_code in (400, 404)


def add(client, assessment_id: int, kind: str, text: str):
    page = f"/workspace/assessments/{assessment_id}"
    return post_form(client, page, f"{page}/notes", {"kind": kind, "text": text})


def test_notes_and_the_action_plan_are_stored_with_author_and_time(client, settings, members):
    rossi = members["rossi"].id
    sign_in(client, "advisor@did.example")
    response = add(client, rossi, "note", "Met the owner; <b>keen</b> on a CNC upgrade.")
    assert (response.status_code, response.headers["location"]) == (303, f"/workspace/assessments/{rossi}#notes")
    assert add(client, rossi, "plan", "Apply for an innovation voucher with an IT partner by June.").status_code == 303
    page = client.get(f"/workspace/assessments/{rossi}").text
    notes_section = page[page.index('id="notes"'):page.index('id="plan"')]
    plan_section = page[page.index('id="plan"'):page.index('id="add-note"')]
    assert "Met the owner; &lt;b&gt;keen&lt;/b&gt; on a CNC upgrade." in notes_section
    assert "advisor@did.example" in notes_section
    assert "innovation voucher with an IT partner" in plan_section
    rows = query(settings.database_url, select(Note.kind, Note.text, Note.created_at).order_by(Note.id))
    assert [(k, t) for k, t, _ in rows] == [
        ("note", "Met the owner; <b>keen</b> on a CNC upgrade."),
        ("plan", "Apply for an innovation voucher with an IT partner by June."),
    ]
    assert all(created.tzinfo is not None for _, _, created in rows)


@pytest.mark.parametrize(
    "kind, text, message",
    [
        ("note", "   ", "text: write something first."),
        ("secret", "x", "kind: choose a note or an action plan step."),
        ("plan", "x" * 5001, "text: at most 5,000 characters."),
        ("note", "Met the owner\x00", "text: remove the control characters; line breaks and tabs may stay."),
        ("note", "Bell\x07", "text: remove the control characters; line breaks and tabs may stay."),
    ],
)
def test_bad_notes_are_refused(client, settings, members, kind, text, message):
    sign_in(client, "advisor@did.example")
    response = add(client, members["rossi"].id, kind, text)
    assert response.status_code == 400
    assert message in response.text
    assert query(settings.database_url, select(Note.id)) == []


def test_a_note_may_run_over_several_lines(client, settings, members):
    sign_in(client, "advisor@did.example")
    assert add(client, members["rossi"].id, "note", "First:\n\tcall the owner\r\nThen visit").status_code == 303
    assert query(settings.database_url, select(Note.text)) == [("First:\n\tcall the owner\r\nThen visit",)]


def test_a_database_error_is_logged_without_the_values_it_quotes(client, settings, members, caplog):
    """SQLAlchemy's messages carry a statement's parameters, PostgreSQL's the failing row: a
    note the database refuses must not reach the log, nor the advisor's email."""
    if settings.database_url.startswith("sqlite"):
        refuse = text("CREATE TRIGGER refuse_notes BEFORE INSERT ON note BEGIN SELECT RAISE(ABORT, 'no notes today'); END")
    else:
        refuse = text("ALTER TABLE note ADD CONSTRAINT short_notes CHECK (length(text) < 5)")
    run_sql(settings.database_url, refuse)
    sign_in(client, "advisor@did.example")
    with caplog.at_level(logging.INFO):
        response = add(client, members["rossi"].id, "note", "Confidential: the owner sells in May")
    assert response.status_code == 500
    failed = [r.getMessage() for r in caplog.records if "POST /workspace/assessments/{assessment_id}/notes failed" in r.getMessage()]
    assert len(failed) == 1
    assert "IntegrityError" in failed[0] and "[SQL: INSERT INTO note" in failed[0]
    server = "\n".join(logging.Formatter().format(r) for r in caplog.records if not r.name.startswith("httpx"))
    assert "Confidential" not in server and "advisor@did.example" not in server


def test_notes_need_the_csrf_token(client, settings, members):
    sign_in(client, "advisor@did.example")
    response = client.post(f"/workspace/assessments/{members['rossi'].id}/notes", data={"kind": "note", "text": "x"}, follow_redirects=False)
    assert response.status_code == 403
    assert query(settings.database_url, select(Note.id)) == []


def test_no_notes_on_another_clusters_assessment(client, settings, members):
    sign_in(client, "advisor@cenfim.example")
    path = f"/workspace/assessments/{members['rossi'].id}/notes"
    assert post_form(client, "/workspace", path, {"kind": "note", "text": "Not mine to write"}).status_code == 404
    assert query(settings.database_url, select(Note.id)) == []


def test_an_unsubmitted_assessment_shows_that_it_has_no_results_yet(client, members):
    sign_in(client, "advisor@did.example")
    page = client.get(f"/workspace/assessments/{members['draft'].id}").text
    assert "No results yet" in page


# --- Progress over time ------------------------------------------------------------------


def test_progress_from_t0_to_t1_shows_the_change_in_each_dimension(client, settings, questionnaire_dir):
    url = settings.database_url
    t0 = make_assessment(url, questionnaire_dir, name="Mobili Rossi", answers=LOW)
    t1 = make_assessment(url, questionnaire_dir, previous=t0.id, answers=MIDDLE)
    make_assessment(url, questionnaire_dir, previous=t1.id, answers=HIGH)  # T2
    add_user(url, "advisor@did.example")
    sign_in(client, "advisor@did.example")
    assert "this is T1" in client.get(f"/workspace/assessments/{t1.id}").text
    page = client.get(f"/workspace/assessments/{t1.id}/history")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert "Change T0–T1" in text and "Change T1–T2" in text and "Change T0–T2" in text
    # Energy: 0 → 50 → 100; data: 0 → 0 → 100.
    assert re.search(r'<th scope="row">Energy</th> <td class="number">0.0</td> <td class="number">50.0</td> <td class="number"><span class="up">\+50.0</span></td> <td class="number">100.0</td> <td class="number"><span class="up">\+50.0</span></td> <td class="number"><span class="up">\+100.0</span></td>', text)
    assert re.search(r'<th scope="row">Data</th> <td class="number">0.0</td> <td class="number">0.0</td> <td class="number">±0.0</td> <td class="number">100.0</td>', text)


def test_progress_leaves_out_assessments_the_company_did_not_share(client, settings, questionnaire_dir):
    url = settings.database_url
    t0 = make_assessment(url, questionnaire_dir, name="Mobili Rossi", answers=LOW, share=False)
    t1 = make_assessment(url, questionnaire_dir, previous=t0.id, answers=HIGH)

    async def share_t1():
        from assessment.store.db import create_engine, session_factory
        from assessment.store.models import Assessment

        engine = create_engine(url)
        async with session_factory(engine)() as session, session.begin():
            (await session.get(Assessment, t1.id)).share_with_advisors = True
        await engine.dispose()

    run_coroutine(share_t1())
    add_user(url, "advisor@did.example")
    sign_in(client, "advisor@did.example")
    page = client.get(f"/workspace/assessments/{t1.id}/history").text
    assert ">T0<" in page and ">T1<" not in page
    assert "only assessment so far" in page
    assert client.get(f"/workspace/assessments/{t0.id}/history").status_code == 404


# --- The questionnaire library -----------------------------------------------------------


def test_the_library_lists_questionnaires_with_versions_languages_and_tests(client, members):
    sign_in(client, "organiser@recentre.example")
    page = client.get("/workspace/library")
    assert page.status_code == 200
    text = page.text
    assert "Small twin-transition check" in text
    assert "Furniture and interiors, agri food" in text
    assert "<dt>Languages</dt><dd>en</dd>" in text
    assert "<dt>Tests</dt><dd>none; 3 items no test reaches</dd>" in text
    assert re.search(r"<td>1</td><td><code>[0-9a-f]{12}</code></td><td>\d{4}-\d\d-\d\d</td><td class=\"number\">5</td><td>yes</td>", text)


def test_the_library_runs_the_embedded_tests_of_the_bundled_questionnaires(settings, tmp_path):
    from dataclasses import replace

    from questionnaires.compile import BUNDLED

    with TestClient(app=create_app(replace(settings, questionnaires=BUNDLED))) as client:
        add_user(settings.database_url, "organiser@recentre.example", "organiser")
        sign_in(client, "organiser@recentre.example")
        text = client.get("/workspace/library").text
        for qid in ("core", "furniture", "it", "energy"):
            assert f'<a href="/workspace/library/{qid}">' in text
        assert len(re.findall(r'<span class="notice">(\d+)/\1 passed</span>', text)) == 4
        for lang in ("en", "xx", "<script>"):  # a language the questionnaire lacks falls back to its first
            preview = client.get("/workspace/library/furniture", params={"lang": lang})
            assert preview.status_code == 200
            assert '<div class="preview" lang="en">' in preview.text


def test_the_preview_shows_each_question_with_its_answer_counts(client, members):
    sign_in(client, "organiser@recentre.example")
    page = client.get("/workspace/library/small")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert "<fieldset disabled>" in text
    # Four submitted assessments: Rossi (erp, audit), Bianchi, Segreto and Garcia (none, no audit).
    assert "An ERP or CRM</label> <span class=\"muted\" lang=\"en\">· 1 (25%)" in text
    assert "None</label> <span class=\"muted\" lang=\"en\">· 3 (75%)" in text
    assert "Yes</label> <span class=\"muted\" lang=\"en\">· 1 (25%)" in text
    assert "No</label> <span class=\"muted\" lang=\"en\">· 3 (75%)" in text
    assert "4 numbers: from 10 to 500, mean 377.5" in text


def test_the_library_is_for_organisers_only(client, members):
    sign_in(client, "advisor@did.example")
    assert client.get("/workspace/library").status_code == 403
    assert client.get("/workspace/library/small").status_code == 403


def test_an_unknown_questionnaire_is_404(client, members):
    sign_in(client, "organiser@recentre.example")
    assert client.get("/workspace/library/nope").status_code == 404


# --- The PDF -----------------------------------------------------------------------------


def test_the_pdf_carries_the_advisors_notes_and_the_action_plan(client, members, tmp_path):
    rossi = members["rossi"].id
    sign_in(client, "advisor@did.example")
    add(client, rossi, "note", "Owner keen on a CNC upgrade")
    add(client, rossi, "plan", "Apply for an innovation voucher by June")
    response = client.get(f"/workspace/assessments/{rossi}/report.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store, private"
    text = one_line(pdf_text(response.content, tmp_path))
    assert "Mobili Rossi" in text
    assert "Owner keen on a CNC upgrade" in text
    assert "Apply for an innovation voucher by June" in text
    assert "advisor@did.example" in text


def test_no_pdf_for_a_draft_or_for_another_cluster(client, members):
    sign_in(client, "advisor@did.example")
    assert client.get(f"/workspace/assessments/{members['draft'].id}/report.pdf").status_code == 409
    assert client.get(f"/workspace/assessments/{members['muebles'].id}/report.pdf").status_code == 404
    assert client.get(f"/workspace/assessments/{members['secret'].id}/report.pdf").status_code == 404


# --- Caching -----------------------------------------------------------------------------


def get_routes(app, prefix: str) -> list[str]:
    """The paths of the app's GET routes under ``prefix``, as templates."""
    return sorted({route.path for route in app.routes if route.path.startswith(prefix) and "GET" in getattr(route, "methods", ())})


def test_no_page_or_download_of_the_workspace_is_kept_by_a_cache(settings, members):
    """Every GET route of the workspace, those added later too: contacts and notes must not
    stay in a shared cache or the browser's."""
    app = create_app(settings)
    paths = get_routes(app, "/workspace")
    assert {"/workspace", "/workspace/assessments/{assessment_id:int}", "/workspace/assessments/{assessment_id:int}/history"} <= set(paths)
    values = {"{assessment_id:int}": str(members["rossi"].id), "{questionnaire_id:str}": "small"}
    with TestClient(app=app) as client:
        assert client.get("/workspace/login").headers["cache-control"] == "no-store, private"
        sign_in(client, "organiser@recentre.example")
        for template in paths:
            path = template
            for name, value in values.items():
                path = path.replace(name, value)
            response = client.get(path, follow_redirects=False)
            assert response.status_code == (303 if path == "/workspace/login" else 200), path  # signed in: on to the list
            assert response.headers.get_list("cache-control") == ["no-store, private"], path

