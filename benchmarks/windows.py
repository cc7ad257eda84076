"""Benchmark of the cashier-window model (issue 7, "Speed").

Prints, in one run:
- patients simulated per second by the full-day model (the default day scaled to a hospital
  of 10,000 window visits a day: six patient kinds, eight steps with insurer round trips,
  staffing changes every hour, new cashiers, balking and reneging), in this process;
- the same for a minimal SimPy M/M/c loop (a process per customer and a ``simpy.Resource``,
  the textbook program) at utilization 0.9, in this process; and the ratio of the two
  (goal: >= 0.8);
- a year of that hospital: 365 simulated days as replications in worker processes, with the
  report (goal: <= 60 s).

Nothing is written to disk.

    python benchmarks/windows.py                 # the full run (about a minute on 2 cores)
    python benchmarks/windows.py --days 30       # a quick look
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import sys
import time
from pathlib import Path

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.windows.model import simulate_day
from simulator.windows.results import summarize
from simulator.windows.runs import default_workers, run_replications
from simulator.windows.scenario import Scenario, default_data, load_scenario


def hospital(visits: int) -> Scenario:
    """The default day scaled to ``visits`` window visits, with windows scaled alike."""
    data = default_data()
    factor = visits / sum(float(v) for v in data["arrivals"]["per_hour"].values())
    hours = {}
    for hour, row in data["staffing"]["hours"].items():
        windows, new = (row["windows"], row.get("new", 0)) if isinstance(row, dict) else (row, 0)
        hours[hour] = {"windows": math.ceil(windows * factor), "new": math.ceil(new * factor)}
    return load_scenario(overrides={
        "name": f"default day scaled to {visits:,} visits",
        "arrivals": {"scale": factor},
        "staffing": {"hours": hours},
    })


def full_day_rate(scenario: Scenario, seconds: float) -> tuple[float, int]:
    """Patients per second of :func:`simulate_day` in this process (at least ``seconds``)."""
    patients, started, day = 0, time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        patients += len(simulate_day(scenario, 1, day).arrival)
        day += 1
    return patients / (time.perf_counter() - started), patients


def minimal_mmc_rate(customers: int, windows: int = 5, rho: float = 0.9, mean: float = 3.0) -> float:
    """Customers per second of the textbook SimPy M/M/c program."""
    rng = random.Random(1)
    env = simpy.Environment()
    counter = simpy.Resource(env, capacity=windows)
    waits: list[float] = []
    lam, mu = rho * windows / mean, 1 / mean

    def customer(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        arrived = env.now
        with counter.request() as request:
            yield request
            waits.append(env.now - arrived)
            yield env.timeout(rng.expovariate(mu))

    def source(env: simpy.Environment) -> simpy.events.ProcessGenerator:
        for _ in range(customers):
            yield env.timeout(rng.expovariate(lam))
            env.process(customer(env))

    env.process(source(env))
    started = time.perf_counter()
    env.run()
    return customers / (time.perf_counter() - started)


def year(scenario: Scenario, days: int, workers: int) -> dict[str, float]:
    started = time.perf_counter()
    summaries = run_replications(scenario, 2026, days, workers=workers)
    simulated = time.perf_counter() - started
    report = summarize(scenario, summaries, 2026)
    total = time.perf_counter() - started
    patients = report["counts"]["arrived"]
    return {
        "days": days, "patients": patients, "simulate_s": round(simulated, 2), "total_s": round(total, 2),
        "patients_per_s": round(patients / total), "mean_wait_min": report["wait_minutes"]["mean"],
        "within_target": report["within_target"]["share"], "utilization": report["utilization"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visits", type=int, default=10_000, help="window visits per day")
    parser.add_argument("--days", type=int, default=365, help="days of the year run")
    parser.add_argument("--workers", type=int, default=default_workers(), help="worker processes of the year run")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each rate measurement")
    args = parser.parse_args()

    scenario = hospital(args.visits)
    # The machine may be shared: measure the two alternately, three times, and keep each one's best.
    full = minimal = 0.0
    for _ in range(3):
        rate, _ = full_day_rate(scenario, args.seconds)
        full = max(full, rate)
        minimal = max(minimal, minimal_mmc_rate(max(50_000, int(rate * args.seconds))))
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, simpy {simpy.__version__}",
        "full_day_patients_per_s": round(full),
        "minimal_mmc_customers_per_s": round(minimal),
        "ratio": round(full / minimal, 2),
        "ratio_goal": 0.8,
        "year": year(scenario, args.days, args.workers),
        "year_goal_s": 60,
        "workers": args.workers,
        "load_average": os.getloadavg(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
