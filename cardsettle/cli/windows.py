"""``cardsettle simulate windows`` and ``cardsettle plan windows``: the cashier-window model.

Both take a scenario (``--scenario FILE``, merged over the defaults) and/or options that
change it, run seeded replications (in worker processes), and write a JSON report and,
with ``--plot OUT.png``, a picture as ``OUT.png`` and ``OUT.svg``. Every output is written
atomically, and only after everything was computed: on an error nothing is left behind.
Every error is bad input — an option, a scenario or a file — and stops with one line, exit 2
(as ``cardsettle load``); ``plan windows`` exits 1 when its plan misses the target in some
hour (the plan written all the same). An insurer latency CSV is named in ``day.json`` and in a written
scenario relative to their folder when it lies inside it (:func:`recorded_csv_path`), never as
this machine's absolute path unless given so. See docs/windows.md.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import wraps
from pathlib import Path
from typing import Any

import click
import orjson
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cardsettle.cli.errors import BadInput, BadInputGroup, one_line_errors
from cardsettle.cli.options import SEED
from cardsettle.cli.outputs import check_output_files
from cardsettle.cli.terminal import new_console
from simulator.capacity.compare import VARIANTS, compare_plans, comparison_data
from simulator.capacity.erlang import erlang_c_block
from simulator.capacity.planner import MIN_REPLICATIONS, plan_windows
from simulator.capacity.plots import plan_figure
from simulator.errors import InvalidArgumentError
from simulator.output import atomic_output
from simulator.windows.plots import figure_bytes, plot_paths, run_figure
from simulator.windows.results import summarize
from simulator.windows.runs import run_replications
from simulator.windows.scenario import Scenario, dump_scenario, load_scenario
from simulator.windows.service import LatencyFileError, load_latency_csv

__all__ = ["plan", "simulate"]

SERVICE_DISTS = ("exponential", "lognormal", "fixed")
#: Bounds that keep one run to seconds or minutes: the model simulates some 50,000 patients a
#: second, and the example hospital's day is about 3,900. A run expecting more patients a
#: replication than MAX_PATIENTS is refused (the M/M/c example in the help is 900,000).
MAX_PATIENTS = 1_000_000
MAX_RATE = 100_000.0      # --arrival-rate, patients an hour
MAX_HOURS = 100_000       # --hours of a constant rate (about 11 years)
MAX_SCALE = 1_000.0       # --scale


PLOT_SUFFIXES = ("", ".png", ".svg")


def _bad_input(func: Callable[..., Any]) -> Callable[..., Any]:
    """Every error of these commands is bad input: one line (:func:`one_line_errors`), exit 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with one_line_errors():
                return func(*args, **kwargs)
        except BadInput:
            raise
        except click.ClickException as exc:
            raise BadInput(exc.format_message()) from exc

    return wrapper


def _check_latency_csv(path: Path, name: str | None) -> None:
    """Read ``--latency-csv`` as the option it is: its errors name the option, not a scenario
    file (``--latency-csv FILE: line 3: ...``)."""
    try:
        load_latency_csv(path, name)
    except LatencyFileError as exc:
        message = str(exc)
        for prefix, says in ((f"{path}: ", ""), (f"cannot read latency file {path}: ", "cannot read: ")):
            if message.startswith(prefix):
                message = says + message[len(prefix):]
                break
        raise InvalidArgumentError(f"--latency-csv {path}: {message}") from None


def _check_plot(plot_out: Path | None) -> None:
    """``--plot OUT`` writes OUT.png and OUT.svg: refuse another suffix (``out.jpg`` would write
    ``out.jpg.png``)."""
    if plot_out is not None and plot_out.suffix.lower() not in PLOT_SUFFIXES:
        raise InvalidArgumentError(
            f"--plot {plot_out}: the picture is written as PNG and SVG (OUT.png and OUT.svg); "
            f"give OUT, OUT.png or OUT.svg, not {plot_out.suffix}"
        )


_WHOLE_VISIT = ("warning: the insurer latency file holds whole visits ({what}), not one round "
                "trip per insurer call: every step that calls the insurer will take a whole "
                "visit's time. Feed a round-trip file: a load test against the insurer "
                "(--target insurer: latency_ms.csv holds 2207 settle), or --latency-name "
                "\"2207 settle\" with its locust_stats.csv (docs/windows.md)")


