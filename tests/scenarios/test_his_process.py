"""A HIS given as a command: its placeholders, and a command that dies says why."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scenarios.errors import HarnessError
from scenarios.his_process import command_args, start_his_command


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
