"""``cardsettle scenario``: run (exit 0 pass, 1 failed expectation, 2 a file that cannot run),
check, list, schema."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cardsettle.cli import main
from scenarios.his_process import free_port
from tests.one_line import one_error_line


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["scenario", "run", *(str(a) for a in args)])


def test_run_a_library_scenario_writes_result_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scenario", "run", "refunds", "--report", str(tmp_path),
                                       "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output and "ledgers_agree" in result.output
    written = json.loads((tmp_path / "result.json").read_text("utf-8"))
    assert written["passed"] and written["scenario"] == "refunds"


def test_a_broken_his_exits_1_and_says_which_expectation(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scenario", "run", "refunds", "--report", str(tmp_path),
                                       "--his-variant", "bill-ignores-account", "--no-progress"])
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output and "bills_match: evidence" in result.output


def test_an_invalid_scenario_exits_2_with_the_path_and_runs_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text('scenario: x\ntitle: t\ndate: "2026-03-02"\n'
                   "visits:\n - {id: a, at: '08:05', person: {card: stolen}}\n", "utf-8")
    result = CliRunner().invoke(main, ["scenario", "run", str(bad), "--report",
                                       str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "visits[0].person.card" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_a_selector_nothing_matches_is_reported_before_anything_runs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text('scenario: x\ntitle: t\ndate: "2026-03-02"\ndata:\n  population: {count: 20}\n'
                   "visits:\n - {id: a, at: '08:05', person: {deceased: true}}\n", "utf-8")
    result = CliRunner().invoke(main, ["scenario", "run", str(bad), "--report",
                                       str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "visits[0].person" in result.output and "no person" in result.output
    assert not (tmp_path / "out" / "insurer.db").exists()


def test_check_list_and_schema() -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["scenario", "list"])
    assert listed.exit_code == 0 and "lost-answer-2207" in listed.output
    schema = runner.invoke(main, ["scenario", "schema"])
    assert json.loads(schema.output)["title"] == "cardsettle scenario script"
    from scenarios.library import library_path

    checked = runner.invoke(main, ["scenario", "check", str(library_path("insurer-down"))])
    assert checked.exit_code == 0 and "ok" in checked.output


def test_an_unwritable_result_json_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "o" / "result.json").mkdir(parents=True)
    (tmp_path / "afile").write_text("x")
    for args, target, why in (
        (["demo", "-o", str(tmp_path / "o")], tmp_path / "o" / "result.json", "it is a directory"),
        (["demo", "-o", str(tmp_path / "afile" / "o")], tmp_path / "afile" / "o" / "result.json",
         f"{tmp_path / 'afile'} is not a directory"),
    ):
        result = CliRunner().invoke(main, args)
        assert not isinstance(result.exception, Exception) or \
            isinstance(result.exception, SystemExit)
        assert result.exit_code == 1
        assert result.output.strip().splitlines() == [f"Error: cannot write {target}: {why}"], \
            result.output
    # scenario run: a bad --report is bad input (exit 2; 1 is a failed expectation)
    result = CliRunner().invoke(main, ["scenario", "run", "refunds", "--report",
                                       str(tmp_path / "o"), "--no-progress"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: --report: cannot write {tmp_path / 'o' / 'result.json'}: it is a directory"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "o"]
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["result.json"]
    assert list((tmp_path / "o" / "result.json").iterdir()) == []


def test_an_insurer_url_that_is_not_the_insurer_says_so() -> None:
    """An --insurer-url pointing at another server (the HIS) gets a 404 there: the error says
    it is not a mock insurer's admin API, not just the status."""
    from starlette.applications import Starlette

    from mock_insurer.server import start_in_thread
    from scenarios.errors import HarnessError
    from scenarios.insurer_admin import InsurerAdmin

    with start_in_thread(Starlette()) as other:
        admin = InsurerAdmin(other.url, "token")
        with pytest.raises(HarnessError, match="not a cardsettle mock insurer's admin API"):
            admin.set_faults([])
        admin.close()


@pytest.mark.parametrize(("option", "url", "says"), [
    ("--his-url", "nope", "--his-url must be http(s)://HOST:PORT, got 'nope'"),
    ("--insurer-url", "127.0.0.1:8080", "--insurer-url must be http(s)://HOST:PORT, got "
                                        "'127.0.0.1:8080'"),
    ("--his-url", "http://127.0.0.1:{port}", "--his-url http://127.0.0.1:{port}: no HIS driver "
     "API answers there (GET http://127.0.0.1:{port}/his/v1/info: no answer: Connection refused)"),
    ("--insurer-url", "http://127.0.0.1:{port}", "--insurer-url http://127.0.0.1:{port}: no "
                                                 "answer (Connection refused)"),
])
def test_a_server_url_that_is_wrong_or_silent_is_refused_before_anything_is_written(
        tmp_path: Path, option: str, url: str, says: str) -> None:
    """As certify: the URL's shape and an answer there are checked first — one line naming
    the option, no HTTP library's wording, no half-written report folder."""
    port = free_port()
    result = run("refused-items", option, url.format(port=port), "--report", tmp_path / "r",
                 "--no-progress")
    assert result.exit_code == 2
    assert one_error_line(result) == f"Error: {says.format(port=port)}"
    assert list(tmp_path.iterdir()) == []


