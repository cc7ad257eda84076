"""Load shapes: how many simulated windows run at each moment of the test.

Pure plans (``tick_at(seconds) -> (users, spawn_rate) | None``, unit-testable; no locust
import here) run by :class:`loadtests.glue.LoadShape`, the one locust shape the locustfiles
expose, which runs the plan chosen by ``--load-shape`` (or ``CARDSETTLE_LOAD_SHAPE``):

- ``constant`` — ``--users`` windows for ``--load-duration`` seconds;
- ``day`` — :class:`DayShape`: the outpatient day (loadtests/day.yaml, arrivals per hour)
  compressed into the duration, each hour an equal stage, **arrival-rate based**;
- ``step`` — :class:`StepShape`: ``--users`` reached in ``--steps`` equal steps (find the knee);
- ``soak`` — :class:`SoakShape`: a short ramp, then ``--users`` held for the duration.

Arrival-rate method (DayShape): every window paces its patients — a new visit starts every
``--pacing`` seconds (locust's constant pacing), so ``users`` windows start ``users / pacing``
visits per second as long as a visit takes less than the pacing. To meet a target rate λ
(visits/s) a stage therefore runs ``ceil(λ × pacing)`` windows. λ of the peak hour is
``--peak-rate`` (default ``users / pacing``); the other hours are scaled by the profile. If
visits get slower than the pacing, the achieved rate falls short — the report shows the
achieved visits/s next to the target, so a slow insurer cannot hide (no coordinated
omission in the rate; see docs/loadtests.md). Times are wall-clock seconds since the start.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from loadtests.errors import LoadTestError

__all__ = [
    "DAY_PROFILE",
    "SHAPES",
    "ConstantShape",
    "DayShape",
    "Plan",
    "ShapeSettings",
    "SoakShape",
    "StepShape",
    "build_plan",
    "offered",
    "option",
    "read_profile",
    "settings_from_options",
]

DAY_PROFILE = Path(__file__).with_name("day.yaml")
SHAPES = ("constant", "day", "step", "soak")

Tick = tuple[int, float] | None


class Plan(Protocol):
    def tick_at(self, seconds: float) -> Tick: ...


@dataclass(frozen=True)
class ShapeSettings:
    """``duration`` seconds, ``users`` windows (the most a shape runs), ``pacing`` seconds
    between visit starts of one window, ``peak_rate`` visits/s of the peak hour (day; None:
    users / pacing), ``steps`` (step), ``profile`` the day's arrivals per hour (day)."""

    duration: float = 60.0
    users: int = 10
    pacing: float = 3.0
    peak_rate: float | None = None
    steps: int = 5
    profile: Sequence[float] = ()


@dataclass(frozen=True)
class ConstantShape:
    settings: ShapeSettings

    def tick_at(self, seconds: float) -> Tick:
        s = self.settings
        return (s.users, float(s.users)) if seconds < s.duration else None


@dataclass(frozen=True)
class StepShape:
    settings: ShapeSettings

    def tick_at(self, seconds: float) -> Tick:
        s = self.settings
        if seconds >= s.duration:
            return None
        step = min(s.steps - 1, int(seconds / (s.duration / s.steps)))
        users = math.ceil(s.users * (step + 1) / s.steps)
        return users, float(max(1, math.ceil(s.users / s.steps)))


@dataclass(frozen=True)
class SoakShape:
    """Ramp to ``users`` over 10% of the duration (at most 60 s), then hold."""

    settings: ShapeSettings

    def tick_at(self, seconds: float) -> Tick:
        s = self.settings
        if seconds >= s.duration:
            return None
        ramp = max(1.0, min(60.0, s.duration * 0.1))
        return s.users, s.users / ramp


