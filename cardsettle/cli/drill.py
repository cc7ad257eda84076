"""``cardsettle drill ...``: failure drills for hospital staff, and their debrief."""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console

from cardsettle.cli.errors import BadInput, BadInputCommand, OneLineGroup, clean_errors, is_http_url
from cardsettle.cli.outputs import check_output_dir, make_output_dir, undone_on_failure
from cardsettle.cli.terminal import new_console
from mock_insurer.admin.drill import MAX_ACCELERATE
from mock_insurer.server import ServerError, check_listen
from mock_insurer.wire.timefmt import CHINA_TZ, china_now
from scenarios.data import data_institutions
from scenarios.drills.debrief import debrief
from scenarios.drills.library import DRILLS, drill_path, library_drills
from scenarios.drills.loading import drill_schema, load_drill
from scenarios.drills.model import Drill
from scenarios.drills.report import DEBRIEF_FILES, render_console, write_debrief
from scenarios.drills.runner import (
    Clocks,
    DrillAborted,
    PhaseRecord,
    check_drill,
    fault_names,
    run_drill,
)

__all__ = ["drill"]


@click.group(cls=OneLineGroup)
def drill() -> None:
    """Failure drills: phases in real time, faults, instructions for staff, a debrief."""


INTERRUPTED = 130
"""Exit status after Ctrl+C (128 + SIGINT), as a shell reports it."""


def _load(target: str) -> Drill:
    """A drill file, else the library drill of that name (a directory of the same name in the
    current directory does not hide it); a name that is neither is one clear line (exit 2)."""
    path = Path(target)
    if path.is_file():
        return load_drill(path)
    found = drill_path(target)
    if found is not None:
        return load_drill(found)
    if path.is_dir():
        raise BadInput(f"{target} is a directory, not a drill file: name a drill file "
                       f"({target.rstrip('/')}/NAME.yaml) or a library drill "
                       "(see `cardsettle drill list`)")
    if path.suffix in (".yaml", ".yml") or "/" in target or "\\" in target:
        return load_drill(path)  # a file that is not there: "no such file"
    names = sorted(p.stem for p in DRILLS.glob("*.yaml"))
    close = difflib.get_close_matches(target, names, n=1)
    raise BadInput(f"no drill named {target!r} (see `cardsettle drill list`)"
                   + (f"; did you mean {close[0]}?" if close else ""))


def _check_servers(insurer_url: str | None, his_url: str | None, *, injects: bool) -> None:
    """The URLs given are URLs, a drill that ``injects`` patients has a HIS to inject them
    through, and something answers there: else one line naming the option (exit 2), before
    anything is shown or changed at the insurer."""
    import requests

    from simulator.his.driver import HttpHisDriver
    from simulator.his.errors import HisError

    for option, url in (("--insurer-url", insurer_url), ("--his-url", his_url)):
        if url is not None and not is_http_url(url):
            raise BadInput(f"{option} {url}: not a URL; give a URL like http://127.0.0.1:8080")
    if injects and insurer_url is not None and his_url is None:
        raise BadInput("this drill injects patients: give the HIS's driver API (--his-url), "
                       "or run it without --insurer-url (embedded)")
    if insurer_url is not None:
        try:
            requests.get(insurer_url.rstrip("/") + "/health", timeout=10)
        except requests.RequestException as exc:
            raise BadInput(f"--insurer-url: the insurer does not answer at {insurer_url} (is "
                           "`cardsettle insurer serve` running there?)") from exc
    if his_url is not None:
        try:
            HttpHisDriver(his_url, timeout=10).info()
        except HisError as exc:
            raise BadInput(f"--his-url: the HIS's driver API does not answer at {his_url}"
                           ) from exc


INSTITUTION_CODE = re.compile(r"H[0-9]{11}")
"""A fixmedins_code: H and 11 digits (simulator/institutions.py)."""


def _check_institution(institution: str | None, loaded: Drill, *, drives_his: bool) -> None:
    """``--institution`` is an institution code of the drill's data — and, when the drill
    drives a HIS (embedded, or ``--his-url``), the one that HIS serves: else the debrief would
    count nobody's messages. One line naming the option (exit 2), before anything is shown."""
    if institution is None:
        return
    if not INSTITUTION_CODE.fullmatch(institution):
        raise BadInput(f"--institution {institution}: not an institution code (fixmedins_code: "
                       "H and 11 digits, e.g. H11010700001)")
    records, served = data_institutions(loaded.data, loaded.seed)
    codes = [str(record.get("fixmedins_code")) for record in records]
    if institution not in codes:
        raise BadInput(f"--institution {institution}: not an institution of the drill's data "
                       f"(its institutions: {', '.join(codes)})")
    if drives_his and served is not None and institution != served:
        raise BadInput(f"--institution {institution}: the drill's HIS is institution {served} "
                       "(the one whose messages the debrief counts): leave --institution out, "
                       f"or give {served}")


