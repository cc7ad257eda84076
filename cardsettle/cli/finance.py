"""``cardsettle finance``: the hospital's money after the window.

``finance cashflow`` runs a year of the hospital's cash flow under post-payment and under
advance payment (simulator/finance) and writes cashflow.json, cashflow.csv, cashflow.html and
the PNGs into ``--report DIR``, atomically and only after everything was computed: on an error
nothing is written. Bad input — a params or month file, an option out of range, an unknown
option, a report path that is a file — is one line naming the field or option, exit 2
(:class:`~cardsettle.cli.errors.BadInput`, the same way as ``cardsettle load``). See docs/finance.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import click
from rich.cells import cell_len
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column, Table

from cardsettle.cli.errors import BadInput, BadInputGroup, clean_errors
from cardsettle.cli.options import SEED
from cardsettle.cli.outputs import check_output_dir, make_output_dir, undone_on_failure
from cardsettle.cli.terminal import new_console
from simulator.errors import OutputError, SimulatorError
from simulator.finance.model import run_year
from simulator.finance.month_input import apply_month
from simulator.finance.params import params_from_data, read_params_data
from simulator.finance.plots import PLOT_FILES, yuan_text
from simulator.finance.report import (
    REGIME_LABELS,
    SUMMARY_ROWS,
    comparison_lines,
    report_files,
    summary_cells,
)
from simulator.output import atomic_output

__all__ = ["finance"]

#: The year modelled when neither --year nor --from-month says (a fixed year, never today's).
DEFAULT_YEAR = 2026
#: The months ``finance month`` can run: the embedded insurer reviews a month's declaration in
#: the second month after it, with review rules that hold from 2020-01-01, and pays up to two
#: months later on a business clock that ends 2199-12-31 (mock_insurer/admin/control.py).
PERIODS = ("2019-12", "2199-10")


@contextmanager
def _bad_input_exits_2() -> Iterator[None]:
    """A simulator error other than an unwritable output is bad input: one line, exit 2."""
    try:
        yield
    except OutputError:
        raise
    except SimulatorError as exc:
        raise BadInput(str(exc)) from exc


def _write_all(directory: Path, files: dict[str, bytes]) -> list[Path]:
    """Write every file atomically into ``directory``, all or none (renamed into place at the end)."""
    paths = [directory / name for name in files]
    with ExitStack() as stack:
        handles = [(stack.enter_context(atomic_output(path)), data) for path, data in zip(paths, files.values(),
                                                                                             strict=True)]
        for handle, data in handles:
            handle.write(data)
    return paths


def _month_index(period: str) -> int | None:
    found = re.fullmatch(r"([0-9]{4})-(0[1-9]|1[0-2])", period)
    return None if found is None else int(found.group(1)) * 12 + int(found.group(2)) - 1


def _check_period(period: str, months: int) -> None:
    """Refuse a --period that is not a month of :data:`PERIODS`, or --months running past it."""
    first, last = (_month_index(bound) or 0 for bound in PERIODS)
    index = _month_index(period)
    if index is None or not first <= index <= last:
        raise BadInput(f"--period: expected a month YYYY-MM in {PERIODS[0]}..{PERIODS[1]}, "
                         f"got {period!r}")
    if index + months - 1 > last:
        raise BadInput(f"--period: {period} with --months {months} runs past {PERIODS[1]}, "
                         "the last month allowed")


def _summary_table(data: dict[str, Any], title: str) -> Table:
    """The one-screen summary, fitting 80 columns: each row label is the Chinese (with its unit)
    above the English, so no label is cut."""
    labels = [(f"{zh}（{unit.split()[0]}）" if unit else zh, en) for _s, _k, zh, en, unit in SUMMARY_ROWS]
    width = max(cell_len(zh) for zh, _en in labels)
    table = Table(Column("", min_width=width, max_width=max(width, 28)),
                  *(Column(f"{zh}\n{en}", justify="right", no_wrap=True) for zh, en in REGIME_LABELS.values()),
                  title=title)
    for (section, key, _zh, _en, unit), (zh, en) in zip(SUMMARY_ROWS, labels, strict=True):
        table.add_row(f"{zh}\n{en}", *(
            "-" if value is None else yuan_text(value) if unit.startswith("元") else str(value)
            for value in summary_cells(data, section, key)))
    return table


@click.group(cls=BadInputGroup)
def finance() -> None:
    """The hospital's money after the window: cash flow, declaration and repayment."""


@finance.command("cashflow")
@click.option("--params", "params_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Params YAML merged over the defaults (simulator/finance/defaults.yaml).")
@click.option("--from-month", "month_file", type=click.Path(path_type=Path, dir_okay=False),
              help="A month run's JSON: take the daily level, refusal rates and lags from it.")
@click.option("--year", type=click.IntRange(1900, 2999), help=f"The calendar year [default: the month's, or {DEFAULT_YEAR}].")
@click.option("--seed", type=SEED, default=1, show_default=True,
              help="Random seed of the daily noise.")
