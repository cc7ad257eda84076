"""A HIS given as a command: its placeholders, a command that dies says why, and a scenario
runs against a HIS it started."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scenarios.errors import HarnessError
from scenarios.his_process import command_args, start_his_command
from scenarios.library import library_path
from scenarios.loading import load_scenario
from scenarios.runner import run_scenario


def test_placeholders_are_filled_and_quoted(tmp_path: Path) -> None:
    spaced = tmp_path / "my data" / "catalogue.jsonl"
    args = command_args("my-his --port {port} --catalogue {catalogue}",
                        {"port": 8123, "catalogue": spaced})
    assert args == ["my-his", "--port", "8123", "--catalogue", str(spaced)]


def test_a_command_that_exits_says_so_with_its_last_words(tmp_path: Path) -> None:
    command = f"{sys.executable} -c \"print('no licence file'); raise SystemExit(3)\" {{port}}"
    with pytest.raises(HarnessError) as caught:
        start_his_command(command, {}, tmp_path)
    text = str(caught.value)
    assert "exited with 3" in text and "no licence file" in text and "his.log" in text


def test_a_scenario_runs_against_a_his_started_from_a_command(tmp_path: Path) -> None:
    path = library_path("refunds")
    assert path is not None
    command = (f"{sys.executable} -m cardsettle.cli his serve --insurer-url {{insurer_url}} "
               "--port {port} --institution {institution} --catalogue {catalogue} "
               "--institutions {institutions} --db {db} --timeout {timeout}")
    result = run_scenario(load_scenario(path), tmp_path, his_command=command)
    assert result.passed, [c for c in result.checks if not c.passed]
    assert not result.his["embedded"] and result.his["institution"] in (
        tmp_path / "his.log").read_text("utf-8")
