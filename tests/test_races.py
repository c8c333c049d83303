"""Races between requests and commands on a running server (tests/live_server.py), on SQLite
and PostgreSQL: a save against a submit of the same assessment, ``recentre rescore`` beside
a client that autosaves, and two ``recentre rescore`` at once. What must hold: no answer is
stored after the result is scored, every acknowledged save is in the result, re-scoring never
fails because of the traffic beside it, and an assessment has one current result."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from assessment.store import responses as r
from assessment.store.db import upgrade
from assessment.store.models import Assessment, Result
from questionnaires.compile import compile_questionnaire
from tests.assessments import stored_assessment
from tests.database import in_sessions, query
from tests.environment import ROOT
from tests.live_server import recentre_env, recentre_served
from tests.saving_clients import API, KINDS, acknowledged, browser, create, save
from tests.small_questionnaire import write_small_questionnaire

COMPLETE = {"kwh": 50, "audit": False, "tools": "none"}
"""Every required answer of the small questionnaire; its energy scores 0."""


@pytest.fixture(params=[pytest.param(("sqlite", 1)), pytest.param(("postgresql", 2), marks=pytest.mark.postgresql)], ids=["sqlite", "postgresql"])
def database(request) -> tuple[str, int]:
    """An empty database of each kind, and how many workers serve it."""
    kind, workers = request.param
    return request.getfixturevalue(f"{kind}_database"), workers


def energy_of(answers: dict) -> float:
    """The small questionnaire's energy score: a point for 100 kWh or more, one for an audit."""
    return 100 * ((answers["kwh"] >= 100) + bool(answers["audit"])) / 2


