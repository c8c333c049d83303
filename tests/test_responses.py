"""Stored assessments on real SQLite and PostgreSQL: tokens, autosave, submit, versions."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import msgspec
import pytest
from sqlalchemy import func, select, text

from assessment.store import responses as r
from assessment.store.by_token import DraftChanged, TokenStore
from assessment.store.db import create_engine, session_factory, upgrade_async
from assessment.store.models import Answer, DimensionScore, Result, ResultInstrument, ResultRecommendation, store_questionnaire_version
from assessment.store.saving import SAVE_ATTEMPTS, Change, ChangedMeanwhile, answers_patch, save_answers
from tests.helpers import CONDITIONS_BODY, compile_text


@pytest.fixture
async def sessions(database_url):
    engine = create_engine(database_url)
    await upgrade_async(engine)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def tokens(sessions):
    store = await TokenStore.open(sessions.kw["bind"])
    yield store
    await store.close()


@pytest.fixture
def versions(sessions):
    """As a new process has them: nothing compiled yet, each version read from the database."""
    return r.Versions(sessions)


@pytest.fixture
async def elsewhere(sessions):
    """The TokenStore of another server process, with drafts kept of its own."""
    store = await TokenStore.open(sessions.kw["bind"])
    yield store
    await store.close()


@pytest.fixture
def compiled(tmp_path):
    return compile_text(tmp_path, CONDITIONS_BODY)


async def save(tokens, versions, token, updates):
    """``updates`` saved as the API's PATCH saves them, through the one write path."""
    return (await save_answers(tokens, versions, token, answers_patch(updates))).change.saved


async def stored_answers(sessions, token):
    async with sessions() as session:
        return await r.load_answers(session, await r.open_assessment(session, token))


async def new_assessment(sessions, compiled, **kw):
    async with sessions() as session:
        version = await store_questionnaire_version(session, compiled)
        assessment, token = await r.create_assessment(
            session, version, language="en", cluster="did", sector="furniture", share_with_advisors=True,
            company=r.CompanyProfile(name="Mobili <Rossi> & Figli", size="small", country="it"), **kw,
        )
        await session.commit()
        return assessment.id, token, version.id


async def test_tokens_are_long_random_and_stored_hashed(sessions, compiled):
    _, token, _ = await new_assessment(sessions, compiled)
    assert len(token) == 32 and r.looks_like_token(token)  # 24 random bytes: 192 bits
    async with sessions() as session:
        assessment = await r.open_assessment(session, token)
        assert assessment.token_hash == r.hash_token(token) != token
        assert assessment.country == "IT" and assessment.company_name == "Mobili <Rossi> & Figli"
        for bad in ("", "short", token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 32 + "'; drop table answer;--"):
            with pytest.raises(r.NotFound):
                await r.open_assessment(session, bad)
        with pytest.raises(r.Expired):
            await r.open_assessment(session, token, now=assessment.expires_at + timedelta(seconds=1))


async def test_answers_are_saved_one_by_one_and_checked(sessions, compiled, tokens, versions):
    _, token, _ = await new_assessment(sessions, compiled)
    await save(tokens, versions, token, {"has_meter": "yes"})
    await save(tokens, versions, token, {"meter_use": 3, "tools": ["erp"]})
    assert await stored_answers(sessions, token) == {"has_meter": True, "meter_use": 3, "tools": ["erp"]}
    with pytest.raises(r.InvalidAnswers) as info:
        await save(tokens, versions, token, {"meter_use": 9, "tools": ["crm"], "zzz": 1})
    assert [str(p) for p in info.value.problems] == [
        "meter_use: 9 is outside the scale 0..4",
        "tools: unknown option 'crm'",
        "zzz: unknown question",
    ]
    with pytest.raises(r.InvalidAnswers) as info:
        await save(tokens, versions, token, {"tools": ["mes"]})
    assert [str(p) for p in info.value.problems] == ["tools: option 'mes' is hidden by its show_if condition"]
    # Nothing of a refused request is stored.
    assert await stored_answers(sessions, token) == {"has_meter": True, "meter_use": 3, "tools": ["erp"]}


