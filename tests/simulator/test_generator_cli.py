"""The ``cardsettle generate`` and ``cardsettle demo`` commands as a user runs them: each works,
``--help`` works, and bad input gives one line, a non-zero exit and no file."""

from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from cardsettle.cli import main
from tests.one_line import one_error_line


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def _lines(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


@pytest.mark.parametrize(
    "command",
    [["generate"], ["generate", "population"], ["generate", "institutions"], ["generate", "catalogue"], ["generate", "sample"]],
)
def test_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_population_command(tmp_path: Path) -> None:
    out = tmp_path / "persons.jsonl"
    result = run("generate", "population", "--count", 1500, "--seed", 3, "--out", out,
                 "--edge-rate", "twin=0.2", "--edge-rate", "name_long=0.1", "--workers", 2)
    assert result.exit_code == 0, result.output
    assert "wrote 1,500 persons" in result.output
    persons = _lines(out)
    assert len(persons) == 1500
    labels = [label for p in persons for label in p["edge_cases"]]  # type: ignore[attr-defined]
    assert 0.15 < labels.count("twin") / 1500 < 0.25 and labels.count("name_long") > 100


def test_edge_rates_file_and_quiet_csv(tmp_path: Path) -> None:
    rates = tmp_path / "rates.yaml"
    rates.write_text("typed_spaces: 1.0\nfullwidth_digits: 0\n", encoding="utf-8")
    out = tmp_path / "persons.csv"
    result = run("generate", "population", "-n", 50, "-o", out, "--edge-rates-file", rates,
                 "--format", "csv", "--quiet", "--ref-date", "2025-07-01", "--admdvs", "310000")
    assert result.exit_code == 0, result.output
    assert result.output == ""
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert len(rows) == 50
    assert all("typed_spaces" in orjson.loads(r["edge_cases"]) for r in rows)
    assert sum(r["insuplc_admdvs"] == "310000" for r in rows) > 40


def test_institutions_and_catalogue_commands(tmp_path: Path) -> None:
    inst = tmp_path / "institutions.jsonl"
    result = run("generate", "institutions", "--count", 5, "--seed", 2, "--out", inst)
    assert result.exit_code == 0, result.output
    assert len(_lines(inst)) == 5
    cat = tmp_path / "catalogue.jsonl"
    result = run("generate", "catalogue", "--seed", 2, "--out", cat, "--institutions", inst,
                 "--unmapped-rate", 0.1, "--wrong-rate", 0.1)
    assert result.exit_code == 0, result.output
    assert "diagnoses" in result.output
    records = _lines(cat)
    codes = {r["fixmedins_code"] for r in records if r["kind"] == "mapping"}
    assert codes == {r["fixmedins_code"] for r in _lines(inst)}


def test_demo(tmp_path: Path) -> None:
    result = run("generate", "sample", "--out", tmp_path / "demo")
    assert result.exit_code == 0, result.output
    for title in ("Main scheme", "Identity edge cases", "Institutions by tier", "Catalogue", "balc"):
        assert title in result.output
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == [
        "catalogue.jsonl", "institutions.jsonl", "persons.jsonl",
    ]
    assert len(_lines(tmp_path / "demo" / "persons.jsonl")) == 2000


BAD_INPUT = [
    (["generate", "population", "--count", "-5"], "positive"),
    (["generate", "population", "--count", "0"], "positive"),
    (["generate", "population", "--count", "many"], "not a valid integer"),
    (["generate", "population", "--admdvs", "999999"], "unknown division code 999999"),
    (["generate", "population", "--edge-rate", "twin=1.5"], "0..1"),
    (["generate", "population", "--edge-rate", "twin=-0.5"], "0..1"),
    (["generate", "population", "--edge-rate", "triplets=0.1"], "unknown edge-case label"),
    (["generate", "population", "--edge-rate", "twin"], "LABEL=RATE"),
    (["generate", "population", "--ref-date", "2026-02-30"], "YYYY-MM-DD"),
    (["generate", "population", "--workers", "0"], "workers"),
    (["generate", "population", "--format", "xml"], "xml"),
    (["generate", "institutions", "--count", "0"], "positive"),
    (["generate", "institutions", "--admdvs", "999999"], "999999"),
    (["generate", "catalogue", "--unmapped-rate", "1.2"], "0..1"),
    (["generate", "catalogue", "--wrong-rate", "-1"], "0..1"),
    (["generate", "catalogue", "--unmapped-rate", "0.7", "--wrong-rate", "0.7"], "at most 1"),
    (["generate", "persons"], "No such command"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=[" ".join(a[1:]) for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_and_leaves_no_file(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out.jsonl"
    result = run(*args, "--out", out)
    assert result.exit_code != 0
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert message in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_unwritable_paths_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("x")
    for args in (
        ["generate", "population", "-n", "10", "--out", tmp_path / "a_file" / "p.jsonl"],
        ["generate", "population", "-n", "10", "--out", tmp_path],
        ["generate", "institutions", "--out", tmp_path / "a_file" / "i.jsonl"],
        ["generate", "catalogue", "--out", tmp_path / "c.jsonl", "--institutions", tmp_path / "none.jsonl"],
        ["generate", "population", "-n", "10", "--out", tmp_path / "p.jsonl", "--edge-rates-file", tmp_path / "none.yaml"],
        ["generate", "population", "-n", "10"],  # no --out
        ["generate", "sample", "--out", tmp_path / "a_file"],
    ):
        result = run(*args)
        lines = result.output.strip().splitlines()
        assert result.exit_code != 0 and len(lines) == 1 and lines[0].startswith("Error: "), (args, result.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    """The real console script, in a subprocess: one line on stderr, exit 1."""
    result = subprocess.run(
        [sys.executable, "-m", "cardsettle", "generate", "population", "--admdvs", "999999", "--out", str(tmp_path / "p.jsonl")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == ["Error: --admdvs: unknown division code 999999 (see simulator/data/divisions.txt)"]


@pytest.mark.parametrize("args", [
    ["demo", "-o"], ["generate", "sample", "-o"], ["generate", "population", "-n", "5", "-o"],
    ["generate", "institutions", "-o"], ["generate", "catalogue", "-o"],
])
@pytest.mark.parametrize("seed", ["99999999999999999999999", "-1"])
def test_a_seed_outside_0_to_2_63_is_one_line_naming_seed(
    tmp_path: Path, args: list[str], seed: str
) -> None:
    result = run(*args, tmp_path / "out", "--seed", seed)
    lines = result.output.strip().splitlines()
    assert result.exit_code != 0 and len(lines) == 1, result.output
    assert "'--seed'" in lines[0] and "0<=x<=9223372036854775807" in lines[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("content", "says"), [
    (bytes(range(128, 256)), "not a UTF-8 text file"),
    ("twin: 0.1  # café\n".encode("latin-1"), "not a UTF-8 text file"),
    (b"twin: [0.1\nfoo: 1\n", "not valid YAML at line 2, column 4: expected ',' or ']'"),
    (b"twin: 0.1\n\x00\n", "not valid YAML"),
])
def test_an_unreadable_edge_rates_file_is_one_line_naming_it(
    tmp_path: Path, content: bytes, says: str
) -> None:
    rates = tmp_path / "rates.yaml"
    rates.write_bytes(content)
    result = run("generate", "population", "-n", 5, "--edge-rates-file", rates,
                 "-o", tmp_path / "p.jsonl")
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0] == f"Error: edge rates file {rates}: {says}" or (
        lines[0].startswith(f"Error: edge rates file {rates}: ") and says in lines[0]), lines[0]
    assert [p.name for p in tmp_path.iterdir()] == ["rates.yaml"]


def test_sample_checks_every_target_first_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "s" / "catalogue.jsonl").mkdir(parents=True)
    result = run("generate", "sample", "-o", tmp_path / "s", "-n", 5)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    target = tmp_path / "s" / "catalogue.jsonl"
    assert lines[0] == f"Error: cannot write {target}: it is a directory"
    assert [p.name for p in (tmp_path / "s").iterdir()] == ["catalogue.jsonl"]


def test_sample_failing_on_its_last_file_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulator.errors import OutputError

    def broken(path: Path, *args: object, **kwargs: object) -> None:
        path.write_text("half")
        raise OutputError(f"cannot write {path}: disk full")

    monkeypatch.setattr("cardsettle.cli.sample.write_catalogue", broken)
    (tmp_path / "kept").mkdir()
    for out in (tmp_path / "kept", tmp_path / "new" / "deeper"):
        result = run("generate", "sample", "-o", out, "-n", 5)
        lines = result.output.strip().splitlines()
        assert result.exit_code == 1 and len(lines) == 1, result.output
        assert lines[0] == f"Error: cannot write {out / 'catalogue.jsonl'}: disk full"
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]
    assert list((tmp_path / "kept").iterdir()) == []


@pytest.mark.parametrize("command", [["population", "-n", "5"], ["institutions"], ["catalogue"]])
def test_a_named_pipe_as_out_is_refused_and_left_a_pipe(tmp_path: Path, command: list[str]) -> None:
    """``-o fifo`` (or a device such as /dev/full) would have been replaced by a plain file,
    with success reported: one line naming the option, exit 1 (as every bad argument of
    generate), the pipe untouched."""
    pipe = tmp_path / "fifo"
    os.mkfifo(pipe)
    result = run("generate", *command, "-o", pipe)
    assert result.exit_code == 1
    assert one_error_line(result) == f"Error: --out {pipe}: not a regular file"
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["fifo"]


def test_out_dash_is_refused_not_written_as_a_file_named_dash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("generate", "population", "-n", "5", "-o", "-")
    assert result.exit_code == 1
    assert one_error_line(result).startswith("Error: --out -: not a regular file (nothing is "
                                             "written to standard output")
    assert list(tmp_path.iterdir()) == []


def test_sample_refuses_a_pipe_among_its_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "catalogue.jsonl")
    result = run("generate", "sample", "-o", tmp_path, "-n", 5)
    assert result.exit_code == 1
    assert one_error_line(result) == (f"Error: --out {tmp_path}: {tmp_path / 'catalogue.jsonl'} "
                                      "is not a regular file")
    assert [p.name for p in tmp_path.iterdir()] == ["catalogue.jsonl"]
    assert stat.S_ISFIFO((tmp_path / "catalogue.jsonl").stat().st_mode)
