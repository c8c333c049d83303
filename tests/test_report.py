"""The PDF report: what it says (read back with poppler's pdftotext), what it looks like
(pages rasterised with pdftoppm), its fonts (pdffonts) and metadata (pypdf), its labels in
five languages, and the `recentre report` command."""

from __future__ import annotations

import dataclasses
import gettext
import io
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import msgspec
import pypdf
import pytest
from babel.messages.pofile import read_po
from PIL import Image

from questionnaires.compile import compile_questionnaire, find_questionnaire, load_bundled
from scoring.engine import score
from scoring.render import charts, i18n, labels
from scoring.render.report import AUTHOR, MIN_PEERS, ActionItem, Note, ReportDetails, render_report, render_report_async, shown_peer_average
from tests.environment import ROOT
from tests.helpers import compile_text
from tests.pdf import one_line, pdf_text, poppler, reads_in
from web.cli import main

EXAMPLE = ROOT / "docs" / "example"
LANGS = ("bg", "it", "es", "ro")


# --- Tools and inputs -------------------------------------------------------------------


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def furniture():
    return compile_questionnaire(find_questionnaire("furniture"))


def case(compiled, prefix: str):
    return next(t for t in compiled.tests if t.name.startswith(prefix))


@dataclasses.dataclass
class Scored:
    compiled: object
    now: object
    before: object


def scored(compiled, lang: str = "en") -> Scored:
    t1, t0 = case(compiled, "digital strong"), case(compiled, "all worst answers")
    return Scored(
        compiled,
        score(compiled, t1.answers, t1.company, lang=lang, explain=True),
        score(compiled, t0.answers, t0.company, lang=lang, explain=True),
    )


@pytest.fixture(scope="module")
def en(furniture) -> Scored:
    return scored(furniture)


def details(profile, **changes) -> ReportDetails:
    values = dict(
        company_name="Mobili Rossi S.r.l.",
        sector=profile.company["sector"],
        cluster=profile.company["cluster"],
        country=profile.company["country"],
        assessment_date=date(2026, 3, 5),
        language=profile.language,
    )
    values.update(changes)
    return ReportDetails(**values)


def peers_of(profile, value: float = 37.3) -> dict[str, float]:
    return {d: value for d in profile.dimensions}


@pytest.fixture(scope="module")
def full_report(en) -> bytes:
    """A report with every section: previous assessment, peers, notes and an action plan."""
    return render_report(en.compiled, en.now, details(
        en.now,
        previous=en.before,
        previous_date=date(2025, 3, 1),
        peer_average=peers_of(en.now),
        peer_count=7,
        advisor_notes=[Note(author="Ana Pop", time=datetime(2026, 3, 6, 10, 30, tzinfo=UTC), text="Call back in June.")],
        action_plan=[ActionItem(action="Apply for the innovation voucher", owner="CEO", due=date(2026, 6, 1), status="open",
                                recommendation=en.now.recommendations[0].id)],
    ))


# --- Content ----------------------------------------------------------------------------


def test_the_report_states_scores_levels_and_ranked_recommendations(en, full_report, tmp_path):
    text = one_line(pdf_text(full_report, tmp_path))
    compiled, profile = en.compiled, en.now
    levels = {lv.id: lv.title.en for lv in compiled.levels}
    assert "Mobili Rossi S.r.l." in text
    assert f"{profile.overall.score:g} / 100 {levels[profile.overall.level]}" in text
    assert f"{compiled.id} ({compiled.id})" not in text  # the questionnaire is named by its title
    assert f"{compiled.version} · fingerprint {compiled.fingerprint[:12]}" in text
    archetype = next(a for a in compiled.archetypes.archetypes if a.id == profile.archetype.id)
    assert archetype.title.en in text and archetype.description.en in text
    for did in profile.dimensions:
        assert compiled.dimensions[did].title.en in text
    # Ranked: each recommendation's title comes after the previous one's in the ranked list.
    ranked = text[text.index("Ranked by priority"):]
    positions = [ranked.index(r.title) for r in profile.recommendations]
    assert positions == sorted(positions) and len(profile.recommendations) >= 3
    first = profile.recommendations[0]
    assert first.rationale in text and first.next_step in text
    instrument = compiled.instruments[first.instruments[0]]
    assert instrument.title.en in text and instrument.description.en in text
    pages = page_count(full_report)
    assert f"Page 2 of {pages}" in text and f"Page {pages} of {pages}" in text and "Page 1 of" not in text