@dataclass(frozen=True)
class DayShape:
    """The day compressed: hour *i* of the profile is the stage
    ``[i, i + 1) × duration / hours``; its target rate is ``peak_rate × weight / max weight``
    and it runs ``ceil(rate × pacing)`` windows (at least 1)."""

    settings: ShapeSettings

    def rates(self) -> list[float]:
        """Target visits/s per stage."""
        s = self.settings
        peak = s.peak_rate if s.peak_rate is not None else s.users / s.pacing
        top = max(s.profile)
        return [peak * weight / top for weight in s.profile]

    def users(self) -> list[int]:
        return [max(1, math.ceil(rate * self.settings.pacing - 1e-9)) for rate in self.rates()]

    def tick_at(self, seconds: float) -> Tick:
        s = self.settings
        if seconds >= s.duration:
            return None
        stage = min(len(s.profile) - 1, int(seconds / (s.duration / len(s.profile))))
        users = self.users()
        return users[stage], float(max(users))


def read_profile(path: Path = DAY_PROFILE) -> list[float]:
    """The arrivals per hour of a day profile YAML (``hours: {"07": 4, ...}``), in hour
    order."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LoadTestError(f"cannot read the day profile {path}: {exc}") from exc
    hours = doc.get("hours") if isinstance(doc, dict) else None
    if not isinstance(hours, dict) or not hours:
        raise LoadTestError(f"{path}: expected 'hours: {{\"08\": 15, ...}}'")
    weights = [hours[key] for key in sorted(hours, key=str)]
    if any(not isinstance(w, int | float) or w < 0 for w in weights) or not any(weights):
        raise LoadTestError(f"{path}: hours must be numbers >= 0, not all 0")
    return [float(w) for w in weights]


def build_plan(name: str, settings: ShapeSettings) -> Plan:
    """The plan called *name* (one of :data:`SHAPES`)."""
    if name == "day":
        if not settings.profile:
            settings = ShapeSettings(**{**settings.__dict__, "profile": read_profile()})
        return DayShape(settings)
    if name == "step":
        return StepShape(settings)
    if name == "soak":
        return SoakShape(settings)
    if name == "constant":
        return ConstantShape(settings)
    raise LoadTestError(f"unknown load shape {name!r}: expected one of {', '.join(SHAPES)}")


def offered(plan: Plan) -> dict[str, float]:
    """What a plan asks for, to set beside what was achieved: the most windows it runs and
    the visits per second those windows start, averaged over the run (each window starts a
    visit every ``pacing`` seconds while visits are quicker than that), and for the day the
    peak hour's target rate."""
    if isinstance(plan, DayShape):
        users = plan.users()
        return {"windows (most)": max(users),
                "visits/s (offered)": sum(users) / len(users) / plan.settings.pacing,
                "peak visits/s (asked)": max(plan.rates())}
    settings: ShapeSettings = plan.settings  # type: ignore[attr-defined]
    if isinstance(plan, StepShape):
        users = [math.ceil(settings.users * (k + 1) / settings.steps)
                 for k in range(settings.steps)]
        return {"windows (most)": max(users),
                "visits/s (offered)": sum(users) / len(users) / settings.pacing}
    return {"windows (most)": settings.users,
            "visits/s (offered)": settings.users / settings.pacing}


def option(options: Any, name: str, default: Any) -> Any:
    value = getattr(options, name, None) if options is not None else None
    return default if value is None else value


def settings_from_options(options: Any) -> tuple[str, ShapeSettings]:
    """The shape's name and settings from locust's parsed options."""
    shape = str(option(options, "load_shape", os.environ.get("CARDSETTLE_LOAD_SHAPE",
                                                              "constant")))
    profile: Sequence[float] = ()
    if shape == "day":
        profile = read_profile(Path(str(option(options, "day_profile", DAY_PROFILE))))
    return shape, ShapeSettings(
        duration=float(option(options, "load_duration", 60.0)),
        users=int(option(options, "num_users", 10)),
        pacing=float(option(options, "pacing", 3.0)),
        peak_rate=option(options, "peak_rate", None),
        steps=max(1, int(option(options, "steps", 5))), profile=profile)


