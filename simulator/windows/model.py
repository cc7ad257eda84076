"""The SimPy model of the outpatient cashier hall.

Processes are plain generators taking ``env`` (SimPy's own style, as in its ``bank_renege``
example), over a shared :class:`Hall`:

- :func:`arrivals` — patients arrive (times from :mod:`arrivals`); each patient's kind,
  patience and balking draw, step times and insurer latencies are taken at arrival, so a
  patient is the same whatever the staffing (common random numbers: two staffing plans see the
  same patients).

Random streams (all derived from the run's seed and the replication, :data:`STREAMS`): the
arrival times, the patients' kinds, their balking draws, their patience, the service (step
times and the insurer's base latencies) and the fallback steps each have their own stream.
So a fault, the staffing, or ``card_settlement`` (which change how many service draws a
patient takes) never move the arrivals or who the patients are: a day with and without a
drill, or with and without card settlement, has the same patients arriving at the same
minutes. A patient whose service no fault touches gets the same service time with and without
the faults (the same draws, summed the same way);
- :func:`window` — one cashier window: calls the next patient (one queue, a number-calling
  system), serves, repeats; sleeps while its window is closed;
- :func:`staffing` — opens and closes windows at the hours of the schedule.

Waiting is one first-come-first-served queue in front of all windows. A patient whose patience
runs out leaves the queue at that instant: the hall keeps the deadlines in a heap and settles
them (at their own times) before anything else happens, so reneging needs no timer event and
the queue length the next arrival sees is exact.

Time is simulated minutes since 00:00 of the simulated day. Nothing here reads the wall clock.
"""

from __future__ import annotations

import heapq
import math
import random
from array import array
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import simpy

from simulator.seeding import rng_for
from simulator.windows.arrivals import arrival_times
from simulator.windows.distributions import Distribution, LogNormal
from simulator.windows.kinds import KindPicker
from simulator.windows.scenario import Scenario
from simulator.windows.service import Step

#: The type of a SimPy process function's generator.
Process = Generator[simpy.Event, Any, None]

__all__ = [
    "FLAG_LATER_CLAIM",
    "FLAG_REFERRED",
    "OUTCOMES",
    "STREAMS",
    "DayRecord",
    "Hall",
    "Process",
    "arrivals",
    "simulate_day",
    "staffing",
    "window",
]

#: Outcome codes of a patient (index into this tuple).
OUTCOMES = ("served", "balked", "reneged", "unserved")
SERVED, BALKED, RENEGED, UNSERVED = range(4)
_WAITING = 9
#: Flag bits: switched to full self-pay by an insurer fault (a later claim); sent on to the
#: insurance desk (a refused card).
FLAG_LATER_CLAIM = 1
FLAG_REFERRED = 2

#: The names of a replication's random streams: ``rng_for(seed, "windows", replication, name)``.
STREAMS = ("arrivals", "kinds", "balking", "patience", "service", "fallback")


@dataclass(slots=True)
class DayRecord:
    """What one replication (one simulated day or one long run) produced.

    Per patient, in arrival order: arrival minute, minutes waited in the queue (until called,
    or until leaving; 0 for a balk), service minutes (0 if not served), kind index, outcome
    code and flags. ``overruns`` are the (start, end) minutes a window stayed open after its
    closing hour because its cashier was finishing a patient. ``queue_area`` is the integral of the queue length over time (patient-
    minutes), kept by the model itself (Little's law is checked against it); ``end`` is the
    minute of the run's last event.
    """

    replication: int
    arrival: array = field(default_factory=lambda: array("d"))
    wait: array = field(default_factory=lambda: array("d"))
    service: array = field(default_factory=lambda: array("d"))
    kind: array = field(default_factory=lambda: array("b"))
    outcome: array = field(default_factory=lambda: array("b"))
    flags: array = field(default_factory=lambda: array("b"))
    queue_area: float = 0.0
    end: float = 0.0
    max_queue: dict[int, int] = field(default_factory=dict)
    overruns: list[tuple[float, float]] = field(default_factory=list)


class _Patient:
    """A patient in the hall; the draws are made on arrival (``hand``: the total cashier time
    at skill 1.0, ``latency``: the round trips' total; when the scenario has faults, ``work``
    also holds them per step with the round trips' latencies)."""

    __slots__ = ("balk", "fallback", "hand", "index", "kind", "latency", "state", "work")

    index: int
    kind: int
    hand: float
    work: list[tuple[float, tuple[float, ...]]]
    latency: float
    fallback: list[float]
    balk: float
    state: int

    def __init__(self) -> None:
        self.state = _WAITING


