"""Atomic output: a file appears only when complete; on any error nothing is left behind and an
existing file is kept as it was."""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

import pytest

from simulator import appending as appending_module
from simulator import population as population_module
from simulator.errors import OutputError
from simulator.output import NotRegularFileError, atomic_output, atomic_write
from simulator.persons import Layout, PopulationSpec
from simulator.population import write_population


def test_success_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "x.jsonl"
    target.write_bytes(b"old\n")
    with atomic_output(target) as out:
        out.write(b"new\n")
        assert target.read_bytes() == b"old\n"  # not visible before the end
    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.jsonl"]


def test_an_error_leaves_nothing_and_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "x.jsonl"
    target.write_bytes(b"old\n")
    with pytest.raises(RuntimeError), atomic_output(target) as out:
        out.write(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.jsonl"]


def test_unwritable_targets(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a directory"), atomic_output(tmp_path / "file" / "x.jsonl"):
        pass
    with pytest.raises(OutputError, match="is a directory"), atomic_output(tmp_path):
        pass
    with atomic_output(tmp_path / "new" / "dir" / "x.jsonl") as out:  # parents are created
        out.write(b"ok\n")
    assert (tmp_path / "new" / "dir" / "x.jsonl").read_bytes() == b"ok\n"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failure_mid_population_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    real = population_module.render_chunk

    def failing(spec: PopulationSpec, layout: Layout, chunk: int) -> bytes:
        if chunk > 0:
            raise RuntimeError("disk on fire")
        return real(spec, layout, chunk)

    monkeypatch.setattr(population_module, "render_chunk", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_population(tmp_path / "p.jsonl", 10_000, 1, workers=workers)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_a_full_disk_mid_population_is_one_clear_error_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Chunks are appended by background threads (in the worker processes when there are
    several): a failed write still reaches the caller as the OutputError the CLI prints."""
    real = appending_module.write_pieces
    calls = {"n": 0}

    def full_disk(fd: int, pieces: list[memoryview]) -> None:
        calls["n"] += 1
        if calls["n"] > 1:  # per process: each worker fails on its second chunk
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, pieces)

    monkeypatch.setattr(appending_module, "write_pieces", full_disk)
    with pytest.raises(OutputError, match="No space left on device"):
        write_population(tmp_path / "p.jsonl", 60_000, 1, workers=workers)
    assert list(tmp_path.iterdir()) == []


def test_a_named_pipe_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    """Renaming a finished file over a device or a named pipe would put a plain file in its
    place: the target is refused before anything is written, and stays a pipe."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(NotRegularFileError, match=f"^{re.escape(str(pipe))}: not a regular file$"), \
            atomic_output(pipe) as out:
        out.write(b"never")
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_pipe_made_while_writing_is_not_replaced_either(tmp_path: Path) -> None:
    target = tmp_path / "x.jsonl"
    with pytest.raises(NotRegularFileError), atomic_output(target) as out:
        out.write(b"half")
        os.mkfifo(target)
    assert stat.S_ISFIFO(target.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["x.jsonl"]


def test_atomic_write_writes_text_as_utf8_and_refuses_a_pipe(tmp_path: Path) -> None:
    """The one-shot writer every report uses: text lands whole as UTF-8; a named pipe is
    refused at once (opening it for writing would wait forever for a reader)."""
    written = atomic_write(tmp_path / "sub" / "page.html", "门诊 outpatient")
    assert written.read_bytes() == "门诊 outpatient".encode()
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    with pytest.raises(NotRegularFileError):
        atomic_write(pipe, b"never")
    assert stat.S_ISFIFO(pipe.stat().st_mode)
