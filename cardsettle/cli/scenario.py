"""``cardsettle scenario ...``: run scenario scripts against a HIS and the insurer."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cardsettle.cli.errors import BadInput, BadInputCommand, OneLineGroup, clean_errors
from cardsettle.cli.outputs import check_output_dir, make_output_dir, undone_on_failure
from cardsettle.cli.servers import check_his, check_insurer, check_urls
from cardsettle.cli.terminal import new_console
from scenarios.his_process import command_problem
from scenarios.library import library_path, library_scenarios
from scenarios.loading import load_scenario, scenario_schema
from scenarios.model import Scenario
from scenarios.page import write_page
from scenarios.planning import check_plan
from scenarios.records import RunResult
from scenarios.report import PAGE_FILE, render, write_json
from scenarios.runner import run_scenario
from simulator.errors import OutputError
from simulator.his.app import ReferenceHis
from simulator.his.driver import BASE_PATH
from simulator.his.errors import HisConfigError

__all__ = ["RUN_FILES", "check_report_dir", "run_one", "scenario"]


@click.group(cls=OneLineGroup)
def scenario() -> None:
    """Scenario scripts: data, visits, faults on a timeline, expectations (docs/scenarios.md)."""


def _load(target: str) -> Scenario:
    path = Path(target)
    if not path.exists() and library_path(target) is not None:
        path = library_path(target)  # type: ignore[assignment]
    if path.is_dir():
        raise BadInput(f"{target} is a directory, not a scenario file: name a scenario file "
                       "or a library scenario (see `cardsettle scenario list`)")
    return load_scenario(path)


def _his_class(variant: str | None) -> type[ReferenceHis]:
    if variant is None:
        return ReferenceHis
    from simulator.his.variants import variant as find_variant

    try:
        return find_variant(variant).his_class
    except HisConfigError as exc:  # its message names `his serve`'s option
        raise BadInput("--his-variant" + str(exc).removeprefix("--variant")) from exc


RUN_FILES = ("result.json", PAGE_FILE, "insurer.db", "his.db", "his.log")
"""The files a run writes into its report directory (besides ``data/``): each must be a regular
file if it is there (a named pipe would be replaced, or block the run)."""


def check_report_dir(report: Path) -> None:
    """Refuse, before anything runs, a report directory that cannot take ``result.json``."""
    for parent in (report, *report.parents):
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"cannot write {report / 'result.json'}: "
                                  f"{parent} is not a directory")
            break
    if (report / "result.json").is_dir():
        raise OutputError(f"cannot write {report / 'result.json'}: it is a directory")


def run_one(loaded: Scenario, report: Path, *, console: Console, his_url: str | None = None,
            insurer_url: str | None = None, admin_token: str | None = None,
            his_class: type[ReferenceHis] = ReferenceHis, timeout: float | None = None,
            progress: bool = True, his_command: str | None = None,
            fresh_his: bool = False, option: str = "--report",
            made: list[Path] | None = None) -> RunResult:
    """Run one scenario with a progress bar, print its result, write result.json (its
    directory checked first: a run never ends in an unwritable result). ``option`` names the
    report directory in errors; ``made``: the directories :func:`make_output_dir` made for it
    already (default: made here). A run that cannot go on (its servers do not start, its data
    cannot be chosen) leaves nothing of itself in the directory (:func:`undone_on_failure`;
    a started HIS's log stays when the error points to it, and says so)."""
    check_report_dir(report)
    check_output_dir(option, report, RUN_FILES)
    if made is None:
        made = make_output_dir(option, report)
    with undone_on_failure(report, made, keep=[report / "his.log"]), \
            Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                     TimeElapsedColumn(), console=console, transient=True,
                     disable=not progress) as bar:
        task = bar.add_task(f"{loaded.id}: visits", total=None)
        result = run_scenario(
            loaded, report, insurer_url=insurer_url, admin_token=admin_token, his_url=his_url,
            his_class=his_class, his_timeout=timeout, his_command=his_command,
            fresh_his=fresh_his,
            on_progress=lambda done, total: bar.update(task, completed=done, total=total))
    path = write_json(result, report)  # written before anything is printed
    page = write_page(result, report)
    render(result, console)
    # paths are copied from here: never broken across lines
    console.print(f"  网页 page: {page}", soft_wrap=True, markup=False, highlight=False)
    console.print(f"  result: {path}", soft_wrap=True, markup=False, highlight=False)
    return result


