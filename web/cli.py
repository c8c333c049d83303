"""The ``recentre`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from questionnaires import compile as qc
from questionnaires.reference import CLUSTERS, LANGUAGES

T = TypeVar("T")


def cmd_validate(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or [qc.BUNDLED]
    report = qc.validate_paths(paths)
    diags = report.diagnostics
    for d in diags.items:
        severity = "error" if args.strict else d.severity
        print(f"{d.location}: {severity}: {d.message}")
    failed = bool(diags.errors) or (args.strict and bool(diags.warnings))
    summary = (
        f"{len(report.compiled)} questionnaire(s) compiled, "
        f"{len(diags.errors)} error(s), {len(diags.warnings)} warning(s)"
    )
    print(summary, file=sys.stderr)
    if not args.quiet:
        for c in report.compiled:
            print(f"ok {c.id} {c.version} ({len(c.questions)} questions, fingerprint {c.fingerprint[:12]})", file=sys.stderr)
    return 1 if failed else 0


def cmd_schema(args: argparse.Namespace) -> int:
    from questionnaires.jsonschema import questionnaire_schema_text

    text = questionnaire_schema_text()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _compile_or_report(name: str):
    """Compile one questionnaire named by path or bundled id; print problems and return None on failure."""
    from questionnaires.diagnostics import QuestionnaireError

    path = qc.find_questionnaire(name)
    try:
        return qc.compile_questionnaire(path)
    except QuestionnaireError as exc:
        for d in exc.diagnostics:
            print(d, file=sys.stderr)
        return None
    except ValueError as exc:
        print(f"{path}: error: {exc}", file=sys.stderr)
        return None


def read_answers(path: Path) -> tuple[dict, dict | None]:
    """An answers file: question id -> value, plus an optional ``company`` mapping."""
    from questionnaires.source import load_source

    value = load_source(path).value
    if not isinstance(value, dict):
        from questionnaires.diagnostics import Location
        from questionnaires.source import SourceError

        raise SourceError(Location(str(path)), "an answers file must map question ids to answers")
    company = value.pop("company", None)
    return value, company


def cmd_score(args: argparse.Namespace) -> int:
    from questionnaires.source import SourceError
    from scoring.answers import ScoringError
    from scoring.engine import score
    from scoring.profile import profile_json
    from scoring.text import render_text

    compiled = _compile_or_report(args.questionnaire)
    if compiled is None:
        return 1
    try:
        answers, company = read_answers(Path(args.answers))
        profile = score(compiled, answers, company, lang=args.lang, explain=args.explain)
    except SourceError as exc:
        print(exc, file=sys.stderr)
        return 1
    except ScoringError as exc:
        problems = getattr(exc, "problems", None)
        if problems:
            print(f"{args.answers}: error: the answers do not fit questionnaire '{compiled.id}':", file=sys.stderr)
            for p in problems:
                print(f"  {p.question}: {p.message}", file=sys.stderr)
        else:
            print(f"{args.answers}: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(profile_json(profile).decode() + "\n")
    else:
        sys.stdout.write(render_text(compiled, profile, args.lang, explain=args.explain))
    return 0


def _answers_and_company(path: Path) -> tuple[dict, dict | None, str]:
    """An answers file whose ``company`` mapping may also carry the company's ``name``, which
    the report shows and scoring does not take."""
    answers, company = read_answers(path)
    name = ""
    if isinstance(company, dict) and "name" in company:
        company = dict(company)
        name = company.pop("name")
        if not isinstance(name, str):
            from questionnaires.diagnostics import Location
            from questionnaires.source import SourceError

            raise SourceError(Location(str(path)), "company.name must be text")
    return answers, company, name


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import date

    from questionnaires.source import SourceError
    from scoring.answers import ScoringError
    from scoring.engine import score
    from scoring.render.report import ReportDetails, render_report

    compiled = _compile_or_report(args.questionnaire)
    if compiled is None:
        return 1
    current = args.answers
    try:
        answers, company, name = _answers_and_company(Path(args.answers))
        profile = score(compiled, answers, company, lang=args.lang, explain=True)
        previous = None
        if args.previous:
            current = args.previous
            old_answers, old_company, _name = _answers_and_company(Path(args.previous))
            # The previous file may leave the company out: it is the same company.
            previous = score(compiled, old_answers, old_company if old_company is not None else company, lang=args.lang)
    except SourceError as exc:
        print(exc, file=sys.stderr)
        return 1
    except ScoringError as exc:
        problems = getattr(exc, "problems", None)
        if problems:
            print(f"{current}: error: the answers do not fit questionnaire '{compiled.id}':", file=sys.stderr)
            for p in problems:
                print(f"  {p.question}: {p.message}", file=sys.stderr)
        else:
            print(f"{current}: error: {exc}", file=sys.stderr)
        return 1
    details = ReportDetails(
        company_name=name,
        sector=profile.company["sector"],
        cluster=profile.company["cluster"],
        country=profile.company["country"],
        assessment_date=args.date or date.today(),
        language=args.lang,
        previous=previous,
    )
    pdf = render_report(compiled, profile, details)
    if args.output == "-":
        sys.stdout.buffer.write(pdf)
        sys.stdout.buffer.flush()
        return 0
    try:
        Path(args.output).write_bytes(pdf)
    except OSError as exc:
        print(f"{args.output}: error: cannot write the report ({exc.strerror})", file=sys.stderr)
        return 1
    print(f"{args.output}: report written ({len(pdf):,} bytes)", file=sys.stderr)
    return 0


def _iso_date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date of the form YYYY-MM-DD") from None


def cmd_check(args: argparse.Namespace) -> int:
    from scoring.check import run_tests, simulate

    paths = [Path(p) for p in args.paths] or [qc.BUNDLED]
    report = qc.validate_paths(paths)
    for d in report.diagnostics.errors:
        print(d)
    failed = bool(report.diagnostics.errors)
    for compiled in report.compiled:
        result = run_tests(compiled)
        if args.simulate:
            simulate(compiled, args.simulate, seed=args.seed, report=result)
        for d in result.failures:
            print(d)
        for d in result.uncovered + result.simulation:
            severity = "error" if args.strict or d.severity == "error" else d.severity
            print(f"{d.location}: {severity}: {d.message}")
        failed = failed or bool(result.failures) or any(d.severity == "error" for d in result.simulation)
        if args.strict and (result.uncovered or result.simulation):
            failed = True
        total = len(compiled.tests)
        line = f"{compiled.id}: {result.passed}/{total} tests passed"
        if result.uncovered:
            line += f", {len(result.uncovered)} item(s) no test reaches"
        if args.simulate:
            line += f", {args.simulate} random answer sets"
        print(line, file=sys.stderr)
    return 1 if failed else 0


def explained(url: str, work: Callable[[], T]) -> T:
    """What ``work()`` returns; an error it raises about the database of ``url`` becomes a
    DatabaseProblem, which ``main`` prints in one line (cause and fix) without a traceback."""
    from assessment.store.db import database_problem

    try:
        return work()
    except Exception as exc:
        problem = database_problem(exc, url)
        if problem is None:
            raise
        raise problem from None


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from assessment.settings import database_url_from_env
    from assessment.store.db import upgrade

    url = database_url_from_env()
    explained(url, lambda: upgrade(url, args.revision))
    print(f"{make_url(url).render_as_string(hide_password=True)}: migrated to {args.revision}", file=sys.stderr)
    return 0


def cmd_rescore(args: argparse.Namespace) -> int:
    import asyncio
    import os

    from assessment.settings import DatabaseTimeouts, database_url_from_env
    from assessment.store.db import create_engine, ensure_migrated, session_factory
    from assessment.store.rescoring import not_offered, offered_questionnaires, rescore_questionnaire

    root = Path(os.environ.get("RECENTRE_QUESTIONNAIRES") or qc.BUNDLED)
    offered = offered_questionnaires(root)
    if args.questionnaire and args.questionnaire not in offered:
        known = ", ".join(sorted(offered)) or "none"
        print(f"error: no questionnaire {args.questionnaire!r} is offered in {root} (offered: {known})", file=sys.stderr)
        return 1
    chosen = [offered[args.questionnaire]] if args.questionnaire else list(offered.values())
    url = database_url_from_env()

    async def run():
        engine = create_engine(url, timeouts=DatabaseTimeouts.from_env())
        try:
            await ensure_migrated(engine)
            sessions = session_factory(engine)
            outcomes = [await rescore_questionnaire(sessions, compiled, dry_run=args.dry_run) for compiled in chosen]
            async with sessions() as session:
                left = await not_offered(session, offered) if args.all else {}
            return outcomes, left
        finally:
            await engine.dispose()

    outcomes, left = explained(url, lambda: asyncio.run(run()))
    verb = "would be re-scored" if args.dry_run else "re-scored"
    for o in outcomes:
        line = f"{o.questionnaire} {o.version} ({o.fingerprint[:12]}): {o.rescored} {verb}, {o.already_current} already current"
        if o.failed:
            line += f", {len(o.failed)} could not be scored"
        print(line)
        for assessment_id, reason in o.failed:
            print(f"  assessment {assessment_id}: {reason}")
    for questionnaire_id, count in left.items():
        print(f"{questionnaire_id}: {count} submitted, no longer offered: results kept as they are")
    if args.dry_run:
        print("dry run: nothing was changed", file=sys.stderr)
    return 1 if any(o.failed for o in outcomes) else 0


def cmd_seed(args: argparse.Namespace) -> int:
    import asyncio
    import time

    from sqlalchemy.engine import make_url

    from assessment.settings import database_url_from_env
    from assessment.store.db import upgrade
    from assessment.workspace.seed import UnknownQuestionnaire, choose_questionnaires, offered_questionnaires, seed_database

    if args.assessments < 1:
        print("error: --assessments must be at least 1", file=sys.stderr)
        return 1
    try:
        chosen = choose_questionnaires(offered_questionnaires(), args.questionnaire)
    except UnknownQuestionnaire as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    url = database_url_from_env()
    explained(url, lambda: upgrade(url))
    started = time.perf_counter()

    def progress(done: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{done}/{args.assessments}", end="", file=sys.stderr, flush=True)

    added = explained(url, lambda: asyncio.run(seed_database(url, chosen, args.assessments, seed=args.seed, progress=progress)))
    where = make_url(url).render_as_string(hide_password=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)  # after the progress line
    print(f"{where}: added {added} submitted assessments in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from assessment.settings import Settings
    from assessment.store.db import is_sqlite, prepare_database
    from assessment.store.rescoring import offered_questionnaires

    settings = Settings.from_env()
    if args.workers > 1 and is_sqlite(settings.database_url):
        # SQLite has one writer at a time, and each process would wait for the others' locks.
        print("error: several workers need PostgreSQL: set RECENTRE_DATABASE_URL, or serve with one worker", file=sys.stderr)
        return 2
    # Whatever can stop the start-up is found here, before the server starts, so that it
    # ends with one line naming the cause and the fix (``main``): the offer, then the
    # database, migrated here so that several workers never race to migrate.
    offered = offered_questionnaires(settings.questionnaires)
    prepare_database(settings.database_url, settings.database_timeouts)
    from web.app import create_app

    # One process serves the app built here, with the questionnaires compiled above; several
    # each build their own.
    uvicorn.run(
        create_app(settings, offered) if args.workers == 1 else "web.app:create_app",
        factory=args.workers > 1,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        # uvicorn's access log writes each request's path, and the paths of assessments
        # carry their private tokens; the app logs refused requests by route template.
        access_log=False,
        # X-Forwarded-For and -Proto from the trusted proxies only; uvicorn's default trusts
        # 127.0.0.1, which let anyone on the machine, or behind a proxy that passes the
        # header on, choose the address sign-in attempts are counted by.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies) or None,
    )
    return 0


def read_new_password(stdin=None) -> str:
    """The password typed twice at a prompt, or the first line of standard input when it
    is not a terminal (for scripts: ``printf '%s\\n' "$PW" | recentre user add ...``)."""
    import getpass

    stdin = stdin or sys.stdin
    if not stdin.isatty():
        return stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("Repeat it: ") != first:
        raise ValueError("The two passwords differ.")
    return first


def cmd_user_add(args: argparse.Namespace) -> int:
    import asyncio

    from assessment.settings import database_url_from_env
    from assessment.store.db import create_engine, session_factory
    from assessment.workspace.accounts import AccountError, check_new_password, check_role, create_user

    try:
        check_role(args.role, args.cluster)
        password = read_new_password()
        check_new_password(password, args.email)
    except (AccountError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    url = database_url_from_env()

    async def add() -> None:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session, session.begin():
                await create_user(session, args.email, role=args.role, cluster=args.cluster, password=password)
        finally:
            await engine.dispose()

    try:
        explained(url, lambda: asyncio.run(add()))
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    where = f" of cluster {args.cluster}" if args.cluster else ""
    print(f"added {args.role}{where}: {args.email.strip().lower()}", file=sys.stderr)
    return 0


def _run_in_database(work):
    """What ``await work(sessions)`` returns, on the migrated database of
    RECENTRE_DATABASE_URL; DatabaseNotMigrated if it is not."""
    import asyncio

    from assessment.settings import database_url_from_env
    from assessment.store.db import create_engine, ensure_migrated, session_factory

    async def run():
        engine = create_engine(database_url_from_env())
        try:
            await ensure_migrated(engine)
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _database_problem(exc: Exception) -> int:
    from sqlalchemy.engine import make_url

    from assessment.settings import database_url_from_env

    print(f"{make_url(database_url_from_env()).render_as_string(hide_password=True)}: error: {exc}", file=sys.stderr)
    return 1


def cmd_user_list(args: argparse.Namespace) -> int:
    from assessment.store.db import DatabaseNotMigrated
    from assessment.workspace.accounts import list_users

    async def listed(sessions):
        async with sessions() as session:
            return [(u.email, u.role, u.cluster or "-", "active" if u.active else "disabled", u.created_at.date().isoformat()) for u in await list_users(session)]

    try:
        rows = _run_in_database(listed)
    except DatabaseNotMigrated as exc:
        return _database_problem(exc)
    header = ("EMAIL", "ROLE", "CLUSTER", "STATE", "CREATED")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    print(f"{len(rows)} account(s)", file=sys.stderr)
    return 0


def _change_account(args: argparse.Namespace, change, done: str) -> int:
    from assessment.store.db import DatabaseNotMigrated
    from assessment.workspace.accounts import AccountError

    async def changed(sessions):
        async with sessions() as session, session.begin():
            return await change(session)

    try:
        outcome = _run_in_database(changed)
    except DatabaseNotMigrated as exc:
        return _database_problem(exc)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(done.format(email=args.email.strip().lower(), outcome=outcome), file=sys.stderr)
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    from assessment.workspace.accounts import set_active

    return _change_account(args, lambda s: set_active(s, args.email, False), "disabled {email}: it cannot sign in, and its sessions have ended")


def cmd_user_enable(args: argparse.Namespace) -> int:
    from assessment.workspace.accounts import set_active

    return _change_account(args, lambda s: set_active(s, args.email, True), "enabled {email}")


def cmd_user_remove(args: argparse.Namespace) -> int:
    from assessment.workspace.accounts import remove_user

    return _change_account(args, lambda s: remove_user(s, args.email), "removed {email}; {outcome} note(s) it wrote are kept without their author")


def cmd_user_reset_password(args: argparse.Namespace) -> int:
    from assessment.workspace.accounts import AccountError, check_new_password, hash_password, replace_password_hash

    try:
        password = read_new_password()
        # Checked and hashed before the transaction, as accounts.sign_in does: on SQLite the
        # server waits for the database while a transaction is open.
        check_new_password(password, args.email)
    except (AccountError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    password_hash = hash_password(password)
    return _change_account(
        args, lambda s: replace_password_hash(s, args.email, password_hash), "new password for {email}: its sessions have ended"
    )


def _erased_line(ids: list[int], verb: str) -> str:
    shown = ", ".join(str(i) for i in ids[:20]) + (", ..." if len(ids) > 20 else "")
    return f"{len(ids)} assessment(s) {verb}" + (f": {shown}" if ids else "")


def cmd_erase(args: argparse.Namespace) -> int:
    from assessment.store.db import DatabaseNotMigrated
    from assessment.store.erasure import erase

    async def erased(sessions):
        async with sessions() as session, session.begin():
            return await erase(session, args.assessment)

    try:
        ids = _run_in_database(erased)
    except DatabaseNotMigrated as exc:
        return _database_problem(exc)
    missing = sorted(set(args.assessment) - set(ids))
    print(_erased_line(ids, "erased, with their answers, results and notes"))
    if missing:
        print(f"error: no assessment has the id {', '.join(str(i) for i in missing)}", file=sys.stderr)
        return 1
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from assessment.settings import retention_from_env
    from assessment.store.db import DatabaseNotMigrated
    from assessment.store.erasure import erase, expired

    periods = retention_from_env()
    draft_days, submitted_days = periods["retain_draft_days"], periods["retain_submitted_days"]

    async def purged(sessions):
        async with sessions() as session, session.begin():
            ids = await expired(session, draft_days=draft_days, submitted_days=submitted_days)
            return ids if args.dry_run else await erase(session, ids)

    try:
        ids = _run_in_database(purged)
    except DatabaseNotMigrated as exc:
        return _database_problem(exc)
    print(
        f"drafts unchanged for more than {draft_days} days, assessments submitted more than {submitted_days} days ago: "
        + _erased_line(ids, "would be erased" if args.dry_run else "erased")
    )
    if args.dry_run:
        print("dry run: nothing was changed", file=sys.stderr)
    return 0


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number from 1 up, not {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recentre",
        description="Green and digital self-assessment for SMEs: questionnaires, scoring, web app.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "validate",
        help="check questionnaire files and report every problem as file:line:column",
        description="Load and compile questionnaire, module and catalog files. Exits 0 when "
        "all are valid, 1 otherwise. Folders are searched for *.yaml files.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: the bundled questionnaires)")
    p.add_argument("--strict", action="store_true", help="treat warnings (such as missing translations) as errors")
    p.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of questionnaire files, for editors",
        description="Print the JSON Schema of questionnaire, module and catalog files, "
        "generated from the questionnaire language's definitions.",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser(
        "score",
        help="score an answers file and print the readiness profile",
        description="Score ANSWERS (a YAML file mapping question ids to answers, with an "
        "optional 'company' mapping of size, sector, country and cluster) against "
        "QUESTIONNAIRE (a file, or the id of a bundled questionnaire).",
    )
    p.add_argument("questionnaire", metavar="QUESTIONNAIRE")
    p.add_argument("answers", metavar="ANSWERS.yaml")
    p.add_argument("--json", action="store_true", help="print the profile as JSON (the same as the web API)")
    p.add_argument("--explain", action="store_true", help="show which answers made each dimension score")
    p.add_argument("--lang", default="en", choices=LANGUAGES, help="language of texts (default: en)")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser(
        "report",
        help="score an answers file and write the PDF report",
        description="Score ANSWERS.yaml against QUESTIONNAIRE and write the PDF report an SME "
        "takes away: cover, summary with the top three priorities, dimension radar, "
        "twin-transition matrix, what drove each dimension, ranked recommendations with the "
        "vouchers and training that fund them, and, with --previous, the progress since the "
        "previous assessment. The answers file's 'company' mapping may carry the company's "
        "'name' beside size, sector, country and cluster.",
    )
    p.add_argument("questionnaire", metavar="QUESTIONNAIRE", help="a questionnaire file, or the id of a bundled one (furniture, it, energy, core)")
    p.add_argument("answers", metavar="ANSWERS.yaml")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write the PDF ('-' for standard output)")
    p.add_argument("--lang", default="en", choices=LANGUAGES, help="language of the report (default: en)")
    p.add_argument("--previous", metavar="ANSWERS.yaml", help="the answers of the previous assessment (T0), for a progress section")
    p.add_argument("--date", type=_iso_date, default=None, metavar="YYYY-MM-DD", help="the assessment date shown in the report (default: today)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "check",
        help="run the test cases embedded in questionnaires, report coverage, simulate",
        description="Run every embedded test case (answers -> expected scores, levels, "
        "archetype and recommendations) and report the levels, archetypes and recommendations "
        "that no test reaches. Exits 1 when a test fails.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: the bundled questionnaires)")
    p.add_argument("--simulate", type=int, default=0, metavar="N", help="also score N random valid answer sets")
    p.add_argument("--seed", type=int, default=0, help="random seed for --simulate (default: 0)")
    p.add_argument("--strict", action="store_true", help="fail on coverage gaps and simulation warnings too")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "db",
        help="manage the database",
        description="Manage the database named by RECENTRE_DATABASE_URL (default: data/recentre.db).",
    )
    db_sub = p.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    p = db_sub.add_parser("upgrade", help="apply migrations", description="Apply the database migrations up to REVISION.")
    p.add_argument("revision", nargs="?", default="head", metavar="REVISION", help="target revision (default: head)")
    p.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser(
        "rescore",
        help="re-score submitted assessments against the questionnaire versions now offered",
        description="Re-score submitted assessments whose current result was scored against "
        "another version of their questionnaire than the one now offered (from "
        "RECENTRE_QUESTIONNAIRES). Each gets a new current result; earlier results are kept. "
        "Nothing is ever re-scored without this command. Exits 1 if some answers could not "
        "be scored.",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--questionnaire", metavar="ID", help="only the assessments of this questionnaire")
    which.add_argument("--all", action="store_true", help="the assessments of every offered questionnaire")
    p.add_argument("--dry-run", action="store_true", help="print what would be re-scored, change nothing")
    p.set_defaults(func=cmd_rescore)

    p = sub.add_parser(
        "user",
        help="manage advisor and organiser accounts",
        description="Manage the accounts of advisors (who see their own cluster's shared "
        "assessments) and organisers (who see all clusters).",
    )
    user_sub = p.add_subparsers(dest="user_command", required=True, metavar="USER_COMMAND")
    p = user_sub.add_parser(
        "add",
        help="add an account",
        description="Add an account. The password (at least 12 characters, and not easy to guess: "
        "no common password, word, name, date, keyboard row or the email itself) is asked for "
        "twice at a prompt, or read from the first line of standard input when it is not a terminal.",
    )
    p.add_argument("email", metavar="EMAIL", help="the email address the person signs in with")
    p.add_argument("--role", required=True, choices=["advisor", "organiser"], help="advisor (one cluster) or organiser (all clusters)")
    p.add_argument(
        "--cluster",
        choices=list(CLUSTERS),
        help="the advisor's cluster (required for advisors, refused for organisers)",
    )
    p.set_defaults(func=cmd_user_add)

    p = user_sub.add_parser("list", help="list the accounts", description="List every account: email, role, cluster, whether it is active, and when it was made.")
    p.set_defaults(func=cmd_user_list)
    p = user_sub.add_parser(
        "disable",
        help="stop an account from signing in, and end its sessions",
        description="Disable the account of EMAIL: it can no longer sign in, and its sessions end at once. Its notes stay.",
    )
    p.add_argument("email", metavar="EMAIL")
    p.set_defaults(func=cmd_user_disable)
    p = user_sub.add_parser("enable", help="let a disabled account sign in again", description="Enable the account of EMAIL again.")
    p.add_argument("email", metavar="EMAIL")
    p.set_defaults(func=cmd_user_enable)
    p = user_sub.add_parser(
        "remove",
        help="delete an account",
        description="Delete the account of EMAIL and its sessions. The notes it wrote on assessments stay, without their author.",
    )
    p.add_argument("email", metavar="EMAIL")
    p.set_defaults(func=cmd_user_remove)
    p = user_sub.add_parser(
        "reset-password",
        help="give an account a new password, and end its sessions",
        description="Give the account of EMAIL a new password (the same rules as `recentre user add`), asked for twice "
        "at a prompt, or read from the first line of standard input when it is not a terminal. Its sessions end.",
    )
    p.add_argument("email", metavar="EMAIL")
    p.set_defaults(func=cmd_user_reset_password)

    p = sub.add_parser(
        "erase",
        help="erase assessments, with their answers, results and notes",
        description="Erase the assessments with these ids (the workspace shows them in its addresses) from the database "
        "named by RECENTRE_DATABASE_URL, in one transaction: their answers, results, dimension scores, recommendations "
        "and notes go with them. Other assessments of the same company stay. Exits 1 if an id has no assessment.",
    )
    p.add_argument("--assessment", type=positive_int, action="append", required=True, metavar="ID", help="the id of an assessment (repeat for several)")
    p.set_defaults(func=cmd_erase)

    p = sub.add_parser(
        "purge",
        help="erase the assessments kept longer than the retention periods",
        description="Erase, as `recentre erase` does, the drafts unchanged for more than RECENTRE_RETAIN_DRAFT_DAYS "
        "(default 365) and the assessments submitted more than RECENTRE_RETAIN_SUBMITTED_DAYS ago (default 1826, five "
        "years). Run it daily, from cron or a timer.",
    )
    p.add_argument("--dry-run", action="store_true", help="print what would be erased, change nothing")
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser(
        "seed",
        help="add realistic fake submitted assessments, for demos and benchmarks",
        description="Add N fake submitted assessments to the database named by "
        "RECENTRE_DATABASE_URL (migrating it first): companies of every cluster and sector "
        "with local names, answers that lean the way their sector, cluster and size lean, "
        "some assessed twice (T0 and T1), dated over the last 18 months, scored by the real "
        "engine. Use it on a demo or benchmark database that nothing else writes to meanwhile.",
    )
    p.add_argument("--assessments", type=int, required=True, metavar="N", help="how many assessments to add")
    p.add_argument(
        "--questionnaire",
        action="append",
        metavar="ID",
        help="an offered questionnaire to use (repeat for several; default: all of them)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed: the same seed adds the same companies (default: 0)")
    p.set_defaults(func=cmd_seed)

    p = sub.add_parser(
        "serve",
        help="check the questionnaires and the database, apply migrations, then serve the web application",
        description="Check the offered questionnaires and the database, apply database migrations, then "
        "serve the web application with uvicorn. Settings come from RECENTRE_* environment variables. "
        "What stops the start-up is printed in one line naming the setting, the cause and the fix; "
        "the exit code is 2 for a setting's value, 1 for what it names.",
    )
    p.add_argument("--host", help="address to listen on (default: RECENTRE_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default: RECENTRE_PORT or 8000)")
    p.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="server processes (default: 1); more than one needs PostgreSQL, with "
        "RECENTRE_DATABASE_POOL_SIZE set so that workers x pool size stays under its max_connections",
    )
    p.set_defaults(func=cmd_serve)

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from assessment.settings import SettingsError, StartupError

    try:
        return args.func(args)
    except SettingsError as exc:  # a setting's value is wrong: change it
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StartupError as exc:  # what a setting names cannot be used now
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