class Hall:
    """The shared state: queue, idle and closed windows, staffing, and the record."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        rngs: dict[str, random.Random],
        record: DayRecord,
    ) -> None:
        """``rngs``: the random streams of :data:`STREAMS` (``arrivals`` is not used here)."""
        self.env = env
        self.scenario = scenario
        self.rng = rngs["kinds"]
        self._balk_random = rngs["balking"].random
        service_rng = rngs["service"]
        fallback_rng = rngs["fallback"]
        self.record = record
        self.queue: deque[_Patient] = deque()
        self.waiting = 0
        self.deadlines: list[tuple[float, int, _Patient]] = []
        self.idle: dict[int, simpy.Event] = {}
        self.closed: dict[int, simpy.Event] = {}
        self.open_count = 0
        self.new_count = 0
        self._q_last = 0.0
        self._closing: dict[int, float] = {}
        self._picker = KindPicker.of(scenario.kinds)
        self._faulty = not scenario.faults.empty
        self._balking = scenario.balking
        self._balk_from = scenario.balking.first if scenario.balking is not None else 1 << 62
        self._patience = scenario.patience
        # Per kind: the fallback steps' samplers, whether the kind is referred on, and the
        # service draws: totals only (no faults), or per step with the round trips' latencies
        # (faults) — the same draws in the same order either way (see _service_sampler).
        self._plans: list[tuple[list[Callable[[], float]], bool]] = []
        self._totals: list[Callable[[], tuple[float, float]]] = []
        self._detailed: list[Callable[[], tuple[float, float, list[tuple[float, tuple[float, ...]]]]]] = []
        for kind in scenario.kinds:
            steps = [scenario.steps[name] for name in scenario.path_of(kind)]
            fallback = [scenario.steps[name].time.sampler(fallback_rng) for name in scenario.fallback_of(kind)]
            referred = kind.referred and scenario.card_settlement  # no card, no refusal to refer
            self._plans.append((fallback, referred))
            totals, detailed = _service_sampler(steps, scenario.latency, service_rng)
            self._totals.append(totals)
            self._detailed.append(detailed)
        self._patience_draw = scenario.patience.sampler(rngs["patience"]) if scenario.patience is not None else None

    # -- queue bookkeeping (the queue-length integral is exact: updated at every change) ----

    def _queue_change(self, t: float, delta: int) -> None:
        self.record.queue_area += self.waiting * (t - self._q_last)
        self._q_last = t
        self.waiting += delta

    def settle_reneging(self, now: float) -> None:
        """Patients whose patience ran out by ``now`` leave, each at its own deadline."""
        heap = self.deadlines
        record = self.record
        while heap and heap[0][0] <= now:
            deadline, _, patient = heapq.heappop(heap)
            if patient.state == _WAITING:
                patient.state = RENEGED
                self._queue_change(deadline, -1)
                record.wait[patient.index] = deadline - record.arrival[patient.index]
                record.outcome[patient.index] = RENEGED

    def next_patient(self, now: float) -> _Patient | None:
        """The first patient still waiting (taken off the queue), or ``None``."""
        self.settle_reneging(now)
        queue = self.queue
        while queue:
            patient = queue.popleft()
            if patient.state == _WAITING:
                patient.state = SERVED
                self._queue_change(now, -1)
                self.record.wait[patient.index] = now - self.record.arrival[patient.index]
                return patient
        return None

    # -- arrival -------------------------------------------------------------------------------

    def arrive(self, now: float) -> None:
        """A patient arrives at minute ``now``: drawn, then balks, is called at once, or queues."""
        rng = self.rng
        random_ = rng.random
        record = self.record
        patient = _Patient()
        patient.index = index = len(record.arrival)
        patient.kind = kind = self._picker.pick(random_())
        patient.balk = self._balk_random() if self._balking is not None else 1.0
        patience = self._patience_draw() if self._patience_draw is not None else None
        fallback, referred = self._plans[kind]
        if self._faulty:
            patient.hand, patient.latency, patient.work = self._detailed[kind]()
            patient.fallback = [draw() for draw in fallback]
        else:
            patient.hand, patient.latency = self._totals[kind]()
        record.arrival.append(now)
        record.wait.append(0.0)
        record.service.append(0.0)
        record.kind.append(kind)
        record.outcome.append(UNSERVED)
        record.flags.append(FLAG_REFERRED if referred else 0)
        self.settle_reneging(now)
        waiting = self.waiting
        if waiting >= self._balk_from and self._balking is not None and patient.balk < self._balking.probability(waiting):
            patient.state = BALKED
            record.outcome[index] = BALKED
            return
        if self.idle:
            window = next(iter(self.idle))
            patient.state = SERVED
            self.idle.pop(window).succeed(patient)
            return
        self.queue.append(patient)
        self._queue_change(now, +1)
        hour = int(now // 60)
        if self.waiting > self.record.max_queue.get(hour, 0):
            self.record.max_queue[hour] = self.waiting
        if patience is not None:
            heapq.heappush(self.deadlines, (now + patience, index, patient))

    # -- service ---------------------------------------------------------------------------

    def service_time(self, patient: _Patient, now: float, skill: float) -> float:
        """Minutes the window spends on ``patient`` from ``now`` (recorded)."""
        record = self.record
        duration = patient.hand * skill + patient.latency
        if self._faulty and self.scenario.faults.touches(now, now + duration):
            duration, switched = self.scenario.faults.walk(patient.work, patient.fallback, now, skill)
            if switched:
                record.flags[patient.index] |= FLAG_LATER_CLAIM
        record.service[patient.index] = duration
        record.outcome[patient.index] = SERVED
        return duration

    def skill_of(self, index: int) -> float:
        staffing = self.scenario.staffing
        return staffing.skill_new if index >= self.open_count - self.new_count else staffing.skill_trained

    # -- staffing --------------------------------------------------------------------------

    def set_open(self, windows: int, new: int) -> None:
        """From now on ``windows`` are open (``new`` of them staffed by new cashiers)."""
        before = self.open_count
        self.open_count = windows
        self.new_count = new
        now = self.env.now
        for index in range(before, windows):
            wake = self.closed.pop(index, None)
            if wake is not None:
                wake.succeed()
            self.overrun(index, now)  # reopened while still busy
        for index in range(windows, before):
            wake = self.idle.pop(index, None)
            if wake is not None:
                wake.succeed(None)
            else:
                self._closing[index] = now  # busy: closes when the patient is done

    def overrun(self, index: int, now: float) -> None:
        """Window ``index``, closed at the hour while busy, is done (or reopened) at ``now``."""
        start = self._closing.pop(index, None)
        if start is not None and now > start:
            self.record.overruns.append((start, now))

    def finish(self) -> None:
        """Close the books at the end of the run: reneging due later is settled, patients
        still queued are unserved (their wait counted up to the end)."""
        now = self.env.now
        pending = [deadline for deadline, _, patient in self.deadlines if patient.state == _WAITING]
        if pending:
            now = max(now, max(pending))
        self.settle_reneging(now)
        for patient in self.queue:
            if patient.state == _WAITING:
                patient.state = UNSERVED
                self._queue_change(now, -1)
                self.record.wait[patient.index] = now - self.record.arrival[patient.index]
        self.record.end = now


Detailed = Callable[[], tuple[float, float, list[tuple[float, tuple[float, ...]]]]]


def _service_sampler(
    steps: list[Step], latency: Distribution, rng: random.Random
) -> tuple[Callable[[], tuple[float, float]], Detailed]:
    """Two functions drawing one patient's service: ``totals()`` gives (cashier minutes,
    insurer minutes); ``detailed()`` the same two totals — the same draws from ``rng``, summed
    in the same order, so bit for bit equal — and each step's (cashier time, its round trips'
    latencies), for a scenario with faults.

    When every distribution is lognormal (the usual case) the normal deviates are made in
    pairs by the Box-Muller transform, inline: the same distributions as the samplers', about
    twice as fast (the model's hot spot); the steps' times come first, then the round trips'.
    Otherwise each step's time, then its round trips' latencies, are drawn by the samplers in
    order."""
    calls_of = [step.calls for step in steps]
    if all(isinstance(step.time, LogNormal) for step in steps) and isinstance(latency, LogNormal):
        hand_params = [(step.time.mu, step.time.sigma) for step in steps]  # type: ignore[attr-defined]
        hand_pairs = list(zip(hand_params[0::2], hand_params[1::2], strict=False))
        hand_odd = hand_params[-1] if len(hand_params) % 2 else None
        calls = sum(calls_of)
        mu_l, sigma_l = latency.mu, latency.sigma
        call_pairs = range(calls // 2)
        call_odd = calls % 2 == 1
        random_, log, sqrt, cos, sin, exp = rng.random, math.log, math.sqrt, math.cos, math.sin, math.exp
        two_pi = 2.0 * math.pi

        def lognormal_totals() -> tuple[float, float]:
            hand = 0.0
            for (mu1, s1), (mu2, s2) in hand_pairs:
                r = sqrt(-2.0 * log(1.0 - random_()))
                t = two_pi * random_()
                hand += exp(mu1 + s1 * r * cos(t)) + exp(mu2 + s2 * r * sin(t))
            if hand_odd is not None:
                r = sqrt(-2.0 * log(1.0 - random_()))
                hand += exp(hand_odd[0] + hand_odd[1] * r * cos(two_pi * random_()))
            lat = 0.0
            for _ in call_pairs:
                r = sqrt(-2.0 * log(1.0 - random_()))
                t = two_pi * random_()
                lat += exp(mu_l + sigma_l * r * cos(t)) + exp(mu_l + sigma_l * r * sin(t))
            if call_odd:
                r = sqrt(-2.0 * log(1.0 - random_()))
                lat += exp(mu_l + sigma_l * r * cos(two_pi * random_()))
            return hand, lat

        def lognormal_detailed() -> tuple[float, float, list[tuple[float, tuple[float, ...]]]]:
            hands: list[float] = []
            hand = 0.0
            for (mu1, s1), (mu2, s2) in hand_pairs:
                r = sqrt(-2.0 * log(1.0 - random_()))
                t = two_pi * random_()
                a, b = exp(mu1 + s1 * r * cos(t)), exp(mu2 + s2 * r * sin(t))
                hand += a + b
                hands += (a, b)
            if hand_odd is not None:
                r = sqrt(-2.0 * log(1.0 - random_()))
                a = exp(hand_odd[0] + hand_odd[1] * r * cos(two_pi * random_()))
                hand += a
                hands.append(a)
            lats: list[float] = []
            lat = 0.0
            for _ in call_pairs:
                r = sqrt(-2.0 * log(1.0 - random_()))
                t = two_pi * random_()
                a, b = exp(mu_l + sigma_l * r * cos(t)), exp(mu_l + sigma_l * r * sin(t))
                lat += a + b
                lats += (a, b)
            if call_odd:
                r = sqrt(-2.0 * log(1.0 - random_()))
                a = exp(mu_l + sigma_l * r * cos(two_pi * random_()))
                lat += a
                lats.append(a)
            work = []
            at = 0
            for h, n in zip(hands, calls_of, strict=True):
                work.append((h, tuple(lats[at:at + n])))
                at += n
            return hand, lat, work

        return lognormal_totals, lognormal_detailed
    samplers = [(step.time.sampler(rng), step.calls) for step in steps]
    draw_latency = latency.sampler(rng)

    def totals() -> tuple[float, float]:
        hand = lat = 0.0
        for draw, calls in samplers:
            hand += draw()
            for _ in range(calls):
                lat += draw_latency()
        return hand, lat

    def detailed() -> tuple[float, float, list[tuple[float, tuple[float, ...]]]]:
        hand = lat = 0.0
        work = []
        for draw, calls in samplers:
            h = draw()
            hand += h
            trips = []
            for _ in range(calls):
                one = draw_latency()
                lat += one
                trips.append(one)
            work.append((h, tuple(trips)))
        return hand, lat, work

    return totals, detailed


def arrivals(env: simpy.Environment, hall: Hall, times: Iterator[float]) -> Process:
    """Patients arrive at the given minutes."""
    timeout = env.timeout
    arrive = hall.arrive
    for t in times:
        yield timeout(t - env.now)
        arrive(t)


def window(env: simpy.Environment, hall: Hall, index: int) -> Process:
    """Cashier window ``index`` (0-based): serves patients while open."""
    timeout = env.timeout
    while True:
        if index >= hall.open_count:
            wake = hall.closed[index] = env.event()
            yield wake
            continue
        patient = hall.next_patient(env.now)
        if patient is None:
            wake = hall.idle[index] = env.event()
            patient = yield wake
            if patient is None:
                continue
        yield timeout(hall.service_time(patient, env.now, hall.skill_of(index)))
        if index >= hall.open_count:
            hall.overrun(index, env.now)


def staffing(env: simpy.Environment, hall: Hall) -> Process:
    """Opens and closes windows at the schedule's hours (the last hour's stay open)."""
    for start, windows, new in hall.scenario.staffing.changes():
        if start > env.now:
            yield env.timeout(start - env.now)
        hall.set_open(windows, new)


def _progress(env: simpy.Environment, end: float, on_progress: Callable[[float], None]) -> Process:
    step = max(end / 200, 1.0)
    while env.now < end:
        yield env.timeout(step)
        on_progress(min(env.now / end, 1.0))


def simulate_day(
    scenario: Scenario, seed: int, replication: int = 0, on_progress: Callable[[float], None] | None = None
) -> DayRecord:
    """Run one replication of ``scenario``; its random streams are named by (seed,
    replication, :data:`STREAMS`), so the result does not depend on which process runs it or
    in which order."""
    rngs = {name: rng_for(seed, "windows", replication, name) for name in STREAMS}
    env = simpy.Environment()
    record = DayRecord(replication)
    hall = Hall(env, scenario, rngs, record)
    for index in range(scenario.staffing.max_windows):
        env.process(window(env, hall, index))
    env.process(staffing(env, hall))
    env.process(arrivals(env, hall, arrival_times(scenario.arrivals, rngs["arrivals"])))
    if on_progress is not None:
        env.process(_progress(env, scenario.arrivals.end, on_progress))
    env.run()
    hall.finish()
    return record
