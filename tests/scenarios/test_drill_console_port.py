"""A trainer opens the console before the drill: `--console-port` puts the insurer a drill on
one machine starts at a known address, the same every run."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner

from cardsettle.cli import main


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_console_is_where_the_trainer_said(tmp_path: Path) -> None:
    port = free_port()
    done = CliRunner().invoke(main, ["drill", "run", "signin-invalidated", "--accelerate", "1000",
                                     "--console-port", str(port), "--report", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert f"console: http://127.0.0.1:{port}/console" in done.output


def test_a_port_in_use_or_with_a_staff_insurer_is_refused_before_anything(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = CliRunner().invoke(main, ["drill", "run", "signin-invalidated", "--console-port",
                                         str(port), "--report", str(tmp_path / "a")])
    assert busy.exit_code == 2
    assert busy.output.startswith(f"Error: --console-port {port}: cannot listen on "
                                  f"127.0.0.1:{port}")
    staff = CliRunner().invoke(main, ["drill", "run", "signin-invalidated", "--console-port",
                                      "18999", "--insurer-url", "http://127.0.0.1:18998",
                                      "--report", str(tmp_path / "b")])
    assert staff.exit_code == 2 and "--console-port is the port of the insurer" in staff.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