class _DataFiles:
    """The drill's data files in ``directory`` as they are when iterated — at a failure, after
    the run generated them (:func:`undone_on_failure` keeps those its error names)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __iter__(self) -> Iterator[Path]:
        return iter(sorted(self.directory.glob("*.jsonl")))


def _previous_debrief(directory: Path) -> str | None:
    """When the debrief already in ``directory`` (an earlier group's) was written, or None."""
    found = directory / "debrief.json"
    if not found.is_file():
        return None
    written = datetime.fromtimestamp(found.stat().st_mtime, tz=CHINA_TZ)  # as the debrief says
    return f"{written:%Y-%m-%d %H:%M}"


def _interrupted(console: Console, loaded: Drill, stopped: DrillAborted | None) -> NoReturn:
    """What Ctrl+C stopped, on the terminal (no traceback); exit :data:`INTERRUPTED`.
    ``stopped`` is None when the drill had not reached the insurer yet."""
    if stopped is None or stopped.phase is None:
        where = "开始前 before the first phase"
    elif stopped.after_last:
        where = "最后阶段之后 after the last phase (日终 day-end, the last patients)"
    else:
        where = (f"阶段 phase {stopped.phase + 1}/{len(loaded.phases)}: "
                 f"{loaded.phases[stopped.phase].name}")
    progress = ("" if stopped is None else
                f" — {stopped.drill_minutes:.1f} / {loaded.minutes:g} 演练分钟 drill minutes")
    console.print(f"[bold red]演练中止 drill interrupted[/bold red]: {loaded.title}, {where}"
                  f"{progress}")
    console.print(("" if stopped is None else "故障已清除 the insurer's faults are cleared · "
                   "控制台显示“已中止” the console shows it aborted · ")
                  + "未生成复盘 no debrief written")
    raise click.exceptions.Exit(INTERRUPTED)


@drill.command(cls=BadInputCommand)
@click.argument("target", metavar="FILE|NAME")
@click.option("--insurer-url", help="The insurer the staff's HIS points at (a running "
                                    "cardsettle insurer). Default: start one here, with the "
                                    "reference HIS (a rehearsal on one machine).")
@click.option("--admin-token", envvar="CARDSETTLE_ADMIN_TOKEN",
              help="The insurer's admin token. Env: CARDSETTLE_ADMIN_TOKEN.")
@click.option("--his-url", help="The HIS's driver API, if it has one: injected patients, "
                                "day-end and the HIS's ledger in the debrief.")
@click.option("--institution", help="The hospital drilled (fixmedins_code): only its messages "
                                    "count. Default: the drill's data's.")
@click.option("--reset-insurer", is_flag=True,
              help="Reset the insurer at --insurer-url and load the drill's data (a rehearsal "
                   "insurer only: its ledger is emptied).")
@click.option("--accelerate", type=click.FloatRange(0.01, MAX_ACCELERATE), default=1.0,
              show_default=True, help="Run the timeline this many times faster than written.")
@click.option("--report", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for debrief.html/json. Default: out/drills/<drill>.")
@click.option("--console-port", type=click.IntRange(1, 65535), default=None,
              help="On one machine (no --insurer-url): the port of the insurer started here, "
                   "so its console is at http://127.0.0.1:PORT/console every run. Default: "
                   "any free port.")
@clean_errors
def run(target: str, insurer_url: str | None, admin_token: str | None, his_url: str | None,
        institution: str | None, reset_insurer: bool, accelerate: float,
        report: Path | None, console_port: int | None) -> None:
    """Run a drill FILE (or a library drill by NAME) in real time, then write the debrief."""
    if reset_insurer and insurer_url is None:
        raise BadInput("--reset-insurer resets the insurer at --insurer-url: give "
                       "--insurer-url (the embedded insurer starts empty anyway)")
    if console_port is not None:
        if insurer_url is not None:
            raise BadInput("--console-port is the port of the insurer a drill on one machine "
                           "starts: with --insurer-url, open that insurer's own console "
                           "(its URL + /console)")
        try:
            check_listen("127.0.0.1", console_port)
        except ServerError as exc:
            raise BadInput(f"--console-port {console_port}: {exc}") from exc
    loaded = _load(target)
    _check_servers(insurer_url, his_url, injects=any(p.patients for p in loaded.phases))
    _check_institution(institution, loaded, drives_his=insurer_url is None or his_url is not None)
    directory = report or Path("out/drills") / loaded.id
    check_output_dir("--report", directory, (*DEBRIEF_FILES, "insurer.db", "his.db"))
    previous = _previous_debrief(directory)
    made = make_output_dir("--report", directory)
    console = new_console()

    def on_ready() -> None:  # every check passed: the drill starts
        console.rule(f"[bold]演练 drill: {loaded.title}")
        console.print(f"{len(loaded.phases)} phases, {loaded.minutes:g} minutes"
                      + (f" (×{accelerate:g}: {loaded.minutes / accelerate:.1f} min)"
                         if accelerate != 1 else ""))
        if previous is not None:
            console.print(f"[yellow]上次复盘将被替换 the previous debrief in {directory} "
                          f"({previous}) is replaced at the end of this drill[/yellow] — to "
                          f"keep each group's, give --report {directory / 'group-N'}",
                          soft_wrap=True)

    def on_phase(n: int, phase: PhaseRecord) -> None:
        console.rule(f"[bold cyan]阶段 phase {n + 1}/{len(loaded.phases)}: {phase.name}")
        if phase.instructions:
            console.print(phase.instructions.strip())
        if phase.faults:
            console.print(f"[red]faults 故障: {'; '.join(fault_names(loaded.phases[n]))}")

    def on_embedded(url: str, token: str | None) -> None:
        console.print(f"控制台 console: {url}/console · 管理口令 admin token: {token or '-'}",
                      soft_wrap=True)  # copied by hand: never broken across lines

    clocks = Clocks(wall=china_now, monotonic=time.monotonic, sleep=time.sleep,
                    epoch=time.time)
    try:  # a drill that cannot start leaves nothing behind (but the data files its error
        # tells the HIS to be served with); one interrupted keeps its record
        with undone_on_failure(directory, made, keep=_DataFiles(directory / "data"),
                               spare=(DrillAborted,)):
            result = run_drill(loaded, directory, clocks, accelerate=accelerate,
                               insurer_url=insurer_url, admin_token=admin_token,
                               his_url=his_url, institution=institution,
                               reset_insurer=reset_insurer, on_phase=on_phase,
                               on_embedded=on_embedded, on_ready=on_ready,
                               insurer_port=console_port or 0)
    except DrillAborted as stopped:
        _interrupted(console, loaded, stopped)
    except KeyboardInterrupt:  # while the data or the servers were being prepared
        _interrupted(console, loaded, None)
    found = debrief(result)
    console.rule("[bold]复盘 debrief")
    render_console(found, console)
    page = write_debrief(found, directory)
    console.print(f"debrief: {page} · {directory / 'debrief.json'}")


@drill.command(name="list")
@clean_errors
def list_() -> None:
    """The drill library (run one with: cardsettle drill run NAME)."""
    for found in library_drills():
        click.echo(f"{found.id:22} {found.minutes:5g} min  {found.title}")


@drill.command(cls=BadInputCommand)
@click.argument("target", metavar="FILE|NAME")
@clean_errors
def check(target: str) -> None:
    """Check a drill FILE (or a library drill by NAME) without running it: the format, and
    every person its patients and faults choose (its data generated as a run would, into a
    temporary directory). Exit 2 when it cannot run."""
    loaded = _load(target)
    plan, warnings = check_drill(loaded, china_now().replace(microsecond=0, tzinfo=None))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    patients = (f", {len(plan.planned)} patients planned (each person found)"
                if plan.planned else "")
    click.echo(f"{target}: ok — {loaded.id}: {len(loaded.phases)} phases, "
               f"{loaded.minutes:g} min{patients}")


@drill.command(cls=BadInputCommand)
@click.argument("name", metavar="NAME")
@clean_errors
def show(name: str) -> None:
    """Print the library drill NAME's file, to copy and adapt:
    cardsettle drill show outage-at-peak > my-drill.yaml"""
    found = drill_path(name)
    if found is None:
        _load(name)  # the same "no drill named ... did you mean" line as run and check
        raise BadInput(f"{name} is a file, not a library drill: open it in an editor")
    click.echo(found.read_text(encoding="utf-8"), nl=False)


@drill.command()
def schema() -> None:
    """Print the JSON Schema of drill files."""
    import json

    click.echo(json.dumps(drill_schema(), ensure_ascii=False, indent=1))
