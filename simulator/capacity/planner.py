"""The window planner: the fewest windows per hour that meet the wait target, by simulation.

The target is the scenario's (e.g. 90% of patients wait at most 10 minutes). It must hold for
the patients arriving in **every** hour of the day, not only on the day's average: a plan
that is fine at 15:00 and bad at 09:00 is a bad plan.

Method (an iterative, simulation-based staffing search, cf. Feldman, Mandelbaum, Massey &
Whitt, "Staffing of time-varying queues to achieve time-stable performance", Management
Science 54(2), 2008):

1. Start from Erlang C per hour: the fewest windows with P(wait <= target) >= share for that
   hour's arrival rate and the scenario's mean service time (a steady-state guess).
2. Simulate the day (``replications`` days, the same seeds for every candidate plan, so plans
   are compared on the same patients). An hour **meets** the target when the lower bound of
   the 95% confidence interval of its share within the target does: Student's t over the
   per-replication shares of the hour's patients (:func:`hour_intervals`; with one
   replication, the share itself). So a plan that barely makes the target on these days, and
   would miss it on others, is not accepted. Add a window to every hour that misses it;
   repeat until no hour misses it. An hour that three more windows in a row do not improve
   (an outage, say, that no number of windows cures) is left as it is and reported.
3. Then take windows away, hour by hour (busiest first), keeping each removal only if every
   hour still meets the target.

Hours after the last arrival hour are not planned: the last hour's windows stay open until the
queue is empty (overtime), as in the model.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from simulator.capacity.erlang import windows_for_target
from simulator.errors import InvalidArgumentError
from simulator.windows.reduce import DaySummary
from simulator.windows.results import summarize
from simulator.windows.runs import default_workers, run_replications, worker_pool
from simulator.windows.scenario import Scenario
from simulator.windows.stats import mean_ci

__all__ = ["CRITERION", "MIN_REPLICATIONS", "Plan", "hour_intervals", "hour_shares", "plan_windows", "staffed"]

#: Raises of one hour in a row that may fail to improve it before it is given up on.
_PATIENCE = 3

#: Fewer replications than this make the hours' intervals wide or unreliable (a warning).
MIN_REPLICATIONS = 20

#: What "met" means, as written in plan.json.
CRITERION = (
    "an hour meets the target when the lower bound of the 95% confidence interval (Student's t over "
    "the per-replication shares of the hour's patients served within the target wait, clipped to "
    "[0, 1]) is at least the target share"
)


@dataclass(frozen=True)
class Plan:
    """A window plan: ``windows[hour]``, the Erlang-C starting point, whether every hour meets
    the target, the hours that cannot, and the report of the plan's own simulation."""

    scenario: Scenario
    windows: dict[int, int]
    erlang: dict[int, int]
    new_share: float
    met: bool
    unmet_hours: tuple[int, ...]
    evaluations: int
    report: dict[str, Any] = field(repr=False)
    intervals: dict[int, tuple[float, float, float]] = field(default_factory=dict, repr=False)

    @property
    def window_hours(self) -> int:
        return sum(self.windows.values())

    def as_data(self) -> dict[str, Any]:
        """JSON-ready: per hour the plan, Erlang C's guess and the simulated figures."""
        rows = {row["hour"][:2]: row for row in self.report["per_hour"] or []}
        hours = []
        for hour, windows in sorted(self.windows.items()):
            row = rows.get(f"{hour:02d}", {})
            interval = self.intervals.get(hour)
            hours.append({
                "hour": f"{hour:02d}:00",
                "windows": windows,
                "new_cashiers": round(windows * self.new_share),
                "erlang_c_windows": self.erlang.get(hour),
                "arrived": row.get("arrived"),
                "within_target": row.get("within_target"),
                "within_target_ci95": [round(interval[1], 4), round(interval[2], 4)] if interval else None,
                "met": hour not in self.unmet_hours,
                "wait_p90": row.get("wait_p90"),
                "utilization": row.get("utilization"),
                "queue_max": row.get("queue_max"),
            })
        return {
            "target": {"wait_minutes": self.scenario.target.wait_minutes, "share": self.scenario.target.share},
            "card_settlement": self.scenario.card_settlement,
            "new_share": self.new_share,
            "met": self.met,
            "criterion": CRITERION,
            "unmet_hours": [f"{hour:02d}:00" for hour in self.unmet_hours],
            "window_hours": self.window_hours,
            "erlang_c_window_hours": sum(self.erlang.values()),
            "evaluations": self.evaluations,
            "hours": hours,
            "within_target": self.report["within_target"],
            "wait_minutes": self.report["wait_minutes"],
            "utilization": self.report["utilization"],
        }


def staffed(scenario: Scenario, windows: dict[int, int], new_share: float) -> Scenario:
    """``scenario`` with ``windows`` per hour, ``new_share`` of them staffed by new cashiers."""
    return scenario.with_staffing(scenario.staffing.replace_hours(windows, new_share))


def hour_shares(days: list[DaySummary], hours: list[int]) -> dict[int, float]:
    """The share of patients arriving in each hour who were served within the target (pooled
    over the replications; 1.0 for an hour nobody arrived in)."""
    shares = {}
    for hour in hours:
        arrived = within = 0
        for day in days:
            row = day.hours.get(hour)
            if row is not None:
                arrived += sum(row.counts)
                within += row.within
        shares[hour] = within / arrived if arrived else 1.0
    return shares


