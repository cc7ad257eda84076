"""`cardsettle load`: a short bounded run (master + 2 workers against the embedded insurer on
loopback), the SLA verdict, the window model's latency file, and bad options."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardsettle.cli import main
from cardsettle.cli.load import _finish, summarize
from loadtests.sla import SlaError, load_sla
from simulator.windows.service import load_latency_csv
from tests.scenarios.test_page import unmarked

TRANSACTIONS = ["9001 sign-in", "1101 person", "2201 register", "2203 diagnosis",
                "2204 upload", "2205 cancel details", "2206 pre-settle", "2207 settle",
                "2208 refund", "2202 cancel visit", "visit"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One bounded run: 8 s of load, 2 workers, the embedded insurer; (report dir, output)."""
    base = tmp_path_factory.mktemp("load")
    report = base / "report"
    result = CliRunner().invoke(main, [
        "load", "--target", "insurer", "--workers", "2", "--duration", "8s", "--users", "8",
        "--pacing", "0.4", "--report", str(report), "--data-dir", str(base / "data")])
    assert result.exit_code == 0, result.output
    return report, result.output


def stats(report: Path) -> dict[str, dict[str, str]]:
    with (report / "locust_stats.csv").open(encoding="utf-8", newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


@pytest.mark.slow
def test_a_bounded_run_reports_every_transaction_without_failure(
        run: tuple[Path, str]) -> None:
    report, output = run
    for name in ("locust.html", "locust_stats.csv", "locust_stats_history.csv",
                 "summary.json", "summary.html", "latency.png", "timeline.png",
                 "latency_ms.csv"):
        assert (report / name).stat().st_size > 0, name
    rows = stats(report)
    for name in TRANSACTIONS:
        assert int(rows[name]["Request Count"]) > 0, name
    assert rows["Aggregated"]["Failure Count"] == "0"  # refused cards were expected refusals
    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    assert summary["passed"] is True
    assert {line["name"] for line in summary["sla"]} >= {"2207 settle", "visit", "all requests"}
    assert "PASS" in output and "summary.html" in output and "FAIL" not in output
    assert "通过 PASS" in unmarked((report / "summary.html").read_text(encoding="utf-8"))
    # what was asked beside what was achieved: 8 windows, a visit every 0.4 s each
    assert summary["run"]["visits/s (offered)"] == 20.0
    assert "visits/s 就诊/秒:" in output and "20.00 offered" in output


@pytest.mark.slow
def test_the_day_ends_balanced_with_what_the_windows_were_told(run: tuple[Path, str]) -> None:
    """Day-end (3201) of every institution and group, from the totals the windows were told
    (across the worker processes): nothing lost or made twice under load."""
    report, output = run
    day_end = json.loads((report / "summary.json").read_text(encoding="utf-8"))["run"]["day_end"]
    assert day_end and all(group["stmt_rslt"] == "0" for group in day_end), day_end
    settled = int(stats(report)["2207 settle"]["Request Count"])
    refunded = int(stats(report)["2208 refund"]["Request Count"])
    assert sum(group["count"] for group in day_end) == settled + refunded
    assert "groups balanced" in output


@pytest.mark.slow
def test_a_day_end_that_does_not_balance_fails_the_run_with_one_verdict(
        run: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The SLA met but one group's 3201 refused: the run fails, and the screen, summary.json
    and summary.html all say so once, with the reason (never PASS then FAIL)."""
    report, _ = run
    copy = tmp_path / "report"
    shutil.copytree(report, copy)
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    groups = summary["run"]["day_end"]
    groups[0] = {**groups[0], "stmt_rslt": "1", "stmt_rslt_dscr": "对账不平 totals differ"}
    with pytest.raises(SystemExit) as stopped:
        _finish(copy, "insurer", None, {"target": "insurer"}, day_end=groups)
    assert stopped.value.code == 1
    output = capsys.readouterr().out
    assert not any(line.startswith("PASS") for line in output.splitlines()), output
    verdict = output.strip().splitlines()[-1]
    assert verdict.startswith("FAIL 未通过 — day-end did not balance"), verdict
    written = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    assert written["passed"] is False
    assert written["day_end"] == {"ran": True, "groups": len(groups),
                                  "balanced": len(groups) - 1, "passed": False}
    page = unmarked((copy / "summary.html").read_text(encoding="utf-8"))
    assert "未通过 FAIL" in page and "对账不平 totals differ" in page


@pytest.mark.slow
def test_an_impossible_sla_fails_the_run(run: tuple[Path, str], tmp_path: Path) -> None:
    report, _ = run
    copy = tmp_path / "report"
    shutil.copytree(report, copy)
    sla = tmp_path / "sla.yaml"
    sla.write_text('p95_ms: {"2207 settle": 0.001, "9999 nothing": 100}\nmax_error_rate: 0\n',
                   encoding="utf-8")
    summary, lines = summarize(copy, "insurer", sla)
    assert summary["passed"] is False
    verdicts = {line.name: line.passed for line in lines}
    assert verdicts == {"2207 settle": False, "9999 nothing": False, "all requests": True}
    assert next(line for line in lines if line.name == "9999 nothing").value is None
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    assert summary["passed"] is False
    assert "未通过 FAIL" in unmarked((copy / "summary.html").read_text(encoding="utf-8"))
    # the command line: the same judgement of the run's CSV exits 1 with the table
    result = CliRunner().invoke(main, ["load", "--target", "insurer", "--summarize-only",
                                       "--report", str(copy), "--sla", str(sla)])
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output and "p95 2207 settle" in result.output


@pytest.mark.slow
def test_the_window_model_reads_the_latency_files(run: tuple[Path, str],
                                                  tmp_path: Path) -> None:
    report, _ = run
    settled = int(stats(report)["2207 settle"]["Request Count"])
    raw = load_latency_csv(report / "latency_ms.csv")
    assert raw.spec["samples"] == settled  # every successful 2207, in ms -> minutes
    assert 0 < max(raw.values) < 1  # loopback answers take well under a minute
    assert load_latency_csv(report / "locust_stats.csv", name="2207 settle")
    # without the workers' samples (several machines) the file comes from the percentiles
    copy = tmp_path / "report"
    shutil.copytree(report, copy)
    shutil.rmtree(copy / "samples")
    summarize(copy, "insurer", None)
    assert load_latency_csv(copy / "latency_ms.csv").spec["samples"] == 1000


@pytest.mark.parametrize("args, message", [
    (["--duration", "10x"], "--duration must be"),
    (["--url", "ftp://insurer"], "--url must be http(s)://HOST:PORT"),
    (["--users", "0"], "--users"),
    (["--shape", "ramp"], "--shape"),
    (["--sla", "no-such-sla.yaml"], "cannot read the SLA file"),
    (["--duration", "99999h"], "--duration is at most 72 hours"),
    (["--data-dir", "/proc/no-such-dir"], "--data-dir /proc/no-such-dir:"),
])
def test_bad_options_stop_with_one_line_and_exit_2(args: list[str], message: str,
                                                   tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["load", "--target", "insurer", "--report",
                                       str(tmp_path / "r"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "r" / "locust_stats.csv").exists()


@pytest.mark.slow
def test_a_target_that_answers_nothing_is_a_failed_run_not_a_missed_sla(
        tmp_path: Path) -> None:
    """A closed port: the run itself fails (exit 3) at once, before locust starts, and the one
    line says who does not answer where, in plain words."""
    import socket

    from cardsettle.cli.insurer import default_files

    default_files(tmp_path / "data", 1, 50)  # the data of the insurer that is not there
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = CliRunner().invoke(main, [
        "load", "--target", "insurer", "--url", f"http://127.0.0.1:{port}", "--duration", "5s",
        "--users", "4", "--no-day-end", "--report", str(tmp_path / "r"),
        "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 3, result.output
    last = result.output.strip().splitlines()[-1]
    assert last == (f"Error: the insurer does not answer at http://127.0.0.1:{port} "
                    "(connection refused); nothing was run")
    assert not (tmp_path / "r" / "locust_stats.csv").exists()


@pytest.mark.slow
def test_a_second_run_against_the_same_insurer_registers_new_outpatient_numbers(
        tmp_path: Path) -> None:
    """The insurer's ledger continues across runs, and it refuses an outpatient number an open
    visit of the institution holds (``ipt_otp_no_in_use``; a settled visit stays open): the
    second run registers its own numbers and nothing fails."""
    from cardsettle.cli.insurer import default_files
    from mock_insurer.gateway import Insurer, InsurerConfig
    from mock_insurer.server import start_in_thread
    from mock_insurer.wire.timefmt import china_now

    data = tmp_path / "data"
    files = default_files(data, 1, 200)
    insurer = Insurer.open(InsurerConfig(
        db_url=f"sqlite:///{tmp_path / 'insurer.db'}", population=files["population"],
        catalogue=files["catalogue"], institutions=files["institutions"], wall=china_now,
        fresh=True))
    try:
        with start_in_thread(insurer) as server:
            for run in ("first", "second"):
                result = CliRunner().invoke(main, [
                    "load", "--target", "insurer", "--url", server.url, "--duration", "3s",
                    "--users", "2", "--pacing", "0.3", "--no-day-end",
                    "--report", str(tmp_path / run), "--data-dir", str(data)])
                rows = stats(tmp_path / run)
                assert int(rows["2201 register"]["Request Count"]) > 0, (run, result.output)
                assert rows["Aggregated"]["Failure Count"] == "0", (run, result.output)
        with insurer.ledger.read() as tx:
            refused = {row["rejection_code"] for row in tx.messages(limit=100_000)}
        assert "ipt_otp_no_in_use" not in refused
    finally:
        insurer.close()


def test_a_bad_sla_file_says_where(tmp_path: Path) -> None:
    sla = tmp_path / "sla.yaml"
    sla.write_text("p95_ms: {visit: -5}\n", encoding="utf-8")
    with pytest.raises(SlaError, match=r"p95_ms.visit must be a number of milliseconds > 0"):
        load_sla(sla)
    sla.write_text("p95: {}\n", encoding="utf-8")
    with pytest.raises(SlaError, match="unknown key"):
        load_sla(sla)


@pytest.mark.slow
def test_sigterm_stops_the_locust_processes_too(tmp_path: Path) -> None:
    """A load test stops by itself, and with its parent: SIGTERM to `cardsettle load` (a CI
    job's timeout) leaves no locust process running on."""
    import os
    import signal
    import subprocess
    import sys
    import time

    report = tmp_path / "report"
    command = [sys.executable, "-m", "cardsettle.cli", "load", "--target", "insurer",
               "--duration", "60s", "--users", "2", "--report", str(report),
               "--data-dir", str(tmp_path / "data")]
    parent = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def locusts() -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    line = handle.read()
            except OSError:
                continue
            if b"\x00-m\x00locust\x00" in line and str(report).encode() in line:
                found.append(int(entry))
        return found

    deadline = time.monotonic() + 60
    while not locusts() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert locusts(), "locust never started"
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=30) != 0
    deadline = time.monotonic() + 10
    while locusts() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert locusts() == []
