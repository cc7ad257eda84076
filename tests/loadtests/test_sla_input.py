"""A bad ``--sla`` file is refused in one line naming it (and, for broken YAML, the line and
column), exit 2, before anything runs or is written: never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cardsettle.cli import main
from loadtests.sla import SlaError, load_sla
from tests.one_line import one_error_line

BAD = [
    (bytes(range(128, 256)), "not a UTF-8 text file"),
    ("p95_ms: {visit: 800}  # café\n".encode("latin-1"), "not a UTF-8 text file"),
    (b"p95_ms: {visit: 800\nmax_error_rate: 0.01\n", "not valid YAML at line 2, column 15"),
    (b"p95_ms:\n\x00\n", "not valid YAML"),
]


@pytest.fixture(params=BAD, ids=["binary", "latin-1", "unclosed", "nul"])
def bad_sla(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    """A bad SLA file and what its refusal must say."""
    content, says = request.param
    path = tmp_path / "sla.yaml"
    path.write_bytes(content)
    return path, says


def test_load_sla_raises_its_own_error_in_one_line(bad_sla: tuple[Path, str]) -> None:
    path, says = bad_sla
    with pytest.raises(SlaError) as caught:
        load_sla(path)
    message = str(caught.value)
    assert len(message.splitlines()) == 1 and str(path) in message and says in message, message


def test_the_command_refuses_a_bad_sla_file_before_running(tmp_path: Path,
                                                           bad_sla: tuple[Path, str]) -> None:
    path, says = bad_sla
    result = CliRunner().invoke(main, ["load", "--target", "insurer", "--report",
                                       str(tmp_path / "rep"), "--sla", str(path)])
    line = one_error_line(result)
    assert result.exit_code == 2
    assert line.startswith(f"Error: the SLA file {path}: ") and says in line, line
    assert [p.name for p in tmp_path.iterdir()] == ["sla.yaml"]
