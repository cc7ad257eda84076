"""One replication reduced to what the report needs (done in the worker that ran it).

A :class:`DaySummary` holds counts, sums, the sorted waits (for pooled percentiles), the
per-hour rows of a day run, the queue-length and busy-window series, and the Little's-law
integrals. Summaries of many replications are merged by :mod:`results`. Times are simulated
minutes; patients arriving before the scenario's warm-up are left out of everything but the
Little's-law figures.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

from simulator.windows.model import (
    BALKED,
    FLAG_LATER_CLAIM,
    FLAG_REFERRED,
    OUTCOMES,
    SERVED,
    DayRecord,
)
from simulator.windows.scenario import Scenario
from simulator.windows.staffing import Staffing
from simulator.windows.stats import batch_means

__all__ = ["DaySummary", "HourRow", "KindRow", "daily_span", "open_minutes", "reduce_day", "series_step"]

#: Runs whose arrivals span at most this many minutes get per-hour tables and 5-minute bins.
DAY_SPAN_MINUTES = 48 * 60


@dataclass(slots=True)
class HourRow:
    """Patients arriving in one hour: counts by outcome code, served within the target, and
    the served patients' waits (sorted)."""

    counts: list[int] = field(default_factory=lambda: [0] * len(OUTCOMES))
    within: int = 0
    waits: list[float] = field(default_factory=list)


@dataclass(slots=True)
class KindRow:
    arrived: int = 0
    served: int = 0
    later_claims: int = 0
    referred: int = 0
    wait_sum: float = 0.0
    service_sum: float = 0.0


@dataclass(slots=True)
class DaySummary:
    """One replication, reduced. Bin ``i`` of the series covers
    ``[origin + i*step, origin + (i+1)*step)``: mean queue length and mean busy windows."""

    replication: int
    end: float
    origin: float
    step: float
    counts: list[int]
    later_claims: int
    referred: int
    kinds: list[KindRow]
    waits: array
    services: array
    sojourns: array
    wait_batches: list[float]
    within: int
    busy_minutes: float
    open_minutes: float
    hours: dict[int, HourRow]
    max_queue: dict[int, int]
    overruns: list[tuple[float, float]]
    queue: list[float]
    busy: list[float]
    queue_area: float
    span: float
    everyone: int
    everyone_queue_minutes: float
    everyone_service_minutes: float

    @property
    def arrived(self) -> int:
        return sum(self.counts)


def daily_span(scenario: Scenario) -> bool:
    """True when the run is a day (per-hour tables), False for a long horizon."""
    return scenario.arrivals.end - 60.0 * min(scenario.arrivals.first_hour, scenario.staffing.first_hour) <= DAY_SPAN_MINUTES


def series_step(scenario: Scenario) -> tuple[float, float]:
    """(origin, step) of the time series: 5-minute bins over a day, coarser whole-minute bins
    (about 500) over a long run; the origin is the first staffed or arrival hour."""
    origin = 60.0 * min(scenario.arrivals.first_hour, scenario.staffing.first_hour)
    if daily_span(scenario):
        return origin, 5.0
    return origin, float(max(5, math.ceil((scenario.arrivals.end - origin) / 500)))


def open_minutes(
    staffing: Staffing, start: float, end: float, overruns: list[tuple[float, float]] | None = None
) -> float:
    """Open window-minutes in [start, end): the schedule's hours, then the last hour's
    windows (overtime) until ``end``, plus the ``overruns`` (a window closing at the hour
    stays open until its cashier has finished the patient)."""
    if not staffing.windows or end <= start:
        return 0.0
    total = 0.0
    for a, b in overruns or ():
        total += max(0.0, min(end, b) - max(start, a))
    for i, windows in enumerate(staffing.windows):
        a = 60.0 * (staffing.first_hour + i)
        total += windows * max(0.0, min(end, a + 60.0) - max(start, a))
    tail = 60.0 * (staffing.last_hour + 1)
    total += staffing.windows[-1] * max(0.0, end - max(start, tail))
    return total