def race(base_url: str, token: str, kind: str, delays: tuple[float, float]) -> tuple[httpx.Response, httpx.Response, dict]:
    """A save of kwh 500 (and an audit, on the page) and a submit of ``token``, sent together,
    each after its delay; their responses, and the assessment as stored afterwards."""
    got: dict[str, httpx.Response] = {}
    start = threading.Barrier(2)
    with browser(base_url) as saver, browser(base_url) as submitter:
        saver.get("/start")  # the CSRF cookie, before the race

        def saving() -> None:
            start.wait()
            time.sleep(delays[0])
            got["save"] = save(saver, token, kind, 500, audit="yes")

        def submitting() -> None:
            start.wait()
            time.sleep(delays[1])
            got["submit"] = submitter.post(f"{API}/assessments/{token}/submit")

        threads = [threading.Thread(target=saving), threading.Thread(target=submitting)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return got["save"], got["submit"], submitter.get(f"{API}/assessments/{token}").json()


def test_a_save_racing_a_submit_is_in_the_result_or_refused(database, tmp_path: Path, questionnaire_dir: Path):
    url, workers = database
    outcomes: Counter[str] = Counter()
    with recentre_served(tmp_path, url, questionnaires=questionnaire_dir, workers=workers) as server:
        with browser(server.url) as client:
            tokens = [create(client) for _ in range(36)]
            for token in tokens:
                assert client.patch(f"{API}/assessments/{token}/answers", json=COMPLETE).status_code == 200
        for i, token in enumerate(tokens):
            kind = KINDS[i % len(KINDS)]
            # Each side in turn gets a head start of up to 20 ms: the two meet in every order.
            delays = (random.uniform(0, 0.02), 0.0) if i % 2 else (0.0, random.uniform(0, 0.02))
            saved_response, submitted, view = race(server.url, token, kind, delays)
            assert submitted.status_code == 200, submitted.text
            saved = acknowledged(kind, saved_response)
            assert saved or saved_response.status_code == 409, (kind, saved_response.status_code, saved_response.text[:300])
            answers = view["answers"]
            # Acknowledged, the answer is stored; refused, it is not. Either way the result
            # was scored from exactly the answers stored.
            assert answers["kwh"] == (500 if saved else 50), (kind, saved)
            assert view["result"]["dimensions"]["energy"]["score"] == energy_of(answers), (kind, saved, answers)
            outcomes["saved" if saved else "refused"] += 1
    assert outcomes["saved"] and outcomes["refused"], outcomes  # both orders happened


# --- Re-scoring -------------------------------------------------------------------------------


def versions(root: Path) -> tuple[Path, Path]:
    """Folders of the small questionnaire's version 1 and of a version 2 that asks 1,000 kWh
    for the energy point."""
    v1 = root / "v1"
    write_small_questionnaire(v1)
    v2 = root / "v2"
    path = write_small_questionnaire(v2)
    text = path.read_text().replace('version: "1"', 'version: "2"').replace("{at_least: 100, points: 1}", "{at_least: 1000, points: 1}")
    path.write_text(text)
    return v1, v2


def rescore(home: Path, url: str, folder: Path) -> subprocess.Popen[str]:
    """`recentre rescore --all` started, offering the questionnaires of ``folder``."""
    env = recentre_env(home, url, folder)
    return subprocess.Popen(
        [sys.executable, "-m", "web.cli", "rescore", "--all"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(run: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = run.communicate(timeout=120)
    return run.returncode, out, err


def current_results(url: str) -> dict[int, list[str]]:
    """Submitted assessment id -> the questionnaire versions of its current results."""
    rows = query(
        url,
        select(Result.assessment_id, Result.questionnaire_version_id).where(Result.current.is_(True)).order_by(Result.assessment_id, Result.id),
    )
    found: dict[int, list[str]] = {}
    for assessment_id, version_id in rows:
        found.setdefault(assessment_id, []).append(version_id)
    return found


def test_rescore_beside_a_client_that_autosaves(database, tmp_path: Path):
    url, workers = database
    v1, v2 = versions(tmp_path)
    with recentre_served(tmp_path, url, questionnaires=v1, workers=workers) as server:
        with browser(server.url) as client:
            for _ in range(30):
                token = create(client)
                client.patch(f"{API}/assessments/{token}/answers", json={**COMPLETE, "kwh": 500})
                assert client.post(f"{API}/assessments/{token}/submit").status_code == 200
            draft = create(client)
        stop = threading.Event()
        autosaves: Counter[int] = Counter()

        def autosave() -> None:
            with browser(server.url) as sme:
                value = 0
                while not stop.is_set():
                    value += 1
                    autosaves[save(sme, draft, "htmx", value).status_code] += 1
                    time.sleep(0.02)

        saver = threading.Thread(target=autosave)
        saver.start()
        try:
            runs = [finished(rescore(tmp_path, url, folder)) for folder in (v2, v1, v2)]
        finally:
            stop.set()
            saver.join()
    fingerprints = [compile_questionnaire(f / "small.yaml").fingerprint[:12] for f in (v2, v1, v2)]
    assert runs == [(0, f"small {n} ({fp}): 30 re-scored, 0 already current\n", "") for n, fp in zip("212", fingerprints, strict=True)]
    assert set(autosaves) == {200} and autosaves[200] > 10, autosaves
    current = current_results(url)
    assert len(current) == 30 and all(len(v) == 1 for v in current.values())


def test_two_rescores_at_once_leave_one_current_result_each(database_url: str, tmp_path: Path):
    upgrade(database_url)
    v1, v2 = versions(tmp_path)
    old = compile_questionnaire(v1 / "small.yaml")
    answer_sets = [{**COMPLETE, "kwh": 100 * (i % 20)} for i in range(250)]  # more than one batch each

    async def submit_all(sessions) -> None:
        for answers in answer_sets:
            await stored_assessment(
                sessions, old, answers, language="en", cluster="did", sector="furniture", share_with_advisors=False, company=r.CompanyProfile()
            )

    in_sessions(database_url, submit_all)
    first, second = rescore(tmp_path, database_url, v2), rescore(tmp_path, database_url, v2)
    runs = [finished(first), finished(second)]
    assert [(code, err) for code, _, err in runs] == [(0, ""), (0, "")]
    # Each assessment re-scored once, by one run or the other; the other found it current.
    counts = [out.split(": ", 1)[1] for _, out, _ in runs]
    rescored = [int(c.split(" re-scored")[0]) for c in counts]
    assert sum(rescored) == 250, counts
    assert all(c == f"{n} re-scored, {250 - n} already current\n" for c, n in zip(counts, rescored, strict=True)), counts
    current = current_results(database_url)
    assert len(current) == 250 and all(len(v) == 1 for v in current.values())
    results = query(database_url, select(Result.assessment_id))
    assert len(results) == 500  # the first result and one re-scored result each, never more
    statuses = {s for (s,) in query(database_url, select(Assessment.status))}
    assert statuses == {"submitted"}
