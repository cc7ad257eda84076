"""``cardsettle load``: peak-hour load tests with locust, headless, and the one-page answer.

Runs the locustfile of the target (loadtests/insurer_direct.py or loadtests/his_e2e.py) in
subprocesses — one standalone locust, or one master and N local workers (``--workers N``) on
loopback — bounded by ``--duration`` (locust's ``--run-time``, and a hard timeout), writes
locust's HTML and CSV into the report directory, then the SLA summary (loadtests/report.py).
Without ``--url`` it starts the embedded insurer (SQLite, the default data of ``--seed``) on
127.0.0.1 for the run, and with ``--target his`` the reference HIS in front of it.

Before anything runs it checks the input: the data directory holds the insurer's data files,
and the target answers (the insurer's ``/health`` or its gateway; the HIS's ``GET
/his/v1/info``). A report directory's files of an earlier run are removed first, so that a
failed or interrupted run never leaves the previous verdict in place.

Exit 0 when the SLA is met, 1 when it is missed, 2 on bad input, 3 when the run itself
failed (the target does not answer, locust produced no statistics, no request got through),
130 when interrupted (Ctrl-C). See docs/loadtests.md.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import requests

import loadtests
from cardsettle.cli.errors import BadInput, BadInputCommand, is_http_url
from cardsettle.cli.his import build_config
from cardsettle.cli.insurer import default_files
from cardsettle.cli.outputs import check_output_dir, make_output_dir
from loadtests.data import load_data
from loadtests.dayend import reconcile
from loadtests.errors import LoadTestError
from loadtests.report import LATENCY_FILE, write_report
from loadtests.samples import SAMPLES_ENV
from loadtests.shapes import SHAPES, ShapeSettings, build_plan, offered, read_profile
from loadtests.sla import (
    AGGREGATED,
    DEFAULT_SLA,
    VISIT,
    SlaLine,
    evaluate,
    load_sla,
    read_stats,
)
from loadtests.totals import TOTALS_ENV, read_totals
from mock_insurer.client.client import DEFAULT_PATH
from mock_insurer.gateway import Insurer, InsurerConfig
from mock_insurer.server import RunningServer, start_in_thread
from mock_insurer.wire.timefmt import china_now
from simulator.errors import SimulatorError
from simulator.his.api import driver_app
from simulator.his.app import ReferenceHis
from simulator.his.driver import BASE_PATH
from simulator.institutions import load_institutions

__all__ = ["LocustRun", "check_target", "clear_report", "load", "parse_duration",
           "run_locust", "summarize", "target_url"]

LOCUSTFILES = {"insurer": "insurer_direct.py", "his": "his_e2e.py"}
LATENCY_NAME = {"insurer": "2207 settle", "his": "visit"}
PREFIX = "locust"
#: Seconds a window has, when the run's time is up, to finish the visit it is in (locust's
#: --stop-timeout), so that a 2207 sent in the last second is answered and counted for the
#: day-end instead of cut off mid-request; a window still busy after it is stopped.
STOP_TIMEOUT_S = 30
GRACE_S = 60.0 + STOP_TIMEOUT_S  # on top of --duration before the run is killed
UNANSWERED = "2207/2208 never answered"
"""The run's entry for settlements sent whose answers the windows never read."""
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}
MAX_DURATION_S = 72 * 3600  # a load test stops by itself: three days of soak at most
TARGET_NAMES = {"insurer": "the insurer", "his": "the HIS"}
CHECK_TIMEOUT_S = 5.0  # the target's first answer, before the run
REPORT_FILES = ("summary.html", "summary.json", LATENCY_FILE, "latency.png", "timeline.png",
                f"{PREFIX}.html")
"""What a run writes into the report directory besides ``locust_*.csv``, ``samples/`` and
``totals/`` (see :func:`clear_report`)."""