async def test_a_changed_answer_hides_a_question_but_keeps_its_answer(sessions, compiled, tokens, versions):
    _, token, _ = await new_assessment(sessions, compiled)
    await save(tokens, versions, token, {"has_meter": True, "meter_use": 2})
    saved = await save(tokens, versions, token, {"has_meter": False})
    assert "meter_use" in saved.hidden
    with pytest.raises(r.InvalidAnswers):
        await save(tokens, versions, token, {"meter_use": 1})
    # Switching back shows the earlier answer again: nothing given is lost.
    saved = await save(tokens, versions, token, {"has_meter": True})
    assert saved.answers["meter_use"] == 2 and "meter_use" not in saved.hidden
    await save(tokens, versions, token, {"meter_use": None})
    assert "meter_use" not in await stored_answers(sessions, token)


async def test_a_save_writes_where_the_sme_left_off_and_a_new_language_in_the_same_write(sessions, compiled, tokens, versions):
    _, token, _ = await new_assessment(sessions, compiled)
    written = await save_answers(
        tokens, versions, token,
        lambda draft, compiled: Change(saved=r.checked_updates(compiled, draft.answers, draft.company, {"d": 3}), section="s2", language="it"),
    )
    assert (written.draft.language, written.draft.section, written.draft.answers) == ("it", "s2", {"d": 3})
    async with sessions() as session:
        assessment = await r.open_assessment(session, token)
        assert (assessment.language, assessment.current_section) == ("it", "s2")
    # Without a language, the assessment keeps its own.
    await save(tokens, versions, token, {"note": "ciao"})
    async with sessions() as session:
        assessment = await r.open_assessment(session, token)
        assert (assessment.language, assessment.current_section) == ("it", "s2")


async def test_autosave_without_the_orm_reads_and_writes_what_the_models_do(sessions, compiled, tokens):
    _, token, _ = await new_assessment(sessions, compiled)
    engine = sessions.kw["bind"]
    async with sessions() as session:
        before = await r.open_assessment(session, token)
    stored = tokens
    for bad in ("", "short", token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 32 + "'; drop table answer;--"):
        with pytest.raises(r.NotFound):
            await stored.open_draft(bad)
    with pytest.raises(r.Expired):
        await stored.open_draft(token, now=before.expires_at + timedelta(seconds=1))
    draft = await stored.open_draft(token, now=before.expires_at - timedelta(seconds=1))
    assert (draft.id, draft.status, draft.answers) == (before.id, "draft", {})
    assert draft.company == r.company_of(before)
    await stored.store_answers(draft, r.checked_updates(compiled, {}, draft.company, {"has_meter": True, "meter_use": 2, "tools": ["erp"]}), "s1")
    draft = await stored.open_draft(token)
    assert draft.answers == {"has_meter": True, "meter_use": 2, "tools": ["erp"]}
    saved = r.checked_updates(compiled, draft.answers, draft.company, {"meter_use": None, "note": "Mobili \"<b>\"\nЦ,:{}"})
    await stored.store_answers(draft, saved, "s2")
    assert (await stored.open_draft(token)).answers == {"has_meter": True, "tools": ["erp"], "note": "Mobili \"<b>\"\nЦ,:{}"}
    # What was kept is what was written: another store reads the same from the database.
    elsewhere = await TokenStore.open(engine)
    try:
        assert await elsewhere.open_draft(token) == await stored.open_draft(token)
    finally:
        await elsewhere.close()
    with pytest.raises(r.NotFound):
        await stored.current_result("x" * 32)
    with pytest.raises(r.Expired):
        await stored.current_result(token, now=before.expires_at + timedelta(days=400))
    ref = await stored.current_result(token)
    assert (ref.assessment_id, ref.status, ref.language, ref.result_id) == (before.id, "draft", "en", None)
    async with sessions() as session:
        after = await r.open_assessment(session, token)
        assert await r.load_answers(session, after) == {"has_meter": True, "tools": ["erp"], "note": "Mobili \"<b>\"\nЦ,:{}"}
        assert after.current_section == "s2"
        assert before.updated_at < after.updated_at and before.expires_at < after.expires_at
        assert after.expires_at - after.updated_at == r.TOKEN_LIFETIME
        # Stored as the models store it: on SQLite, the same text format as created_at.
        stored_text = (await session.execute(text("SELECT created_at, updated_at, expires_at FROM assessment WHERE id = :id"), {"id": after.id})).one()
        if engine.dialect.name == "sqlite":
            assert [len(t) for t in stored_text] == [len(stored_text[0])] * 3 and "+" not in stored_text[1]


