"""The cashier-window model: a SimPy simulation of the outpatient cashier hall (issue 7).

Feed it a scenario (hourly arrivals, patient kinds, step times, insurer latency, staffing,
faults) and it gives waits, queues, utilization and per-hour tables; :mod:`simulator.capacity`
plans windows on top of it. Pictures are in :mod:`simulator.windows.plots` (imported on its
own: it loads matplotlib). See docs/windows.md and docs/adr/0010-window-model.md.

    scenario = load_scenario("my_hospital.yaml")
    report = summarize(scenario, run_replications(scenario, seed=1, replications=20), seed=1)
"""

from simulator.windows.errors import LatencyFileError, ScenarioError
from simulator.windows.model import DayRecord, simulate_day
from simulator.windows.reduce import DaySummary
from simulator.windows.results import summarize
from simulator.windows.runs import run_replications
from simulator.windows.scenario import Scenario, Target, load_scenario
from simulator.windows.service import load_latency_csv

__all__ = [
    "DayRecord",
    "DaySummary",
    "LatencyFileError",
    "Scenario",
    "ScenarioError",
    "Target",
    "load_latency_csv",
    "load_scenario",
    "run_replications",
    "simulate_day",
    "summarize",
]
