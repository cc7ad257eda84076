"""Where a message's CPU goes: the insurer's whole application in one process (no HTTP), and
the part of it the database alone costs.

Run:  python benchmarks/insurer_floor.py [--seconds 5] [--concurrency 32] [--persons 20000]
                                         [--bare REQUESTS_PER_S]

What it does (one process, bounded in time, stops by itself):
1. app: the insurer's ASGI app (SQLite, durability ``full``, as `cardsettle insurer serve`
   opens it, with the same group commit) called directly by ``--concurrency`` windows on one
   event loop, each running full visits (benchmarks/visit_load.py) -> CPU per message of the
   process, minus what the windows spend building and reading messages. No HTTP server: that
   is the bare endpoint's cost, which insurer_throughput.py measures.
2. database floor: every statement the ledger's writer connection ran in phase 1 (recorded
   through the sqlite3 module's connection factory), replayed on a copy of the ledger taken
   just before, with the same transactions and commits, on the bare sqlite3 module — the
   cost of the SQL alone (parsing the statements excluded: they are prepared once, as in the
   insurer), with ``synchronous=FULL`` and ``NORMAL``.
3. The difference is the Python work of a message (envelope, fields, policy, answer, record).
   With ``--bare`` (a bare-endpoint rate from insurer_throughput.py on the same machine) it
   prints the CPU budget per message that issue 3's goal (25 % of the bare rate, one core)
   leaves.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import sqlite3.dbapi2
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure this checkout, whatever is installed

from visit_load import PATH, Catalogue, visit_messages  # noqa: E402  (this script's folder)

from cardsettle.cli.insurer import default_files  # noqa: E402
from mock_insurer.gateway import Insurer, InsurerConfig  # noqa: E402
from mock_insurer.wire.envelope import build_request  # noqa: E402
from mock_insurer.wire.jsonio import dumps  # noqa: E402
from mock_insurer.wire.msgid import MsgidFactory  # noqa: E402

GOAL_RATIO = 0.25  # issue 3: visit message rate >= 25 % of the bare rate


class Recorder:
    """The statements of the ledger's write transactions, in the order they ran:
    ("sql", sql, params), ("many", sql, rows) and ("commit",). Only connections that began a
    write transaction (``BEGIN IMMEDIATE``) are kept; checkpoints and reads are left out.
    Writes are serialized by the ledger, so one list in order is their history."""

    def __init__(self) -> None:
        self.on = False
        self.log: list[tuple[int, tuple[Any, ...]]] = []

    def add(self, conn: sqlite3.Connection, entry: tuple[Any, ...]) -> None:
        if self.on:
            self.log.append((id(conn), entry))

    def writes(self) -> list[tuple[Any, ...]]:
        writers = {conn for conn, e in self.log if e[0] == "sql" and e[1] == "BEGIN IMMEDIATE"}
        return [e for conn, e in self.log if conn in writers]


RECORDER = Recorder()


class RecordingCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        RECORDER.add(self.connection, ("sql", sql, parameters))
        return super().execute(sql, parameters)

    def executemany(self, sql: str, seq: Any, /) -> sqlite3.Cursor:
        rows = list(seq)
        RECORDER.add(self.connection, ("many", sql, rows))
        return super().executemany(sql, rows)


class RecordingConnection(sqlite3.Connection):
    def cursor(self, factory: Any = RecordingCursor) -> Any:  # type: ignore[override]
        return super().cursor(factory)

    def commit(self) -> None:
        RECORDER.add(self, ("commit",))
        super().commit()


_connect = sqlite3.connect


def _recording_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    kwargs.setdefault("factory", RecordingConnection)
    return _connect(*args, **kwargs)


class Window:
    """A cashier window calling the ASGI app directly; counts its own CPU (building requests,
    reading answers) so that it can be taken out of the process's."""

    cpu = 0.0

    def __init__(self, app: Insurer, code: str, factory: MsgidFactory, index: int) -> None:
        self.app, self.code, self.factory, self.sign_no = app, code, factory, ""
        self.rng, self.serial = random.Random(index), index * 1_000_000

    async def call(self, infno: str, input_: dict[str, Any], insuplc: str = "") -> Any:
        started = time.thread_time()
        body = dumps(build_request(
            infno=infno, msgid=self.factory.new(), input=input_, fixmedins_code=self.code,
            fixmedins_name="bench", mdtrtarea_admvs="110105", insuplc_admdvs=insuplc,
            recer_sys_code="YBXT", infver="V1.0", opter_type="1", opter="B1",
            opter_name="bench", inf_time=datetime(2026, 3, 2, 8, 0), sign_no=self.sign_no))
        scope = {"type": "http", "method": "POST", "path": PATH, "query_string": b"",
                 "headers": [(b"content-type", b"application/json")], "extensions": {}}
        sent = False
        out: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                out.append(message.get("body", b""))

        Window.cpu += time.thread_time() - started
        await self.app(scope, receive, send)
        started = time.thread_time()
        answer = orjson.loads(b"".join(out))
        Window.cpu += time.thread_time() - started
        if answer["infcode"] != 0:
            raise RuntimeError(f"{infno}: {answer['err_msg']}")
        return answer["output"]

    async def visit(self, cat: Catalogue, rng: random.Random, serial: int) -> None:
        steps = visit_messages(cat, self.code, rng, serial)
        output = None
        try:
            while True:
                infno, input_, insuplc = steps.send(output)
                output = await self.call(infno, input_, insuplc)
        except StopIteration:
            pass


