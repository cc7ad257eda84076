"""A vendor's HIS started per scenario from a command (``--his-command``).

A scenario is for one institution with its own catalogue and population, and a certification
runs many scenarios. A HIS given by URL is one running institution, so it can take only the
scenarios of that institution; a HIS given as a command is started afresh for each scenario with
that scenario's data, like the embedded reference HIS, and stopped after it.

The command is a template whose ``{placeholders}`` are filled per scenario (each value quoted for
the shell's word splitting, then split with :func:`shlex.split`; no shell runs it):

============== =================================================================
``{port}``     a free port on 127.0.0.1 the HIS must serve the driver API on
``{insurer_url}`` the mock insurer (``http://127.0.0.1:PORT``)
``{portal_token}`` the institution's settlement-portal credential, for declaring (the
               insurer's admin token when the institutions file gives none)
``{admin_token}`` the insurer's admin token (everything; prefer ``{portal_token}``)
``{institution}`` the scenario's ``fixmedins_code``
``{catalogue}``  the HIS's catalogue JSONL (items and their mappings)
``{institutions}`` the institutions JSONL (names, districts, gateway credentials)
``{population}`` the population JSONL (to look up test patients; a HIS needs none)
``{db}``        a fresh database path in the scenario's directory (``his.db``)
``{directory}`` the scenario's run directory (the HIS's log is ``his.log`` there)
``{timeout}``   seconds the scenario expects the HIS to wait for the insurer
``{auth}``      the insurer's gateway authentication (none, tif, apikey)
``{paasid}`` ``{token}`` ``{apikey}`` the institution's gateway credentials
============== =================================================================
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import requests

from scenarios.errors import HarnessError
from simulator.his.driver import HttpHisDriver
from simulator.his.errors import DriverError, DriverInputError

__all__ = ["PLACEHOLDERS", "command_args", "command_problem", "free_port", "start_his_command"]

PLACEHOLDERS = ("port", "insurer_url", "admin_token", "portal_token", "institution", "catalogue",
                "institutions", "population", "db", "directory", "timeout", "auth", "paasid",
                "token", "apikey")
STARTUP_SECONDS = 60.0
"""How long a started HIS has to answer ``GET /his/v1/info``."""
STOP_SECONDS = 10.0


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on now (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def command_args(template: str, values: Mapping[str, object]) -> list[str]:
    """The command's words with the placeholders filled in; a :class:`HarnessError` names an
    unknown placeholder or a template that cannot be split."""
    quoted = {name: shlex.quote(str(values.get(name, ""))) for name in PLACEHOLDERS}
    try:
        return shlex.split(template.format_map(quoted))
    except KeyError as exc:
        raise HarnessError(f"--his-command: unknown placeholder {{{exc.args[0]}}} (known: "
                           f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)})") from None
    except (ValueError, IndexError) as exc:
        raise HarnessError(f"--his-command: cannot read the command ({exc})") from None


def command_problem(template: str) -> str | None:
    """What is wrong with a command template before any scenario runs (an unknown
    placeholder, no ``{port}``, a program not found), or ``None``."""
    try:
        args = command_args(template, {})
    except HarnessError as exc:
        return str(exc)
    if not args:
        return "--his-command is empty"
    if "{port}" not in template:
        return "--his-command must say where the HIS listens: put {port} in it"
    if shutil.which(args[0]) is None and not Path(args[0]).is_file():
        return f"--his-command: no program {args[0]!r} on PATH"
    return None


def start_his_command(template: str, values: Mapping[str, object], directory: Path, *,
                      startup_seconds: float = STARTUP_SECONDS) -> tuple[str, Callable[[], None]]:
    """Start the HIS, wait until it answers its info, and return its URL and how to stop it.
    ``values`` fills the placeholders (``port`` is chosen here when absent); the HIS has
    ``startup_seconds`` (wall clock) to answer. Whatever stops the wait — the HIS exiting, no
    valid answer in time, an interrupt (Ctrl-C, or SIGTERM raised as one) or any other
    exception — stops the process group started here before it is raised: nothing of the HIS
    is left running."""
    port = int(str(values.get("port") or free_port()))
    args = command_args(template, {**values, "port": port})
    if not args:
        raise HarnessError("--his-command is empty")
    if os.sep in args[0] and not Path(args[0]).is_absolute() and Path(args[0]).is_file():
        args[0] = str(Path(args[0]).resolve())  # as checked (command_problem), not in cwd=directory
    log_path = directory / "his.log"
    with log_path.open("wb") as log:
        try:
            process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, cwd=directory,
                                       start_new_session=True)
        except OSError as exc:
            raise HarnessError(f"--his-command: cannot start {args[0]!r}: "
                               f"{exc.strerror or exc}") from None
    url = f"http://127.0.0.1:{port}"

    def stop() -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    try:
        _wait_for_info(process, url, log_path, startup_seconds)
    except BaseException:
        stop()
        raise
    return url, stop


def _wait_for_info(process: subprocess.Popen[bytes], url: str, log_path: Path,
                   seconds: float) -> None:
    """Return once the HIS answers ``GET /his/v1/info`` with ``ok`` true; a
    :class:`HarnessError` when it exits first, or after ``seconds`` — saying what it last
    answered (an HTTP status and the first bytes, or which field was wrong) when it answered
    something that is not a valid info answer, or that nothing answered."""
    driver = HttpHisDriver(url, timeout=2.0)
    answered = ""  # the last answer that was not a valid info answer
    deadline = time.monotonic() + seconds
    try:
        while True:
            if process.poll() is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)  # what it left running (a wrapper)
                raise HarnessError(f"--his-command exited with {process.returncode} before "
                                   f"its driver API answered on {url}: {_tail(log_path)}")
            try:
                info = driver.info()
                if info.ok:
                    return
                answered = f"a refusal (ok false): {str(info.body.get('refusal'))[:200]}"
            except DriverInputError as exc:  # a 4xx with an error object
                answered = f"a 4xx error object ({exc})"
            except DriverError as exc:
                if not isinstance(exc.__cause__, requests.RequestException):
                    answered = str(exc)  # it answered, with no driver-API answer
            if time.monotonic() > deadline:
                if answered:
                    raise HarnessError(
                        f"--his-command: GET {url}/his/v1/info got no valid info answer within "
                        f"{seconds:g} s (docs/his-driver.md); the last answer: {answered}; "
                        f"its output: {_tail(log_path)}")
                raise HarnessError(f"--his-command: nothing answered GET {url}/his/v1/info "
                                   f"within {seconds:g} s (the HIS must listen on {{port}}); "
                                   f"its output: {_tail(log_path)}")
            time.sleep(0.2)
    finally:
        driver.close()


def _tail(path: Path, lines: int = 5) -> str:
    """The last lines the HIS printed, on one line, and where to find all of it — or that it
    printed nothing (then the message does not point to its empty log)."""
    try:
        text = path.read_text("utf-8", errors="replace").strip().splitlines()
    except OSError:
        return f"see {path}"
    shown = " | ".join(line.strip() for line in text[-lines:] if line.strip())
    return f"{shown} (all of it: {path})" if shown else "it printed nothing"