def parse_duration(text: str) -> int:
    """``90``, ``90s``, ``15m``, ``1h`` -> seconds (wall clock), at least 1."""
    match = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", text)
    if not match:
        raise BadInput(f"--duration must be a whole number of seconds, minutes or hours "
                       f"(90s, 15m, 1h), got {text!r}")
    if int(match.group(1)) < 1:
        raise BadInput(f"--duration must be more than 0 seconds, got {text!r}")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_DURATION_S:
        raise BadInput(f"--duration is at most {MAX_DURATION_S // 3600} hours (a soak test), "
                       f"got {text!r}")
    return seconds


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def target_url(target: str, url: str) -> str:
    """The base URL the locustfile takes: the HIS driver API's base without ``/his/v1/`` (the
    address ``cardsettle his serve`` prints), the insurer's without the gateway's path."""
    base = url.rstrip("/")
    suffix = BASE_PATH if target == "his" else DEFAULT_PATH
    if base.endswith(suffix):
        base = base[: -len(suffix)]
    return base


def _why_not_connected(exc: requests.RequestException) -> str:
    """A connection failure in a few words (never a Python repr)."""
    if isinstance(exc, requests.Timeout):
        return f"no answer within {CHECK_TIMEOUT_S:g} s"
    seen: set[int] = set()
    cause: BaseException | None = exc
    text = ""
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host not found"
        text += " " + str(cause)
        cause = cause.__cause__ or cause.__context__ or (
            cause.args[0] if cause.args and isinstance(cause.args[0], BaseException) else None)
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "resolve" in lowered:
        return "host not found"
    if "timed out" in lowered:
        return f"no answer within {CHECK_TIMEOUT_S:g} s"
    return "cannot connect"


def _ask(session: requests.Session, method: str, url: str, **kwargs: Any) -> requests.Response:
    return session.request(method, url, timeout=CHECK_TIMEOUT_S, allow_redirects=False,
                           **kwargs)


def check_target(target: str, url: str) -> None:
    """Raise :class:`click.ClickException` (exit 3) unless *url* answers as *target*: the
    insurer's ``GET /health`` (or, for an insurer without it, its gateway answering a POST with
    an envelope), the HIS's ``GET /his/v1/info``."""
    who = TARGET_NAMES[target]
    session = requests.Session()
    session.trust_env = False  # 127.0.0.1 is never behind the environment's proxy
    asked: list[str] = []
    try:
        if target == "insurer":
            answer = _ask(session, "GET", url + "/health")
            if answer.status_code == 200:
                return
            asked.append(f"GET /health: HTTP {answer.status_code}")
            answer = _ask(session, "POST", url + DEFAULT_PATH, data=b"{}",
                          headers={"Content-Type": "application/json"})
            with contextlib.suppress(ValueError):
                if isinstance(answer.json(), dict) and "infcode" in answer.json():
                    return
            asked.append(f"POST {DEFAULT_PATH}: HTTP {answer.status_code}")
            give = "the insurer's base URL, http://HOST:PORT"
        else:
            answer = _ask(session, "GET", url + BASE_PATH + "/info")
            with contextlib.suppress(ValueError):
                if answer.status_code == 200 and "ok" in answer.json():
                    return
            asked.append(f"GET {BASE_PATH}/info: HTTP {answer.status_code}")
            give = ("the driver API's base URL, http://HOST:PORT (what `cardsettle his serve` "
                    f"prints, with or without {BASE_PATH}/)")
    except requests.RequestException as exc:
        failed = click.ClickException(
            f"{who} does not answer at {url} ({_why_not_connected(exc)}); nothing was run")
        failed.exit_code = 3
        raise failed from None
    finally:
        session.close()
    failed = click.ClickException(
        f"{url} answers, but not as {who} ({'; '.join(asked)}): give {give}; nothing was run")
    failed.exit_code = 3
    raise failed


