"""What a run leaves: a record per visit, the day-ends, the timeline as applied, and the checks'
results — all JSON-ready (``to_json``), written to ``result.json`` by the report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["CheckResult", "DayEndRecord", "RunResult", "StepRecord", "VisitRecord"]


@dataclass
class StepRecord:
    step: str
    at: str
    ok: bool
    ms: float
    refusal: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class VisitRecord:
    id: str
    group: str
    at: datetime
    psn_no: str
    psn_name: str
    edge_cases: list[str]
    certificate: str
    operator: str
    dept: str
    then: str
    items: list[dict[str, Any]]
    his_visit_id: str | None = None
    outcome: str = "pending"
    refusal: dict[str, Any] | None = None
    error: str | None = None
    bill: dict[str, Any] | None = None
    refund: dict[str, Any] | None = None
    printed: list[dict[str, Any]] = field(default_factory=list)
    """Every bill and refund slip printed, in order: ``{"kind": "bill"|"refund slip",
    "step": ..., "document": {...}}`` (``bill`` and ``refund`` are the last of each)."""
    recovered: bool = False
    retries: int = 0
    steps: list[StepRecord] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # rule check 3101/3102
    expect: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def system_ms(self) -> float:
        """Wall-clock milliseconds the HIS took over this visit's operations."""
        return sum(step.ms for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.strftime("%Y-%m-%d %H:%M:%S")
        data["system_ms"] = round(self.system_ms, 1)
        return data


@dataclass
class DayEndRecord:
    date: str
    ok: bool
    balanced: bool | None
    corrections: int
    body: dict[str, Any]
    ms: float


@dataclass
class CheckResult:
    """One expectation: ``passed``, a line saying what was checked, and the evidence of a
    failure (the rows or visits that break it)."""

    name: str
    passed: bool
    summary: str
    evidence: list[Any] = field(default_factory=list)


@dataclass
class RunResult:
    scenario: str
    title: str
    concern: str
    source: str
    seed: int
    his: dict[str, Any]
    insurer: dict[str, Any]
    visits: list[VisitRecord]
    day_ends: list[DayEndRecord]
    events: list[dict[str, Any]]
    checks: list[CheckResult] = field(default_factory=list)
    wall_seconds: float = 0.0
    date: str = ""
    """The scenario's business date (``YYYY-MM-DD``; a run's visits may go on to later days)."""

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def outcome_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for visit in self.visits:
            counts[visit.outcome] = counts.get(visit.outcome, 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "title": self.title, "concern": self.concern,
            "source": self.source, "seed": self.seed, "date": self.date, "passed": self.passed,
            "his": self.his, "insurer": self.insurer, "wall_seconds": round(self.wall_seconds, 2),
            "outcomes": self.outcome_counts(),
            "checks": [asdict(check) for check in self.checks],
            "day_ends": [asdict(day) for day in self.day_ends],
            "events": self.events,
            "visits": [visit.to_json() for visit in self.visits],
        }
