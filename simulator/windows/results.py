"""From replications to the report: waits, queues, utilization, per-hour tables, Little's law.

All times in the report are simulated **minutes**; counts per hour are means per replication
(per simulated day); percentiles pool the patients of every replication. Patients who arrive
before the scenario's warm-up are left out of every figure except Little's law, which is
checked on the whole run.

Definitions:

- *wait*: from arrival until a window calls the patient (served patients);
- *within target*: the share of all arriving patients who were served after waiting at most
  the target (a patient who balked, reneged or was never served does not count as within);
- *utilization*: busy window-minutes / open window-minutes (overtime included);
- *Little's law* (queue): the time-average queue length L equals the arrival rate lambda times
  the mean time in queue W (over every patient, balks as 0); the model keeps the queue-length
  integral itself, so ``relative_error`` checks its bookkeeping. The same for the whole system
  (queue + service).
- *confidence intervals* (95%): Student's t over the replications' means, or, for a single
  replication (one long run), over 20 batch means of its patients in arrival order.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from typing import Any

from simulator.windows.model import OUTCOMES
from simulator.windows.reduce import DaySummary, daily_span, open_minutes
from simulator.windows.scenario import Scenario
from simulator.windows.stats import mean_ci, percentile

__all__ = ["FORMAT_VERSION", "PERCENTILES", "summarize"]

FORMAT_VERSION = 1
#: Percentiles reported for every wait.
PERCENTILES = (0.5, 0.75, 0.9, 0.95, 0.99)


def _r(value: float | None, places: int = 4) -> float | None:
    """A float for JSON: rounded, NaN as null."""
    if value is None or math.isnan(value):
        return None
    return round(value, places) + 0.0


def _pcts(ordered: Sequence[float]) -> dict[str, float | None]:
    return {f"p{round(q * 100)}": _r(percentile(ordered, q)) for q in PERCENTILES}


def _pooled(arrays: Sequence[array]) -> list[float]:
    """The sorted union of sorted arrays (timsort merges the sorted runs quickly)."""
    merged: list[float] = []
    for values in arrays:
        merged.extend(values)
    merged.sort()
    return merged


def _plain(value: Any) -> Any:
    """Scenario data as JSON-ready data (mapping keys as text: YAML may give ``7: 120``)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan


def _littles(days: Sequence[DaySummary]) -> dict[str, Any]:
    span = sum(day.span for day in days)
    count = sum(day.everyone for day in days)
    if span <= 0 or count == 0:
        return {"queue": None, "system": None}
    area = math.fsum(day.queue_area for day in days)
    in_queue = math.fsum(day.everyone_queue_minutes for day in days)
    in_service = math.fsum(day.everyone_service_minutes for day in days)
    rate = count / span
    result: dict[str, Any] = {}
    for name, integral, total in (("queue", area, in_queue), ("system", area + in_service, in_queue + in_service)):
        mean_number = integral / span
        mean_time = total / count
        product = rate * mean_time
        error = abs(mean_number - product) / product if product > 0 else 0.0
        result[name] = {
            "L": _r(mean_number, 6), "lambda_per_minute": _r(rate, 6), "W_minutes": _r(mean_time, 6),
            "lambda_W": _r(product, 6), "relative_error": _r(error, 9),
        }
    return result


def _ci(values: list[float]) -> tuple[float, float, float]:
    return mean_ci([v for v in values if not math.isnan(v)])


def summarize(scenario: Scenario, days: Sequence[DaySummary], seed: int) -> dict[str, Any]:
    """The report of a run as JSON-ready data (see docs/windows.md for every field)."""
    reps = len(days)
    target = scenario.target
    counts = [sum(day.counts[code] for day in days) for code in range(len(OUTCOMES))]
    arrived = sum(counts)
    later = sum(day.later_claims for day in days)
    referred = sum(day.referred for day in days)
    totals = {**dict(zip(OUTCOMES, counts, strict=True)), "arrived": arrived, "later_claims": later, "referred": referred}
    waits = _pooled([day.waits for day in days])
    services = _pooled([day.services for day in days])
    sojourns = _pooled([day.sojourns for day in days])
    if reps >= 2:
        mean, low, high = _ci([_mean(day.waits) for day in days])
        within, within_low, within_high = _ci([day.within / day.arrived if day.arrived else math.nan for day in days])
        method = f"Student t over {reps} replications"
    else:
        (day,) = days
        mean = _mean(waits)
        _, low, high = mean_ci(day.wait_batches)
        low, high = mean - (high - low) / 2, mean + (high - low) / 2
        within = day.within / day.arrived if day.arrived else math.nan
        within_low = within_high = math.nan
        method = f"Student t over {len(day.wait_batches)} batch means of one run"
    busy = math.fsum(day.busy_minutes for day in days)
    opened = math.fsum(day.open_minutes for day in days)
    report: dict[str, Any] = {
        "model": "cardsettle windows",
        "format": FORMAT_VERSION,
        "scenario": {
            "name": scenario.name,
            "card_settlement": scenario.card_settlement,
            "mmc": scenario.is_mmc,
            "mean_service_minutes_expected": _r(scenario.mean_service()),
            "effective": _plain(scenario.data),
        },
        "seed": seed,
        "replications": reps,
        "warmup_minutes": _r(scenario.warmup),
        "end_minute_mean": _r(math.fsum(day.end for day in days) / reps),
        "counts": totals,
        "counts_per_replication": {key: _r(value / reps, 2) for key, value in totals.items()},
        "wait_minutes": {
            "mean": _r(mean), "ci95": [_r(low), _r(high)], "ci_method": method,
            **_pcts(waits), "max": _r(waits[-1]) if waits else None,
        },
        "within_target": {
            "wait_minutes": target.wait_minutes, "target_share": target.share,
            "share": _r(within), "ci95": [_r(max(0.0, within_low)), _r(min(1.0, within_high))],
            "met": bool(not math.isnan(within) and within >= target.share),
        },
        "abandoned_share": _r((totals["balked"] + totals["reneged"]) / arrived) if arrived else None,
        "service_minutes": {"mean": _r(_mean(services)), **_pcts(services)},
        "time_in_system_minutes": {"mean": _r(_mean(sojourns)), **_pcts(sojourns)},
        "utilization": _r(busy / opened) if opened > 0 else None,
        "littles_law": _littles(days),
        "by_kind": _by_kind(scenario, days),
    }
    daily = daily_span(scenario)
    report["per_hour"] = _per_hour(scenario, days) if daily else None
    report["series"] = _series(scenario, days)
    if daily:
        closing = 60.0 * (scenario.staffing.last_hour + 1)
        report["overtime_minutes_mean"] = _r(math.fsum(max(0.0, day.end - closing) for day in days) / reps, 2)
    return report