def clear_report(report: Path) -> None:
    """Remove what an earlier run wrote into *report* (the summary, plots, latency file,
    locust's files, samples and totals), so that a run that fails or is interrupted never
    leaves the previous run's verdict beside its own files."""
    stale = [*(report / name for name in REPORT_FILES), *report.glob(f"{PREFIX}_*.csv"),
             *(report / "samples").glob("*"), *(report / "totals").glob("*")]
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@dataclass
class LocustRun:
    """What to run: the locustfile against *host*, for *duration* seconds (wall clock)."""

    locustfile: Path
    host: str
    report: Path
    duration: int
    users: int
    workers: int = 0
    shape: str = "constant"
    pacing: float = 3.0
    peak_rate: float | None = None
    env: dict[str, str] = field(default_factory=dict)
    bind: str = "127.0.0.1"

    def environment(self) -> dict[str, str]:
        root = str(Path(loadtests.__file__).resolve().parents[1])
        path = os.environ.get("PYTHONPATH", "")
        env = {**os.environ, **self.env, "PYTHONPATH": root + (os.pathsep + path if path else ""),
               SAMPLES_ENV: str(self.report / "samples"),
               TOTALS_ENV: str(self.report / "totals"),
               "CARDSETTLE_LOAD_SHAPE": self.shape,
               "CARDSETTLE_LOAD_DURATION": str(self.duration),
               "CARDSETTLE_LOAD_PACING": str(self.pacing)}
        if self.peak_rate is not None:
            env["CARDSETTLE_LOAD_PEAK_RATE"] = str(self.peak_rate)
        return env

    def commands(self, master_port: int) -> list[list[str]]:
        """The master's (or the standalone's) command first, then the workers'."""
        locust = [sys.executable, "-m", "locust", "-f", str(self.locustfile)]
        main = [*locust, "--headless", "--host", self.host, "-u", str(self.users),
                "-r", str(self.users), "--run-time", f"{self.duration}s",
                "--stop-timeout", str(STOP_TIMEOUT_S),
                "--csv", str(self.report / PREFIX), "--html", str(self.report / f"{PREFIX}.html"),
                "--only-summary", "--loglevel", "WARNING", "--load-shape", self.shape,
                "--load-duration", str(self.duration), "--pacing", str(self.pacing)]
        if self.peak_rate is not None:
            main += ["--peak-rate", str(self.peak_rate)]
        if not self.workers:
            return [main]
        main += ["--master", "--master-bind-host", self.bind, "--master-bind-port",
                 str(master_port), "--expect-workers", str(self.workers),
                 "--expect-workers-max-wait", "30"]
        worker = [*locust, "--worker", "--master-host", self.bind, "--master-port",
                  str(master_port), "--loglevel", "WARNING"]
        return [main] + [list(worker) for _ in range(self.workers)]


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """While locust runs, SIGTERM to this process (a CI job's timeout, ``kill``) exits through
    Python's unwinding, as Ctrl+C does, so that the locust processes are stopped too instead
    of running on without their parent. Only the main thread can take a signal handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_locust(run: LocustRun) -> Path:
    """Run locust headless in subprocesses and wait (at most ``duration`` + 60 s; then every
    process started here is killed). Returns the stats CSV; raises :class:`LoadTestError`
    when locust produced none. Logs go to ``REPORT/logs/``."""
    logs = run.report / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (run.report / "samples").mkdir(exist_ok=True)
    (run.report / "totals").mkdir(exist_ok=True)
    for stale in [*run.report.glob(f"{PREFIX}_*.csv"), *(run.report / "samples").glob("*"),
                  *(run.report / "totals").glob("*")]:
        stale.unlink()
    env = run.environment()
    commands = run.commands(_free_port())
    names = ["master" if run.workers else "locust"] + [f"worker-{i}"
                                                       for i in range(1, run.workers + 1)]
    processes: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as stack:
        stack.enter_context(_sigterm_as_exit())  # killed: the finally below stops locust too
        for name, command in zip(names, commands, strict=True):
            log = stack.enter_context((logs / f"{name}.log").open("wb"))
            processes.append(subprocess.Popen(command, env=env, stdout=log,
                                              stderr=subprocess.STDOUT,
                                              start_new_session=True))
        try:
            processes[0].wait(timeout=run.duration + GRACE_S)
            for worker in processes[1:]:
                worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        finally:
            for process in processes:
                if process.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
    stats = run.report / f"{PREFIX}_stats.csv"
    if not stats.exists():
        tail = (logs / f"{names[0]}.log").read_text(encoding="utf-8", errors="replace")
        raise LoadTestError(f"locust produced no statistics (see {logs}): "
                            f"{tail.strip().splitlines()[-1] if tail.strip() else 'no output'}")
    return stats


def summarize(report: Path, target: str, sla_file: Path | None,
              run: dict[str, Any] | None = None,
              day_end: list[dict[str, Any]] | None = None,
              error: str | None = None) -> tuple[dict[str, Any], list[SlaLine]]:
    """Evaluate the SLA on the report's stats CSV (and the day-end reconciliation, when one
    ran) and write the summary (with the run's *error*, when it failed); (summary, lines)."""
    sla = load_sla(sla_file or DEFAULT_SLA[target])
    lines = evaluate(read_stats(report / f"{PREFIX}_stats.csv"), sla)
    summary = write_report(report, lines, prefix=PREFIX, latency_name=LATENCY_NAME[target],
                           run=run, day_end=day_end, error=error)
    return summary, lines


@contextlib.contextmanager
def _embedded(target: str, data_dir: Path, seed: int, persons: int) -> Iterator[str]:
    """Start the embedded insurer (and the reference HIS) on 127.0.0.1; yield the URL the
    locustfile targets."""
    files = default_files(data_dir, seed, persons)
    servers: list[RunningServer] = []
    closers: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="cardsettle-load-") as scratch:
        try:
            insurer = Insurer.open(InsurerConfig(
                db_url=f"sqlite:///{Path(scratch) / 'insurer.db'}",
                population=files["population"], catalogue=files["catalogue"],
                institutions=files["institutions"], wall=china_now, fresh=True))
            closers.append(insurer.close)
            servers.append(start_in_thread(insurer))
            url = servers[0].url
            if target == "his":
                config = build_config(insurer_url=url, institution=None,
                                      catalogue=files["catalogue"],
                                      institutions=files["institutions"],
                                      db=str(Path(scratch) / "his.db"),
                                      data_dir=Path(scratch), timeout=10.0, auth="none")
                his = ReferenceHis(config)
                closers.append(his.close)
                servers.append(start_in_thread(driver_app(his)))
                url = servers[1].url
            yield url
        finally:
            for server in reversed(servers):
                with contextlib.suppress(Exception):
                    server.stop()
            for close in reversed(closers):
                with contextlib.suppress(Exception):
                    close()