async def test_a_kept_draft_that_another_process_changed_is_checked_again(sessions, compiled, tokens, versions, elsewhere):
    """The store keeps drafts between saves; when another process saves meanwhile, a save
    checked against the kept draft writes nothing, and ``save_answers`` checks it again
    against what is stored."""
    _, token, _ = await new_assessment(sessions, compiled)
    await save(tokens, versions, token, {"has_meter": True})
    kept = await tokens.open_draft(token)
    await save(elsewhere, versions, token, {"has_meter": False, "tools": ["erp"]})
    # Checked against the kept draft, where has_meter is still true and meter_use shows.
    stale = r.checked_updates(compiled, kept.answers, kept.company, {"meter_use": 3})
    with pytest.raises(DraftChanged):
        await tokens.store_answers(kept, stale, "s1")

    tries = []

    def change(draft, compiled):
        tries.append(dict(draft.answers))
        return answers_patch({"d": 2})(draft, compiled)

    await save_answers(tokens, versions, token, change)
    assert tries == [{"has_meter": False, "tools": ["erp"]}]
    with pytest.raises(r.InvalidAnswers):  # meter_use is hidden once has_meter is False
        await save(tokens, versions, token, {"meter_use": 3})
    assert await stored_answers(sessions, token) == {"has_meter": False, "tools": ["erp"], "d": 2}


async def test_a_refusal_rests_on_the_stored_answers_not_on_a_kept_draft(sessions, compiled, tokens, versions, elsewhere):
    """Kept: has_meter false, so meter_use is hidden. Stored meanwhile, by another process:
    has_meter true. An answer to meter_use is accepted, not refused on the kept draft's word."""
    _, token, _ = await new_assessment(sessions, compiled)
    await save(tokens, versions, token, {"has_meter": False})
    await save(elsewhere, versions, token, {"has_meter": True})
    seen = []

    def change(updates):
        def seeing(draft, compiled):
            seen.append((draft.kept, draft.answers["has_meter"]))
            return answers_patch(updates)(draft, compiled)

        return seeing

    await save_answers(tokens, versions, token, change({"meter_use": 3}))
    assert seen == [(True, False), (False, True)]
    assert await stored_answers(sessions, token) == {"has_meter": True, "meter_use": 3}
    # Refused on what is stored, the refusal stands: 9 is out of range.
    seen.clear()
    with pytest.raises(r.InvalidAnswers):
        await save_answers(tokens, versions, token, change({"meter_use": 9}))
    assert seen == [(True, True), (False, True)]


async def test_nothing_to_write_decided_on_a_kept_draft_is_decided_again_on_the_stored_one(sessions, compiled, tokens, versions):
    """A change that writes nothing (the page posted is hidden by the answers) rests on the
    stored draft too, as a refusal does."""
    _, token, _ = await new_assessment(sessions, compiled)
    await tokens.open_draft(token)
    seen = []

    def nothing(draft, compiled):
        seen.append(draft.kept)
        return Change(saved=None, section=draft.section)

    written = await save_answers(tokens, versions, token, nothing)
    assert seen == [True, False] and not written.draft.kept


async def test_a_kept_draft_submitted_meanwhile_is_not_written(sessions, compiled, tokens, versions):
    _, token, _ = await new_assessment(sessions, compiled)
    await save(tokens, versions, token, {"has_meter": False, "tools": ["erp"], "staff": 3, "d": 0})
    async with sessions() as session:
        await r.submit(session, await r.open_assessment(session, token), compiled)
        await session.commit()
    assert (await tokens.open_draft(token)).kept  # still a draft, as far as the store knows
    with pytest.raises(r.AlreadySubmitted) as refused:
        await save(tokens, versions, token, {"d": 4})
    assert refused.value.message == "This assessment has been submitted; its answers can no longer change."
    assert (await stored_answers(sessions, token))["d"] == 0