def _by_kind(scenario: Scenario, days: Sequence[DaySummary]) -> dict[str, Any]:
    result = {}
    for i, kind in enumerate(scenario.kinds):
        rows = [day.kinds[i] for day in days]
        served = sum(row.served for row in rows)
        result[kind.name] = {
            "label": kind.label,
            "arrived": sum(row.arrived for row in rows),
            "served": served,
            "wait_mean": _r(math.fsum(row.wait_sum for row in rows) / served) if served else None,
            "service_mean": _r(math.fsum(row.service_sum for row in rows) / served) if served else None,
            "later_claims": sum(row.later_claims for row in rows),
            "referred": sum(row.referred for row in rows),
        }
    return result


def _per_hour(scenario: Scenario, days: Sequence[DaySummary]) -> list[dict[str, Any]]:
    reps = len(days)
    origin = days[0].origin
    last_end = max(day.end for day in days)
    first_hour = int(origin // 60)
    last_hour = max(first_hour, math.ceil(last_end / 60 - 1e-9) - 1, scenario.arrivals.hours[-1])
    table = []
    for hour in range(first_hour, last_hour + 1):
        start, end = 60.0 * hour, 60.0 * hour + 60.0
        busy = opened = area = 0.0
        max_queue = within = 0
        counts = [0] * len(OUTCOMES)
        waits: list[float] = []
        for day in days:
            i = int((start - day.origin) // day.step)
            j = int((end - day.origin) // day.step)
            busy += math.fsum(day.busy[i:j]) * day.step
            area += math.fsum(day.queue[i:j]) * day.step
            opened += open_minutes(scenario.staffing, start, min(end, day.end), day.overruns)
            max_queue = max(max_queue, day.max_queue.get(hour, 0))
            row = day.hours.get(hour)
            if row is not None:
                counts = [a + b for a, b in zip(counts, row.counts, strict=True)]
                within += row.within
                waits.extend(row.waits)
        waits.sort()
        arrived = sum(counts)
        windows, new = scenario.staffing.at_hour(hour)
        if opened == 0:
            windows = new = 0
        table.append({
            "hour": f"{hour:02d}:00",
            "windows": windows,
            "new_cashiers": new,
            "arrived": _r(arrived / reps, 2),
            **{name: _r(counts[code] / reps, 2) for code, name in enumerate(OUTCOMES)},
            "wait_mean": _r(_mean(waits)),
            "wait_p50": _r(percentile(waits, 0.5)),
            "wait_p90": _r(percentile(waits, 0.9)),
            "within_target": _r(within / arrived) if arrived else None,
            "utilization": _r(busy / opened) if opened > 0 else None,
            "queue_mean": _r(area / (60.0 * reps)),
            "queue_max": max_queue,
        })
    return table


def _series(scenario: Scenario, days: Sequence[DaySummary]) -> dict[str, Any]:
    origin, step = days[0].origin, days[0].step
    length = max(len(day.queue) for day in days)
    queue_mean, queue_p10, queue_p90, busy_mean, opened = [], [], [], [], []
    for i in range(length):
        queues = sorted(day.queue[i] if i < len(day.queue) else 0.0 for day in days)
        busies = [day.busy[i] if i < len(day.busy) else 0.0 for day in days]
        a = origin + i * step
        open_here = [open_minutes(scenario.staffing, a, min(a + step, day.end), day.overruns) / step for day in days]
        queue_mean.append(_r(_mean(queues), 3))
        queue_p10.append(_r(percentile(queues, 0.1), 3))
        queue_p90.append(_r(percentile(queues, 0.9), 3))
        busy_mean.append(_r(_mean(busies), 3))
        opened.append(_r(_mean(open_here), 3))
    return {
        "origin_minute": origin,
        "step_minutes": step,
        "queue_mean": queue_mean,
        "queue_p10": queue_p10,
        "queue_p90": queue_p90,
        "busy_mean": busy_mean,
        "open_mean": opened,
    }



