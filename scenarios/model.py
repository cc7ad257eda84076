"""A scenario as data: what :func:`scenarios.loading.load_scenario` makes of a checked file.

Times are the scenario's business time (naive ``datetime``, China time): the runner sets the
insurer's business clock (and the embedded reference HIS's clock) to them; nothing waits for
them in wall-clock time. Quantities are ``Decimal``; selectors stay mappings as written (the
keys are documented in docs/scenarios.md and checked by the JSON Schema).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "DEFAULT_OVERRIDE_REASON",
    "OUTCOMES",
    "ArrivalSpec",
    "CheckSpec",
    "DataSpec",
    "EventSpec",
    "HisSpec",
    "LineSpec",
    "OnWarning",
    "Quantity",
    "RetrySpec",
    "Scenario",
    "VisitSpec",
]

OUTCOMES = ("settled", "refunded", "partly_refunded", "refused", "cancelled", "unresolved")
"""How a visit ends, from the harness's side: ``settled`` (a bill in effect), ``refunded``
(everything refunded), ``partly_refunded`` (a new bill for the rest), ``refused`` (a step was
refused and the visit closed), ``cancelled`` (the patient walked away), ``unresolved`` (the
outcome of a settlement or refund was still unknown when the patient left)."""

Quantity = Decimal | Literal["over_limit"] | None
Then = Literal["settle", "walk_away", "refund", "partial_refund"]
DEFAULT_OVERRIDE_REASON = "医生确认 / confirmed by the doctor"
"""The reason an ``override`` carries when a visit names none (``override_reason``)."""

OnWarning = Literal["override", "correct", "proceed"]
"""What the cashier does when charging answers a severe rule-check warning (3101, lines saved
blocked): ``override`` charge the blocked lines again with an override (the insurer then judges
them at 2204 — scenarios written before the rule check keep their meaning), ``correct`` charge
them again cut to the item's per-prescription limits, ``proceed`` go on to settle as they are
(the HIS refuses ``rule_check_severe``)."""


@dataclass(frozen=True, slots=True)
class RetrySpec:
    """When the insurer cannot be reached, come back after ``after_minutes`` (business time),
    at most ``times`` times; then walk away (the visit is cancelled)."""

    after_minutes: float = 10.0
    times: int = 0


@dataclass(frozen=True, slots=True)
class LineSpec:
    item: str | Mapping[str, Any]
    qty: Quantity = None
    days: Quantity = None


@dataclass(frozen=True, slots=True)
class VisitSpec:
    id: str
    at: datetime
    person: Mapping[str, Any]
    certificate: str = "card"
    typed: Mapping[str, str] = field(default_factory=dict)
    operator: str = "C01"
    dept: str = ""
    insutype: str = ""
    items: tuple[LineSpec, ...] = ()
    diagnoses: tuple[str, ...] = ()
    acct_used: bool = True
    on_warning: OnWarning = "override"
    override_reason: str = DEFAULT_OVERRIDE_REASON
    then: Then = "settle"
    refund_items: tuple[int, ...] = ()
    retry: RetrySpec = RetrySpec()
    expect: Mapping[str, Any] = field(default_factory=dict)
    group: str = ""  # the arrivals group it was drawn from ("" for an explicit visit)


@dataclass(frozen=True, slots=True)
class ArrivalSpec:
    id: str
    start: datetime
    end: datetime
    count: int
    windows: int = 1
    persons: Mapping[str, Any] = field(default_factory=dict)
    certificates: Mapping[str, float] = field(default_factory=lambda: {"card": 1.0})
    mix: Mapping[str, float] = field(default_factory=lambda: {"settle": 1.0})
    lines: tuple[int, int] = (1, 4)
    items: Mapping[str, Any] = field(default_factory=dict)
    retry: RetrySpec = RetrySpec()
    expect: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventSpec:
    """At ``at``, the insurer's fault plan becomes ``faults`` (an empty list clears it)."""

    at: datetime
    faults: tuple[Mapping[str, Any], ...] | None = None
    seed: int = 1
    note: str = ""


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """An expectation on the whole run: ``name`` and its parameters (empty for a plain name)."""

    name: str
    params: Any = None


@dataclass(frozen=True, slots=True)
class DataSpec:
    """Where the persons, institutions and catalogue come from: a ``file`` (relative to the
    scenario file) or the generator's settings."""

    population: Mapping[str, Any] = field(default_factory=dict)
    institutions: Mapping[str, Any] = field(default_factory=dict)
    catalogue: Mapping[str, Any] = field(default_factory=dict)
    institution: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HisSpec:
    timeout: float = 2.0  # loading.DEFAULT_HIS_TIMEOUT
    center_only: str = "learn"


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    title: str
    date: date
    source: Path | None = None
    concern: str = ""
    description: str = ""
    seed: int = 1
    data: DataSpec = DataSpec()
    his: HisSpec = HisSpec()
    visits: tuple[VisitSpec, ...] = ()
    arrivals: tuple[ArrivalSpec, ...] = ()
    timeline: tuple[EventSpec, ...] = ()
    day_end: bool = True
    expect: tuple[CheckSpec, ...] = ()