def _echo_table(lines: Sequence[SlaLine]) -> None:
    click.echo(f"  {'SLA 服务水平':<24}{'measured 实测':>16}{'limit 限值':>14}{'requests':>10}  "
               "verdict")
    for line in lines:
        if line.metric == "error_rate":
            value = "—" if line.value is None else f"{line.value * 100:.2f}%"
            limit = f"{line.limit * 100:.2f}%"
            label = "error rate 失败率"
        else:
            value = "no requests" if line.value is None else f"{line.value:.0f} ms"
            limit = f"{line.limit:.0f} ms"
            label = f"p95 {line.name}"
        verdict = "PASS 通过" if line.passed else "FAIL 未通过"
        click.echo(f"  {label:<28}{value:>14}{limit:>12}{line.requests:>10}  {verdict}")


@click.command(cls=BadInputCommand)
@click.option("--target", type=click.Choice(["insurer", "his"]), required=True,
              help="insurer: windows speak the national interface to the insurer; his: "
                   "through the HIS's driver API.")
@click.option("--url", help="The insurer (http://HOST:PORT) or the HIS's driver API. Default: "
                            "start the embedded insurer (and reference HIS) on 127.0.0.1.")
@click.option("--shape", type=click.Choice(SHAPES), default="constant", show_default=True,
              help="constant (--users held), day (the outpatient day compressed, arrival-rate "
                   "based), step, soak.")