async def test_a_save_that_keeps_losing_races_gives_up_with_a_message(sessions, compiled, tokens, versions, elsewhere, monkeypatch):
    _, token, _ = await new_assessment(sessions, compiled)
    tries = []
    open_draft = tokens.open_draft

    async def opened_then_changed_elsewhere(token):
        draft = await open_draft(token)
        tries.append(draft)
        await save(elsewhere, versions, token, {"d": len(tries)})  # another writer, every time
        return draft

    monkeypatch.setattr(tokens, "open_draft", opened_then_changed_elsewhere)
    with pytest.raises(ChangedMeanwhile) as refused:
        await save(tokens, versions, token, {"d": 4})
    assert refused.value.status_code == 409
    assert refused.value.message == "This assessment kept changing while the answers were saved; nothing was saved. Send them again."
    assert len(tries) == SAVE_ATTEMPTS == 3
    assert (await stored_answers(sessions, token))["d"] == 3  # the other writer's last answer stands


async def test_answers_saved_at_once_by_one_process_are_all_stored(sessions, compiled, tokens, versions):
    """An SME who ticks answers faster than the server saves them (a slow server, htmx's
    autosaves one per question): saves of the same assessment through one process take
    turns, so none of them finds the draft changed by another and gives up (409, which
    made the page reload without the answers)."""
    _, token, _ = await new_assessment(sessions, compiled)
    answers = {"has_meter": True, "staff": 3, "tools": ["erp"], "d": 2, "note": "ciao"}
    # Each answer sent twice: many more saves at once than a save has attempts, more than
    # retries alone could absorb.
    at_once = [{q: v} for q, v in answers.items()] * 2
    assert len(at_once) > 3 * SAVE_ATTEMPTS
    await asyncio.gather(*(save(tokens, versions, token, updates) for updates in at_once))
    assert await stored_answers(sessions, token) == answers


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_on_sqlite_a_save_waits_asleep_for_another_writer(sessions, compiled, tokens):
    """Another connection holds SQLite's write lock: the save waits for it without stalling
    the event loop (SQLite's busy_timeout would), then writes."""
    _, token, _ = await new_assessment(sessions, compiled)
    draft = await tokens.open_draft(token)
    other = sqlite3.connect(sessions.kw["bind"].url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def meanwhile():
        nonlocal ticks
        for _ in range(5):
            await asyncio.sleep(0.01)
            ticks += 1
        other.execute("COMMIT")

    try:
        await asyncio.gather(tokens.store_answers(draft, r.checked_updates(compiled, {}, draft.company, {"d": 1}), "s2"), meanwhile())
    finally:
        other.close()
    assert ticks == 5
    async with sessions() as session:
        assert await r.load_answers(session, await r.open_assessment(session, token)) == {"d": 1}


async def test_submit_scores_stores_rows_and_refuses_a_second_time(sessions, compiled, tokens, versions):
    _, token, _ = await new_assessment(sessions, compiled)
    await save(tokens, versions, token, {"has_meter": False, "tools": ["erp"], "d": 0, "note": "<b>hi</b>"})
    await save(tokens, versions, token, {"has_meter": True, "meter_use": 4})
    await save(tokens, versions, token, {"has_meter": False})
    async with sessions() as session:
        assessment = await r.open_assessment(session, token)
        assert r.required_unanswered(compiled, await r.load_answers(session, assessment), r.company_of(assessment)) == ["staff"]
        result = await r.submit(session, assessment, compiled)
        await session.commit()
    async with sessions() as session:
        assessment = await r.open_assessment(session, token)
        stored = await r.current_result(session, assessment)
        profile = r.decode_profile(stored)
        assert assessment.status == "submitted" and assessment.submitted_at is not None
        assert profile.dimensions["energy"].score == 0.0  # the hidden meter_use answer is left out
        # tools: 'mes' is hidden (staff unanswered), so 'erp' alone is 100%; d 0/4 = 0
        assert profile.dimensions["data"].score == 50.0
        assert stored.overall == profile.overall.score and result.id == stored.id
        dims = dict((await session.execute(select(DimensionScore.dimension, DimensionScore.score).where(DimensionScore.result_id == stored.id))).all())
        assert dims == {"data": 50.0, "energy": 0.0}
        recs = (await session.execute(select(ResultRecommendation).where(ResultRecommendation.result_id == stored.id))).scalars().all()
        assert [(x.recommendation_id, msgspec.json.decode(x.instruments)) for x in recs] == [("data_first", ["iv"])]
        demand = (await session.execute(select(ResultInstrument.kind, ResultInstrument.ref).where(ResultInstrument.result_id == stored.id))).all()
        assert sorted(demand) == [("instrument", "iv"), ("training", "data_skills")]
        with pytest.raises(r.AlreadySubmitted):
            await r.submit(session, assessment, compiled)
    with pytest.raises(r.AlreadySubmitted):
        await save(tokens, versions, token, {"d": 4})
    ref = await tokens.current_result(token)
    assert (ref.status, ref.result_id) == ("submitted", result.id)


async def test_rescoring_against_a_new_version_keeps_the_old_result(sessions, compiled, tmp_path, tokens, versions):
    assessment_id, token, _ = await new_assessment(sessions, compiled)
    await save(tokens, versions, token, {"has_meter": True, "meter_use": 4, "tools": ["erp"], "d": 2, "staff": 60})
    async with sessions() as session:
        assessment = await r.open_assessment(session, token)
        await r.submit(session, assessment, compiled)
        await session.commit()
    newer_dir = tmp_path / "v2"
    newer_dir.mkdir()
    newer = compile_text(newer_dir, CONDITIONS_BODY.replace("max: 4}\n      - {kind: text", "max: 8}\n      - {kind: text"))
    async with sessions() as session:
        assessment = await r.open_assessment(session, token)
        version = await store_questionnaire_version(session, newer)
        await r.rescore(session, assessment, version, newer)
        await session.commit()
        results = (await session.execute(select(Result).where(Result.assessment_id == assessment_id).order_by(Result.id))).scalars().all()
        assert [x.current for x in results] == [False, True]
        assert [r.decode_profile(x).dimensions["data"].score for x in results] == [50.0, 37.5]
        assert r.decode_profile(results[0]).questionnaire.fingerprint == compiled.fingerprint


async def test_a_version_is_served_from_the_database_when_its_file_is_gone(sessions, compiled, versions):
    _, token, version_id = await new_assessment(sessions, compiled)
    # A fresh process: nothing compiled yet, no file needed; read in the caller's session, or
    # in one of its own.
    async with sessions() as session:
        again = await versions.get(version_id, session)
        assert again.fingerprint == compiled.fingerprint
        with pytest.raises(r.VersionUnavailable):
            await versions.get(999_999, session)
    with pytest.raises(r.VersionUnavailable):
        await versions.get(999_998)
    assert (await r.Versions(sessions).get(version_id)).fingerprint == compiled.fingerprint


async def test_reassessment_prefills_the_answers_and_joins_the_series(sessions, compiled, tokens, versions):
    first_id, token, _ = await new_assessment(sessions, compiled)
    await save(tokens, versions, token, {"has_meter": True, "meter_use": 1, "tools": ["erp"]})
    async with sessions() as session:
        first = await r.open_assessment(session, token)
        await r.submit(session, first, compiled)
        version = await store_questionnaire_version(session, compiled)
        chosen_again = not first.share_with_advisors
        second, second_token = await r.start_reassessment(session, first, version, compiled, share_with_advisors=chosen_again)
        await session.commit()
    async with sessions() as session:
        second = await r.open_assessment(session, second_token)
        assert second.previous_id == first_id and second.series_id == first_id
        assert second.status == "draft" and second.company_name == "Mobili <Rossi> & Figli"
        assert second.share_with_advisors is chosen_again  # asked again, not copied
        assert await r.load_answers(session, second) == {"has_meter": True, "meter_use": 1, "tools": ["erp"]}
        count = await session.scalar(select(func.count()).select_from(Answer))
        assert count == 6
