"""``durability=normal`` (SQLite WAL, ``synchronous=NORMAL``) still survives ``kill -9`` of the
insurer: every acknowledged settlement is in the ledger after a restart, nothing half-written.
(Only a crash of the machine itself could lose the last commits; that is what ``full``, the
default, is for.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from mock_insurer.client import ClientError
from mock_insurer.ledger import Ledger
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import make_client
from tests.mock_insurer.gateway.driver import Window

SERVE = """
import sys
from datetime import datetime
from pathlib import Path
from mock_insurer.gateway import Insurer, InsurerConfig
from mock_insurer.server import run
db, port, folder, fresh = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4] == "1"
files = {"population": folder / "persons.jsonl", "catalogue": folder / "catalogue.jsonl",
         "institutions": folder / "institutions.jsonl"}  # as tests/.../dataset.py writes them
config = InsurerConfig(db_url=db, durability="normal", fresh=fresh, wall=datetime.now,
                       **(files if fresh else {}))
run(Insurer.open(config), port=port, log_level="error")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(db: str, port: int, folder: Path, *, fresh: bool) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, db, str(port), str(folder), "1" if fresh else "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                return process
        except requests.ConnectionError:
            time.sleep(0.1)
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "died")
    raise AssertionError("the insurer did not start")


@pytest.mark.slow
def test_kill_9_with_normal_durability_loses_nothing_acknowledged(tmp_path: Path) -> None:
    dataset.write(tmp_path)
    db = f"sqlite:///{tmp_path}/ledger.db"
    port = free_port()
    process = serve(db, port, tmp_path, fresh=True)
    acknowledged: list[str] = []
    stop = threading.Event()

    def stream() -> None:
        client = make_client(f"http://127.0.0.1:{port}", timeout=2.0)
        client.sign_in(opter_no="C01", mac="m", ip="i")
        window = Window(client)
        n = 0
        while not stop.is_set():
            n = n % 3 + 1
            try:
                answer = window.visit(n, [("001102000010000", "1")])
            except (ClientError, requests.RequestException):
                return
            acknowledged.append(answer.output["setlinfo"]["setl_id"])

    workers = [threading.Thread(target=stream) for _ in range(2)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stop.set()
    for worker in workers:
        worker.join(10)
    assert len(acknowledged) >= 20

    ledger = Ledger(db)
    try:
        with ledger.read() as tx:
            missing = [s for s in acknowledged if tx.settlement(s) is None]
            orphans = tx.conn.exec_driver_sql(
                "SELECT COUNT(*) FROM fee_details f WHERE f.status = 'settled' AND NOT EXISTS "
                "(SELECT 1 FROM settlements s WHERE s.setl_id = f.setl_id)").scalar()
            unrecorded = tx.conn.exec_driver_sql(
                "SELECT COUNT(*) FROM settlements s WHERE NOT EXISTS (SELECT 1 FROM messages m"
                " WHERE m.effect_ref = s.setl_id AND m.keyed)").scalar()
    finally:
        ledger.dispose()
    assert missing == []
    assert orphans == 0 and unrecorded == 0  # a settlement and its message: both or neither
