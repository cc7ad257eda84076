"""``cardsettle certify``: the conformance suite against a HIS, with its report."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from pathlib import Path

import click
import pytest

from cardsettle.cli.errors import BadInput, BadInputCommand, clean_errors
from cardsettle.cli.outputs import check_output_dir, make_output_dir
from cardsettle.cli.servers import check_his, check_insurer, check_urls
from conformance.catalogue import GROUPS

__all__ = ["certify"]


def _check_reachable(his_url: str | None, insurer_url: str | None,
                     admin_token: str | None) -> None:
    """Before the suite: the HIS's driver API and the insurer (with its admin token) answer
    at the URLs given, and a HIS started here can learn how to sign for that insurer (its
    gateway auth) — else one line naming the option (exit 2), instead of every requirement
    erroring on the same cause (:mod:`cardsettle.cli.servers`)."""
    check_urls(his_url=his_url, insurer_url=insurer_url)
    if his_url is not None:
        check_his(his_url)
        if insurer_url is None:
            raise BadInput(f"--his-url {his_url} needs --insurer-url (and --admin-token): the "
                           "mock insurer that HIS talks to — the suite cannot point a running "
                           "HIS at an insurer it starts itself; or give the HIS as --his-command "
                           "to have it started against the suite's insurer")
    if insurer_url is not None:
        check_insurer(insurer_url, admin_token, his_started_here=his_url is None)


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "—"


CONSOLE_MESSAGE = 300
"""Characters of a finding shown on the console; the report has all of it."""


def _short(text: str) -> str:
    line = _one_line(text)
    return line if len(line) <= CONSOLE_MESSAGE else line[:CONSOLE_MESSAGE - 1] + "… (report.html)"


REPORT_FILES = ("report.json", "report.html", "junit.xml")


def _clear_earlier_run(report: Path) -> None:
    """A re-run into the same directory replaces the earlier run: its report files and its
    scenario directories (``runs/<scenario>/`` holding ``data/`` or ``result.json``) go, so
    nothing left from it can pass for this run's; anything else in the directory stays."""
    import shutil

    for name in REPORT_FILES:
        (report / name).unlink(missing_ok=True)
    runs = report / "runs"
    if runs.is_dir():
        for child in runs.iterdir():
            if child.is_dir() and ((child / "data").is_dir() or (child / "result.json").exists()):
                shutil.rmtree(child, ignore_errors=True)
        with contextlib.suppress(OSError):
            runs.rmdir()  # only when empty


