"""The locust side of the load tests, shared by both locustfiles: the one
:class:`~locust.LoadTestShape` (:class:`LoadShape`, running the plan of
:mod:`loadtests.shapes` the options choose), the custom command-line arguments, and the pacing
wait time. Imported only by locustfiles: importing locust monkey-patches the process (gevent).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from locust import LoadTestShape
from locust.env import Environment
from locust.html import get_html_report
from locust.runners import WorkerRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

from loadtests.shapes import (
    DAY_PROFILE,
    SHAPES,
    Plan,
    Tick,
    build_plan,
    option,
    settings_from_options,
)
from simulator.output import atomic_write

__all__ = ["LoadShape", "add_arguments", "final_stats", "pacing"]


def add_arguments(parser: Any) -> None:
    """Locust custom arguments (each defaults to its environment variable)."""
    env = os.environ.get
    group = parser.add_argument_group("cardsettle load shape")
    group.add_argument("--load-shape", choices=SHAPES,
                       default=env("CARDSETTLE_LOAD_SHAPE", "constant"),
                       help="constant, day, step or soak (env CARDSETTLE_LOAD_SHAPE)")
    group.add_argument("--load-duration", type=float,
                       default=float(env("CARDSETTLE_LOAD_DURATION", "60")),
                       help="seconds the shape runs (env CARDSETTLE_LOAD_DURATION)")
    group.add_argument("--pacing", type=float, default=float(env("CARDSETTLE_LOAD_PACING", "3")),
                       help="seconds between visit starts of one window (env "
                            "CARDSETTLE_LOAD_PACING)")
    group.add_argument("--peak-rate", type=float,
                       default=_optional_float(env("CARDSETTLE_LOAD_PEAK_RATE")),
                       help="day: visits/s of the peak hour (env CARDSETTLE_LOAD_PEAK_RATE)")
    group.add_argument("--steps", type=int, default=int(env("CARDSETTLE_LOAD_STEPS", "5")),
                       help="step: number of steps (env CARDSETTLE_LOAD_STEPS)")
    group.add_argument("--day-profile", default=env("CARDSETTLE_LOAD_DAY_PROFILE",
                                                    str(DAY_PROFILE)),
                       help="day: the arrivals-per-hour YAML")


def _optional_float(value: str | None) -> float | None:
    return float(value) if value else None


class LoadShape(LoadTestShape):
    """The locust shape of both locustfiles: runs the plan the options choose."""

    use_common_options = True

    def __init__(self) -> None:
        super().__init__()
        self._plan: Plan | None = None

    def tick(self) -> Tick:
        if self._plan is None:
            options = self.runner.environment.parsed_options if self.runner else None
            self._plan = build_plan(*settings_from_options(options))
        return self._plan.tick_at(self.get_run_time())


def pacing() -> Callable[[Any], float]:
    """A locust ``wait_time``: each window starts a visit every ``--pacing`` seconds (the
    wait is what is left of the pacing after the visit; 0 if the visit took longer).
    Monotonic wall-clock seconds."""

    def wait_time(user: Any) -> float:
        options = getattr(user.environment, "parsed_options", None)
        period = float(option(options, "pacing",
                               os.environ.get("CARDSETTLE_LOAD_PACING", "3")))
        now = time.monotonic()
        started = getattr(user, "_pacing_started", None)
        wait = 0.0 if started is None else max(0.0, period - (now - started))
        user._pacing_started = now + wait
        return wait

    return wait_time


def final_stats(environment: Environment) -> None:
    """Rewrite ``<csv prefix>_stats.csv``, ``_failures.csv`` and the HTML report with locust's
    final numbers when it quits (a master or a standalone process).

    Locust writes its CSVs from a greenlet once a second and, at the end, only closes them: the
    last write may predate the last seconds of the run — or, under overload, many more
    (the greenlet starves) — so the file the SLA is judged on could lack whole request names
    that locust's own final table and HTML report show. The ``quit`` event fires after the
    users were stopped, before locust closes its files; each file is written whole and renamed
    into place."""

    def write(**_: Any) -> None:
        if environment.runner is None or isinstance(environment.runner, WorkerRunner):
            return
        options = environment.parsed_options
        try:
            prefix = getattr(options, "csv_prefix", None)
            if prefix:
                stats = StatsCSV(environment, PERCENTILES_TO_REPORT)
                for suffix, rows in (("_stats.csv", stats.requests_csv),
                                     ("_failures.csv", stats.failures_csv)):
                    text = io.StringIO(newline="")
                    rows(csv.writer(text))
                    atomic_write(f"{prefix}{suffix}", text.getvalue())
            html_file = getattr(options, "html_file", None)
            if html_file:
                atomic_write(html_file, get_html_report(environment, show_download_link=False))
        except Exception:  # never lose locust's own exit for a report that could not be rewritten
            logging.getLogger(__name__).exception("could not write the final statistics")

    environment.events.quit.add_listener(write)
