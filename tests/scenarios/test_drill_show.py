"""A trainer starts their own drill from a library one: `drill show NAME` prints its file, and
`drill check` takes a library name as `drill run` does."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cardsettle.cli import main
from scenarios.drills.library import drill_path


def test_show_prints_the_library_file_that_check_then_accepts(tmp_path: Path) -> None:
    shown = CliRunner().invoke(main, ["drill", "show", "slow-insurer"])
    assert shown.exit_code == 0, shown.output
    library = drill_path("slow-insurer")
    assert library is not None and shown.output == library.read_text(encoding="utf-8")
    copy = tmp_path / "our-slow.yaml"
    copy.write_text(shown.output, encoding="utf-8")
    checked = CliRunner().invoke(main, ["drill", "check", str(copy)])
    assert checked.exit_code == 0, checked.output
    assert "ok — slow-insurer" in checked.output


def test_check_and_show_take_library_names_and_say_which_is_meant() -> None:
    checked = CliRunner().invoke(main, ["drill", "check", "outage-at-peak"])
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith("outage-at-peak: ok — outage-at-peak: 3 phases")
    wrong = CliRunner().invoke(main, ["drill", "show", "outage-at"])
    assert wrong.exit_code == 2
    assert "no drill named 'outage-at'" in wrong.output and "did you mean outage-at-peak?" in (
        wrong.output)