@scenario.command(cls=BadInputCommand)
@click.argument("target", metavar="FILE|NAME")
@click.option("--his-url", help="A HIS serving the driver API (http://HOST:PORT). Default: start "
                                "the reference HIS, embedded.")
@click.option("--his-command", metavar="TEMPLATE",
              help="Start your HIS for this scenario with this command (placeholders such as "
                   "{port}, {insurer_url}, {institution}, {catalogue}, {db}: docs/conformance.md).")
@click.option("--insurer-url", help="A running mock insurer (http://HOST:PORT); it is reset and "
                                    "loaded with the scenario's data. Default: start one, embedded.")
@click.option("--admin-token", envvar="CARDSETTLE_ADMIN_TOKEN",
              help="The insurer's admin token (with --insurer-url). Env: CARDSETTLE_ADMIN_TOKEN.")
@click.option("--report", "report", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for result.json, the data and the databases. "
                   "Default: out/scenarios/<scenario>.")
@click.option("--his-variant", metavar="NAME",
              help="Run against a deliberately broken variant of the reference HIS "
                   "(docs/his-variants.md).")
@click.option("--timeout", type=click.FloatRange(0.05, 600),
              help="Seconds the embedded reference HIS waits for the insurer (default: the "
                   "scenario's his.timeout, else 2).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@clean_errors
def run(target: str, his_url: str | None, his_command: str | None, insurer_url: str | None,
        admin_token: str | None, report: Path | None, his_variant: str | None,
        timeout: float | None, no_progress: bool) -> None:
    """Run a scenario FILE (or a library scenario by NAME); exit 1 when an expectation fails,
    2 when the scenario or an option is wrong (nothing has run then)."""
    loaded = _load(target)
    console = new_console()
    his_class = _his_class(his_variant)
    if his_variant and (his_url or his_command):
        raise BadInput("--his-variant is the embedded reference HIS: leave out --his-url "
                       "and --his-command")
    if his_url and his_command:
        raise BadInput("give the HIS as --his-url or as --his-command, not both")
    if his_command is not None and (problem := command_problem(his_command)):
        raise BadInput(problem)
    if his_url is not None:  # as `cardsettle his serve` prints it (…/his/v1/) or without
        his_url = his_url.rstrip("/").removesuffix(BASE_PATH) or his_url
    check_urls(his_url=his_url, insurer_url=insurer_url)
    if his_url is not None:
        check_his(his_url)
    if insurer_url is not None:
        check_insurer(insurer_url, admin_token, his_started_here=his_url is None)
    report = report or Path("out/scenarios") / loaded.id
    try:
        check_report_dir(report)
    except OutputError as exc:
        raise BadInput(f"--report: {exc}") from exc
    result = run_one(loaded, report, console=console,
                     his_url=his_url, insurer_url=insurer_url, admin_token=admin_token,
                     his_class=his_class, timeout=timeout, his_command=his_command,
                     progress=not no_progress and console.is_terminal, fresh_his=True)
    if not result.passed:
        raise SystemExit(1)


@scenario.command(name="list")
@clean_errors
def list_() -> None:
    """The library of scenarios (run one with: cardsettle scenario run NAME)."""
    for found in library_scenarios():
        click.echo(f"{found.id:28} {found.concern:20} {found.title}")


@scenario.command(cls=BadInputCommand)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@clean_errors
def check(file: Path) -> None:
    """Check a scenario file without running it: the format, and every person and item it
    chooses (its data generated as a run would, into a temporary directory). Exit 2 when
    it cannot run."""
    loaded = load_scenario(file)
    planned = check_plan(loaded)
    click.echo(f"{file}: ok — {loaded.id}: {len(loaded.visits)} visits, "
               f"{sum(a.count for a in loaded.arrivals)} arrivals "
               f"({len(planned):,} planned, each person and item found), "
               f"{len(loaded.timeline)} timeline events, {len(loaded.expect)} expectations")


@scenario.command()
def schema() -> None:
    """Print the JSON Schema of scenario files."""
    click.echo(json.dumps(scenario_schema(), ensure_ascii=False, indent=1))