def test_the_report_names_the_eu_dma_score_apart_from_the_index_and_says_its_reading(en, full_report, tmp_path):
    from questionnaires.reference import DMA_DIMENSIONS

    text = one_line(pdf_text(full_report, tmp_path))
    dma = en.now.dma
    band = {"basic": "Basic", "average": "Average", "moderately_advanced": "Moderately advanced", "advanced": "Advanced"}[dma.band]
    summary = text[text.index("Summary"):text.index("Your profile by dimension")]
    assert "RE-CENTRE twin-transition index" in summary and f"EU DMA score {dma.score:g} / 100 · {band}" in summary
    section = text[text.index("EU Digital Maturity Assessment (DMA) The EU DMA score measures"):]
    assert f"EU DMA score: {dma.score:g} / 100 · {band}" in section
    for key, name in list(DMA_DIMENSIONS.items())[:5]:  # (the page's footer may come between the last and its score)
        assert f"{name} {dma.dimensions[key]:g}" in section
    assert DMA_DIMENSIONS["green_digitalisation"] in section
    about = text[text.index("About this report"):]
    assert "Digital Business Strategy (Digital business strategy)" in about
    assert "having invested in all ten areas and ticked nothing else gives 33.3" in about
    assert "“Data is not collected digitally” −1, out of 6" in about


def test_the_summary_names_the_three_top_priorities(en, full_report, tmp_path):
    text = one_line(pdf_text(full_report, tmp_path))
    summary = text[text.index("Summary"):text.index("Your profile by dimension")]
    top = [r.title for r in en.now.recommendations]
    assert "Your three top priorities" in summary
    assert all(title in summary for title in top[:3]) and top[3] not in summary


def test_each_dimension_shows_the_answers_that_drove_it_and_the_next_level(en, full_report, tmp_path):
    text = one_line(pdf_text(full_report, tmp_path, body_only=True))
    assert "Page " not in text
    compiled, profile = en.compiled, en.now
    section = text[text.index("Dimension by dimension"):text.index("Ranked by priority")]
    for dim in profile.dimensions.values():
        for contribution in dim.contributions:
            assert reads_in(compiled.questions[contribution.question].text.en, section), contribution.question
    basic = compiled.levels[0]
    assert basic.description.en in section and basic.next_step.en in section
    # An unticked checklist and a yes/no read as words, not ids or Python values.
    assert "None of these" in section or "None ticked" in section
    assert "True" not in section and "False" not in section


def test_progress_section_only_with_a_previous_assessment(en, tmp_path):
    without = one_line(pdf_text(render_report(en.compiled, en.now, details(en.now)), tmp_path))
    assert "Progress since the previous assessment" not in without
    with_previous = one_line(pdf_text(render_report(en.compiled, en.now, details(en.now, previous=en.before, previous_date=date(2025, 3, 1))), tmp_path))
    progress = with_previous[with_previous.index("Progress since the previous assessment"):]
    assert "Scores of March 1, 2025 compared with March 5, 2026 " in progress
    change = en.now.overall.score - en.before.overall.score
    assert f"Overall {en.before.overall.score:g} {en.now.overall.score:g} +{change:g}" in progress


