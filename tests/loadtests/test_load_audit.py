"""`cardsettle load` as a user meets it when something is wrong: a broken stats file, a missing
data directory, a target that does not answer, an earlier run's report, an interrupted run, a
failed run's page, a second run against the same insurer — one line saying what and where,
the right exit status, never a traceback nor a previous run's verdict left in place."""

from __future__ import annotations

import csv
import json
import os
import socket
import stat
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cardsettle.cli import main
from cardsettle.cli.load import UNANSWERED, _finish, target_url
from loadtests.dayend import next_second
from loadtests.report import write_report
from loadtests.sla import Sla, evaluate, read_stats
from loadtests.totals import Totals, read_totals
from tests.loadtests.test_report import STATS_HEAD, _stats_row
from tests.one_line import one_error_line
from tests.scenarios.test_page import unmarked


def load(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["load", *(str(a) for a in args)])
    crashed = isinstance(result.exception, Exception) and not isinstance(result.exception,
                                                                         SystemExit)
    assert not crashed, result.exception
    lines = result.output.strip().splitlines()
    return result.exit_code, result.output, lines[-1] if lines else ""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_stats(path: Path, rows: list[list[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(STATS_HEAD)
        out.writerows(rows)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The insurer's data files (seed 1, 50 persons), as `cardsettle insurer serve` writes."""
    from cardsettle.cli.insurer import default_files

    directory = tmp_path_factory.mktemp("data")
    default_files(directory, 1, 50)
    return directory


# --- a stats file that cannot be judged -----------------------------------------------------

def test_a_stats_file_that_is_not_utf8_is_one_line_naming_it_exit_2(tmp_path: Path) -> None:
    (tmp_path / "locust_stats.csv").write_bytes(b"Type,Name,Request Count,95%\n\xff\xfe,x,1,2\n")
    code, output, _ = load("--target", "insurer", "--summarize-only", "--report", tmp_path)
    assert code == 2, output
    assert output.strip() == f"Error: {tmp_path / 'locust_stats.csv'}: not a UTF-8 text file"


def test_a_cell_that_is_not_a_number_is_named_with_its_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "locust_stats.csv").write_text(
        "Type,Name,Request Count,Failure Count,95%\nPOST,2207 settle,abc,0,xx\n",
        encoding="utf-8")
    code, output, _ = load("--target", "insurer", "--summarize-only", "--report", tmp_path)
    assert code == 2, output
    assert output.strip() == (f"Error: {tmp_path / 'locust_stats.csv'} line 2: Request Count "
                              "is not a number ('abc')")
    assert "(not given)" not in output and "logs" not in output


def test_summarize_only_on_a_missing_directory_creates_nothing(tmp_path: Path) -> None:
    code, output, line = load("--target", "insurer", "--summarize-only",
                              "--report", tmp_path / "nope")
    assert code == 2 and "--report" in line and "no such directory" in line, output
    assert list(tmp_path.iterdir()) == []


def test_a_duration_of_zero_says_more_than_0_seconds(tmp_path: Path) -> None:
    code, output, _ = load("--target", "insurer", "--duration", "0s",
                           "--report", tmp_path / "r")
    assert code == 2
    assert output.strip() == "Error: --duration must be more than 0 seconds, got '0s'"


# --- checked before locust starts -----------------------------------------------------------

def test_a_named_pipe_among_the_report_files_is_refused_and_kept(tmp_path: Path) -> None:
    """The run would remove it as an earlier run's file, then write a plain file there."""
    os.mkfifo(tmp_path / "summary.json")
    code, output, line = load("--target", "insurer", "--duration", "1s", "--data-dir",
                              tmp_path / "data", "--report", tmp_path)
    assert code == 2 and line == (f"Error: --report {tmp_path}: {tmp_path / 'summary.json'} is "
                                  "not a regular file"), output
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
    assert stat.S_ISFIFO((tmp_path / "summary.json").stat().st_mode)


def test_a_data_dir_without_the_insurers_files_is_refused_before_the_run(tmp_path: Path) -> None:
    """Not discovered by locust's workers at the end of the run: at once, exit 2."""
    result = CliRunner().invoke(main, [
        "load", "--target", "insurer", "--url", f"http://127.0.0.1:{closed_port()}",
        "--data-dir", str(tmp_path / "empty"), "--duration", "30s",
        "--report", str(tmp_path / "r")])
    line = one_error_line(result)
    assert result.exit_code == 2, result.output
    assert line.startswith(f"Error: --data-dir {tmp_path / 'empty'}: no persons-1-*.jsonl")
    assert list(tmp_path.iterdir()) == []  # neither the report nor the data dir made


@pytest.mark.parametrize(("target", "url", "says"), [
    ("insurer", "http://127.0.0.1:{port}", "the insurer does not answer at "
                                           "http://127.0.0.1:{port} (connection refused)"),
    ("his", "http://127.0.0.1:{port}/his/v1/", "the HIS does not answer at "
                                               "http://127.0.0.1:{port} (connection refused)"),
])
def test_a_target_that_does_not_answer_stops_at_once_in_plain_words(
        target: str, url: str, says: str, data_dir: Path, tmp_path: Path) -> None:
    """A closed port is found before the run (not after --duration), said without a Python
    repr; the HIS's URL may be pasted as its banner prints it (…/his/v1/)."""
    port = closed_port()
    report = tmp_path / "r"
    report.mkdir()
    for name in ("summary.html", "summary.json", "latency_ms.csv"):  # an earlier PASS
        (report / name).write_text("通过 PASS", encoding="utf-8")
    code, output, line = load("--target", target, "--url", url.format(port=port),
                              "--data-dir", data_dir, "--duration", "72h", "--report", report)
    assert code == 3, output
    assert line == f"Error: {says.format(port=port)}; nothing was run"
    assert "Error(" not in output and "MaxRetryError" not in output
    assert sorted(p.name for p in report.iterdir()) == []  # no earlier verdict left behind


def test_the_his_banner_url_is_accepted() -> None:
    assert target_url("his", "http://127.0.0.1:8090/his/v1/") == "http://127.0.0.1:8090"
    assert target_url("his", "http://127.0.0.1:8090") == "http://127.0.0.1:8090"
    assert target_url("insurer", "http://h:1/fsi/api/rsfComIfsService/callService") == "http://h:1"


def test_a_url_that_answers_but_is_not_the_target_says_what_to_give(
        data_dir: Path, tmp_path: Path) -> None:
    """The insurer's address given as the HIS's: one line naming what answered and what to
    give."""
    from mock_insurer.gateway import Insurer, InsurerConfig
    from mock_insurer.server import start_in_thread
    from mock_insurer.wire.timefmt import china_now

    insurer = Insurer.open(InsurerConfig(
        db_url=f"sqlite:///{tmp_path / 'i.db'}", population=data_dir / "persons-1-50.jsonl",
        catalogue=data_dir / "catalogue-1.jsonl", institutions=data_dir / "institutions-1.jsonl",
        wall=china_now, fresh=True))
    server = start_in_thread(insurer)
    try:
        code, output, line = load("--target", "his", "--url", server.url, "--data-dir", data_dir,
                                  "--report", tmp_path / "r")
    finally:
        server.stop()
        insurer.close()
    assert code == 3, output
    assert line == (f"Error: {server.url} answers, but not as the HIS (GET /his/v1/info: HTTP "
                    "404): give the driver API's base URL, http://HOST:PORT (what `cardsettle "
                    "his serve` prints, with or without /his/v1/); nothing was run")


# --- the page of a failed run; the day-end hint ------------------------------------------------

def test_a_failed_run_puts_its_error_on_the_page_and_no_none(tmp_path: Path) -> None:
    """Two requests that never connected: the page says why (bilingual), shows — for what was
    not measured, no Python None, and requests/s over the run's duration (not 91/s)."""
    write_stats(tmp_path / "locust_stats.csv", [
        ["POST", "9001 sign-in", 2, 2, 3, 3, 2, 4, 0, 91.06, 91.06, *[3] * 11],
        ["", "Aggregated", 2, 2, 3, 3, 2, 4, 0, 91.06, 91.06, *[3] * 11]])
    lines = evaluate(read_stats(tmp_path / "locust_stats.csv"), Sla({"visit": 3000}, 0.01))
    summary = write_report(tmp_path, lines, run={"target": "insurer", "url": "http://x:1",
                                                 "duration_s": 30},
                           error="every one of the 2 requests failed (first: 9001 sign-in: "
                                 "ConnectionRefusedError)")
    page = unmarked((tmp_path / "summary.html").read_text(encoding="utf-8"))
    assert "None" not in page
    assert "运行错误 Run error" in page and "ConnectionRefusedError" in page
    assert "实际就诊/秒 Visits/s achieved</th><td>—</td>" in page
    assert "91.06" not in page and summary["transactions"]["9001 sign-in"]["per_second"] == 0.067
    row = page[page.index("签到 9001 sign-in"):].split("</tr>")[0]
    assert row.count("<td>—</td>") == 3  # p50, p95, p99: no latency for a failed connection
    assert summary["passed"] is False and summary["error"].startswith("every one")


def sla_met_day_end_not(report: Path) -> list[dict[str, object]]:
    """A run's statistics that meet the SLA in *report*; a day-end group that did not balance."""
    write_stats(report / "locust_stats.csv", [
        _stats_row("POST", "2207 settle", 10, 5, 9, 10, 1.0),
        _stats_row("VISIT", "visit", 10, 20, 30, 40, 1.0),
        _stats_row("", "Aggregated", 20, 5, 30, 40, 2.0)])
    return [{"fixmedins_code": "H1", "insutype": "310", "stmt_rslt": "1",
             "stmt_rslt_dscr": "对账不平", "count": 3, "ms": 2.0}]


def test_a_second_run_against_the_same_insurer_is_told_how_to_get_a_clean_day_end(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unbalanced = sla_met_day_end_not(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        _finish(tmp_path, "insurer", None, {"target": "insurer", "url": "http://127.0.0.1:8080"},
                day_end=unbalanced)
    assert stopped.value.code == 1
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "day-end did not balance" in last
    assert "use --no-day-end, or restart it with a fresh ledger" in last


# --- what a visit is ------------------------------------------------------------------------

def _in_locust_process(script: str) -> None:
    """Run *script* in a fresh interpreter: importing locust patches the one it runs in."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_a_visit_cut_off_at_stop_is_not_counted_a_finished_one_is() -> None:
    """Locust stops its users by killing them (GreenletExit): such a visit never ended and is
    not a visit; a finished one and a failed one are."""
    _in_locust_process("""
        import pytest
        from types import SimpleNamespace
        from greenlet import GreenletExit
        from loadtests.sessions import VisitTimer
        fired = []
        events = SimpleNamespace(request=SimpleNamespace(fire=lambda **kw: fired.append(kw)))
        timer = VisitTimer(SimpleNamespace(events=events))
        with timer.timing():
            pass
        with pytest.raises(RuntimeError), timer.timing():
            raise RuntimeError("refused")
        with pytest.raises(GreenletExit), timer.timing():
            raise GreenletExit
        assert len(fired) == 2, fired
        assert fired[0]["exception"] is None and fired[1]["exception"] is not None
    """)


def test_the_stats_file_holds_locusts_final_numbers(tmp_path: Path) -> None:
    """Locust writes its stats CSV once a second and only closes it at the end: the file the
    SLA is judged on is rewritten at quit with the final numbers (in a separate process:
    importing locust patches the interpreter)."""
    script = f"""
        from argparse import Namespace
        from locust.env import Environment
        from loadtests.glue import final_stats
        options = Namespace(csv_prefix={str(tmp_path / 'locust')!r},
                            html_file={str(tmp_path / 'locust.html')!r})
        env = Environment(user_classes=[], parsed_options=options)
        env.create_local_runner()
        final_stats(env)
        for _ in range(3):
            env.events.request.fire(request_type="POST", name="2204 upload", response_time=7,
                                    response_length=0, exception=None, context={{}})
        env.events.quit.fire(exit_code=0)
    """
    (tmp_path / "locust_stats.csv").write_text(  # the stale file of the last 1 s write
        ",".join(STATS_HEAD) + "\n", encoding="utf-8")
    _in_locust_process(script)
    rows = {row["Name"]: row for row in read_stats(tmp_path / "locust_stats.csv")}
    assert rows["2204 upload"]["Request Count"] == "3"
    assert (tmp_path / "locust_failures.csv").exists()
    assert "2204 upload" in (tmp_path / "locust.html").read_text(encoding="utf-8")
    assert not list(tmp_path.glob("*.part"))


# --- interrupted ----------------------------------------------------------------------------

@pytest.mark.slow
def test_ctrl_c_says_what_was_interrupted_and_leaves_no_earlier_verdict(tmp_path: Path) -> None:
    import os
    import signal
    import time

    report = tmp_path / "report"
    report.mkdir()
    for name in ("summary.html", "summary.json", "latency_ms.csv"):
        (report / name).write_text("通过 PASS", encoding="utf-8")
    command = [sys.executable, "-m", "cardsettle.cli", "load", "--target", "insurer",
               "--duration", "60s", "--users", "2", "--report", str(report),
               "--data-dir", str(tmp_path / "data")]
    parent = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 90
    while not (report / "locust_stats.csv").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert (report / "locust_stats.csv").exists(), "locust never started"
    os.kill(parent.pid, signal.SIGINT)
    out, err = parent.communicate(timeout=60)
    assert parent.returncode == 130, (out, err)
    assert "Traceback" not in err and "Aborted!" not in err
    assert err.strip().startswith("interrupted (Ctrl-C): the load test of the insurer"), err
    assert not (report / "summary.html").exists() and not (report / "summary.json").exists()
    assert not (report / "latency_ms.csv").exists()
    summary = report / "summary.json"
    assert not summary.exists() or json.loads(summary.read_text())["passed"] is False


# --- settlements in flight at the stop (ops audit F1) ---------------------------------------

def test_settlements_sent_and_never_answered_are_counted_apart(tmp_path: Path) -> None:
    """A 2207 answered is counted; one refused is not; one cut off (or lost to an error whose
    effect is unknown) stays unknown, written by the process and read back beside the groups."""
    totals = Totals()
    answer = {"setl_time": "2026-03-02 09:00:00", "insutype": "310", "clr_type": "11",
              "clr_optins": "110105", "medfee_sumamt": "10.00", "fund_pay_sumamt": "7.00",
              "acct_pay": "1.00"}
    for outcome in ("answered", "refused", "cut off"):
        totals.sent()
        if outcome == "answered":
            totals.add("H1", answer)
        elif outcome == "refused":
            totals.refused()
    assert totals.unknown == 1
    (tmp_path / "totals-1.json").write_text(
        json.dumps({"groups": totals.to_json(), "unknown": totals.unknown}), "utf-8")
    (tmp_path / "totals-2.json").write_text(json.dumps({"groups": [], "unknown": 2}), "utf-8")
    groups, unknown = read_totals(tmp_path)
    assert unknown == 3
    assert [(g["count"], g["medfee_sumamt"]) for g in groups] == [(1, Decimal("10.00"))]


def test_a_day_end_off_by_unanswered_settlements_says_so_not_second_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unbalanced = sla_met_day_end_not(tmp_path)
    with pytest.raises(SystemExit):
        _finish(tmp_path, "insurer", None, {"target": "insurer", "url": "http://127.0.0.1:8080",
                                            UNANSWERED: 2}, day_end=unbalanced)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "2 settlement(s) or refund(s) were sent and never answered" in last
    assert "no proof of a loss" in last and "second run" not in last


@pytest.mark.slow
def test_windows_busy_at_the_stop_finish_their_visit_and_the_day_end_balances(
        tmp_path: Path) -> None:
    """30 windows with almost no pause between visits, so that most are mid-visit when the time
    is up: before the stop timeout, their last 2207s were committed by the insurer and never
    counted, and day-end failed on a run with no error at all."""
    sla = tmp_path / "sla.yaml"
    sla.write_text('p95_ms: {"2207 settle": 60000}\nmax_error_rate: 0.01\n', encoding="utf-8")
    result = CliRunner().invoke(main, [
        "load", "--target", "insurer", "--duration", "6s", "--users", "30", "--pacing", "0.05",
        "--sla", str(sla), "--report", str(tmp_path / "report"),
        "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "report" / "summary.json").read_text(encoding="utf-8"))
    assert summary["day_end"]["passed"] is True and summary["day_end"]["groups"] > 0
    assert UNANSWERED not in summary["run"]


def test_windows_that_all_stop_on_an_error_of_their_own_fail_the_run_not_the_sla(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every sign-in answered HTTP 200 (no failed request) but each window stopped on its
    answer, so no visit was made: the run failed (exit 3) and says on what — not "0.00 %
    errors, SLA missed" (ops audit)."""
    write_stats(tmp_path / "locust_stats.csv", [
        _stats_row("POST", "9001 sign-in", 6, 5, 9, 10, 1.0),
        _stats_row("", "Aggregated", 6, 5, 9, 10, 1.0)])
    with (tmp_path / "locust_exceptions.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([
            ["Count", "Message", "Traceback", "Nodes"],
            [6, "9001 H1: the answer is not JSON; 0 bytes received", "  File ...", "local"]])
    with pytest.raises(click.ClickException) as stopped:
        _finish(tmp_path, "insurer", None, {"target": "insurer", "url": "http://127.0.0.1:8080"})
    assert stopped.value.exit_code == 3
    assert stopped.value.message.startswith(
        "no visit was made: the windows stopped on an error (6×: 9001 H1: the answer is not "
        "JSON; 0 bytes received; see ")
    assert "SLA" not in capsys.readouterr().out.strip().splitlines()[-1]


def test_day_end_begins_in_the_second_after_the_windows_last_one() -> None:
    """A msgid is the institution, the second and the sender's own sequence: the day-end's
    first 3201 in the windows' last second carried one of their msgids and was refused as a
    repeat with other content (seen in CI). It waits for the next second; a clock that does not
    move is not waited for long."""
    start = datetime(2026, 11, 25, 7, 43, 50, 900_000)
    ticks = iter(start + timedelta(milliseconds=30 * n) for n in range(1000))
    seen: list[datetime] = []

    def clock() -> datetime:
        seen.append(next(ticks))
        return seen[-1]

    next_second(clock)
    assert seen[-1].second == 51 and all(moment.second == 50 for moment in seen[:-1])
    frozen = datetime(2026, 11, 25, 7, 43, 50)
    began = time.monotonic()
    next_second(lambda: frozen, longest=0.2)
    assert time.monotonic() - began < 1
