"""`recentre serve` refusing to start: each cause ends with one line that names the setting,
the cause and the fix, exit code 2 when a setting's value is wrong and 1 when what it names
cannot be used, and never a traceback."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from assessment.store.db import upgrade
from tests.environment import ROOT
from tests.live_server import free_port, recentre_env
from tests.small_questionnaire import write_small_questionnaire

SERVE_TIMEOUT_S = 60


def serve(home: Path, env: dict[str, str], *, read_only: bool = False) -> tuple[int, str]:
    """The exit code and output of `recentre serve` run with ``env`` on top of a test's
    environment (recentre_env), expected to stop by itself. ``read_only``: without the
    capability that lets root write files whatever their permissions, so that a read-only
    file is read-only to it too."""
    command = [sys.executable, "-m", "web.cli", "serve", "--port", str(free_port())]
    if read_only and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("setpriv (util-linux) is needed to run without CAP_DAC_OVERRIDE as root")
        caps = "-dac_override,-dac_read_search"
        command = [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}", *command]
    base = recentre_env(home, env.pop("RECENTRE_DATABASE_URL", f"sqlite:///{home / 'data' / 'recentre.db'}"))
    try:
        done = subprocess.run(command, cwd=ROOT, env=base | env, capture_output=True, text=True, timeout=SERVE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the server started instead of refusing:\n{exc.stderr}") from None
    return done.returncode, done.stderr


def only_line(output: str) -> str:
    """The last line of ``output``, once it is clear that no traceback came before it."""
    assert "Traceback" not in output, output
    return output.strip().splitlines()[-1]


URL_FORMS = "sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", f"RECENTRE_DATABASE_URL: not a database URL; write it as {URL_FORMS}"),
        ("postgresql://u:secret@h:port/d", f"RECENTRE_DATABASE_URL: not a database URL; write it as {URL_FORMS}"),
        ("mysql://root@localhost/recentre", f"RECENTRE_DATABASE_URL: mysql databases are not supported; use {URL_FORMS}"),
        ("sqlite://", "RECENTRE_DATABASE_URL: an SQLite database in memory would lose every assessment when the server stops; name a file: sqlite:///PATH"),
        (
            "sqlite+aiosqlite:///:memory:",
            "RECENTRE_DATABASE_URL: an SQLite database in memory would lose every assessment when the server stops; name a file: sqlite:///PATH",
        ),
    ],
)
def test_a_database_url_that_cannot_be_right_exits_2(tmp_path: Path, url: str, message: str):
    code, output = serve(tmp_path, {"RECENTRE_DATABASE_URL": url})
    assert (code, only_line(output)) == (2, f"error: {message}")
    assert "secret" not in output


def questionnaires_missing(folder: Path) -> str:
    return f"RECENTRE_QUESTIONNAIRES: no folder {folder}: name the folder that holds the questionnaires (unset, the bundled ones are offered)"


def questionnaires_empty(folder: Path) -> str:
    return f"RECENTRE_QUESTIONNAIRES: {folder} offers no questionnaire (no file of kind: questionnaire there): add one, or name the folder that holds them"


def empty(folder: Path) -> None:
    folder.mkdir()


def questionnaire_deleted(folder: Path) -> None:
    write_small_questionnaire(folder)
    (folder / "small.yaml").unlink()  # its module and catalog are left


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda folder: None, questionnaires_missing),
        (empty, questionnaires_empty),
        (questionnaire_deleted, questionnaires_empty),
    ],
    ids=["missing", "empty", "questionnaire deleted"],
)
def test_nothing_to_offer_exits_2(tmp_path: Path, prepare: Callable[[Path], None], message: Callable[[Path], str]):
    folder = tmp_path / "questionnaires"
    prepare(folder)
    code, output = serve(tmp_path, {"RECENTRE_QUESTIONNAIRES": str(folder)})
    assert (code, only_line(output)) == (2, f"error: {message(folder)}")


def test_a_questionnaire_with_an_error_exits_2_naming_where(tmp_path: Path):
    folder = tmp_path / "questionnaires"
    path = write_small_questionnaire(folder)
    path.write_text(path.read_text().replace("dimension.data < 50", "dimension.dta < 50"))
    code, output = serve(tmp_path, {"RECENTRE_QUESTIONNAIRES": str(folder)})
    assert (code, only_line(output)) == (
        2,
        f"error: RECENTRE_QUESTIONNAIRES: {path}:35:12: error: recommendation 'data_first' when: unknown dimension 'dta'; "
        f"did you mean 'data'?; `recentre validate {folder}` shows every problem",
    )


@pytest.mark.postgresql
def test_a_postgresql_that_cannot_be_used_exits_1(tmp_path: Path, postgres_url: str):
    server = make_url(postgres_url).set(drivername="postgresql")
    nobody_listens = server.set(port=free_port(), database="recentre")
    cases = [
        (
            nobody_listens,
            f"cannot connect to {nobody_listens.render_as_string()} (connection refused): start the database, or correct the host and port",
        ),
        (
            server.set(username="no_such_role"),
            f'{server.set(username="no_such_role").render_as_string()}: role "no_such_role" does not exist: '
            "create that role, or correct the user and password in the URL",
        ),
        (
            server.set(database="no_such_database"),
            f'{server.set(database="no_such_database").render_as_string()}: database "no_such_database" does not exist: '
            "create it (createdb), or correct the database name in the URL",
        ),
    ]
    for url, message in cases:
        code, output = serve(tmp_path, {"RECENTRE_DATABASE_URL": url.render_as_string(hide_password=False)})
        assert (code, only_line(output)) == (1, f"error: RECENTRE_DATABASE_URL: {message}")


def newer(path: Path) -> None:
    upgrade(f"sqlite:///{path}")
    connection = sqlite3.connect(path)
    connection.execute("UPDATE alembic_version SET version_num = '0099'")
    connection.commit()
    connection.close()


def not_a_database(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text("name,size\nMobili Rossi,small\n" * 100)


def read_only_file(path: Path) -> None:
    upgrade(f"sqlite:///{path}")
    for file in path.parent.iterdir():
        file.chmod(0o444)
    path.parent.chmod(0o555)


def read_only_folder(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.parent.chmod(0o555)


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (
            newer,
            "the database was migrated by a newer version of recentre (revision 0099, unknown to this one): "
            "run that version, or restore a backup made before it",
        ),
        (not_a_database, "{path} is not an SQLite database: name the right file in the URL, or move this one away"),
        (read_only_file, "{path} cannot be written (read-only): let the server's user write the file and its folder"),
        (read_only_folder, "{path} cannot be opened or created: let the server's user write the folder {path.parent}"),
    ],
    ids=["newer than the code", "not a database", "read-only file", "read-only folder"],
)
def test_an_sqlite_file_that_cannot_be_used_exits_1(tmp_path: Path, prepare: Callable[[Path], None], message: str):
    path = tmp_path / "db" / "recentre.db"
    prepare(path)
    try:
        code, output = serve(tmp_path, {"RECENTRE_DATABASE_URL": f"sqlite:///{path}"}, read_only=True)
    finally:
        path.parent.chmod(0o755)
    assert (code, only_line(output)) == (1, "error: RECENTRE_DATABASE_URL: " + message.format(path=path))


def test_a_data_folder_that_cannot_be_written_exits_1(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)
    try:
        code, output = serve(tmp_path, {"RECENTRE_SECRET_KEY": "", "RECENTRE_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'x.db'}"}, read_only=True)
    finally:
        data.chmod(0o755)
    assert (code, only_line(output)) == (
        1,
        f"error: RECENTRE_DATA_DIR: cannot write in {data} (Permission denied): let the server's user write there, or name another folder",
    )
