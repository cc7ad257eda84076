"""Tables written to a file or a pipe are not squeezed into 80 columns (trainer audit L4: a
drill's debrief piped through ``tee`` had its cells wrapped)."""

from __future__ import annotations

import io

import pytest
from rich.table import Table

from cardsettle.cli.terminal import PIPED_WIDTH, new_console


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
