"""A HIS given as a command: its placeholders, a command that dies says why, and a scenario
runs against a HIS it started."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from scenarios import his_process
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


class _Interrupted:
    """The info check of a HIS that is still starting, interrupted (Ctrl-C, or another
    exception) once the HIS's process group runs."""

    raising: type[BaseException] = KeyboardInterrupt
    pidfile = Path()

    def __init__(self, _url: str, *, timeout: float) -> None:
        pass

    def info(self) -> None:
        deadline = time.monotonic() + 20
        while not self.pidfile.exists() or not self.pidfile.read_text().strip():
            assert time.monotonic() < deadline, "the HIS never started"
            time.sleep(0.05)
        raise self.raising()

    def close(self) -> None:
        pass


def _group_gone(pgid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("raising", [KeyboardInterrupt, RuntimeError])
def test_an_interrupt_while_the_his_starts_stops_its_process_group(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raising: type[BaseException]) -> None:
    """Ctrl-C (or anything else) while waiting for the HIS to come up: it is raised as it was,
    and nothing the command started — the HIS and what it started — is left running."""
    pidfile = tmp_path / "pid"
    monkeypatch.setattr(_Interrupted, "raising", raising)
    monkeypatch.setattr(_Interrupted, "pidfile", pidfile)
    monkeypatch.setattr(his_process, "HttpHisDriver", _Interrupted)
    command = f"sh -c 'sleep 60 & echo $$ > {pidfile}; wait' {{port}}"
    with pytest.raises(raising):
        start_his_command(command, {}, tmp_path)
    pgid = int(pidfile.read_text())
    try:
        assert _group_gone(pgid), "the HIS's process group is still running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


def test_a_his_that_answers_something_else_is_told_what_it_answered(tmp_path: Path) -> None:
    """Something listens on {port} but is not the driver API (here a file server answering
    404 pages): after the wait the harness says what it answered, not that nothing did, and
    stops it."""
    (tmp_path / "index.html").write_text("<html>welcome</html>")
    command = f"{sys.executable} -m http.server --bind 127.0.0.1 {{port}}"
    started = time.monotonic()
    with pytest.raises(HarnessError) as caught:
        start_his_command(command, {}, tmp_path, startup_seconds=1.5)
    assert time.monotonic() - started < 15
    text = str(caught.value)
    assert "nothing answered" not in text, text
    assert "got no valid info answer within 1.5 s" in text
    assert "the last answer: GET http://127.0.0.1:" in text and "HTTP 404" in text, text
    assert "<!DOCTYPE HTML" in text or "<html" in text.lower(), text  # its first bytes


def test_a_his_whose_info_answer_is_wrong_is_told_which_field(tmp_path: Path) -> None:
    """An info answer with ``ok`` as text: the harness names the field and what came."""
    (tmp_path / "his" / "v1").mkdir(parents=True)
    (tmp_path / "his" / "v1" / "info").write_text('{"ok": "yes", "name": "Acme HIS"}')
    command = f"{sys.executable} -m http.server --bind 127.0.0.1 {{port}}"
    with pytest.raises(HarnessError) as caught:
        start_his_command(command, {}, tmp_path, startup_seconds=1.5)
    text = str(caught.value)
    assert "the answer does not follow the driver API (ok must be true or false, got string " \
           "'yes'" in text, text
