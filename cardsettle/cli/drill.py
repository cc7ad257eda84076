"""``cardsettle drill ...``: failure drills for hospital staff, and their debrief."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console

from cardsettle.cli.errors import BadInput, OneLineGroup, clean_errors
from mock_insurer.wire.timefmt import china_now
from scenarios.drills.debrief import debrief
from scenarios.drills.library import drill_path, library_drills
from scenarios.drills.loading import drill_schema, load_drill
from scenarios.drills.model import Drill
from scenarios.drills.report import render_console, write_debrief
from scenarios.drills.runner import Clocks, PhaseRecord, run_drill

__all__ = ["drill"]


@click.group(cls=OneLineGroup)
def drill() -> None:
    """Failure drills: phases in real time, faults, instructions for staff, a debrief."""


def _load(target: str) -> Drill:
    path = Path(target)
    found = drill_path(target) if not path.exists() else None
    return load_drill(found or path)


@drill.command()
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
@click.option("--accelerate", type=click.FloatRange(0.01, 100000), default=1.0,
              show_default=True, help="Run the timeline this many times faster than written.")
@click.option("--report", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for debrief.html/json. Default: out/drills/<drill>.")
@clean_errors
def run(target: str, insurer_url: str | None, admin_token: str | None, his_url: str | None,
        institution: str | None, reset_insurer: bool, accelerate: float,
        report: Path | None) -> None:
    """Run a drill FILE (or a library drill by NAME) in real time, then write the debrief."""
    if reset_insurer and insurer_url is None:
        raise BadInput("--reset-insurer resets the insurer at --insurer-url: give "
                       "--insurer-url (the embedded insurer starts empty anyway)")
    loaded = _load(target)
    console = Console()
    console.rule(f"[bold]演练 drill: {loaded.title}")
    console.print(f"{len(loaded.phases)} phases, {loaded.minutes:g} minutes"
                  + (f" (×{accelerate:g}: {loaded.minutes / accelerate:.1f} min)"
                     if accelerate != 1 else ""))

    def on_phase(n: int, phase: PhaseRecord) -> None:
        console.rule(f"[bold cyan]阶段 phase {n + 1}/{len(loaded.phases)}: {phase.name}")
        if phase.instructions:
            console.print(phase.instructions.strip())
        if phase.faults:
            console.print(f"[red]faults 故障: {', '.join(phase.faults)}")

    directory = report or Path("out/drills") / loaded.id
    clocks = Clocks(wall=china_now, monotonic=time.monotonic, sleep=time.sleep,
                    epoch=time.time)
    result = run_drill(loaded, directory, clocks, accelerate=accelerate,
                       insurer_url=insurer_url, admin_token=admin_token, his_url=his_url,
                       institution=institution, reset_insurer=reset_insurer, on_phase=on_phase)
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


@drill.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@clean_errors
def check(file: Path) -> None:
    """Check a drill file without running it."""
    loaded = load_drill(file)
    click.echo(f"{file}: ok — {loaded.id}: {len(loaded.phases)} phases, {loaded.minutes:g} min")


@drill.command()
def schema() -> None:
    """Print the JSON Schema of drill files."""
    import json

    click.echo(json.dumps(drill_schema(), ensure_ascii=False, indent=1))
