"""A damaged SQLite ledger ("database disk image is malformed": a backup copied over a live
ledger, a disk fault) — soak audit: the insurer printed a 72-line traceback at start and
answered plain 500s while serving. Now: one line naming the ledger and what to do at start, and
while serving the same 503 answers as any ledger outage (send the same msgid again later)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.server import start_in_thread
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import START, make_client
from tests.mock_insurer.gateway.driver import Window


def damage(db: Path) -> None:
    """Overwrite the root page of every table and index (the data, not the schema on page 1)
    with noise."""
    with sqlite3.connect(db) as connection:
        roots = [row[0] for row in connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE rootpage > 1")]
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    with db.open("r+b") as handle:
        for root in roots:
            handle.seek((root - 1) * page_size)
            handle.write(b"\xa5" * page_size)


@pytest.fixture
def ledger(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    paths = dataset.write(tmp_path)
    db = tmp_path / "ledger.db"
    insurer = Insurer.open(InsurerConfig(
        db_url=f"sqlite:///{db}", population=paths["population"], catalogue=paths["catalogue"],
        institutions=paths["institutions"], admin_token="secret",
        wall=FixedClock(START, timedelta(milliseconds=10)), fresh=True))
    with start_in_thread(insurer) as running:
        client = make_client(running.url)
        client.sign_in(opter_no="C01", mac="m", ip="127.0.0.1")
        Window(client).visit(1, [("001102000010000", "1")])
    insurer.close()
    return db, paths


def test_a_damaged_ledger_is_one_line_at_start(ledger: tuple[Path, dict[str, Path]]) -> None:
    db, _paths = ledger
    damage(db)
    done = subprocess.run(  # bounded: an insurer that did start is stopped by the timeout
        [sys.executable, "-m", "cardsettle", "insurer", "serve", "--port", "0", "--db",
         f"sqlite:///{db}", "--data-dir", str(db.parent)],
        capture_output=True, text=True, timeout=120)
    said = (done.stdout + done.stderr).strip()
    assert done.returncode != 0 and "Traceback" not in said, said
    assert len(said.splitlines()) == 1, said
    assert f"cannot open the ledger sqlite:///{db}" in said
    assert "malformed" in said and "PRAGMA integrity_check" in said and "backup" in said


def test_a_ledger_damaged_while_serving_answers_503_not_500(
        ledger: tuple[Path, dict[str, Path]]) -> None:
    db, _paths = ledger
    insurer = Insurer.open(InsurerConfig(
        db_url=f"sqlite:///{db}", admin_token="secret",
        wall=FixedClock(START, timedelta(milliseconds=10))))
    try:
        damage(db)
        with start_in_thread(insurer) as running:
            admin = requests.get(f"{running.url}/admin/messages", timeout=10,
                                 headers={"Authorization": "Bearer secret"})
            assert admin.status_code == 503, admin.text
            assert admin.json()["error"]["code"] == "ledger_unavailable"
            assert "malformed" in admin.json()["error"]["message"]
            health = requests.get(f"{running.url}/health", timeout=10)
            assert health.status_code in (200, 503)  # it reads another table: may be fine
    finally:
        insurer.close()
