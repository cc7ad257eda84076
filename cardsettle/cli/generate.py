"""``cardsettle generate ...``: synthetic persons, institutions and catalogue."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cardsettle.cli.errors import OneLineGroup, clean_errors
from cardsettle.cli.options import SEED
from cardsettle.cli.outputs import check_output_files
from cardsettle.cli.terminal import new_console
from simulator.catalogue import write_catalogue
from simulator.edge_cases import (
    EDGE_CASE_LABELS,
    load_edge_rates_file,
    parse_edge_rate,
    resolve_edge_rates,
)
from simulator.institutions import DEFAULT_INSTITUTION_COUNT, load_institutions, write_institutions
from simulator.output import FORMATS
from simulator.persons import DEFAULT_ADMDVS, DEFAULT_REF_DATE
from simulator.population import write_population

__all__ = ["generate", "parse_ref_date"]


def parse_ref_date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    """Click callback: ``YYYY-MM-DD`` to a date."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}") from None


def _format_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="jsonl", show_default=True,
        help="JSON lines, or CSV (nested fields as JSON text in their column).",
    )(func)


@contextmanager
def _progress(total: int, quiet: bool) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (hidden with --quiet or when stderr is not a terminal)."""
    console = new_console(stderr=True)
    disable = quiet or not console.is_terminal
    columns = (
        TextColumn("persons"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=disable, transient=True) as progress:
        task = progress.add_task("persons", total=total)
        yield lambda done: progress.update(task, completed=done)


@click.group(cls=OneLineGroup)
def generate() -> None:
    """Generate synthetic persons, institutions and the catalogue (JSONL or CSV).

    Every command is deterministic: the same seed and arguments give byte-identical files on
    any day and machine. Files are written atomically (nothing is left behind on error).
    """


@generate.command()
@click.option("--count", "-n", type=int, default=1000, show_default=True, help="Number of persons.")
@click.option("--seed", type=SEED, default=1, show_default=True, help="Random seed.")
@click.option("--out", "-o", "out", type=click.Path(path_type=Path), required=True, help="Output file.")
@_format_option
@click.option(
    "--ref-date", callback=parse_ref_date, default=DEFAULT_REF_DATE.isoformat(), show_default=True,
    help="Reference date (YYYY-MM-DD) of ages, insured dates and year-to-date amounts.",
)
@click.option(
    "--admdvs", default=DEFAULT_ADMDVS, show_default=True,
    help="Insured-place division code (6 digits, GB/T 2260) of most persons.",
)
@click.option(
    "--edge-rate", "edge_rate", multiple=True, metavar="LABEL=RATE",
    help=f"Rate (0..1) of an edge-case label; repeatable. Labels: {', '.join(EDGE_CASE_LABELS)}.",
)
@click.option(
    "--edge-rates-file", type=click.Path(path_type=Path),
    help="YAML mapping label: rate (applied before --edge-rate).",
)
@click.option("--workers", type=int, default=None, help="Worker processes [default: the cores available].")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary line.")
@clean_errors
def population(
    count: int, seed: int, out: Path, fmt: str, ref_date: dt.date, admdvs: str,
    edge_rate: Sequence[str], edge_rates_file: Path | None, workers: int | None, quiet: bool,
) -> None:
    """Insured persons with their cards, tokens and identity edge cases."""
    check_output_files("--out", out, error=click.ClickException)
    layers: list[dict[str, float]] = []
    if edge_rates_file is not None:
        layers.append(load_edge_rates_file(edge_rates_file))
    layers.append(dict(parse_edge_rate(text) for text in edge_rate))
    rates = resolve_edge_rates(*layers)
    started = time.perf_counter()
    with _progress(count if count > 0 else 1, quiet) as on_progress:
        written = write_population(
            out, count, seed, ref_date=ref_date, admdvs=admdvs, edge_rates=rates, fmt=fmt,
            workers=workers, on_progress=on_progress,
        )
    elapsed = max(time.perf_counter() - started, 1e-9)
    if not quiet:
        click.echo(f"wrote {written:,} persons to {out} in {elapsed:.1f} s ({written / elapsed:,.0f} persons/s)")


@generate.command()
@click.option("--count", "-n", type=int, default=DEFAULT_INSTITUTION_COUNT, show_default=True, help="Number of institutions.")
@click.option("--seed", type=SEED, default=1, show_default=True, help="Random seed.")
@click.option("--out", "-o", "out", type=click.Path(path_type=Path), required=True, help="Output file.")
@click.option("--admdvs", default=DEFAULT_ADMDVS, show_default=True, help="Division code the institutions lie in.")
@_format_option
@click.option("--quiet", "-q", is_flag=True, help="No summary line.")
@clean_errors
def institutions(count: int, seed: int, out: Path, admdvs: str, fmt: str, quiet: bool) -> None:
    """Designated medical institutions (at least one per tier when count >= 4)."""
    check_output_files("--out", out, error=click.ClickException)
    records = write_institutions(out, count, seed, admdvs=admdvs, fmt=fmt)
    if not quiet:
        click.echo(f"wrote {len(records)} institutions to {out}")


@generate.command()
@click.option("--seed", type=SEED, default=1, show_default=True, help="Random seed.")
@click.option("--out", "-o", "out", type=click.Path(path_type=Path), required=True, help="Output file.")
@click.option(
    "--institutions", "institutions_file", type=click.Path(path_type=Path),
    help="Institutions (JSONL) to map items for [default: the default institutions of the seed].",
)
@click.option("--unmapped-rate", type=float, default=0.02, show_default=True, help="Share of mappings left unmapped.")
@click.option("--wrong-rate", type=float, default=0.02, show_default=True, help="Share of mappings to a wrong national code.")
@click.option(
    "--over-cap-rate", type=float, default=0.05, show_default=True,
    help="Share of capped items a hospital prices above the cap.",
)
@_format_option
@click.option("--quiet", "-q", is_flag=True, help="No summary line.")
@clean_errors
def catalogue(
    seed: int, out: Path, institutions_file: Path | None, unmapped_rate: float, wrong_rate: float,
    over_cap_rate: float, fmt: str, quiet: bool,
) -> None:
    """Catalogue items, diagnoses and each institution's item mapping (对码), in one file."""
    check_output_files("--out", out, error=click.ClickException)
    chosen = load_institutions(institutions_file) if institutions_file is not None else None
    counts = write_catalogue(
        out, seed, chosen, unmapped_rate=unmapped_rate, wrong_rate=wrong_rate,
        over_cap_rate=over_cap_rate, fmt=fmt,
    )
    if not quiet:
        plural = {"item": "items", "diagnosis": "diagnoses", "mapping": "mappings"}
        parts = ", ".join(f"{n} {plural[kind] if n != 1 else kind}" for kind, n in counts.items())
        click.echo(f"wrote {parts} to {out}")



def _register_sample() -> None:
    from cardsettle.cli.sample import sample

    generate.add_command(sample)


_register_sample()
