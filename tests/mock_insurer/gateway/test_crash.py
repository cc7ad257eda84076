"""kill -9 of the insurer in the middle of a stream of settlements: after a restart every
acknowledged settlement is in the ledger, nothing is half-written, and service goes on."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from mock_insurer.client import ClientError
from mock_insurer.ledger import Ledger
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import make_client
from tests.mock_insurer.gateway.driver import Window

D = Decimal


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(args: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "cardsettle", "insurer", "serve", "--port", str(port), *args],
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
def test_kill_9_loses_nothing_acknowledged(tmp_path: Path) -> None:
    paths = dataset.write(tmp_path)
    db = f"sqlite:///{tmp_path}/ledger.db"
    port = free_port()
    common = ["--db", db, "--data-dir", str(tmp_path)]
    process = start([*common, "--fresh", "--population", str(paths["population"]),
                     "--catalogue", str(paths["catalogue"]),
                     "--institutions", str(paths["institutions"])], port)
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

    worker = threading.Thread(target=stream)
    worker.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stop.set()
    worker.join(10)
    assert len(acknowledged) >= 15

    process = start(common, port)  # no files: the ledger is continued
    try:
        ledger = Ledger(db)
        with ledger.read() as tx:
            for setl_id in acknowledged:
                assert tx.settlement(setl_id) is not None, setl_id
            for person in dataset.PERSONS[:3]:
                psn_no = person["psn_no"]
                visits_paid = D("0")
                for row in tx.conn.exec_driver_sql(
                        "SELECT acct_pay FROM settlements WHERE psn_no = ?", (psn_no,)):
                    visits_paid += D(row[0]) / 100
                assert tx.balance(psn_no) == D(person["balc"]) - visits_paid
            orphans = tx.conn.exec_driver_sql(
                "SELECT COUNT(*) FROM fee_details f WHERE f.status = 'settled' AND NOT EXISTS "
                "(SELECT 1 FROM settlements s WHERE s.setl_id = f.setl_id)").scalar()
            assert orphans == 0
            unfinished = tx.conn.exec_driver_sql(
                "SELECT COUNT(*) FROM messages WHERE status = 'processing'").scalar()
            assert unfinished == 0
        ledger.dispose()
        client = make_client(f"http://127.0.0.1:{port}", start=datetime(2026, 3, 2, 12, 0))
        client.sign_in(opter_no="C01", mac="m", ip="i")
        after = Window(client).visit(1, [("001102000010000", "1")])
        assert after.output["setlinfo"]["setl_id"] not in acknowledged
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.slow
def test_sigterm_stops_the_insurer_while_a_fault_holds_a_message(tmp_path: Path) -> None:
    """A delay of ten minutes (the longest a plan may ask) on a message in flight does not
    hold the stop: the server cuts open requests after its grace period and exits."""
    port = free_port()
    process = start(["--data-dir", str(tmp_path), "--persons", "50", "--admin-token", "t"],
                    port)
    try:
        url = f"http://127.0.0.1:{port}"
        plan = requests.put(f"{url}/admin/faults", timeout=10, headers={
            "Authorization": "Bearer t"}, json={"faults": [{
                "id": "hold", "match": {"infno": ["9001"]},
                "effect": {"kind": "delay", "ms": 600000}}]})
        assert plan.status_code == 200, plan.text
        client = make_client(url, "H11010500001")  # an institution of the default data

        def sign_in() -> None:
            with contextlib.suppress(ClientError):  # the answer never comes: cut at the stop
                client.sign_in(opter_no="C01", mac="m", ip="i")

        held = threading.Thread(target=sign_in, daemon=True)
        held.start()
        time.sleep(1.5)
        assert held.is_alive()  # the message is being held by the delay
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        assert time.monotonic() - started < 20
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_stopped_insurer_leaves_its_ledger_whole_in_one_file(tmp_path: Path) -> None:
    """Soak audit: a stopped insurer left its write-ahead log (12.6 MB) beside the ledger, so a
    backup copied over ``insurer.db`` mixed with the old log and corrupted the ledger. Now the
    ledger is closed on SIGTERM: the log is folded in and removed."""
    port = free_port()
    process = start(["--data-dir", str(tmp_path), "--persons", "50"], port)
    try:
        client = make_client(f"http://127.0.0.1:{port}", "H11010500001")
        client.sign_in(opter_no="C01", mac="m", ip="i")
        db = next(tmp_path.glob("insurer*.db"))
        assert Path(f"{db}-wal").exists()  # the ledger is in WAL mode while it serves
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not Path(f"{db}-wal").exists() and not Path(f"{db}-shm").exists()
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as alone:
        # what it acknowledged is in the file itself
        assert alone.execute("SELECT count(*) FROM messages").fetchone()[0] >= 1