async def closed_loop(windows: list[Window], cat: Catalogue, seconds: float) -> int:
    end = time.perf_counter() + seconds
    count = 0

    async def worker(window: Window) -> None:
        nonlocal count
        while time.perf_counter() < end:
            window.serial += 1
            await window.visit(cat, window.rng, window.serial)
            count += 1

    await asyncio.gather(*(worker(w) for w in windows))
    return count


async def app_phase(args: argparse.Namespace, data_dir: Path, *,
                    record: bool) -> tuple[int, float]:
    """Messages sent and the app's CPU seconds (the process's minus the windows'). With
    ``record``, the ledger's statements are recorded (the recording itself costs CPU, so the
    app's figure comes from a run without it) and the ledger is copied just before."""
    files = default_files(data_dir, 1, args.persons)
    db = data_dir / "insurer.db"
    if record:  # SQLAlchemy's pysqlite dialect connects through sqlite3.dbapi2
        sqlite3.connect = sqlite3.dbapi2.connect = _recording_connect  # type: ignore[assignment]
    try:
        app = Insurer.open(InsurerConfig(
            db_url=f"sqlite:///{db}", population=files["population"],
            catalogue=files["catalogue"], institutions=files["institutions"],
            admin_token="bench", wall=datetime.now, fresh=True, durability="full"))
    finally:
        sqlite3.connect = sqlite3.dbapi2.connect = _connect  # type: ignore[assignment]
    try:
        cat = Catalogue(data_dir)
        factories = {code: MsgidFactory(code, datetime.now) for code in cat.codes}
        windows = [Window(app, cat.codes[i % len(cat.codes)],
                          factories[cat.codes[i % len(cat.codes)]], i)
                   for i in range(args.concurrency)]
        for window in windows:
            out = await window.call("9001", {"signIn": {"opter_no": "B1", "mac": "m",
                                                        "ip": "i"}})
            window.sign_no = out["signinoutb"]["sign_no"]
        await closed_loop(windows, cat, 1.0)  # warm-up
        if record:
            await asyncio.sleep(0.5)  # the last commit and checkpoint
            with _connect(db) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copy(db, data_dir / "before.db")
            RECORDER.on = True
        Window.cpu = 0.0
        cpu = time.process_time()
        visits = await closed_loop(windows, cat, args.seconds)
        cpu = time.process_time() - cpu - Window.cpu
        RECORDER.on = False
        return visits * 6, cpu
    finally:
        app.close()


def replay(log: list[tuple[Any, ...]], data_dir: Path, synchronous: str) -> float:
    """Phase 2: the recorded statements on a copy of the ledger; CPU seconds."""
    path = data_dir / f"replay-{synchronous}.db"
    shutil.copy(data_dir / "before.db", path)
    conn = _connect(path, isolation_level=None, check_same_thread=False)
    try:
        for pragma in ("journal_mode=WAL", f"synchronous={synchronous}", "foreign_keys=ON",
                       "wal_autocheckpoint=1000"):
            conn.execute(f"PRAGMA {pragma}")
        cursor = conn.cursor()
        started = time.process_time()
        for entry in log:
            if entry[0] == "sql":
                cursor.execute(entry[1], entry[2])
                cursor.fetchall()
            elif entry[0] == "many":
                cursor.executemany(entry[1], entry[2])
            else:
                conn.commit()
        return time.process_time() - started
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--bare", type=float, default=None,
                        help="a bare-endpoint rate (requests/s) from insurer_throughput.py")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cs-floor-") as tmp:
        data_dir = Path(tmp)
        messages, app_cpu = asyncio.run(app_phase(args, data_dir, record=False))
        recorded, _ = asyncio.run(app_phase(args, data_dir, record=True))
        log = RECORDER.writes()
        statements = sum(1 for e in log if e[0] != "commit") / recorded
        commits = sum(1 for e in log if e[0] == "commit") / recorded
        runs: dict[str, list[float]] = {"FULL": [], "NORMAL": []}
        for sync in ("FULL", "NORMAL", "FULL", "NORMAL"):  # alternated; the lower of two
            runs[sync].append(replay(log, data_dir, sync) / recorded)
        floors = {sync: min(values) for sync, values in runs.items()}
    app = app_cpu / messages
    floor = floors["FULL"]
    print(f"app in one process (SQLite, durability full, {args.concurrency} windows, no HTTP): "
          f"{messages:,} messages in {args.seconds:g} s; CPU {app * 1e6:.0f} us per message")
    print(f"database alone ({statements:.1f} statements, {commits:.3f} commits per message, "
          f"replayed): CPU {floor * 1e6:.0f} us per message with synchronous=FULL, "
          f"{floors['NORMAL'] * 1e6:.0f} us with NORMAL")
    print(f"the rest (Python: envelope, fields, policy, answer, record): "
          f"{(app - floor) * 1e6:.0f} us per message ({(app - floor) / app:.0%} of the app)")
    if args.bare:
        budget = 1 / (GOAL_RATIO * args.bare)
        print(f"issue 3's goal at a bare rate of {args.bare:,.0f} requests/s: "
              f"{GOAL_RATIO * args.bare:,.0f} messages/s on one core = {budget * 1e6:.0f} us "
              f"per message including HTTP; the database takes {floor / budget:.0%} of it, "
              f"the Python work today {(app - floor) / budget:.0%}")


if __name__ == "__main__":
    main()