@click.option("--report", "report_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Directory for cashflow.json, .csv, .html and the PNGs.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@clean_errors
def cashflow(params_file: Path | None, month_file: Path | None, year: int | None, seed: int, report_dir: Path,
             quiet: bool) -> None:
    """A year of the hospital's cash flow, post-payment and advance payment side by side.

    \b
    Examples:
      cardsettle finance cashflow --report out/cashflow
      cardsettle finance cashflow --params my_hospital.yaml --year 2027 --seed 3 --report out/cf
      cardsettle finance cashflow --from-month out/month/month.json --report out/cf
    """
    check_output_dir("--report", report_dir, ("cashflow.json", "cashflow.csv", "cashflow.html",
                                              *PLOT_FILES.values()))
    with _bad_input_exits_2():
        data, where = read_params_data(params_file)
        params = params_from_data(data, where)
        sources: dict[str, Any] = {}
        if month_file is not None:
            params, sources = apply_month(data, params, month_file, where)
            if year is None:
                year = int(sources["period"][:4])
        year = DEFAULT_YEAR if year is None else year
        console = new_console(stderr=True)
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=console, disable=quiet or not console.is_terminal, transient=True) as progress:
            task = progress.add_task(f"cash flow {year}", total=None)
            run = run_year(params, year, seed,
                           on_progress=lambda done, total: progress.update(task, completed=done, total=total))
    data, files = report_files(run, sources)
    paths = _write_all(report_dir, files)
    if quiet:
        return
    new_console().print(_summary_table(data, f"{params.name} — {year}, seed {seed}"))
    for line in comparison_lines(data):
        click.echo(line)
    click.echo(f"wrote {', '.join(str(path) for path in paths)}")



@finance.command("month")
@click.option("--days", type=click.IntRange(1, 23), default=20, show_default=True,
              help="Working days of visits per month (from the 1st: Monday to Friday, less "
                   "public holidays, plus make-up working days).")
@click.option("--visits-per-day", type=click.IntRange(1, 2000), default=40, show_default=True)
@click.option("--seed", type=SEED, default=1, show_default=True)
@click.option("--period", default="2026-03", show_default=True,
              help=f"The (first) month, YYYY-MM, in {PERIODS[0]}..{PERIODS[1]}.")
@click.option("--months", type=click.IntRange(1, 12), default=1, show_default=True,
              help="Consecutive months from --period, on the same insurer and HIS.")
@click.option("--report", "report_dir", type=click.Path(path_type=Path, file_okay=False),
              required=True, help="Directory for month.json, months.json, receivables.csv, "
                                  "refusals.html, the PNGs and the run's databases.")
@click.option("--holidays", "holidays_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Public holidays and make-up working days, YAML like "
                   "simulator/data/holidays.yaml [default: the national ones, 2023-2026].")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@clean_errors
def month(days: int, visits_per_day: int, seed: int, period: str, months: int,
          report_dir: Path, holidays_file: Path | None, quiet: bool) -> None:
    """A month from window to repayment on the embedded defaults: visits and day-end each
    working day, the HIS's declaration (checked with 3201 first), the insurer's review, the
    payment on its due date, and the HIS matching it to its receivables. With --months N, N
    consecutive months on the same insurer and HIS, their steps interleaved in business time.

    \b
    Examples:
      cardsettle finance month --report out/month
      cardsettle finance month --days 5 --visits-per-day 20 --seed 3 --report out/m
      cardsettle finance month --months 3 --days 5 --report out/q
    """
    from scenarios.month import MonthPlan, run_months, write_month_report
    from scenarios.month.report import MONTH_FILES, summary_lines
    from simulator.errors import DataFileError
    from simulator.his.errors import DriverInputError
    from simulator.workdays import load_calendar

    _check_period(period, months)
    try:
        calendar = load_calendar(holidays_file)
    except DataFileError as exc:
        raise BadInput(f"--holidays: {exc}") from exc
    check_output_dir("--report", report_dir, MONTH_FILES)
    made = make_output_dir("--report", report_dir)
    try:  # a month that cannot run leaves nothing of itself in --report
        with undone_on_failure(report_dir, made):
            plan = MonthPlan(period=period, days=days, visits_per_day=visits_per_day, seed=seed,
                             months=months)
            console = new_console(stderr=True)
            columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                       TaskProgressColumn(), TimeElapsedColumn())
            with Progress(*columns, console=console, disable=quiet or not console.is_terminal,
                          transient=True) as progress:
                what = period if months == 1 else f"{period} + {months - 1} months"
                task = progress.add_task(f"{what}: working days", total=days * months)
                runs = run_months(plan, report_dir / "run", on_day=lambda done, total: progress.update(
                    task, completed=done, total=total), calendar=calendar)
    except DriverInputError as exc:
        raise BadInput(f"--period: {exc.message}") from exc
    paths = write_month_report(runs, report_dir)
    if not quiet:
        for line in summary_lines(runs):
            click.echo(line)
        texts = [path for path in paths if path.suffix != ".png"]
        click.echo(f"wrote {', '.join(str(path) for path in texts)} "
                   f"(+ {len(paths) - len(texts)} plots)")
    if not all(run.declaration for run in runs):
        raise SystemExit(1)