def test_advisor_notes_and_action_plan_appear_when_given(en, full_report, tmp_path):
    text = one_line(pdf_text(full_report, tmp_path))
    assert "Advisor notes" in text and "Ana Pop · Mar 6, 2026, 10:30:00" in text and "Call back in June." in text
    assert "Action plan" in text and "Apply for the innovation voucher" in text and "June 1, 2026" in text
    plain = one_line(pdf_text(render_report(en.compiled, en.now, details(en.now)), tmp_path))
    assert "Advisor notes" not in plain and "Action plan" not in plain


def test_markup_like_text_comes_out_literally(en, tmp_path):
    name = "<b>Rossi</b> & Figli <script>alert(1)</script>"
    note = 'R&D budget: <i>none</i> yet, "&amp;" stays as typed.\nSecond line <br/> too.'
    pdf = render_report(en.compiled, en.now, details(
        en.now, company_name=name,
        advisor_notes=[Note(author="A & B <advisors>", time=datetime(2026, 3, 6, 9, 0), text=note)],
        action_plan=[ActionItem(action="Fix <b>this</b> & that", owner="<CEO>", status="<open>")],
    ))
    text = pdf_text(pdf, tmp_path)
    assert name in text
    assert 'R&D budget: <i>none</i> yet, "&amp;" stays as typed.' in text
    assert "Second line <br/> too." in text
    assert "A & B <advisors>" in text and "Fix <b>this</b> & that" in text and "<CEO>" in text
    assert pypdf.PdfReader(io.BytesIO(pdf)).metadata.title.endswith(name)


def test_texts_of_any_length_fit_the_pages(en, tmp_path):
    """A name of 400 characters, a note of 40,000 with words longer than a line, and a long
    action plan: the report still builds, and the last words of each are in it."""
    long_word = "Supercalifragilistic" * 12
    note = " ".join(f"word{i}" for i in range(6000)) + f" {long_word} THE-END-OF-THE-NOTE"
    pdf = render_report(en.compiled, en.now, details(
        en.now,
        company_name="Company " * 50 + "LAST-NAME-WORD",
        advisor_notes=[Note(author="Advisor " * 40, time=datetime(2026, 3, 6, 9, 0), text=note)],
        action_plan=[ActionItem(action=note, owner="Owner " * 30, status="Status " * 20)] * 2,
    ))
    text = pdf_text(pdf, tmp_path)
    assert "LAST-NAME-WORD" in text and text.count("THE-END-OF-THE-NOTE") == 3


# --- Peers ------------------------------------------------------------------------------


def test_the_sector_average_needs_five_other_assessments(en):
    few = details(en.now, peer_average=peers_of(en.now), peer_count=MIN_PEERS - 1)
    enough = details(en.now, peer_average=peers_of(en.now), peer_count=MIN_PEERS)
    assert shown_peer_average(few) is None
    assert shown_peer_average(enough) == peers_of(en.now)
    assert shown_peer_average(details(en.now, peer_average={}, peer_count=50)) is None


def test_with_fewer_than_five_peers_the_report_is_the_one_without_peers(en, tmp_path):
    alone = render_report(en.compiled, en.now, details(en.now))
    four = render_report(en.compiled, en.now, details(en.now, peer_average=peers_of(en.now), peer_count=MIN_PEERS - 1))
    assert four == alone  # nothing of the average, not even the count, can leak
    text = one_line(pdf_text(four, tmp_path))
    assert "37.3" not in text and "Sector average of" not in text
    assert "The sector average appears once at least 5 other companies of your sector have completed the assessment." in text


def test_with_five_peers_the_average_is_drawn_and_listed(en, tmp_path):
    five = render_report(en.compiled, en.now, details(en.now, peer_average=peers_of(en.now), peer_count=MIN_PEERS))
    text = one_line(pdf_text(five, tmp_path))
    assert "Sector average of 5 other companies" in text
    assert text.count("37.3") == len(en.now.dimensions)
    # The radar's dashed outline is stroked in the peers' colour.
    page = pypdf.PdfReader(io.BytesIO(five)).pages[2].get_contents().get_data().decode("latin-1")
    from reportlab.lib.rl_accel import fp_str

    assert f"{fp_str(*charts.PEERS.rgb())} RG" in page


