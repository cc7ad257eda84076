"""Helpers of the multi-process tests: start `cardsettle insurer serve --workers N` as a
subprocess on a free loopback port, pin a window's keep-alive connection to one worker, and
check the ledger's invariants after concurrent settlements or a crash."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from mock_insurer.client import InsurerClient
from mock_insurer.ledger import Ledger
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import START, make_client

ROOT = Path(__file__).resolve().parents[3]
BUSINESS_DATE = "2026-03-02"
WORKER_LINE = re.compile(r"worker pid (\d+):")
D = Decimal


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    """A running `cardsettle insurer serve` (its own process group) and what it printed."""

    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """Every worker pid announced so far (in order; a replaced worker adds one)."""
        return [int(m.group(1)) for line in list(self.lines)
                if (m := WORKER_LINE.search(line))]

    def wait_workers(self, count: int, timeout: float = 60.0) -> list[int]:
        deadline = time.monotonic() + timeout
        while len(self.worker_pids()) < count:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"{count} workers not announced: {self.lines}")
            time.sleep(0.05)
        return self.worker_pids()

    def kill_group(self) -> None:
        """kill -9 of the parent and every worker at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # uvicorn's parent stops its workers
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill_group()
        with_group_gone(self.process.pid)


def with_group_gone(pgid: int) -> None:
    """Make sure no worker of the group outlives the test."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def serve(args: list[str], port: int, log: Path, *, workers: int = 2) -> Served:
    """Start the insurer and return once every worker answers /health."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])}
    process = subprocess.Popen(
        [sys.executable, "-m", "cardsettle", "insurer", "serve", "--port", str(port),
         "--workers", str(workers), "--business-date", BUSINESS_DATE, *args],
        stdout=subprocess.PIPE, stderr=log.open("a"), text=True, cwd=ROOT, env=env,
        start_new_session=True)
    served = Served(process, port)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            served.lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        served.wait_workers(workers)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{served.url}/health", timeout=1).ok:
                    return served
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("the insurer did not answer /health")
    except BaseException:
        served.stop()
        raise AssertionError(f"the insurer did not start: {log.read_text()[-2000:]}") from None


def pinned_client(url: str, pid: int | None, code: str, slot: int,
                  tries: int = 200) -> tuple[InsurerClient, int]:
    """A signed-in client whose keep-alive connection is served by worker ``pid`` (any worker
    when None): new connections are opened until that worker accepts one. ``slot`` keeps the
    msgids of clients of one institution apart."""
    for _ in range(tries):
        session = requests.Session()
        answered = session.get(f"{url}/health", timeout=5).json()["pid"]
        if pid is None or answered == pid:
            client = make_client(url, code, start=START + timedelta(hours=slot),
                                 session=session)
            client.sign_in(opter_no="C01", mac="m", ip="i")
            return client, int(answered)
        session.close()
    raise AssertionError(f"no connection reached worker {pid} in {tries} tries")


def initial_balances() -> dict[str, Decimal]:
    return {p["psn_no"]: D(p["balc"]) for p in dataset.PERSONS}


def check_ledger(db_url: str, acknowledged: list[str]) -> dict[str, Any]:
    """Every invariant a crash or a race could break; returns a few totals for the caller.

    - each acknowledged setl_id is in the ledger exactly once;
    - every account equals its opening balance minus the account payments of its settlements
      and the sum of its account entries, and none is negative;
    - every year-to-date counter equals the sum of its movements, and every movement belongs
      to a settlement;
    - no fee row is marked settled without its settlement, no message is left 'processing'.
    """
    assert len(set(acknowledged)) == len(acknowledged), "a setl_id was acknowledged twice"
    ledger = Ledger(db_url)
    try:
        with ledger.read() as tx:
            sql = tx.conn.exec_driver_sql
            stored = [row[0] for row in sql("SELECT setl_id FROM settlements")]
            counts: dict[str, int] = {}
            for setl_id in stored:
                counts[setl_id] = counts.get(setl_id, 0) + 1
            for setl_id in acknowledged:
                assert counts.get(setl_id) == 1, f"{setl_id} stored {counts.get(setl_id, 0)}x"
            paid = {row[0]: D(row[1]) / 100 for row in sql(
                "SELECT psn_no, SUM(acct_pay) FROM settlements GROUP BY psn_no")}
            entries = {row[0]: D(row[1]) / 100 for row in sql(
                "SELECT psn_no, SUM(amount) FROM account_entries GROUP BY psn_no")}
            for psn_no, opening in initial_balances().items():
                balance = tx.balance(psn_no)
                assert balance >= 0, psn_no
                assert balance == opening - paid.get(psn_no, D(0)), psn_no
                assert balance == opening + entries.get(psn_no, D(0)), psn_no
            drift = sql(
                "SELECT COUNT(*) FROM cum c WHERE c.value <> (SELECT COALESCE(SUM(e.delta), 0) "
                "FROM cum_entries e WHERE e.psn_no = c.psn_no AND e.year = c.year AND "
                "e.insutype = c.insutype AND e.name = c.name)").scalar()
            assert drift == 0, "a year-to-date counter differs from the sum of its movements"
            stray = sql("SELECT COUNT(*) FROM cum_entries e WHERE NOT EXISTS "
                        "(SELECT 1 FROM settlements s WHERE s.setl_id = e.setl_id)").scalar()
            assert stray == 0, "a counter movement without its settlement"
            orphans = sql(
                "SELECT COUNT(*) FROM fee_details f WHERE f.status = 'settled' AND NOT EXISTS "
                "(SELECT 1 FROM settlements s WHERE s.setl_id = f.setl_id)").scalar()
            assert orphans == 0, "fee rows settled without a settlement"
            unfinished = sql(
                "SELECT COUNT(*) FROM messages WHERE status = 'processing'").scalar()
            assert unfinished == 0, "a message left half-processed"
            return {"settlements": len(stored)}
    finally:
        ledger.dispose()

