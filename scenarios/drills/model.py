"""A drill as data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenarios.model import DataSpec, HisSpec, RetrySpec

__all__ = ["Drill", "Patients", "Phase"]


@dataclass(frozen=True, slots=True)
class Patients:
    """Synthetic patients injected through the HIS driver API during a phase."""

    count: int
    windows: int = 2
    persons: Mapping[str, Any] = field(default_factory=dict)
    certificates: Mapping[str, float] = field(default_factory=lambda: {"card": 1.0})
    mix: Mapping[str, float] = field(default_factory=lambda: {"settle": 1.0})
    lines: tuple[int, int] = (1, 4)
    retry: RetrySpec = field(default_factory=RetrySpec)


@dataclass(frozen=True, slots=True)
class Phase:
    """``minutes`` of drill time (wall-clock minutes divided by ``accelerate``); ``faults`` is
    the insurer's fault plan during the phase (empty: none), drawn with ``seed`` (the phase's
    own, else the drill's)."""

    name: str
    minutes: float
    instructions: str = ""
    faults: tuple[Mapping[str, Any], ...] = ()
    seed: int = 1
    patients: Patients | None = None


@dataclass(frozen=True, slots=True)
class Drill:
    id: str
    title: str
    phases: tuple[Phase, ...]
    source: Path | None = None
    description: str = ""
    audience: str = ""
    seed: int = 1
    data: DataSpec = field(default_factory=DataSpec)
    his: HisSpec = field(default_factory=HisSpec)
    day_end: bool = True

    @property
    def minutes(self) -> float:
        return sum(phase.minutes for phase in self.phases)
