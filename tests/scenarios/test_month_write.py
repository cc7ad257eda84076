"""The month report's files written all together or not at all (scenarios.month.report.write_all):
the audit found month.json new and the rest old after one file could not be replaced."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from scenarios.month import report
from scenarios.month.report import write_all
from simulator.errors import OutputError
from simulator.output import NotRegularFileError

NAMES = ("month.json", "months.json", "receivables.csv", "refusals.html")


def _old(directory: Path) -> dict[str, str]:
    directory.mkdir()
    for name in NAMES:
        (directory / name).write_text(f"old {name}", "utf-8")
    return {name: f"old {name}" for name in NAMES}


def _now(directory: Path) -> dict[str, str]:
    return {path.name: path.read_text("utf-8") for path in sorted(directory.iterdir())}


def test_a_file_that_cannot_be_staged_replaces_nothing(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "r"
    old = _old(directory)
    write = report.atomic_write

    def disk_full(path: Path, content: Any) -> Path:
        if ".receivables.csv." in path.name:
            raise OutputError(f"cannot write {path}: No space left on device")
        return write(path, content)

    monkeypatch.setattr(report, "atomic_write", disk_full)
    with pytest.raises(OutputError) as caught:
        write_all(directory, {name: f"new {name}" for name in NAMES})
    assert str(caught.value) == (f"cannot write {directory / 'receivables.csv'}: No space left on "
                                 "device; left as they were: " + ", ".join(NAMES))
    assert _now(directory) == dict(sorted(old.items()))  # no temporary file left either


def test_a_device_in_the_way_is_still_bad_input(tmp_path: Path) -> None:
    directory = tmp_path / "r"
    _old(directory)
    (directory / "refusals.html").unlink()
    os.mkfifo(directory / "refusals.html")
    with pytest.raises(NotRegularFileError, match=r"refusals.html: not a regular file; left as "
                                                  r"they were: month.json, "):
        write_all(directory, {name: f"new {name}" for name in NAMES})
    assert (directory / "month.json").read_text("utf-8") == "old month.json"


def test_a_file_that_cannot_be_put_back_is_named_with_its_old_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "r"
    _old(directory)
    replace = os.replace

    def stuck(src: Any, dst: Any) -> None:
        if Path(src).name == "receivables.csv" or (
                Path(dst).name == "months.json" and Path(src).name.endswith(".old")):
            raise PermissionError(13, "Permission denied")
        replace(src, dst)

    monkeypatch.setattr(report.os, "replace", stuck)
    with pytest.raises(OutputError) as caught:
        write_all(directory, {name: f"new {name}" for name in NAMES})
    said = str(caught.value)
    assert said.startswith(f"cannot write {directory / 'receivables.csv'}: Permission denied; "
                           "left as they were: month.json, receivables.csv, refusals.html; "
                           "REPLACED, could not be put back: months.json (the old one is "
                           ".months.json.")
    now = _now(directory)
    assert now["month.json"] == "old month.json" and now["months.json"] == "new months.json"
    kept = [name for name in now if name.startswith(".months.json.") and name.endswith(".old")]
    assert len(kept) == 1 and now[kept[0]] == "old months.json" and kept[0] in said