def hour_intervals(days: list[DaySummary], hours: list[int]) -> dict[int, tuple[float, float, float]]:
    """Per hour (share within the target, lower bound, upper bound): the share pooled over the
    replications (as in the report), and the 95% interval of the mean of the per-replication
    shares by Student's t, clipped to [0, 1]. Replications in which nobody arrived in the hour
    are left out of the interval; with fewer than two left, the bounds are the share itself;
    an hour nobody arrived in is (1, 1, 1)."""
    pooled = hour_shares(days, hours)
    result = {}
    for hour in hours:
        per_day = []
        for day in days:
            row = day.hours.get(hour)
            arrived = sum(row.counts) if row is not None else 0
            if row is not None and arrived:
                per_day.append(row.within / arrived)
        share = pooled[hour]
        _, low, high = mean_ci(per_day) if len(per_day) >= 2 else (share, share, share)
        result[hour] = (share, min(1.0, max(0.0, low)), min(1.0, max(0.0, high)))
    return result


def plan_windows(
    scenario: Scenario,
    *,
    seed: int,
    replications: int,
    new_share: float | None = None,
    max_windows: int = 200,
    workers: int | None = None,
    on_progress: Callable[[str], None] | None = None,
    pool: Executor | None = None,
) -> Plan:
    """Plan the fewest windows per arrival hour meeting ``scenario.target`` (see the module
    docstring). ``new_share``: the share of windows new cashiers staff (default: the
    scenario's staffing's). ``on_progress`` gets a line of text after each evaluation."""
    if replications < 1:
        raise InvalidArgumentError(f"replications must be >= 1, got {replications}")
    if max_windows < 1:
        raise InvalidArgumentError(f"max windows must be >= 1, got {max_windows}")
    share = scenario.staffing.new_share if new_share is None else new_share
    if not 0.0 <= share <= 1.0:
        raise InvalidArgumentError(f"new cashiers' share must be between 0 and 1, got {share}")
    target = scenario.target
    hours = list(scenario.arrivals.hours)
    if len(hours) > 48:
        raise InvalidArgumentError("the planner plans a day (at most 48 arrival hours); this run is longer")
    skill = (1 - share) * scenario.staffing.skill_trained + share * scenario.staffing.skill_new
    mu = 1.0 / scenario.mean_service(skill)
    erlang = {}
    for hour, expected in zip(hours, scenario.arrivals.per_hour, strict=True):
        guess = windows_for_target(expected / 60.0, mu, target.wait_minutes, target.share) if expected > 0 else 0
        erlang[hour] = min(max_windows, max(1 if expected > 0 else 0, guess))
    evaluations = 0

    own = None
    if pool is None and replications > 1 and (workers or default_workers()) > 1:
        own = pool = worker_pool(min(workers or default_workers(), replications))
    try:
        def evaluate(windows: dict[int, int]) -> tuple[dict[int, float], list[DaySummary]]:
            """Per hour the lower bound of the share's interval (what must meet the target)."""
            nonlocal evaluations
            evaluations += 1
            days = run_replications(staffed(scenario, windows, share), seed, replications, workers=workers, pool=pool)
            shares = {hour: low for hour, (_, low, _) in hour_intervals(days, hours).items()}
            if on_progress is not None:
                worst = min(shares.values()) if shares else 1.0
                on_progress(
                    f"evaluation {evaluations}: {sum(windows.values())} window-hours, worst hour {worst:.1%} (CI low)"
                )
            return shares, days

        def ok(shares: dict[int, float], hour: int) -> bool:
            return shares[hour] >= target.share

        windows = dict(erlang)
        shares, days = evaluate(windows)
        stuck: dict[int, int] = dict.fromkeys(hours, 0)
        given_up: set[int] = set()
        while True:
            failing = [h for h in hours if not ok(shares, h) and h not in given_up and windows[h] < max_windows]
            if not failing:
                break
            before = dict(shares)
            for hour in failing:
                windows[hour] += 1
            shares, days = evaluate(windows)
            for hour in failing:
                stuck[hour] = stuck[hour] + 1 if shares[hour] <= before[hour] + 1e-3 else 0
                if stuck[hour] >= _PATIENCE:
                    given_up.add(hour)
                    windows[hour] -= _PATIENCE  # the raises that did nothing
            if given_up:
                shares, days = evaluate(windows)
                given_up = {h for h in given_up if not ok(shares, h)}

        def all_ok(candidate: dict[int, float]) -> bool:
            return all(ok(candidate, h) or h in given_up for h in hours)

        if all_ok(shares):
            for hour in sorted(hours, key=lambda h: (-windows[h], h)):
                while windows[hour] > (1 if scenario.arrivals.per_hour[hours.index(hour)] > 0 else 0):
                    windows[hour] -= 1
                    trial, trial_days = evaluate(windows)
                    if all_ok(trial):
                        shares, days = trial, trial_days
                        continue
                    windows[hour] += 1
                    break
    finally:
        if own is not None:
            own.shutdown()
    final = staffed(scenario, windows, share)
    unmet = tuple(h for h in hours if not ok(shares, h))
    report = summarize(final, days, seed)
    return Plan(final, windows, erlang, share, not unmet, unmet, evaluations, report, hour_intervals(days, hours))
