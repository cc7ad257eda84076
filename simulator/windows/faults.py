"""Insurer faults as the window sees them: outages and slow periods.

Times are simulated minutes since 00:00 (a scenario writes ``"09:30"`` or a number of minutes).

- **Outage** ``[start, end)``: the insurer answers nothing. ``mode: stall`` — a cashier whose
  step calls the insurer waits (retrying) until the insurer is back; with
  ``switch_to_self_pay_after: M`` the hall switches to full self-pay ``M`` minutes after the
  outage began (a hospital's emergency plan, 应急预案). ``mode: self_pay`` — the switch is
  immediate. A patient switched to self-pay leaves the insurer steps, goes through the
  fallback steps (charge everything, print the receipt for a later claim) and is counted as a
  **later claim** (the settlement is made afterwards: 事后补结算 / 手工报销).
- **Slow period** ``[start, end)``: each insurer round trip that starts in it takes
  ``latency x factor + add_ms``.

A round trip's fate is decided at the moment it starts (a call already under way when an
outage begins completes normally) — a simplification; the real effect is a timeout at most as
long as the client's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from simulator.windows.distributions import UNITS
from simulator.windows.errors import ScenarioError

__all__ = ["FAULT_KINDS", "OUTAGE_MODES", "FaultTimeline", "Outage", "SlowPeriod", "parse_clock", "parse_faults"]

FAULT_KINDS = ("outage", "slow")
OUTAGE_MODES = ("stall", "self_pay")


@dataclass(frozen=True, slots=True)
class Outage:
    start: float
    end: float
    mode: str = "stall"
    switch_after: float | None = None

    @property
    def switch_at(self) -> float:
        """The minute from which calls go straight to self-pay (infinity: never)."""
        if self.mode == "self_pay":
            return self.start
        return self.start + self.switch_after if self.switch_after is not None else math.inf


@dataclass(frozen=True, slots=True)
class SlowPeriod:
    start: float
    end: float
    factor: float = 1.0
    add: float = 0.0  # minutes


@dataclass(frozen=True, slots=True)
class FaultTimeline:
    """The scenario's outages and slow periods (each sorted by start)."""

    outages: tuple[Outage, ...] = ()
    slow: tuple[SlowPeriod, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.outages and not self.slow

    def outage_at(self, t: float) -> Outage | None:
        for outage in self.outages:
            if outage.start <= t < outage.end:
                return outage
        return None

    def touches(self, start: float, end: float) -> bool:
        """Whether an outage or slow period overlaps the minutes ``[start, end]`` (a service
        no fault touches takes its nominal time, exactly as without faults)."""
        return any(f.start <= end and f.end > start for f in self.outages) or any(
            f.start <= end and f.end > start for f in self.slow
        )

    def latency(self, base: float, t: float) -> float:
        """A round trip's latency (minutes) when it starts at minute ``t``."""
        for period in self.slow:
            if period.start <= t < period.end:
                return base * period.factor + period.add
        return base

    def walk(
        self,
        work: Sequence[tuple[float, tuple[float, ...]]],
        fallback: Sequence[float],
        start: float,
        skill: float,
    ) -> tuple[float, bool]:
        """Service time (minutes) of a patient whose service starts at ``start``, and whether
        the patient was switched to self-pay. ``work`` holds each step's cashier time (at skill
        1.0) and its round trips' base latencies; ``fallback`` the fallback steps' times."""
        t = start
        for hand, latencies in work:
            t += hand * skill
            for base in latencies:
                outage = self.outage_at(t)
                while outage is not None:
                    switch_at = outage.switch_at
                    if t >= switch_at:
                        for extra in fallback:
                            t += extra * skill
                        return t - start, True
                    t = min(switch_at, outage.end)
                    outage = self.outage_at(t)
                t += self.latency(base, t)
        return t - start, False


def parse_clock(value: object, where: str) -> float:
    """``"HH:MM"`` (hours may exceed 23 for later days) or a number of minutes, as minutes."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        return float(value)
    if isinstance(value, str):
        hours, sep, minutes = value.strip().partition(":")
        if sep and hours.isdigit() and minutes.isdigit() and int(minutes) < 60:
            return 60.0 * int(hours) + int(minutes)
    raise ScenarioError(f"{where}: expected a time of day \"HH:MM\" or minutes >= 0, got {value!r}")


def _positive(spec: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ScenarioError(f"{where}.{key}: expected a number >= 0, got {value!r}")
    return float(value)


_KEYS = {
    "outage": {"kind", "start", "end", "mode", "switch_to_self_pay_after", "note"},
    "slow": {"kind", "start", "end", "factor", "add_ms", "note"},
}


def parse_faults(items: object, where: str = "faults") -> FaultTimeline:
    """Read the scenario's ``faults`` list (see the module docstring)."""
    if items is None:
        return FaultTimeline()
    if not isinstance(items, list):
        raise ScenarioError(f"{where}: expected a list of faults")
    outages: list[Outage] = []
    slow: list[SlowPeriod] = []
    for i, spec in enumerate(items):
        at = f"{where}[{i}]"
        if not isinstance(spec, Mapping):
            raise ScenarioError(f"{at}: expected a mapping like {{kind: outage, start: \"09:30\", end: \"10:00\"}}")
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            raise ScenarioError(f"{at}.kind: unknown fault kind {kind!r} (use one of: {', '.join(FAULT_KINDS)})")
        unknown = sorted(set(spec) - _KEYS[kind])
        if unknown:
            raise ScenarioError(f"{at}: unknown key {unknown[0]!r} for a {kind} (allowed: {', '.join(sorted(_KEYS[kind]))})")
        start = parse_clock(spec.get("start"), f"{at}.start")
        end = parse_clock(spec.get("end"), f"{at}.end")
        if end <= start:
            raise ScenarioError(f"{at}: end must be after start")
        if kind == "outage":
            mode = spec.get("mode", "stall")
            if mode not in OUTAGE_MODES:
                raise ScenarioError(f"{at}.mode: unknown mode {mode!r} (use one of: {', '.join(OUTAGE_MODES)})")
            after = spec.get("switch_to_self_pay_after")
            switch = None if after is None else _positive(spec, "switch_to_self_pay_after", at)
            outages.append(Outage(start, end, mode, switch))
        else:
            factor = _positive(spec, "factor", at, 1.0)
            add = _positive(spec, "add_ms", at, 0.0) * UNITS["ms"]
            slow.append(SlowPeriod(start, end, factor, add))
    outages.sort(key=lambda o: o.start)
    slow.sort(key=lambda s: s.start)
    for a, b in pairwise(outages):
        if b.start < a.end:
            raise ScenarioError(f"{where}: outages overlap (one starts at minute {b.start:g} before another ends)")
    return FaultTimeline(tuple(outages), tuple(slow))