@click.option("--duration", default="60s", show_default=True,
              help="How long the load runs: 90s, 15m, 1h.")
@click.option("--users", default=10, show_default=True, type=click.IntRange(1),
              help="Windows (locust users): held (constant, soak), reached (step), or the "
                   "peak hour's (day, unless --peak-rate).")
@click.option("--workers", default=0, show_default=True, type=click.IntRange(0, 64),
              help="Local locust worker processes under one master (0: one process).")
@click.option("--pacing", default=3.0, show_default=True, type=click.FloatRange(0.05, 3600),
              help="Seconds between the visit starts of one window.")
@click.option("--peak-rate", type=click.FloatRange(0.001), default=None,
              help="day: visits per second of the peak hour (windows follow from it).")
@click.option("--sla", "sla_file", type=click.Path(dir_okay=False, path_type=Path),
              help="SLA YAML (default: loadtests/sla_insurer.yaml or sla_his.yaml).")
@click.option("--report", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for locust's HTML/CSV and the summary.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".cardsettle"), show_default=True,
              help="The insurer's data directory (persons, catalogue, institutions).")
@click.option("--seed", default=1, show_default=True, help="Seed of the default data.")
@click.option("--persons", default=1000, show_default=True, type=click.IntRange(1),
              help="Size of the default population (the embedded insurer's).")
@click.option("--day-end/--no-day-end", default=True, show_default=True,
              help="(insurer) End with day-end reconciliation (3201) of what the windows were "
                   "told; needs a ledger that held nothing of those institutions that day.")
@click.option("--summarize-only", is_flag=True,
              help="Run nothing: judge the locust CSV already in --report (locust_stats.csv, "
                   "e.g. of a master on another machine run with --csv REPORT/locust).")
def load(target: str, url: str | None, shape: str, duration: str, users: int, workers: int,
         pacing: float, peak_rate: float | None, sla_file: Path | None, report: Path,
         data_dir: Path, seed: int, persons: int, summarize_only: bool, day_end: bool) -> None:
    """Load-test the peak hour with locust (headless) and judge it against an SLA.

    Exit 0: SLA met; 1: SLA missed; 2: bad input; 3: the run failed.
    """
    seconds = parse_duration(duration)
    if url is not None and not is_http_url(url):
        raise BadInput(f"--url must be http(s)://HOST:PORT, got {url!r}")
    try:
        if sla_file is not None:
            load_sla(sla_file)  # bad SLA: refuse before running anything
    except LoadTestError as exc:
        raise BadInput(str(exc)) from exc
    if summarize_only:
        if not report.is_dir():
            raise BadInput(f"--report {report}: no such directory (--summarize-only judges the "
                           "locust_stats.csv of an existing report)")
        _finish(report, target, sla_file, {"target": target, "url": url or "(not given)"})
        return
    if url is not None:
        url = target_url(target, url)
        try:
            load_data(data_dir, seed)  # what every window reads: refuse now, not in locust
        except LoadTestError as exc:
            raise BadInput(f"--data-dir {exc}") from exc
    locustfile = Path(loadtests.__file__).resolve().with_name(LOCUSTFILES[target])
    env = {"CARDSETTLE_LOAD_DATA": str(data_dir.resolve()), "CARDSETTLE_LOAD_SEED": str(seed)}
    try:
        asked = offered(build_plan(shape, ShapeSettings(
            duration=seconds, users=users, pacing=pacing, peak_rate=peak_rate,
            profile=(read_profile(Path(os.environ["CARDSETTLE_LOAD_DAY_PROFILE"]))
                     if shape == "day" and "CARDSETTLE_LOAD_DAY_PROFILE" in os.environ
                     else ()))))
    except LoadTestError as exc:
        raise BadInput(str(exc)) from exc
    check_output_dir("--report", report, (*REPORT_FILES, *(f"{PREFIX}_{name}.csv" for name in (
        "stats", "failures", "stats_history", "exceptions"))))
    # the embedded insurer generates its data into --data-dir; a given one must hold it
    for option, directory in ((("--report", report),) if url else
                              (("--data-dir", data_dir), ("--report", report))):
        make_output_dir(option, directory)
    clear_report(report)  # never the previous run's verdict beside this run's files
    if url is not None:
        check_target(target, url)
    host = url or "the embedded target"
    try:
        with contextlib.ExitStack() as stack:
            host = url or stack.enter_context(_embedded(target, data_dir, seed, persons))
            click.echo(f"cardsettle load — {target} at {host}{'' if url else ' (embedded)'}, "
                       f"shape {shape}, {seconds} s, {asked['windows (most)']:.0f} windows"
                       f"{' at most' if shape in ('day', 'step') else ''} offering "
                       f"{asked['visits/s (offered)']:.2f} visits/s, "
                       f"{f'master + {workers} workers' if workers else 'one process'}")
            run = LocustRun(locustfile, host, report.resolve(), seconds, users, workers, shape,
                            pacing, peak_rate, env)
            try:
                run_locust(run)
            except LoadTestError as exc:
                failed = click.ClickException(str(exc))
                failed.exit_code = 3
                raise failed from exc
            reconciled, unanswered = (_day_end(host, report, data_dir, seed)
                                      if target == "insurer" and day_end else (None, 0))
    except KeyboardInterrupt:
        click.echo(f"interrupted (Ctrl-C): the load test of {TARGET_NAMES[target]} at {host} "
                   f"was stopped before its end and not judged; no summary was written "
                   f"(locust's partial files are in {report})", err=True)
        sys.exit(130)
    _finish(report, target, sla_file, {
        "target": target, "url": host if url else "embedded", "shape": shape,
        "duration_s": seconds, "users": users, "workers": workers, "pacing_s": pacing,
        **({"peak_rate": peak_rate} if peak_rate is not None else {}),
        **{key: round(value, 3) for key, value in asked.items()},
        **({UNANSWERED: unanswered} if unanswered else {})}, day_end=reconciled)


