"""``cardsettle generate sample``: a default population, the institutions and the catalogue
in one directory, with a readable summary of them."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import orjson
from rich.table import Table

from cardsettle.cli.errors import OneLineCommand, clean_errors
from cardsettle.cli.options import SEED
from cardsettle.cli.outputs import check_output_dir
from cardsettle.cli.terminal import new_console
from mock_insurer.money import render
from simulator.catalogue import LIST_TYPES, write_catalogue
from simulator.codes import code_name
from simulator.edge_cases import DEFAULT_EDGE_RATES, EDGE_CASE_LABELS
from simulator.errors import DataFileError, OutputError
from simulator.institutions import TIERS, write_institutions
from simulator.output import check_target
from simulator.persons import DEFAULT_ADMDVS
from simulator.population import write_population
from simulator.summary import summarize_catalogue, summarize_institutions, summarize_population

__all__ = ["sample"]

DEFAULT_SAMPLE_DIR = Path("out/sample")
DEFAULT_SAMPLE_COUNT = 2000
FILES = ("persons.jsonl", "institutions.jsonl", "catalogue.jsonl")


def _check_targets(out_dir: Path) -> None:
    """Refuse, before anything is generated, a directory that cannot take the three files."""
    for parent in (out_dir, *out_dir.parents):
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"cannot write {out_dir}: {parent} is not a directory")
            break
    for name in FILES:
        if (out_dir / name).is_dir():
            raise OutputError(f"cannot write {out_dir / name}: it is a directory")


def _missing_dirs(out_dir: Path) -> list[Path]:
    """The directories that creating ``out_dir`` makes, innermost first."""
    return [path for path in (out_dir, *out_dir.parents) if not path.exists()]


@contextmanager
def _staged(out_dir: Path) -> Iterator[Path]:
    """A temporary directory inside ``out_dir`` to write the files into; they are renamed into
    ``out_dir`` at the end, all together. On an error the temporary directory is removed, and
    so are the directories this made: nothing is left behind."""
    made = _missing_dirs(out_dir)
    done = False
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".sample-", dir=out_dir))
    except OSError as exc:
        _remove_dirs(made)
        raise OutputError(f"cannot write {out_dir}: {exc.strerror or exc}") from exc
    try:
        try:
            yield staging
        except OutputError as exc:  # name the file the user asked for, not the temporary one
            raise OutputError(str(exc).replace(str(staging), str(out_dir))) from exc
        for name in FILES:
            check_target(out_dir / name)  # never a device or a pipe replaced
            try:
                os.replace(staging / name, out_dir / name)
            except OSError as exc:
                raise OutputError(f"cannot write {out_dir / name}: {exc.strerror or exc}") from exc
        done = True
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not done:
            _remove_dirs(made)


def _remove_dirs(made: list[Path]) -> None:
    for path in made:
        try:
            path.rmdir()
        except OSError:
            break


def _records(path: Path) -> Iterator[dict[str, Any]]:
    try:
        with path.open("rb") as handle:
            for line in handle:
                yield orjson.loads(line)
    except (OSError, orjson.JSONDecodeError) as exc:
        raise DataFileError(f"cannot read back {path}: {exc}") from exc


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.1f} %" if total else "-"


def _counter_table(title: str, counts: Counter[str], total: int, table_name: str | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("code")
    if table_name:
        table.add_column("name")
    table.add_column("persons", justify="right")
    table.add_column("share", justify="right")
    for code, n in sorted(counts.items()):
        cells = [code, code_name(table_name, code)] if table_name else [code]
        table.add_row(*cells, f"{n:,}", _share(n, total))
    return table


@click.command(cls=OneLineCommand)
@click.option(
    "--out", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_SAMPLE_DIR, show_default=True, help="Directory for the generated files.",
)
@click.option("--count", "-n", type=int, default=DEFAULT_SAMPLE_COUNT, show_default=True, help="Number of persons.")
@click.option("--seed", type=SEED, default=1, show_default=True, help="Random seed.")
@clean_errors
def sample(out_dir: Path, count: int, seed: int) -> None:
    """Generate a population, institutions and the catalogue into one directory and
    summarise them."""
    console = new_console()
    started = time.perf_counter()
    persons_file, institutions_file, catalogue_file = (out_dir / name for name in FILES)
    _check_targets(out_dir)
    check_output_dir("--out", out_dir, FILES, error=click.ClickException)
    with _staged(out_dir) as staging:
        write_population(staging / FILES[0], count, seed, workers=1)
        institutions = write_institutions(staging / FILES[1], seed=seed)
        write_catalogue(staging / FILES[2], seed, institutions)
    elapsed = time.perf_counter() - started

    people = summarize_population(_records(persons_file), DEFAULT_ADMDVS)
    console.rule(f"[bold]cardsettle generate sample[/bold]: {people.count:,} persons, seed {seed}")
    total = people.count
    console.print(_counter_table("Main scheme (insutype)", people.insutype, total, "insutype"))
    console.print(_counter_table("Person type (psn_type)", people.psn_type, total, "psn_type"))
    console.print(_counter_table("Insurance status (psn_insu_stas)", people.status, total, "psn_insu_stas"))

    cards = Table(title="Cards and flags", title_justify="left")
    cards.add_column("what")
    cards.add_column("count", justify="right")
    cards.add_column("share of persons", justify="right")
    for status, n in sorted(people.card_status.items()):
        cards.add_row(f"card {status}", f"{n:,}", _share(n, total))
    for flag, n in sorted(people.flags.items()):
        cards.add_row(flag, f"{n:,}", _share(n, total))
    console.print(cards)

    edges = Table(title="Identity edge cases", title_justify="left")
    edges.add_column("label")
    edges.add_column("persons", justify="right")
    edges.add_column("share", justify="right")
    edges.add_column("configured", justify="right")
    for label in EDGE_CASE_LABELS:
        n = people.edge_cases.get(label, 0)
        edges.add_row(label, f"{n:,}", _share(n, total), f"{100 * DEFAULT_EDGE_RATES[label]:.1f} %")
    console.print(edges)

    if people.balance_quartiles is not None:
        q1, q2, q3 = (render(q) for q in people.balance_quartiles)
        console.print(
            f"Personal-account balance (balc) of the {people.account_holders:,} employees (310), yuan: "
            f"25 % {q1}, median {q2}, 75 % {q3}"
        )

    tiers = summarize_institutions(institutions)
    tier_table = Table(title="Institutions by tier", title_justify="left")
    tier_table.add_column("tier")
    tier_table.add_column("name")
    tier_table.add_column("count", justify="right")
    for tier in TIERS:
        tier_table.add_row(tier, code_name("tier", tier), str(tiers.get(tier, 0)))
    console.print(tier_table)

    catalogue = summarize_catalogue(_records(catalogue_file))
    items = Table(title=f"Catalogue: {catalogue.items} items by level (chrgitm_lv) and list type", title_justify="left")
    items.add_column("chrgitm_lv")
    for list_type in LIST_TYPES:
        items.add_column(f"{list_type} {code_name('list_type', list_type)}", justify="right")
    for level in ("01", "02", "03"):
        items.add_row(
            f"{level} {code_name('chrgitm_lv', level)}",
            *(str(catalogue.items_by_level_and_type.get((level, t), 0)) for t in LIST_TYPES),
        )
    console.print(items)
    mapped = sum(catalogue.mappings.values())
    console.print(
        f"{catalogue.diagnoses} diagnoses; {mapped:,} item mappings: "
        + ", ".join(f"{kind} {_share(catalogue.mappings.get(kind, 0), mapped)}" for kind in ("ok", "unmapped", "wrong"))
        + f"; {catalogue.over_cap} priced above the item's cap"
    )
    console.rule()
    console.print(f"Files in {out_dir} (generated in {elapsed:.1f} s):")
    for path in (persons_file, institutions_file, catalogue_file):
        console.print(f"  {path}  ({path.stat().st_size:,} bytes)")
    console.print("Next: cardsettle generate --help")
