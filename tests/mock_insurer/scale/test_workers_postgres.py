"""Several insurer processes over one PostgreSQL ledger (`cardsettle insurer serve --workers 2`):
concurrent visits, windows on different processes settling the same person at once, and kill -9
of a worker and then of the whole group mid-load. Loopback only, bounded in time."""

from __future__ import annotations

import os
import signal
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_insurer.client import ClientError
from mock_insurer.ledger import Ledger
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.driver import Window
from tests.mock_insurer.scale.support import (
    Served,
    check_ledger,
    free_port,
    pinned_client,
    serve,
)
from tests.support.postgres import TempPostgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

D = Decimal
SAME_PERSON = 1  # dataset.PERSONS[0]: an employee with an account; 3030 yuan clears the deductible
OTHERS = (2, 3, 10, 11)  # persons of the background visits
SAME_PERSON_VISITS = 6  # per window
BACKGROUND_SECONDS = 4.0


def start_fresh(postgres: TempPostgres, tmp_path: Path) -> tuple[Served, str, list[str]]:
    paths = dataset.write(tmp_path)
    db = postgres.new_database()
    common = ["--db", db, "--data-dir", str(tmp_path)]
    served = serve([*common, "--fresh", "--population", str(paths["population"]),
                    "--catalogue", str(paths["catalogue"]),
                    "--institutions", str(paths["institutions"])],
                   free_port(), tmp_path / "insurer.log")
    return served, db, common


def test_two_processes_keep_every_invariant(postgres: TempPostgres, tmp_path: Path) -> None:
    served, db, _ = start_fresh(postgres, tmp_path)
    try:
        pids = served.worker_pids()
        assert len(pids) == 2
        assert sum("worker pid" in line for line in served.lines) == 2  # each says what it serves
        acknowledged: list[str] = []
        same_person: list[dict[str, Any]] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(2)
        stop = threading.Event()

        def burst(pid: int, code: str, slot: int) -> None:
            """A window pinned to one worker settles SAME_PERSON's visits at the same moment
            as a window of the other institution pinned to the other worker."""
            try:
                client, answered = pinned_client(served.url, pid, code, slot)
                window = Window(client)
                prepared = []
                for _ in range(SAME_PERSON_VISITS):
                    mdtrt_id = window.register(SAME_PERSON)
                    window.diagnose(SAME_PERSON, mdtrt_id)
                    window.upload([
                        window.row(SAME_PERSON, mdtrt_id, "002203000010000", "1"),
                        window.row(SAME_PERSON, mdtrt_id, "001102000010000", "1")])
                    prepared.append(mdtrt_id)
                barrier.wait(30)
                for mdtrt_id in prepared:
                    setlinfo = window.settle(SAME_PERSON, mdtrt_id, D("3030.00")).output[
                        "setlinfo"]
                    same_person.append(setlinfo)
                    acknowledged.append(setlinfo["setl_id"])
                assert answered == pid
            except BaseException as exc:
                errors.append(exc)

        def background(slot: int) -> None:
            try:
                code = (dataset.HOSPITAL, dataset.COMMUNITY)[slot % 2]
                client, _ = pinned_client(served.url, None, code, slot)
                window = Window(client)
                n = 0
                while not stop.is_set():
                    person = OTHERS[(slot + n) % len(OTHERS)]
                    n += 1
                    answer = window.visit(person, [("001102000010000", "1"),
                                                   ("XJ01CAA040A001010100568", "2")])
                    acknowledged.append(answer.output["setlinfo"]["setl_id"])
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=burst, args=(pids[0], dataset.HOSPITAL, 1)),
                   threading.Thread(target=burst, args=(pids[1], dataset.COMMUNITY, 2))]
        threads += [threading.Thread(target=background, args=(slot,)) for slot in range(3, 9)]
        for thread in threads:
            thread.start()
        time.sleep(BACKGROUND_SECONDS)
        stop.set()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        assert len(same_person) == 2 * SAME_PERSON_VISITS
        assert len(acknowledged) > 2 * SAME_PERSON_VISITS + 10  # the background ran too

        check_ledger(db, acknowledged)
        person = dataset.PERSONS[SAME_PERSON - 1]
        ledger = Ledger(db)
        try:
            with ledger.read() as tx:
                balance = tx.balance(person["psn_no"])
                ytd = tx.ytd(person["psn_no"], 2026, "310")
        finally:
            ledger.dispose()
        deductibles = [r["act_pay_dedc"] for r in same_person if r["act_pay_dedc"] > 0]
        assert len(deductibles) == 1  # the first in the serial order met it; no one twice
        assert sum(r["act_pay_dedc"] for r in same_person) == ytd["dedc_used"]
        assert sum(r["hifp_pay"] for r in same_person) == ytd["hifp_paid"]
        assert balance == D(person["balc"]) - sum(r["acct_pay"] for r in same_person)
        # the balance each answer reports is a real point in one serial order
        assert min(r["balc"] for r in same_person) == balance
    finally:
        served.stop()


