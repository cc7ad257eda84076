"""Tables written to a file or a pipe are not squeezed into 80 columns (trainer audit L4: a
drill's debrief piped through ``tee`` had its cells wrapped)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.table import Table

from cardsettle.cli.terminal import PIPED_WIDTH, new_console, tolerate_narrow_encodings


def test_piped_output_is_wide_unless_columns_says_otherwise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    piped = new_console()  # pytest captures standard output: not a terminal
    assert not piped.is_terminal and piped.width == PIPED_WIDTH == 160
    monkeypatch.setenv("COLUMNS", "100")
    assert new_console().width == 100
    assert new_console(stderr=True).stderr


def test_a_wide_table_keeps_each_row_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    table = Table("阶段 phase", "说明 what the cashiers do", "患者 patients", "拒绝 refused")
    table.add_row("2 医保中心中断 insurer down", "按应急流程收现金，登记待补结算 take cash, note "
                  "for later settlement", "12", "0")
    out = io.StringIO()
    console = new_console()
    console.file = out
    console.print(table)
    rows = [line for line in out.getvalue().splitlines() if "insurer down" in line]
    assert len(rows) == 1 and "take cash, note for later settlement" in rows[0]


@pytest.mark.parametrize("encoding", ["gbk", "ascii"])
def test_output_in_a_narrow_encoding_never_stops_the_command(tmp_path: Path,
                                                             encoding: str) -> None:
    """Locale audit: redirected on a Chinese Windows console (GBK, no ✓) or an ASCII one, the
    summary's first mark raised UnicodeEncodeError — a traceback, and the command's results
    never written. What the stream cannot say becomes "?"; the files are written whole."""
    env = {**os.environ, "PYTHONIOENCODING": encoding, "PYTHONUTF8": "0", "LC_ALL": "C"}
    done = subprocess.run([sys.executable, "-m", "cardsettle.cli", "generate", "sample",
                           "-n", "200", "-o", str(tmp_path / "out")],
                          capture_output=True, env=env, timeout=300)
    said = (done.stdout + done.stderr).decode(encoding, errors="strict")
    assert done.returncode == 0 and "Traceback" not in said, said
    if encoding == "ascii":
        assert "?" in said  # the Chinese words it could not say
    assert sorted(p.name for p in (tmp_path / "out").iterdir())[:1]  # written


def test_narrow_encodings_are_tolerated_on_the_standard_streams(
        monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stream)
    tolerate_narrow_encodings()
    print("结算 ✓", file=stream)
    stream.flush()
    assert stream.buffer.getvalue() == b"?? ?\n"  # type: ignore[attr-defined]