def _warn_whole_visits(scenario: Scenario) -> None:
    spec = getattr(scenario.latency, "spec", None) or {}
    what = spec.get("request") or spec.get("name")
    if what is not None and "visit" in str(what).split(", "):
        click.echo(_WHOLE_VISIT.format(what=f"request {what!r} in {spec.get('csv')}"), err=True)


def _latency_file(options: dict[str, Any], scenario: Scenario) -> tuple[Path, str] | None:
    """The insurer latency CSV the scenario reads: the file itself (absolute) and its path as the
    user wrote it (``--latency-csv``, relative to the current directory, or the scenario's
    ``insurer.latency.csv``, relative to the scenario file); None without a CSV."""
    if options["latency_csv"] is not None:
        given: Path = options["latency_csv"]
        return given.resolve(), str(given)
    latency = scenario.data.get("insurer", {}).get("latency")
    if not isinstance(latency, dict) or "csv" not in latency:
        return None
    written = Path(str(latency["csv"]))
    base = options["scenario_file"].parent if options["scenario_file"] is not None else Path.cwd()
    return (written if written.is_absolute() else base / written).resolve(), str(latency["csv"])


def recorded_csv_path(csv: Path, given: str, folder: Path) -> str:
    """How a file that is written into ``folder`` names the latency CSV ``csv`` (absolute),
    which the user gave as ``given``: relative to ``folder`` when the CSV lies inside it (the
    report folder moves, or goes to another machine, with its CSV); otherwise an absolute path
    as given; otherwise relative to ``folder`` (the user's own path when ``folder`` is the
    directory it was relative to), so a written scenario still finds it (a scenario's relative
    paths are read relative to the scenario file)."""
    folder = folder.resolve()
    if csv.is_relative_to(folder):
        return csv.relative_to(folder).as_posix()
    if Path(given).is_absolute():
        return given
    try:
        return Path(os.path.relpath(csv, folder)).as_posix()
    except ValueError:  # another drive (Windows): no relative path exists
        return str(csv)


def _with_csv_path(data: dict[str, Any], latency: tuple[Path, str] | None, written_to: Path) -> dict[str, Any]:
    """Scenario data as recorded in ``written_to`` (day.json's ``effective``, planned.yaml):
    the latency CSV named by :func:`recorded_csv_path`, never this machine's absolute path."""
    spec = data.get("insurer", {}).get("latency")
    if latency is None or not isinstance(spec, dict) or "csv" not in spec:
        return data
    recorded = copy.deepcopy(data)
    recorded["insurer"]["latency"]["csv"] = recorded_csv_path(*latency, written_to.absolute().parent)
    return recorded