def test_a_his_command_that_exits_at_once_leaves_no_half_written_folder(tmp_path: Path) -> None:
    """The data, the insurer's database and its lock are gone; what was in the folder before
    stays; the HIS printed nothing, so no empty log is pointed to or kept."""
    report = tmp_path / "r"
    report.mkdir()
    (report / "mine.txt").write_text("kept")
    result = run("refused-items", "--his-command", "false {port}", "--report", report,
                 "--no-progress")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "--his-command exited with 1 before its driver API answered" in line
    assert line.endswith("it printed nothing")
    assert [p.name for p in report.iterdir()] == ["mine.txt"]


def test_a_his_command_that_says_why_it_stopped_keeps_only_its_log_and_says_so(
        tmp_path: Path) -> None:
    report = tmp_path / "new" / "r"
    result = run("refused-items", "--his-command", "sh -c 'echo no licence file; exit 3' {port}",
                 "--report", report, "--no-progress")
    assert result.exit_code == 2
    line = one_error_line(result)
    log = report / "his.log"
    assert "exited with 3" in line and f"no licence file (all of it: {log})" in line
    assert line.endswith(f"kept {log}; the rest of what this run wrote was removed")
    assert [p.name for p in report.iterdir()] == ["his.log"]
    assert log.read_text() == "no licence file\n"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_report_folder_that_cannot_be_created_names_the_option() -> None:
    for args in (["scenario", "run", "refunds", "--report", "/proc/x", "--no-progress"],
                 ["demo", "-o", "/proc/x"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2
        option = "--out" if args[0] == "demo" else "--report"
        assert one_error_line(result) == (f"Error: {option} /proc/x: cannot write there (No such "
                                          "file or directory)")


@pytest.mark.skipif(not Path("/proc/sys").is_dir(), reason="needs Linux's /proc")
def test_an_existing_folder_that_takes_no_files_is_refused_up_front() -> None:
    """Locale audit: an existing directory that refuses new files (read-only, immutable) gave
    "Error: Operation not permitted (imm/data)" and exit 1 ("an expectation failed") after the
    run had begun; now it is one line naming the option, exit 2, before anything runs."""
    result = CliRunner().invoke(main, ["scenario", "run", "refunds", "--report", "/proc/sys",
                                       "--no-progress"])
    assert result.exit_code == 2
    assert one_error_line(result).startswith("Error: --report /proc/sys: cannot write there (")


def test_a_named_pipe_where_result_json_goes_is_refused_before_anything_runs(
        tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "result.json")
    result = run("refunds", "--report", tmp_path, "--no-progress")
    assert result.exit_code == 2
    assert one_error_line(result) == (f"Error: --report {tmp_path}: {tmp_path / 'result.json'} is "
                                      "not a regular file")
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]
    assert stat.S_ISFIFO((tmp_path / "result.json").stat().st_mode)


SCENARIO = """scenario: x
title: t
date: "2026-03-02"
visits:
  - {id: a, at: "08:05", person: {}}
"""


def test_a_fault_on_a_transaction_the_insurer_does_not_serve_is_refused(tmp_path: Path) -> None:
    """``infno: "2270"`` (a typo of 2207) would never fire: refused, naming the known codes."""
    path = tmp_path / "typo.yaml"
    path.write_text(SCENARIO + 'timeline:\n  - at: "08:00"\n    faults:\n      - {id: lose, '
                    'match: {infno: ["2207", "2270"]}, effect: {kind: lose_answer, how: close}}\n',
                    "utf-8")
    result = CliRunner().invoke(main, ["scenario", "check", str(path)])
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith(f"Error: {path}: timeline[0].faults: faults[0] (id 'lose'): "
                           "match.infno[1]: unknown transaction '2270', so the fault would never "
                           "fire (the insurer serves: 9001, 9002, 1101, 2201, ")
    assert "2207, 2207A, 2208" in line


def test_a_data_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark (what Windows editors write) is skipped by the scenario's
    loader and the insurer's alike."""
    from simulator.institutions import generate_institutions

    institutions = tmp_path / "institutions.jsonl"
    institutions.write_bytes(b"\xef\xbb\xbf" + b"".join(
        json.dumps(r).encode() + b"\n" for r in generate_institutions(6, 1)))
    path = tmp_path / "bom.yaml"
    path.write_text(SCENARIO + f"data:\n  institutions: {{file: {institutions}}}\n", "utf-8")
    result = CliRunner().invoke(main, ["scenario", "check", str(path)])
    assert result.exit_code == 0, result.output
    from mock_insurer.gateway.loading import check_data_files
    check_data_files(institutions=institutions)  # the insurer reads it too