def test_kill_9_of_a_worker_then_of_all_loses_nothing_acknowledged(
        postgres: TempPostgres, tmp_path: Path) -> None:
    served, db, common = start_fresh(postgres, tmp_path)
    acknowledged: list[str] = []
    lost: list[str] = []  # calls whose effect is unknown (the connection died)
    stop = threading.Event()

    def stream(slot: int) -> None:
        code = (dataset.HOSPITAL, dataset.COMMUNITY)[slot % 2]
        n = 0
        while not stop.is_set():
            try:
                client, _ = pinned_client(served.url, None, code, slot * 10 + n)
            except (requests.RequestException, ClientError, AssertionError):
                time.sleep(0.05)
                n += 1
                continue
            window = Window(client)
            while not stop.is_set():
                person = (1, 2, 3, 10, 11)[(slot + n) % 5]
                n += 1
                try:
                    answer = window.visit(person, [("001102000010000", "1")])
                except (ClientError, requests.RequestException) as exc:
                    lost.append(type(exc).__name__)
                    break  # a new connection, on whichever worker is alive
                acknowledged.append(answer.output["setlinfo"]["setl_id"])
            client.close()

    def wait_for(count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(acknowledged) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(acknowledged) >= count, f"only {len(acknowledged)} acknowledged"

    threads = [threading.Thread(target=stream, args=(slot,)) for slot in range(1, 7)]
    try:
        for thread in threads:
            thread.start()
        wait_for(20)
        victim = served.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)  # one worker, mid-load
        served.wait_workers(3, timeout=30)  # uvicorn starts a replacement, which announces
        wait_for(len(acknowledged) + 20)  # the load goes on over the survivors
        served.kill_group()  # now everything at once
        stop.set()
        for thread in threads:
            thread.join(30)
        assert lost, "no call was cut by the kills: the load was not running across them"
        snapshot = list(acknowledged)

        served = serve(common, free_port(), tmp_path / "insurer.log")  # the ledger continues
        check_ledger(db, snapshot)
        client, _ = pinned_client(served.url, None, dataset.HOSPITAL, 999)
        after = Window(client).visit(2, [("001102000010000", "1")])
        assert after.output["setlinfo"]["setl_id"] not in snapshot
        client.close()
    finally:
        stop.set()
        served.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waiting for its reaper is gone too
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_kill_9_of_the_parent_stops_its_workers_and_no_password_is_printed(
        postgres: TempPostgres, tmp_path: Path) -> None:
    """An operator's kill -9 of the server leaves no worker serving on its own (holding the
    port), and the banner and worker lines show the ledger URL without its password."""
    paths = dataset.write(tmp_path)
    db = postgres.new_database().replace("postgresql://postgres@", "postgresql://postgres:pw@")
    served = serve(["--db", db, "--data-dir", str(tmp_path), "--fresh",
                    "--population", str(paths["population"]),
                    "--catalogue", str(paths["catalogue"]),
                    "--institutions", str(paths["institutions"])],
                   free_port(), tmp_path / "insurer.log")
    try:
        printed = "".join(served.lines)
        assert "postgres:***@" in printed and ":pw@" not in printed, printed
        workers = served.worker_pids()
        os.kill(served.process.pid, signal.SIGKILL)
        served.process.wait(10)
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "a worker outlived its parent"
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{served.url}/health", timeout=2)
    finally:
        served.stop()