def _parse_share(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not sep or not name or share < 0:
        raise InvalidArgumentError(f"--share: expected KIND=WEIGHT with a weight >= 0, got {text!r}")
    return name.strip(), share


def scenario_from_options(
    scenario_file: Path | None,
    arrival_rate: float | None,
    hours: int | None,
    scale: float | None,
    service_mean: float | None,
    service_dist: str,
    service_sd: float | None,
    windows: int | None,
    no_abandon: bool,
    no_card_settlement: bool,
    share: Sequence[str],
    latency_csv: Path | None,
    latency_name: str | None,
    target_wait: float | None,
    target_share: float | None,
    warmup: float | None,
) -> Scenario:
    """The scenario the options describe (the file, or the defaults, then each option)."""
    overrides: dict[str, Any] = {}
    replace: dict[str, Any] = {}
    arrivals: dict[str, Any] = {}
    if arrival_rate is not None:
        arrivals.update(rate_per_hour=arrival_rate, hours=hours if hours is not None else 24)
    elif hours is not None:
        raise InvalidArgumentError("--hours goes with --arrival-rate (the horizon of a constant rate)")
    if scale is not None:
        arrivals["scale"] = scale
    if arrivals:
        overrides["arrivals"] = arrivals
    if service_mean is not None:
        time_spec: dict[str, Any] = {"dist": service_dist, "unit": "min"}
        if service_dist == "fixed":
            time_spec["value"] = service_mean
        else:
            time_spec["mean"] = service_mean
        if service_dist == "lognormal":
            if service_sd is None:
                raise InvalidArgumentError("--service-dist lognormal needs --service-sd")
            time_spec["sd"] = service_sd
        replace["kinds"] = {"all": {"label": "patient 患者", "share": 1, "steps": ["service"]}}
        replace["steps"] = {"service": {"label": "service 服务", "time": time_spec}}
        replace["fallback"] = {"steps": []}
    elif service_sd is not None:
        raise InvalidArgumentError("--service-sd goes with --service-mean")
    if windows is not None:
        overrides["staffing"] = {"windows": windows}
    if no_abandon:
        overrides["patients"] = {"balking": [], "patience": None}
    if no_card_settlement:
        overrides["card_settlement"] = False
    if latency_csv is not None:
        overrides["insurer"] = {"latency": {"csv": str(latency_csv.resolve()), **({"name": latency_name} if latency_name else {})}}
    elif latency_name is not None:
        raise InvalidArgumentError("--latency-name goes with --latency-csv")
    target: dict[str, Any] = {}
    if target_wait is not None:
        target["wait_minutes"] = target_wait
    if target_share is not None:
        target["share"] = target_share
    if target:
        overrides["target"] = target
    if warmup is not None:
        overrides["warmup_minutes"] = warmup
    shares = dict(_parse_share(text) for text in share)
    return load_scenario(scenario_file, overrides, replace, shares)


def _scenario_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--scenario", "scenario_file", type=click.Path(path_type=Path, dir_okay=False),
                     help="Scenario YAML, merged over the defaults (docs/windows.md)."),
        click.option("--arrival-rate", type=click.FloatRange(0, MAX_RATE), metavar="PER_HOUR",
                     help="Constant Poisson arrivals per hour instead of the hourly profile."),
        click.option("--hours", type=click.IntRange(1, MAX_HOURS),
                     help="Horizon of --arrival-rate in hours [default: 24]."),
        click.option("--scale", type=click.FloatRange(0, MAX_SCALE),
                     help="Multiply every hour's arrivals (1.2 = 20% busier)."),
        click.option("--service-mean", type=click.FloatRange(min=0, min_open=True), metavar="MINUTES",
                     help="One service step of this mean per patient, replacing the kinds and steps."),
        click.option("--service-dist", type=click.Choice(SERVICE_DISTS), default="exponential", show_default=True,
                     help="Distribution of --service-mean."),
        click.option("--service-sd", type=click.FloatRange(min=0), metavar="MINUTES", help="Sd of a lognormal service."),
        click.option("--windows", type=click.IntRange(min=1),
                     help="The same number of windows every hour (at least 1)."),
        click.option("--no-abandon", is_flag=True, help="Nobody balks or reneges."),
        click.option("--no-card-settlement", is_flag=True, help="Before card settlement: insured patients pay in full."),
        click.option("--share", multiple=True, metavar="KIND=WEIGHT", help="A patient kind's share; repeatable."),
        click.option("--latency-csv", type=click.Path(path_type=Path, dir_okay=False),
                     help="Insurer latency measured by a load test (latency_ms column or locust stats CSV)."),
        click.option("--latency-name", help="Request name in a locust CSV [default: Aggregated]."),
        click.option("--target-wait", type=click.FloatRange(min=0), metavar="MINUTES", help="Wait target in minutes."),
        click.option("--target-share", type=click.FloatRange(0, 1), help="Share of patients to wait at most the target."),
        click.option("--warmup", type=click.FloatRange(min=0), metavar="MINUTES", help="Arrivals before this minute are not counted."),
        click.option("--seed", type=SEED, default=1, show_default=True, help="Random seed."),
        click.option("--replications", "-r", type=click.IntRange(min=1), default=20, show_default=True,
                     help="Independent replications (simulated days)."),
        click.option("--workers", type=click.IntRange(min=1), help="Worker processes [default: the cores available]."),
        click.option("--json", "json_out", type=click.Path(path_type=Path, dir_okay=False), required=True,
                     help="The JSON report."),
        click.option("--plot", "plot_out", type=click.Path(path_type=Path, dir_okay=False),
                     help="Picture: writes OUT.png and OUT.svg."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _check_outputs(options: dict[str, Any]) -> None:
    """Refuse, before anything runs, an output that is ``-`` or a device or a named pipe
    (:func:`~cardsettle.cli.outputs.check_output_files`)."""
    check_output_files("--json", options["json_out"])
    if options["plot_out"] is not None:
        check_output_files("--plot", options["plot_out"], plot_paths(options["plot_out"]))
    if options.get("write_scenario") is not None:
        check_output_files("--write-scenario", options["write_scenario"])


def _scenario(options: dict[str, Any]) -> Scenario:
    keys = (
        "scenario_file", "arrival_rate", "hours", "scale", "service_mean", "service_dist", "service_sd", "windows",
        "no_abandon", "no_card_settlement", "share", "latency_csv", "latency_name", "target_wait", "target_share",
        "warmup",
    )
    _check_plot(options["plot_out"])
    _check_outputs(options)
    if options["latency_csv"] is not None:
        _check_latency_csv(options["latency_csv"], options["latency_name"])
    scenario = scenario_from_options(*(options[key] for key in keys))
    _check_size(scenario)
    _warn_whole_visits(scenario)
    return scenario


def _check_size(scenario: Scenario) -> None:
    """Refuse a day so busy that a run would not end in minutes (see :data:`MAX_PATIENTS`)."""
    expected = scenario.arrivals.expected_total
    if expected > MAX_PATIENTS:
        raise InvalidArgumentError(
            f"arrivals: {expected:,.0f} patients expected a replication, "
            f"more than {MAX_PATIENTS:,} (lower --arrival-rate, --hours or --scale, "
            "or the scenario's arrivals.per_hour)"
        )


@contextmanager
def _progress(quiet: bool, what: str) -> Iterator[Progress]:
    console = new_console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=quiet or not console.is_terminal, transient=True) as progress:
        yield progress


