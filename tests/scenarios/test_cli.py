"""``cardsettle scenario``: run (exit 0 pass, 1 failed expectation, 2 a file that cannot run),
check, list, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardsettle.cli import main


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