def _stop_children_left() -> None:
    """After an interrupt: stop the process groups this process started in sessions of their
    own (a HIS given by --his-command) that are still running — an interrupt that lands while
    one is starting leaves it unowned. Linux (/proc); elsewhere nothing."""
    import os
    import time

    mine = str(os.getpid())
    groups = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(stat.parent.name)
        if fields[1] == mine and fields[2] == str(pid):  # our child, leading its own group
            groups.append(pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in groups:
            with contextlib.suppress(OSError):
                os.killpg(pid, sig)
        deadline = time.monotonic() + 10
        while groups and time.monotonic() < deadline:
            for pid in list(groups):
                with contextlib.suppress(ChildProcessError, OSError):
                    if os.waitpid(pid, os.WNOHANG)[0] == pid:
                        groups.remove(pid)
            time.sleep(0.1)
        if not groups:
            return


def _terminate_as_interrupt(_signum: int, _frame: object) -> None:
    """SIGTERM (a CI job's timeout, ``kill``) stops the run as Ctrl-C does: the servers and
    the HIS processes started for the scenario are stopped, no half report is left."""
    raise KeyboardInterrupt


@click.command(cls=BadInputCommand)
@click.option("--his-url", help="The HIS under certification (it serves the HIS driver API). "
                                "Default: the embedded reference HIS.")
@click.option("--his-command", metavar="TEMPLATE",
              help="Start the HIS under certification afresh for each scenario with this "
                   "command, e.g. \"my-his --port {port} --insurer {insurer_url} --catalogue "
                   "{catalogue} --institution {institution} --db {db}\" (placeholders: "
                   "docs/conformance.md). Needed for a full certification: the scenarios are "
                   "for several institutions.")
@click.option("--insurer-url", help="A running mock insurer (reset and loaded per scenario). "
                                    "Default: embedded.")
@click.option("--admin-token", envvar="CARDSETTLE_ADMIN_TOKEN",
              help="The insurer's admin token (with --insurer-url).")
@click.option("--profile", default="default", show_default=True,
              help="Certification profile (conformance/profiles.yaml).")
@click.option("--only", multiple=True, type=click.Choice(sorted(GROUPS), case_sensitive=False),
              help="Only this requirement group (repeatable).")
@click.option("--his-mutant", metavar="NAME",
              help="Certify a deliberately broken variant of the reference HIS (self-test).")
@click.option("--report", "report", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out/certify"), show_default=True,
              help="Directory for report.html, report.json and junit.xml.")
@click.option("-v", "--verbose", is_flag=True, help="Show pytest's output.")
@clean_errors
def certify(his_url: str | None, his_command: str | None, insurer_url: str | None,
            admin_token: str | None, profile: str, only: tuple[str, ...], his_mutant: str | None,
            report: Path, verbose: bool) -> None:
    """Run the conformance suite and write the certification report; exit 0 when certified
    (1 not certified, 2 the run itself failed)."""
    from conformance.mutants import mutant
    from conformance.target import profile as find_profile
    from scenarios.his_process import command_problem
    from simulator.his.driver import BASE_PATH
    from simulator.his.errors import HisConfigError

    try:
        find_profile(profile)
        if his_mutant:
            mutant(his_mutant)
    except (ValueError, HisConfigError) as exc:
        raise BadInput(str(exc)) from exc
    if his_mutant and (his_url or his_command):
        raise BadInput("--his-mutant is the embedded reference HIS: leave out --his-url and "
                       "--his-command")
    if his_url and his_command:
        raise BadInput("give the HIS as --his-url (one running institution) or as --his-command "
                       "(started per scenario), not both")
    given = click.get_current_context().get_parameter_source("admin_token")
    if admin_token and not insurer_url and given == click.core.ParameterSource.COMMANDLINE:
        raise BadInput("--admin-token is the admin token of the insurer given by --insurer-url: "
                       "give --insurer-url too, or leave --admin-token out (the embedded insurer "
                       "has its own)")
    if his_command is not None and (problem := command_problem(his_command)):
        raise BadInput(problem)
    if his_url is not None:  # as `cardsettle his serve` prints it (…/his/v1/) or without
        his_url = his_url.rstrip("/").removesuffix(BASE_PATH) or his_url
    _check_reachable(his_url, insurer_url, admin_token)
    check_output_dir("--report", report, REPORT_FILES)
    make_output_dir("--report", report)
    try:
        _clear_earlier_run(report)
    except OSError as exc:
        raise BadInput(f"--report {report}: cannot write there ({exc.strerror or exc})"
                       ) from exc
    args = ["--pyargs", "conformance.suite", "-p", "no:cacheprovider",
            "--cert-report", str(report), "--junitxml", str(report / "junit.xml"),
            "--profile", profile, "-o", "junit_family=xunit2"]
    for value, flag in ((his_url, "--his-url"), (his_command, "--his-command"),
                        (insurer_url, "--insurer-url"),
                        (admin_token, "--admin-token"), (his_mutant, "--his-mutant")):
        if value:
            args += [flag, value]
    for group in only:
        args += ["--only", group.upper()]
    args += ["-v"] if verbose else ["-q", "-q", "--no-header", "--tb=no", "-rN",
                                    "-p", "no:warnings"]
    previous = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        code = pytest.main(args)
        if code == pytest.ExitCode.INTERRUPTED:
            raise KeyboardInterrupt
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM, in the suite or around it
        _stop_children_left()
        for name in REPORT_FILES:  # pytest's junit.xml of the tests run so far included
            (report / name).unlink(missing_ok=True)
        click.echo(f"interrupted: no report written (the certification did not finish; the "
                   f"scenarios run so far are in {report / 'runs'})", err=True)
        raise SystemExit(130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    found = report / "report.json"
    if not found.exists():
        raise BadInput(f"the suite did not run (pytest exit {int(code)}); rerun with -v to "
                       "see why")
    data = json.loads(found.read_text("utf-8"))
    counts = ", ".join(f"{k} {v}" for k, v in sorted(data["counts"].items()))
    click.echo(f"{data['verdict'].upper()}: {data['his']['label']} — {counts}")
    for row in data["requirements"]:
        if row["outcome"] in ("fail", "error"):
            test = next((t for t in data["tests"] if t["nodeid"] in row["tests"]
                         and t["outcome"] in ("fail", "error")), None)
            click.echo(f"  {row['outcome']:5} {row['id']} ({row['level']}): "
                       f"{_short(str((test or {}).get('message', '')))}")
    for row in data["requirements"]:  # not judged: why, one line each
        if row["outcome"] == "skip":
            test = next((t for t in data["tests"] if t["nodeid"] in row["tests"]
                         and t["outcome"] == "skip"), None)
            reason = str((test or {}).get("message", "")).removeprefix("Skipped: ")
            click.echo(f"  skip  {row['id']} ({row['level']}): {_short(reason)}")
        elif row["outcome"] == "untested":
            reason = row.get("untested") or "no test covers it"
            click.echo(f"  untested {row['id']} ({row['level']}): {_one_line(reason)}")
    click.echo(f"report: {report / 'report.html'} · {found} · {report / 'junit.xml'}")
    sys.stdout.flush()
    if not data["certified"]:
        raise SystemExit(1)