def _day_end(host: str, report: Path, data_dir: Path,
             seed: int) -> tuple[list[dict[str, Any]], int]:
    """Day-end reconciliation (3201) of what the windows were told, printed in one line; and
    how many 2207/2208 were sent and never answered (their outcome unknown to the windows)."""
    groups, unanswered = read_totals(report / "totals")
    if unanswered:
        click.echo(f"  {unanswered} settlement(s) or refund(s) sent and never answered "
                   f"(cut off after the {STOP_TIMEOUT_S} s stop timeout, or an error whose "
                   "effect is unknown): the insurer may hold them")
    if not groups:
        return [], unanswered
    try:
        institutions = load_institutions(data_dir / f"institutions-{seed}.jsonl")
    except (OSError, SimulatorError):
        institutions = []
    results = reconcile(host, groups, institutions, china_now)
    balanced = sum(1 for group in results if group["stmt_rslt"] == "0")
    slowest = max((group["ms"] for group in results), default=0.0)
    click.echo(f"  day-end 日终对账 3201: {balanced}/{len(results)} groups balanced "
               f"({sum(g['count'] for g in results)} settlement rows; slowest 3201 "
               f"{slowest:.0f} ms)")
    return results, unanswered


def _nothing_got_through(report: Path, run: dict[str, Any]) -> str | None:
    """No request made, or every request failed (a URL that is not the target, a target that
    went down), or no visit made because every window stopped on an error of its own (its
    sign-in's answer unusable): the run itself failed — what to say (exit 3) — rather than an
    SLA missed; None when some request got through and some visit was made."""
    rows = read_stats(report / f"{PREFIX}_stats.csv")
    total = next((row for row in rows if row.get("Name") == AGGREGATED), {})
    requests_made = int(float(total.get("Request Count") or 0))
    failed_count = int(float(total.get("Failure Count") or 0))
    if requests_made and failed_count != requests_made:
        visits = next((row for row in rows if row.get("Name") == VISIT), {})
        stopped = _first_exception(report)
        if int(float(visits.get("Request Count") or 0)) or stopped is None:
            return None
        return (f"no visit was made: the windows stopped on an error ({stopped}; see "
                f"{report / (PREFIX + '_exceptions.csv')})")
    first = ""
    failures = report / f"{PREFIX}_failures.csv"
    with (contextlib.suppress(OSError, StopIteration, csv.Error, UnicodeDecodeError),
          failures.open(encoding="utf-8", newline="") as handle):
        row = next(csv.DictReader(handle))
        first = f" (first: {row.get('Name', '')}: {' '.join(row.get('Error', '').split())[:300]})"
    url = run.get("url")
    if url in (None, "(not given)"):  # --summarize-only: only the file to go by
        what = (f"every one of the {requests_made} requests failed{first}" if requests_made
                else "no request was made")
        return f"{report / (PREFIX + '_stats.csv')}: {what}"
    logs = report / "logs"
    see = f" (see {failures})" if requests_made else (
        f" (see {logs})" if logs.is_dir() else "")
    what = (f"every one of the {requests_made} requests failed{first}" if requests_made
            else "no request was made")
    shown = "the embedded target" if url == "embedded" else url
    return (f"{what}: is {shown} {TARGET_NAMES.get(str(run.get('target')), 'the target')}, "
            f"and up?{see}")


