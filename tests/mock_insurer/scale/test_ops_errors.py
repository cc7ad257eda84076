"""What an operator sees when `cardsettle insurer serve` cannot start as asked: a malformed
`--db` URL, `--workers` over a ledger that is not PostgreSQL or above the machine's cores, a
PostgreSQL server that refuses the user or has no such database — one line each, naming what
is wrong, never a traceback (ops audit F4-F8). The PostgreSQL cases use the session's server;
none of them starts a worker."""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from cardsettle.cli.insurer import insurer as insurer_cli
from mock_insurer.ledger.engine import CONNECTIONS_PER_PROCESS, LedgerConfigError, make_engine
from tests.support.postgres import TempPostgres

# the module (cardsettle.cli's `insurer` attribute is the click group of the same name)
insurer_module = importlib.import_module("cardsettle.cli.insurer")


def serve(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(insurer_cli, [
        "serve", "--port", "0", "--data-dir", str(tmp_path / "data"), *args])


def one_line(result: Result) -> str:
    """The single line a refused start printed (exit status 1, no traceback)."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize(("url", "line"), [
    ("postgresql://postgres:secret@127.0.0.1:notaport/cs1",
     "Error: --db: not a database URL: 'postgresql://postgres:***@127.0.0.1:notaport/cs1' "
     "(port 'notaport' is not a number)"),
    ("postgresql://postgres@127.0.0.1:/cs1",
     "Error: --db: not a database URL: 'postgresql://postgres@127.0.0.1:/cs1' "
     "(no port after the ':')"),
    ("postgresql://[::1/cs1",
     "Error: --db: not a database URL: 'postgresql://[::1/cs1' "
     "(the IPv6 address '[::1' has no closing ']')"),
    ("postgresql://[::1]:x/cs1",
     "Error: --db: not a database URL: 'postgresql://[::1]:x/cs1' (port 'x' is not a number)"),
    ("postgresql://127.0.0.1:99999/cs1",
     "Error: --db: not a database URL: 'postgresql://127.0.0.1:99999/cs1' "
     "(port 99999 is not between 1 and 65535)"),
    ("postgresql://127.0.0.1:0/cs1",
     "Error: --db: not a database URL: 'postgresql://127.0.0.1:0/cs1' "
     "(port 0 is not between 1 and 65535)"),
    ("postgresql://postgres@127.0.0.1/my ledger",
     "Error: --db: not a database URL: 'postgresql://postgres@127.0.0.1/my ledger' "
     "(it contains a space: write a space that belongs in a name as %20)"),
    (" postgresql://postgres@127.0.0.1/cs1",
     "Error: --db: not a database URL: ' postgresql://postgres@127.0.0.1/cs1' "
     "(it begins or ends with a space)"),
    ("postgresql://app:p@ss@127.0.0.1/cs1",  # the password's '@' not written %40
     "Error: --db: not a database URL: 'postgresql://app:***@127.0.0.1/cs1' "
     "(more than one '@': write an '@' of the user or the password as %40)"),
    ("notaurl",
     "Error: --db: not a database URL: 'notaurl' (expected sqlite:///FILE or "
     "postgresql://USER[:PASSWORD]@HOST[:PORT]/DB)"),
    ("mysql://root@127.0.0.1/x",
     "Error: --db: unsupported database 'mysql' in 'mysql://root@127.0.0.1/x': use "
     "sqlite:///FILE or postgresql://USER@HOST/DB"),
    ("postgresql://postgres@127.0.0.1:5432",
     "Error: --db: postgresql://postgres@127.0.0.1:5432 names no database: use "
     "postgresql://USER@HOST[:PORT]/DB"),
])
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_malformed_db_url_is_one_line_naming_the_option(tmp_path: Path, url: str, line: str,
                                                          workers: str) -> None:
    """With --workers 2 too: the URL is what is wrong, not SQLite (F6)."""
    result = serve(tmp_path, "--db", url, "--workers", workers)
    assert one_line(result) == line
    assert "secret" not in result.output and "ss@" not in result.output
    assert not (tmp_path / "data").exists()  # refused before anything is generated


def test_a_port_that_is_not_a_number_is_a_ledger_error_not_a_value_error() -> None:
    """Code that builds a ledger itself (not through the CLI) gets the same one line."""
    with pytest.raises(LedgerConfigError, match=r"port 'notaport' is not a number"):
        make_engine("postgresql://postgres@127.0.0.1:notaport/cs1")


@pytest.mark.parametrize(("args", "which"), [
    ([], "the default ledger (DATA_DIR/insurer.db) is SQLite"),
    (["--db", "sqlite:///{tmp}/ledger.db"], "--db names an SQLite ledger"),
])
def test_several_workers_over_sqlite_say_which_ledger_is_sqlite(tmp_path: Path, args: list[str],
                                                                which: str) -> None:
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    assert one_line(serve(tmp_path, *args, "--workers", "2")) == (
        f"Error: --workers 2 needs a PostgreSQL ledger (--db postgresql://...): {which}, which "
        "has one writer at a time, so more processes would only queue on its lock")


def test_more_than_four_workers_per_cpu_are_refused(tmp_path: Path) -> None:
    cpus = len(os.sched_getaffinity(0))
    too_many = 4 * cpus + 1
    line = one_line(serve(tmp_path, "--db", "postgresql://postgres@127.0.0.1/cs1",
                          "--workers", str(too_many)))
    assert line == (f"Error: --workers {too_many} is too many for {cpus} "
                    f"CPU{'s' if cpus > 1 else ''}: at most {4 * cpus} (4 per CPU); more "
                    "processes would only queue for the cores, start slowly and hold more "
                    "database connections")


# --- against the session's PostgreSQL server ------------------------------------------------

PW_USER = "cs_ops_pw"
PW_PASSWORD = "pw-ops-1"


@pytest.fixture(scope="module")
def password_role(postgres: TempPostgres) -> Iterator[str]:
    """A role that must give its password over TCP (the test server trusts every other one):
    its URL without the password."""
    admin = postgres.base_url + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        hba_row = conn.execute("SHOW hba_file").fetchone()
        assert hba_row is not None
        hba = Path(hba_row[0])
        if not os.access(hba, os.W_OK):
            pytest.skip(f"the PostgreSQL server's {hba} cannot be written from here "
                        "(CARDSETTLE_TEST_PG_URL?)")
        conn.execute(f"DROP ROLE IF EXISTS {PW_USER}")
        conn.execute(f"CREATE ROLE {PW_USER} LOGIN PASSWORD '{PW_PASSWORD}'")
        original = hba.read_text()
        hba.write_text(f"host all {PW_USER} 127.0.0.1/32 scram-sha-256\n{original}")
        conn.execute("SELECT pg_reload_conf()")
    host = postgres.base_url.split("@", 1)[1]
    url = f"postgresql://{PW_USER}@{host}/postgres"
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the reload takes effect shortly after
            try:
                with psycopg.connect(url, connect_timeout=2, password="wrong"):
                    time.sleep(0.1)
            except psycopg.OperationalError:
                break
        yield url
    finally:
        hba.write_text(original)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
            conn.execute(f"DROP ROLE IF EXISTS {PW_USER}")


@pytest.fixture
def no_stored_password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))


@pytest.mark.postgres
@pytest.mark.usefixtures("no_stored_password")
def test_a_missing_password_says_where_to_put_it(tmp_path: Path, password_role: str) -> None:
    line = one_line(serve(tmp_path, "--db", password_role))
    assert line.startswith(f"Error: cannot open the ledger {password_role}: ")
    assert "no password supplied" in line
    assert line.endswith("(the server asks for a password: put it in the URL "
                         "(postgresql://USER:PASSWORD@HOST/DB), in PGPASSWORD or in ~/.pgpass)")


@pytest.mark.postgres
@pytest.mark.usefixtures("no_stored_password")
def test_a_wrong_password_says_to_check_it(tmp_path: Path, password_role: str) -> None:
    url = password_role.replace(f"{PW_USER}@", f"{PW_USER}:not-it@")
    line = one_line(serve(tmp_path, "--db", url))
    assert "password authentication failed" in line and "not-it" not in line
    assert line.endswith("(check the user and the password in the URL, PGPASSWORD or "
                         "~/.pgpass)")


@pytest.mark.postgres
def test_a_missing_database_says_so(tmp_path: Path, postgres: TempPostgres) -> None:
    url = f"{postgres.base_url}/cs_no_such_database"
    line = one_line(serve(tmp_path, "--db", url))
    assert 'database "cs_no_such_database" does not exist' in line
    assert line.endswith("(the server has no such database: create it (createdb NAME, or "
                         "CREATE DATABASE) or name an existing one in the URL)")


@pytest.fixture
def captured_run(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What `serve` hands to the server's `run` (no worker is started)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(insurer_module, "run",
                        lambda *args, **kwargs: calls.append({"args": args, **kwargs}))
    return calls


@pytest.mark.postgres
def test_workers_get_time_to_start_and_a_warning_when_connections_run_short(
        tmp_path: Path, postgres: TempPostgres, captured_run: list[dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """uvicorn's 5 s health check killed workers still starting on a busy machine (F7); more
    connections than the server allows turn peak load into 503s (F8)."""
    url = postgres.new_database()
    with psycopg.connect(postgres.base_url + "/postgres") as conn:
        row = conn.execute("SHOW max_connections").fetchone()
        assert row is not None
        allowed = int(row[0])
    workers = allowed // CONNECTIONS_PER_PROCESS + 1  # more than the server has room for
    monkeypatch.setattr(insurer_module, "_cpus", lambda: workers)
    result = serve(tmp_path, "--db", url, "--workers", str(workers), "--persons", "20")
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    [call] = captured_run
    assert call["workers"] == workers
    assert call["timeout_worker_healthcheck"] == max(30, 5 * workers)
    [warning] = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert warning.startswith(
        f"WARNING: {workers} workers can open up to {workers * CONNECTIONS_PER_PROCESS} "
        f"PostgreSQL connections ({CONNECTIONS_PER_PROCESS} each) but the server has room for ")
    assert f"(max_connections {allowed}, less " in warning
    assert warning.endswith("at peak, requests beyond that are answered 503 ledger "
                            "unavailable; use fewer workers or raise max_connections")


@pytest.mark.postgres
def test_two_workers_on_a_roomy_server_get_no_warning(
        tmp_path: Path, postgres: TempPostgres, captured_run: list[dict[str, Any]]) -> None:
    result = serve(tmp_path, "--db", postgres.new_database(), "--workers", "2",
                   "--persons", "20")
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.stderr
    assert "each worker prints a line once it serves" in result.output
    assert captured_run[0]["timeout_worker_healthcheck"] == 30