def _add(bins: list[float], origin: float, step: float, a: float, b: float) -> None:
    """Add the time the interval [a, b) spends in each bin."""
    i = int((a - origin) // step)
    j = int((b - origin) // step)
    if j >= len(bins):
        bins.extend([0.0] * (j + 1 - len(bins)))
    if i == j:
        bins[i] += b - a
        return
    bins[i] += origin + (i + 1) * step - a
    for k in range(i + 1, j):
        bins[k] += step
    bins[j] += b - (origin + j * step)


def reduce_day(record: DayRecord, scenario: Scenario) -> DaySummary:
    """Reduce one replication's record (see the module docstring)."""
    origin, step = series_step(scenario)
    warmup = scenario.warmup
    wait_target = scenario.target.wait_minutes
    daily = daily_span(scenario)
    nbins = int((record.end - origin) // step) + 1
    queue = [0.0] * nbins
    busy = [0.0] * nbins
    counts = [0] * len(OUTCOMES)
    kinds = [KindRow() for _ in scenario.kinds]
    hours: dict[int, HourRow] = {}
    waits: list[float] = []
    services: list[float] = []
    later = referred = within = 0
    for arrival, waited, served, kind, outcome, flags in zip(
        record.arrival, record.wait, record.service, record.kind, record.outcome, record.flags, strict=True
    ):
        if outcome == BALKED:
            if arrival >= warmup:
                counts[BALKED] += 1
                kinds[kind].arrived += 1
                if daily:
                    hour = int(arrival // 60)
                    row = hours.get(hour) or hours.setdefault(hour, HourRow())
                    row.counts[BALKED] += 1
            continue
        called = arrival + waited
        if waited > 0:
            _add(queue, origin, step, arrival, called)
        if served > 0:
            _add(busy, origin, step, called, called + served)
        if arrival < warmup:
            continue
        counts[outcome] += 1
        kind_row = kinds[kind]
        kind_row.arrived += 1
        if flags:
            if flags & FLAG_LATER_CLAIM:
                later += 1
                kind_row.later_claims += 1
            if flags & FLAG_REFERRED and outcome == SERVED:
                referred += 1
                kind_row.referred += 1
        hour_row: HourRow | None = None
        if daily:
            hour = int(arrival // 60)
            hour_row = hours.get(hour) or hours.setdefault(hour, HourRow())
            hour_row.counts[outcome] += 1
        if outcome != SERVED:
            continue
        kind_row.served += 1
        kind_row.wait_sum += waited
        kind_row.service_sum += served
        waits.append(waited)
        services.append(served)
        if waited <= wait_target:
            within += 1
            if hour_row is not None:
                hour_row.within += 1
        if hour_row is not None:
            hour_row.waits.append(waited)
    length = max(len(queue), len(busy))
    queue.extend([0.0] * (length - len(queue)))
    busy.extend([0.0] * (length - len(busy)))
    batches = batch_means(waits)
    sojourns = sorted(w + s for w, s in zip(waits, services, strict=True))
    for row in hours.values():
        row.waits.sort()
    return DaySummary(
        replication=record.replication,
        end=record.end,
        origin=origin,
        step=step,
        counts=counts,
        later_claims=later,
        referred=referred,
        kinds=kinds,
        waits=array("d", sorted(waits)),
        services=array("d", sorted(services)),
        sojourns=array("d", sojourns),
        wait_batches=batches,
        within=within,
        busy_minutes=math.fsum(services),
        open_minutes=open_minutes(scenario.staffing, max(warmup, origin), record.end, record.overruns),
        hours=hours,
        max_queue=dict(record.max_queue),
        overruns=list(record.overruns),
        queue=[q / step for q in queue],
        busy=[b / step for b in busy],
        queue_area=record.queue_area,
        span=record.end - origin,
        everyone=len(record.arrival),
        everyone_queue_minutes=math.fsum(record.wait),
        everyone_service_minutes=math.fsum(record.service),
    )