def _json(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def _write_all(outputs: Sequence[tuple[Path, bytes]]) -> None:
    """Write every output atomically, all or none (each renamed into place at the end)."""
    with ExitStack() as stack:
        handles = [(stack.enter_context(atomic_output(path)), data) for path, data in outputs]
        for handle, data in handles:
            handle.write(data)


def _plots(plot_out: Path | None, figure_of: Callable[[], Any]) -> list[tuple[Path, bytes]]:
    if plot_out is None:
        return []
    figure = figure_of()
    png, svg = plot_paths(plot_out)
    return [(png, figure_bytes(figure, "png")), (svg, figure_bytes(figure, "svg"))]


def _interval(bounds: Any) -> str:
    """A confidence interval of a wait, ``[0.00, 2.49]``: a wait is never below 0 (a normal
    interval over few replications can reach below), and a minus sign beside a dash read as a
    range of two negative numbers."""
    low, high = bounds
    if low is None or high is None:
        return "-"
    return f"[{_cell(max(float(low), 0.0))}, {_cell(float(high))}]"


def _cell(value: Any, fmt: str = "{:.2f}") -> str:
    if value is None:
        return "-"
    return fmt.format(value) if isinstance(value, float) else str(value)


@click.group(cls=BadInputGroup)
def simulate() -> None:
    """Simulate the hospital's side: the cashier windows (SimPy)."""


@simulate.command("windows")
@_scenario_options
@_bad_input
def simulate_windows(**options: Any) -> None:
    """Simulate the outpatient cashier hall over a day (or a long M/M/c run).

    \b
    Examples:
      cardsettle simulate windows --json day.json --plot day.png
      cardsettle simulate windows --scenario my_hospital.yaml -r 50 --json out.json
      cardsettle simulate windows --arrival-rate 90 --hours 10000 --service-mean 3 \\
          --windows 5 --no-abandon --warmup 600 -r 8 --json mmc.json
    """
    scenario = _scenario(options)
    started = time.perf_counter()
    with _progress(options["quiet"], "simulating") as progress:
        task = progress.add_task("simulating", total=1.0)
        days = run_replications(
            scenario, options["seed"], options["replications"], options["workers"],
            on_progress=lambda done: progress.update(task, completed=done),
        )
    report = summarize(scenario, days, options["seed"])
    report["scenario"]["effective"] = _with_csv_path(
        report["scenario"]["effective"], _latency_file(options, scenario), options["json_out"])
    report["erlang_c"] = erlang_c_block(scenario, report)
    outputs = [(options["json_out"], _json(report)), *_plots(options["plot_out"], lambda: run_figure(report))]
    _write_all(outputs)
    if options["quiet"]:
        return
    elapsed = time.perf_counter() - started
    counts = report["counts"]
    wait = report["wait_minutes"]
    within = report["within_target"]
    reps = report["replications"]
    per_day = report["counts_per_replication"]
    click.echo(
        f"{reps} replications, {counts['arrived']:,} patients over all {reps} simulated days "
        f"({_cell(per_day['arrived'], '{:,.1f}')} per day) in {elapsed:.1f} s: "
        f"mean wait {_cell(wait['mean'])} min (95% CI {_interval(wait['ci95'])}), "
        f"p90 {_cell(wait['p90'])} min, {(within['share'] or 0):.1%} within {within['wait_minutes']:g} min "
        f"(target {within['target_share']:.0%}: {'met' if within['met'] else 'NOT met'}), "
        f"utilization {(report['utilization'] or 0):.1%}"
    )
    if counts["balked"] or counts["reneged"] or counts["later_claims"]:
        click.echo(
            f"over all {reps} days: balked {counts['balked']:,}, reneged {counts['reneged']:,}, "
            f"later claims {counts['later_claims']:,} (per day: {_cell(per_day['balked'], '{:.1f}')}, "
            f"{_cell(per_day['reneged'], '{:.1f}')}, {_cell(per_day['later_claims'], '{:.1f}')})"
        )
    if report["erlang_c"]:
        erlang = report["erlang_c"]
        click.echo(
            f"Erlang C: mean wait {_cell(erlang['wait_mean'])} min, utilization {erlang['utilization']:.1%} "
            f"(simulated/predicted - 1: {_cell(erlang['relative_difference']['wait_mean'], '{:+.2%}')})"
        )
    elif options["service_mean"] is not None and options["arrival_rate"] is not None:
        click.echo("note: not an M/M/c run, so no Erlang C beside it (see docs/windows.md: --windows, --no-abandon)")
    if report["per_hour"]:
        table = Table("时段 hour", "窗口 windows", "到达 arrived", "未排队离开 balked", "排队中离开 reneged",
                      "等候中位数 wait p50 (min)", "等候 p90 wait p90 (min)", "达标 within",
                      "利用率 utilization", "最长队列 queue max",
                      title="按时段（人数为每个模拟日的平均）per hour (counts: means per simulated day)")
        for row in report["per_hour"]:
            table.add_row(
                row["hour"], str(row["windows"]), _cell(row["arrived"], "{:.1f}"), _cell(row["balked"], "{:.1f}"),
                _cell(row["reneged"], "{:.1f}"), _cell(row["wait_p50"]),
                _cell(row["wait_p90"]), _cell(row["within_target"], "{:.1%}"), _cell(row["utilization"], "{:.0%}"),
                str(row["queue_max"]),
            )
        new_console().print(table)
    click.echo(f"wrote {', '.join(str(path) for path, _ in outputs)}")


@click.group(cls=BadInputGroup)
def plan() -> None:
    """Plan capacity: how many cashier windows to open each hour."""


@plan.command("windows")
@_scenario_options
@click.option("--new-share", type=click.FloatRange(0, 1), help="Share of windows staffed by new cashiers [default: the scenario's].")
@click.option("--max-windows", type=click.IntRange(min=1), default=200, show_default=True, help="Most windows in an hour.")
@click.option("--compare", is_flag=True, help="Also plan with/without card settlement, trained/new cashiers.")
@click.option("--write-scenario", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the scenario with the planned staffing (YAML), to simulate it.")
@_bad_input
def plan_windows_command(**options: Any) -> None:
    """The fewest windows per hour meeting the wait target in every hour, by simulation.

    Exit 0 when the plan meets the target in every hour; 1 when it does not in some hour
    (within --max-windows) — the plan is written all the same; 2 for bad input.

    \b
    Examples:
      cardsettle plan windows --json plan.json --plot plan.png
      cardsettle plan windows --scenario my_hospital.yaml --target-wait 15 --target-share 0.8 \\
          --compare --json plan.json --plot plan.png --write-scenario planned.yaml
    """
    scenario = _scenario(options)
    seed, replications, workers = options["seed"], options["replications"], options["workers"]
    if replications < MIN_REPLICATIONS:
        click.echo(f"warning: -r {replications} is below {MIN_REPLICATIONS}: the hours' confidence intervals are "
                   "wide or unreliable, re-check the plan with more replications and another seed", err=True)
    with _progress(options["quiet"], "planning") as progress:
        task = progress.add_task("planning", total=None)

        def on_progress(text: str) -> None:
            progress.update(task, description=text)

        result = plan_windows(
            scenario, seed=seed, replications=replications, new_share=options["new_share"],
            max_windows=options["max_windows"], workers=workers, on_progress=on_progress,
        )
        comparison = None
        if options["compare"]:
            plans = compare_plans(
                scenario, seed=seed, replications=replications, workers=workers,
                max_windows=options["max_windows"], on_progress=on_progress,
            )
            comparison = comparison_data(plans)
    planned = result.as_data()
    document = {
        "model": "cardsettle window plan", "format": 1, "scenario": scenario.name,
        "seed": seed, "replications": replications, "plan": planned, "comparison": comparison,
    }
    outputs = [(options["json_out"], _json(document)),
               *_plots(options["plot_out"], lambda: plan_figure(
                   planned, comparison, scenario.name, days=replications, seed=seed))]
    if options["write_scenario"] is not None:
        text = dump_scenario(_with_csv_path(dict(result.scenario.data), _latency_file(options, scenario),
                                            options["write_scenario"]))
        outputs.append((options["write_scenario"], text.encode("utf-8")))
    _write_all(outputs)
    if not options["quiet"]:
        _show_plan(planned, comparison, scenario, outputs)
    if not planned["met"]:
        raise SystemExit(1)  # the plan is written; an hour misses the target (docs/windows.md)


def _show_plan(planned: dict[str, Any], comparison: dict[str, Any] | None, scenario: Scenario,
               outputs: Sequence[tuple[Path, bytes]]) -> None:
    """The plan on the terminal: per hour, whether the target is met, the comparison."""
    table = Table("时段 hour", "到达 arrived", "窗口 windows", "Erlang C 估算 Erlang C", "达标 within target",
                  "95% 区间 95% CI", "达标 met", "等候 p90 wait p90 (min)", "利用率 utilization",
                  title=f"窗口方案 window plan: {scenario.target.share:.0%} 等候 wait ≤ "
                        f"{scenario.target.wait_minutes:g} 分钟 min")
    for row in planned["hours"]:
        ci = row.get("within_target_ci95")
        table.add_row(row["hour"], _cell(row["arrived"], "{:.1f}"), str(row["windows"]), str(row["erlang_c_windows"]),
                      _cell(row["within_target"], "{:.1%}"), f"[{ci[0]:.1%}, {ci[1]:.1%}]" if ci else "-",
                      "是 yes" if row.get("met", True) else "否 NO",
                      _cell(row["wait_p90"]), _cell(row["utilization"], "{:.0%}"))
    new_console().print(table)
    status = ("met in every hour (the lower bound of each hour's 95% CI)" if planned["met"]
              else f"NOT met in {', '.join(planned['unmet_hours'])} (lower bound of the 95% CI)")
    click.echo(f"{planned['window_hours']} window-hours (Erlang C guess {planned['erlang_c_window_hours']}); target {status}")
    if comparison:
        names = [name for name, *_ in VARIANTS]
        compare_table = Table("时段 hour", *(comparison["variants"][name]["label"] for name in names),
                              title="所需窗口 windows needed")
        for row in comparison["hours"]:
            compare_table.add_row(row["hour"], *(str(row[name]) for name in names))
        compare_table.add_row("窗口·小时 window-hours",
                              *(str(comparison["variants"][name]["window_hours"]) for name in names))
        new_console().print(compare_table)
        adds = comparison["card_settlement_adds_window_hours"]
        saves = comparison["training_saves_window_hours"]
        click.echo(
            f"card settlement adds {adds['trained']} window-hours a day with trained cashiers, {adds['new']} with new; "
            f"training saves {saves['with_card']} with card settlement"
        )
    click.echo(f"wrote {', '.join(str(path) for path, _ in outputs)}")