def test_a_sector_average_missing_for_a_dimension_is_a_dash_not_a_zero(en, tmp_path):
    partial = peers_of(en.now)
    gap = next(iter(partial))
    del partial[gap]
    pdf = render_report(en.compiled, en.now, details(en.now, peer_average=partial, peer_count=MIN_PEERS))
    text = one_line(pdf_text(pdf, tmp_path))
    assert text.count("37.3") == len(en.now.dimensions) - 1
    title = en.compiled.dimensions[gap].title.en
    assert re.search(re.escape(title) + r" \S+ \d+ \S+ –", text)
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[2].get_contents().get_data().decode("latin-1")
    from reportlab.lib.rl_accel import fp_str

    assert f"{fp_str(*charts.PEERS.rgb())} RG" not in page  # no outline that dips to 0


# --- Pictures, fonts, metadata ----------------------------------------------------------


def test_no_page_is_blank(full_report, tmp_path):
    source = tmp_path / "report.pdf"
    source.write_bytes(full_report)
    subprocess.run([poppler("pdftoppm"), "-r", "30", "-gray", "-png", str(source), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == page_count(full_report) >= 10
    for png in pages:
        image = Image.open(png)
        inked = sum(image.histogram()[:200])  # pixels clearly darker than white
        assert inked / (image.width * image.height) > 0.01, f"{png.name} is (nearly) blank"


def test_fonts_are_embedded_and_nothing_else_is_used(full_report, tmp_path):
    source = tmp_path / "report.pdf"
    source.write_bytes(full_report)
    listing = subprocess.run([poppler("pdffonts"), str(source)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    names = {row[0].split("+")[-1] for row in rows}
    assert names == {"Roboto-Regular", "Roboto-Bold"}
    assert all(row[-5] == "yes" for row in rows), listing  # the "emb" column


def test_metadata_title_author_subject_language_and_date(en, full_report):
    reader = pypdf.PdfReader(io.BytesIO(full_report))
    meta = reader.metadata
    assert meta.title == "Twin-transition self-assessment: Mobili Rossi S.r.l."
    assert meta.author == AUTHOR
    assert meta.subject == "Digital, green and resilience profile with recommendations for your company"
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert meta["/CreationDate"].startswith("D:20260305")
    outline = [item.title for item in reader.outline if not isinstance(item, list)]
    assert outline[:5] == ["Summary", "Your profile by dimension", "EU Digital Maturity Assessment (DMA)", "Twin-transition matrix", "Dimension by dimension"]


def test_rendering_is_deterministic(en, full_report):
    again = render_report(en.compiled, en.now, details(
        en.now, previous=en.before, previous_date=date(2025, 3, 1), peer_average=peers_of(en.now), peer_count=7,
        advisor_notes=[Note(author="Ana Pop", time=datetime(2026, 3, 6, 10, 30, tzinfo=UTC), text="Call back in June.")],
        action_plan=[ActionItem(action="Apply for the innovation voucher", owner="CEO", due=date(2026, 6, 1), status="open",
                                recommendation=en.now.recommendations[0].id)],
    ))
    assert again == full_report


def test_a_questionnaire_with_two_dimensions_gets_no_radar_but_a_full_report(tmp_path):
    compiled = compile_text(tmp_path, """\
        sections:
          - id: s
            title: {en: S}
            questions:
              - {kind: yes_no, id: q1, text: {en: Do you back up data?}, dimension: data}
              - {kind: yes_no, id: q2, text: {en: Do you measure energy?}, dimension: energy}
        """)
    profile = score(compiled, {"q1": True, "q2": False}, explain=True)
    text = one_line(pdf_text(render_report(compiled, profile, details(profile)), tmp_path))
    assert "Do you back up data? Yes" in text and "Do you measure energy? No" in text
    assert "Green first" in text and "Digital first" in text


def test_inputs_that_do_not_belong_together_are_refused(en, furniture):
    with pytest.raises(ValueError, match="score the answers with lang='bg'"):
        render_report(en.compiled, en.now, details(en.now, language="bg"))
    with pytest.raises(ValueError, match="unknown report language"):
        render_report(en.compiled, en.now, details(en.now, language="de"))
    core = compile_questionnaire(find_questionnaire("core"))
    with pytest.raises(ValueError, match="another version of the questionnaire"):
        render_report(core, en.now, details(en.now))


async def test_the_async_helper_renders_in_a_worker_thread(en):
    d = details(en.now)
    assert await render_report_async(en.compiled, en.now, d) == render_report(en.compiled, en.now, d)


async def test_reports_rendered_at_the_same_time_are_those_rendered_one_by_one(en):
    """A web server renders several reports at once in worker threads; they share the fonts
    and the caches of parsed texts."""
    import anyio

    many = [details(en.now, company_name=f"Company {i}", previous=en.before if i % 2 else None) for i in range(4)]
    expected = [render_report(en.compiled, en.now, d) for d in many]
    results: list = [None] * len(many)

    async def render(i: int) -> None:
        results[i] = await render_report_async(en.compiled, en.now, many[i])

    async with anyio.create_task_group() as group:
        for i in range(len(many)):
            group.start_soon(render, i)
    assert results == expected


# --- Languages --------------------------------------------------------------------------


def test_a_bulgarian_report_has_its_labels_in_cyrillic(furniture, tmp_path):
    bg = scored(furniture, "bg")
    pdf = render_report(furniture, bg.now, details(bg.now, previous=bg.before, peer_average=peers_of(bg.now), peer_count=6))
    text = one_line(pdf_text(pdf, tmp_path))
    for label in ("Самооценка за двойния преход", "Обобщение", "Вашият профил по измерения", "Матрица на двойния преход",
                  "Препоръки", "Напредък спрямо предишната оценка", "Средна стойност за сектора от 6 други предприятия",
                  "Мебели и интериор", "Италия", "5 март 2026 г."):
        assert label in text, label
    assert f"Страница 2 от {page_count(pdf)}" in text
    assert "37,3" in text  # Bulgarian decimal comma
    assert pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Lang"] == "bg"


@pytest.mark.parametrize("lang", ("en", *LANGS))
def test_every_label_has_a_checked_translation(lang):
    """Every label of messages.pot is in each catalog, not fuzzy, with the placeholders of its
    English. English is the source: its entries may stay empty (the code's text shows), and
    those filled in reword it."""
    pot = read_po((ROOT / "messages.pot").open("rb"))
    po_path, _mo = i18n.catalog_paths(lang)
    po = read_po(po_path.open("rb"), locale=lang)
    placeholder = re.compile(r"%\((\w+)\)[sd]")
    for message in pot:
        if not message.id:
            continue
        translated = po.get(message.id)
        assert translated is not None, f"{lang}: {message.id!r} is not in {po_path.name}; run pybabel update"
        assert not translated.fuzzy, f"{lang}: {message.id!r} is fuzzy"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = translated.string if isinstance(translated.string, tuple) else (translated.string,)
        if lang == i18n.DEFAULT:
            strings = tuple(s for s in strings if s)
        else:
            assert all(strings), f"{lang}: {message.id!r} is not translated"
        wanted = set(placeholder.findall(ids[-1]))
        for s in strings:
            assert set(placeholder.findall(s)) == wanted, f"{lang}: placeholders differ in {s!r}"


def test_the_message_template_is_current(tmp_path):
    pybabel = Path(sys.executable).parent / "pybabel"
    out = tmp_path / "messages.pot"
    subprocess.run([str(pybabel), "-q", "extract", "-F", "babel.cfg", "-o", str(out), "."], cwd=ROOT, check=True)
    fresh = {m.id for m in read_po(out.open("rb")) if m.id}
    committed = {m.id for m in read_po((ROOT / "messages.pot").open("rb")) if m.id}
    assert fresh == committed, (
        "messages.pot is out of date; run: pybabel extract -F babel.cfg -o messages.pot -c TRANSLATORS: --sort-by-file -w 100 . "
        "&& pybabel update -i messages.pot -d scoring/render/locale -w 100"
    )


def test_every_label_the_report_asks_for_is_in_the_template(en, monkeypatch):
    """Catches labels that extraction cannot see, such as a _() inside an f-string."""
    asked: set = set()

    class Recording(gettext.NullTranslations):
        def gettext(self, message):
            asked.add(message)
            return message

        def ngettext(self, singular, plural, n):
            asked.add((singular, plural))
            return singular if n == 1 else plural

    monkeypatch.setattr(labels, "translations", lambda lang: Recording())
    render_report(en.compiled, en.now, details(
        en.now, previous=en.before, previous_date=date(2025, 1, 1), peer_average=peers_of(en.now), peer_count=9,
        advisor_notes=[Note(author="A", time=datetime(2026, 1, 1), text="x")], action_plan=[ActionItem(action="y")]))
    render_report(en.compiled, en.now, details(en.now, company_name=""))
    template = {m.id for m in read_po((ROOT / "messages.pot").open("rb")) if m.id}
    assert asked - template == set()
    assert len(asked) > 60


def test_catalogs_load_from_the_po_when_the_mo_is_missing_and_fall_back_to_english(tmp_path, monkeypatch):
    shutil.copytree(i18n.LOCALE_DIR, tmp_path / "locale")
    for mo in (tmp_path / "locale").rglob("*.mo"):
        mo.unlink()
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    i18n.clear_cache()
    try:
        assert i18n.translations("bg").gettext("Summary") == "Обобщение"
        assert i18n.translations("ro").ngettext("Sector average of %(count)d other company", "Sector average of %(count)d other companies", 20) \
            == "Media sectorului pentru alte %(count)d de întreprinderi"
        assert i18n.translations("en").gettext("Summary") == "Summary"
        assert i18n.translations("en").ngettext("Sector average of %(count)d other company", "Sector average of %(count)d other companies", 2) == "Sector average of %(count)d other companies"
        assert i18n.translations("de").gettext("Summary") == "Summary"
        shutil.rmtree(tmp_path / "locale" / "it")
        assert i18n.translations("it").gettext("Summary") == "Summary"
    finally:
        i18n.clear_cache()


def test_an_english_label_is_reworded_in_the_english_catalog(tmp_path, monkeypatch):
    from babel.messages.pofile import write_po

    shutil.copytree(i18n.LOCALE_DIR, tmp_path / "locale")
    po_path = tmp_path / "locale" / "en" / "LC_MESSAGES" / "messages.po"
    catalog = read_po(po_path.open("rb"), locale="en")
    catalog["Summary"].string = "At a glance"
    with po_path.open("wb") as f:
        write_po(f, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    i18n.clear_cache()
    try:
        assert i18n.translations("en").gettext("Summary") == "At a glance"
        assert i18n.translations("en").gettext("Overall") == "Overall"
    finally:
        i18n.clear_cache()


def test_the_compiled_catalogs_match_the_po_files():
    """`make install` compiles the catalogs; a stale .mo would show old labels, so the loader
    reads the .po when it is newer, and a fresh .mo says what the .po says."""
    for lang in ("en", *LANGS):
        po_path, mo_path = i18n.catalog_paths(lang)
        if not mo_path.exists():
            continue
        po = read_po(po_path.open("rb"), locale=lang)
        with mo_path.open("rb") as f:
            mo = gettext.GNUTranslations(f)
        for message in po:
            if message.id and isinstance(message.id, str) and po_path.stat().st_mtime <= mo_path.stat().st_mtime:
                assert mo.gettext(message.id) == (message.string or message.id)


def test_the_font_has_a_glyph_for_every_character_the_report_can_show():
    """Labels in five languages and every text of the bundled questionnaires: a character
    the font lacks would print as an empty box."""
    from reportlab.pdfbase.ttfonts import TTFont

    faces = [TTFont(name, str(path)).face.charToGlyph for name, path in charts.font_files().items() if name != charts.FONT_ITALIC]

    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                yield from strings(v)

    texts = [("labels", m.string) for lang in LANGS for m in read_po(i18n.catalog_paths(lang)[0].open("rb")) if m.id]
    texts += [(c.id, s) for c in load_bundled() for s in strings(msgspec.to_builtins(c.resolved))]
    for where, value in texts:
        for text in strings(value):
            lacking = {ch for ch in text if ch not in "\n\t" and any(ord(ch) not in face for face in faces)}
            assert not lacking, f"{where}: the font has no glyph for {sorted(lacking)} in {text[:60]!r}"


# --- The command ------------------------------------------------------------------------


def test_recentre_report_writes_the_pdf(tmp_path, capsys):
    answers = tmp_path / "answers.yaml"
    answers.write_text((EXAMPLE / "answers.yaml").read_text().replace("company: {", "company: {name: Falegnameria <Bianchi> & Co, "), encoding="utf-8")
    out = tmp_path / "report.pdf"
    code = main(["report", str(EXAMPLE / "example.yaml"), str(answers), "-o", str(out), "--lang", "it",
                 "--date", "2026-02-01", "--previous", str(EXAMPLE / "answers.yaml")])
    assert code == 0, capsys.readouterr().err
    assert f"{out}: report written" in capsys.readouterr().err
    pdf = out.read_bytes()
    text = one_line(pdf_text(pdf, tmp_path))
    assert "Falegnameria <Bianchi> & Co" in text and "1 febbraio 2026" in text
    assert "Progressi rispetto alla valutazione precedente" in text
    assert "Mettete ordine nei dati" in text  # the recommendation, in the questionnaire's Italian
    assert pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Lang"] == "it"


def test_recentre_report_to_standard_output(tmp_path):
    done = subprocess.run([sys.executable, "-m", "web.cli", "report", str(EXAMPLE / "example.yaml"), str(EXAMPLE / "answers.yaml"), "-o", "-"],
                          capture_output=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"%PDF-") and done.stderr == b""


@pytest.mark.parametrize(
    "answers, output, message",
    [
        ("renewable_share: lots\n", "report.pdf", "answers.yaml: error: the answers do not fit questionnaire 'quick_scan':\n  renewable_share: expected a number, got 'lots'"),
        ("company: {size: huge}\n", "report.pdf", "company:"),
        ("company: {name: [1, 2]}\n", "report.pdf", "company.name must be text"),
        ("data_practices: [\n", "report.pdf", "YAML syntax error"),
        (None, "report.pdf", "file not found"),
        ("renewable_share: 20\n", "missing-folder/report.pdf", "missing-folder/report.pdf: error: cannot write the report"),
    ],
)
def test_recentre_report_errors_are_messages(tmp_path, answers, output, message):
    path = tmp_path / "answers.yaml"
    if answers is not None:
        path.write_text(answers, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "web.cli", "report", str(EXAMPLE / "example.yaml"), "answers.yaml", "-o", output],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / output).exists()


def test_recentre_report_refuses_a_bad_date(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", "furniture", str(EXAMPLE / "answers.yaml"), "-o", str(tmp_path / "r.pdf"), "--date", "5 March"])
    assert exit_.value.code == 2
    assert "'5 March' is not a date of the form YYYY-MM-DD" in capsys.readouterr().err
