"""SQLite's settings of the ledger: durability ``full`` by default and ``normal`` on request,
WAL checkpoints in a thread of their own (never inside a commit), and readers that never wait
for the writer."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from mock_insurer.ledger import Ledger, LedgerConfigError
from tests.mock_insurer.ledger.conftest import message


def pragma(ledger: Ledger, name: str) -> int:
    with ledger.read() as tx:
        return int(tx.conn.exec_driver_sql(f"PRAGMA {name}").scalar() or 0)


@pytest.mark.parametrize(("durability", "synchronous"), [("full", 2), ("normal", 1)])
def test_durability_sets_synchronous(tmp_path: Path, durability: str, synchronous: int) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path}/ledger.db", durability=durability)
    try:
        assert pragma(ledger, "synchronous") == synchronous
        assert pragma(ledger, "wal_autocheckpoint") == 0
    finally:
        ledger.dispose()


def test_the_default_is_full(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path}/ledger.db")
    try:
        assert ledger.durability == "full" and pragma(ledger, "synchronous") == 2
    finally:
        ledger.dispose()


def test_an_unknown_durability_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LedgerConfigError, match="durability must be one of full, normal"):
        Ledger(f"sqlite:///{tmp_path}/ledger.db", durability="off")


def test_commits_are_checkpointed_in_the_background(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path}/ledger.db")
    ledger.create()
    try:
        for n in range(20):
            with ledger.write() as tx:
                tx.add_message(message(f"M{n}"))
        checkpointer = ledger.checkpointer
        assert checkpointer is not None
        deadline = time.monotonic() + 5
        while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert checkpointer.checkpoints >= 1
        with ledger.read() as tx:
            busy, frames, done = tx.conn.exec_driver_sql(
                "PRAGMA wal_checkpoint(PASSIVE)").one()
        assert busy == 0 and frames == done  # nothing left behind in the log
    finally:
        ledger.dispose()


def test_a_reader_does_not_wait_for_the_writer(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path}/ledger.db")
    ledger.create()
    writing, done = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with ledger.write() as tx:
            tx.add_message(message("M1"))
            writing.set()
            done.wait(10)

    thread = threading.Thread(target=hold_the_write_lock)
    thread.start()
    try:
        assert writing.wait(5)
        started = time.monotonic()
        with ledger.read() as tx:
            assert tx.count("messages") == 0  # the writer has not committed yet
        assert time.monotonic() - started < 1.0
    finally:
        done.set()
        thread.join()
        ledger.dispose()


def test_checkpoints_go_on_when_the_ledger_is_used_after_dispose(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path}/ledger.db")
    ledger.create()
    checkpointer = ledger.checkpointer
    assert checkpointer is not None
    with ledger.write() as tx:
        tx.add_message(message("M1"))
    ledger.dispose()
    before = checkpointer.checkpoints
    with ledger.write() as tx:
        tx.add_message(message("M2"))
    deadline = time.monotonic() + 5
    while checkpointer.checkpoints == before and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert checkpointer.checkpoints > before
    finally:
        ledger.dispose()


def test_a_database_url_is_never_shown_with_its_password() -> None:
    from mock_insurer.ledger.engine import shown_url

    assert shown_url("postgresql://app:s3cret@127.0.0.1:5432/ledger") == \
        "postgresql://app:***@127.0.0.1:5432/ledger"
    assert shown_url("postgresql://app@127.0.0.1/ledger") == "postgresql://app@127.0.0.1/ledger"
    with pytest.raises(LedgerConfigError) as refused:
        Ledger("mysql://app:s3cret@127.0.0.1/ledger")
    assert "s3cret" not in str(refused.value) and "app:***@" in str(refused.value)


def test_a_postgresql_url_without_a_database_is_refused() -> None:
    with pytest.raises(LedgerConfigError, match="names no database"):
        Ledger("postgresql://app:s3cret@127.0.0.1:5432")


def test_the_libpq_spelling_postgres_is_a_postgresql_ledger() -> None:
    ledger = Ledger("postgres://app@127.0.0.1:1/ledger")  # nothing is connected yet
    try:
        assert ledger.dialect == "postgresql"
    finally:
        ledger.dispose()


@pytest.mark.parametrize("fresh", [[], ["--fresh"]])
def test_serve_on_a_file_that_is_not_a_database_is_one_line_and_leaves_it(
        tmp_path: Path, fresh: list[str]) -> None:
    """``--db sqlite:///FILE`` naming a file that is not an SQLite database: one line naming
    the URL and SQLite's reason (as ``his serve --db`` does), no traceback, the file as it was."""
    from click.testing import CliRunner

    from cardsettle.cli.insurer import insurer as insurer_cli

    garbage = tmp_path / "bin.dat"
    content = bytes(range(256)) * 64
    garbage.write_bytes(content)
    result = CliRunner().invoke(insurer_cli, [
        "serve", "--port", "0", "--data-dir", str(tmp_path / "data"), "--persons", "10",
        "--db", f"sqlite:///{garbage}", *fresh])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: cannot open the ledger sqlite:///{garbage}: file is not a database"]
    assert garbage.read_bytes() == content