def _first_exception(report: Path) -> str | None:
    """The first error locust recorded as an exception of a window (``locust_exceptions.csv``:
    an error outside a request, such as a sign-in whose answer could not be used), or None."""
    exceptions = report / f"{PREFIX}_exceptions.csv"
    with (contextlib.suppress(OSError, StopIteration, csv.Error, UnicodeDecodeError),
          exceptions.open(encoding="utf-8", newline="") as handle):
        row = next(csv.DictReader(handle))
        return f"{row.get('Count', '?')}×: {' '.join(row.get('Message', '').split())[:300]}"
    return None


def _finish(report: Path, target: str, sla_file: Path | None, run: dict[str, Any],
            day_end: list[dict[str, Any]] | None = None) -> None:
    """Judge, write the summary, print the one screen; exit 1 when the SLA is missed or the
    day-end reconciliation did not balance, 3 when no request got through."""
    try:
        error = _nothing_got_through(report, run)
        summary, lines = summarize(report, target, sla_file, run=run, day_end=day_end,
                                   error=error)
    except LoadTestError as exc:
        raise BadInput(str(exc)) from exc
    _echo_table(lines)
    if error is not None:
        failed = click.ClickException(f"{error} — report {report / 'summary.html'}")
        failed.exit_code = 3
        raise failed
    achieved = summary["run"].get("visits/s (achieved)")
    if achieved is not None and "visits/s (offered)" in run:
        click.echo(f"  visits/s 就诊/秒: {achieved:.2f} achieved 实际, "
                   f"{run['visits/s (offered)']:.2f} offered 计划")
    unanswered = int(run.get(UNANSWERED) or 0)
    hint = (f" — {unanswered} settlement(s) or refund(s) were sent and never answered, so the "
            "windows cannot know whether the insurer holds them: a difference of that many "
            "rows is no proof of a loss" if unanswered else
            "" if run.get("url") in ("embedded", "(not given)", None) else
            " — if this insurer already held settlements of these institutions today (a "
            "second run against it?), use --no-day-end, or restart it with a fresh ledger "
            "(cardsettle insurer serve --fresh)")
    why = [reason for reason, failed in (
        ("the SLA was missed", not all(line.passed for line in lines)),
        ("day-end did not balance: the insurer's ledger differs from what the windows were "
         f"told (summary.json, day_end){hint}", not summary["day_end"]["passed"])) if failed]
    latency = report / LATENCY_FILE
    click.echo(f"{'PASS 通过' if summary['passed'] else 'FAIL 未通过 — ' + '; '.join(why)} — "
               f"report {report / 'summary.html'} (locust: {report / (PREFIX + '.html')}"
               f"{f'; window model: {latency}' if latency.exists() else ''})")
    if not summary["passed"]:
        sys.exit(1)
