"""A month from window to repayment (issue 9, "Done when"), on the embedded defaults or against
a given insurer and HIS:

1. ``days`` working days (Monday to Friday from the 1st of ``period``) of visits at the windows
   — arrivals and departments as the demo and :mod:`scenarios.planning` draw them — with a
   seeded share of patients who come back the same day for the same items (a repeated item:
   what the review's duplicate rule refuses) and a share who come back on the next working
   days for the same items (over a frequency); day-end reconciliation each evening;
2. the declaration by the HIS on the first working day of the next month (the HIS checks the
   month with 3201 first);
3. the insurer's review (admin API), the business date moved to the payment's due date, the
   payment (回款);
4. the HIS collects the payments and matches them to its receivables.

Business dates are the insurer's business clock (moved through its admin API), never the wall
clock. Money is Decimal yuan. The embedded HIS is given the insurer's admin API as its
settlement portal (``portal_url``/``portal_token``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.server import RunningServer, start_in_thread
from scenarios.data import ChosenLine, ScenarioData, SelectionError, prepare_data
from scenarios.errors import HarnessError, ScenarioFileError
from scenarios.harness import Harness, open_harness
from scenarios.model import (
    ArrivalSpec,
    DataSpec,
    EventSpec,
    HisSpec,
    LineSpec,
    RetrySpec,
    Scenario,
    VisitSpec,
)
from scenarios.planning import PlannedVisit, plan_visits
from scenarios.records import DayEndRecord, VisitRecord
from scenarios.runner import Runner
from simulator.his.app import ReferenceHis
from simulator.his.config import HisConfig
from simulator.his.operations import DeclareInput, Outcome
from simulator.his.receivables import Portal, PortalProblem, month_bounds

__all__ = ["MonthDriver", "MonthPlan", "MonthRun", "MonthSession", "month_scenario", "run_month",
           "with_portal", "working_days"]

DAY_OPEN, DAY_CLOSE = time(8, 0), time(11, 30)
"""The morning clinic's arrivals (business time)."""


@dataclass(frozen=True, slots=True)
class MonthPlan:
    """What to run. ``repeat_share``: the share of visits whose patient comes back later the
    same day for the same items; ``frequency_share``: the share who come back on each of the
    next two working days. ``plant_unbalanced``: after the last day-end, one settlement whose
    answer is lost and cannot be recovered (the conformance group DECL's situation: the HIS's
    month does not balance with the insurer's)."""

    period: str = "2026-03"
    days: int = 20
    visits_per_day: int = 40
    seed: int = 1
    repeat_share: float = 0.08
    frequency_share: float = 0.04
    windows: int = 4
    population: int = 2000
    plant_unbalanced: bool = False


def working_days(period: str, count: int) -> list[date]:
    """The first ``count`` Mondays-to-Fridays of ``period``; :class:`ScenarioFileError` when
    the month has fewer."""
    first, last = month_bounds(period)
    days = [first + timedelta(n) for n in range((last - first).days + 1)]
    weekdays = [d for d in days if d.weekday() < 5]
    if count < 1 or count > len(weekdays):
        raise ScenarioFileError("finance month", "--days",
                                f"{period} has {len(weekdays)} working days; asked for {count}")
    return weekdays[:count]


def _next_working_day(day: date) -> date:
    day += timedelta(1)
    while day.weekday() >= 5:
        day += timedelta(1)
    return day


def month_scenario(plan: MonthPlan, days: list[date]) -> Scenario:
    arrivals = tuple(ArrivalSpec(
        id=f"d{day:%m%d}", start=datetime.combine(day, DAY_OPEN),
        end=datetime.combine(day, DAY_CLOSE), count=plan.visits_per_day, windows=plan.windows,
        certificates={"card": 0.6, "ecert": 0.3, "id": 0.1},
        mix={"settle": 0.95, "refund": 0.02, "partial_refund": 0.03}, lines=(1, 4))
        for day in days)
    visits: tuple[VisitSpec, ...] = ()
    timeline: tuple[EventSpec, ...] = ()
    if plan.plant_unbalanced:
        last = days[-1]
        at = datetime.combine(last, time(23, 45))
        visits = (VisitSpec(id="late-lost-answer", at=at, person={}, retry=RetrySpec()),)
        timeline = (
            EventSpec(at=at - timedelta(minutes=1), note="结算应答丢失且无法查询 / a lost answer "
                      "that cannot be recovered", faults=(
                          {"id": "lost", "match": {"infno": "2207", "first": 1},
                           "effect": {"kind": "lose_answer", "how": "close"}},
                          {"id": "no-query", "match": {"infno": "5203"},
                           "effect": {"kind": "refuse"}},
                          {"id": "no-reversal", "match": {"infno": "2601"},
                           "effect": {"kind": "refuse"}})),
            EventSpec(at=at + timedelta(minutes=5), note="恢复 / back", faults=()))
    return Scenario(id="finance-month", title=f"{plan.period} 从窗口到回款 / a month from window "
                    "to repayment", date=days[0], seed=plan.seed,
                    data=DataSpec(population={"count": plan.population}),
                    his=HisSpec(timeout=10.0), visits=visits, arrivals=arrivals,
                    timeline=timeline)


REPEATED_ITEM = {"name_contains": "普通门诊诊察费", "list_type": "service"}
"""What a same-day comeback is charged again: the consultation fee (诊察费), charged once per
person and day (the review's duplicate rule, R-DUP-001 in mock_insurer/policy/rules.yaml)."""

FREQUENT_ITEM = {"name_contains": "动态血压监测", "list_type": "service"}
"""What a next-days comeback is charged again: ambulatory blood pressure monitoring, at most once
in 30 days (the review's frequency rule, R-FRQ-001)."""


def _with_line(visit: PlannedVisit, line: ChosenLine) -> PlannedVisit:
    if any(kept.code == line.code for kept in visit.lines):
        return visit
    return dataclasses.replace(visit, lines=(line, *visit.lines))


def _comebacks(plan: MonthPlan, data: ScenarioData, planned: list[PlannedVisit],
               last: date) -> list[PlannedVisit]:
    """Every visit, with the seeded patients who come back for the same items (same day, or
    the next working days): the originals and their comebacks carry the repeated item."""
    rng = random.Random(f"{plan.seed}:{plan.period}:comebacks")
    repeated = frequent = None
    with contextlib.suppress(SelectionError):  # a catalogue without them: plain repeats
        repeated = data.choose_line(LineSpec(REPEATED_ITEM), "comebacks")
    with contextlib.suppress(SelectionError):
        frequent = data.choose_line(LineSpec(FREQUENT_ITEM), "comebacks")
    out: list[PlannedVisit] = []
    for visit in planned:
        if not visit.spec.group or visit.spec.then != "settle":
            out.append(visit)
            continue
        draw = rng.random()
        spec = dataclasses.replace(visit.spec, expect={})
        if draw < plan.repeat_share:
            visit = _with_line(visit, repeated) if repeated else visit
            out += [visit, dataclasses.replace(visit, spec=dataclasses.replace(
                spec, id=f"{spec.id}-again", at=spec.at + timedelta(hours=2)))]
        elif draw < plan.repeat_share + plan.frequency_share:
            visit = _with_line(visit, frequent) if frequent else visit
            out.append(visit)
            day = spec.at.date()
            for n in (1, 2):
                day = _next_working_day(day)
                if day > last:
                    break
                out.append(dataclasses.replace(visit, spec=dataclasses.replace(
                    spec, id=f"{spec.id}-next{n}", at=datetime.combine(day, spec.at.time()))))
        else:
            out.append(visit)
    return out


def with_portal(base: type[ReferenceHis], url: str, token: str) -> type[ReferenceHis]:
    """``base`` whose configuration names the insurer's portal (unless it names one)."""

    def __init__(self: ReferenceHis, config: HisConfig) -> None:
        base.__init__(self, dataclasses.replace(
            config, portal_url=config.portal_url or url,
            portal_token=config.portal_token or token))

    return type(base.__name__, (base,), {"__init__": __init__})


@dataclass
class MonthRun:
    """What a month run did, step by step (the report reads it)."""

    plan: MonthPlan
    days: list[date]
    visits: list[VisitRecord] = field(default_factory=list)
    day_ends: list[DayEndRecord] = field(default_factory=list)
    declared: dict[str, Any] = field(default_factory=dict)
    declaration: dict[str, Any] = field(default_factory=dict)
    payment: dict[str, Any] = field(default_factory=dict)
    collected: dict[str, Any] = field(default_factory=dict)
    receivables: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, str]] = field(default_factory=list)

    def note(self, at: datetime, text: str) -> None:
        self.steps.append({"at": at.strftime("%Y-%m-%d %H:%M"), "step": text})


class MonthDriver:
    """Runs a :class:`MonthPlan` step by step inside an open harness (the conformance suite
    calls the steps one by one; :func:`run_month` all of them)."""

    def __init__(self, plan: MonthPlan, harness: Harness, portal: Portal,
                 planned: list[PlannedVisit], scenario: Scenario, data: Any,
                 days: list[date]) -> None:
        self.plan = plan
        self.harness = harness
        self.portal = portal
        self.planned = planned
        self.scenario = scenario
        self.data = data
        self.run = MonthRun(plan, days)

    def window_days(self, on_day: Callable[[int, int], None] | None = None) -> None:
        """Every working day's visits, then day-end at 23:30 (the plant, if any, after it)."""
        days = self.run.days
        for n, day in enumerate(days):
            todays = [p for p in self.planned if p.spec.at.date() == day]
            scenario = self.scenario if day == days[-1] else \
                dataclasses.replace(self.scenario, timeline=())
            runner = Runner(scenario, self.data, self.harness)
            runner.run(todays)
            self.run.visits.extend(runner.visits)
            self.run.day_ends.extend(runner.day_ends)
            if on_day is not None:
                on_day(n + 1, len(days))

    def declare(self) -> Outcome:
        """The HIS declares the month on the first working day of the next month, 09:00."""
        _first, last = month_bounds(self.plan.period)
        at = datetime.combine(_next_working_day(last), time(9, 0))
        self.harness.set_time(at)
        outcome = self.harness.his.declare(DeclareInput(self.plan.period))
        self.run.declared = outcome.to_json()
        self.run.declaration = dict(outcome.get("declaration") or {})
        refusal = outcome.refusal
        self.run.note(at, "申报 / declared" if outcome.ok else
                      f"未申报 / not declared: {refusal.message if refusal else outcome.body}")
        return outcome

    def review_and_pay(self) -> None:
        """The insurer reviews the declaration the next working day, and pays on its due date."""
        dcla_id = self.run.declaration.get("dcla_id")
        if not dcla_id:
            raise HarnessError("the month was not declared: nothing to review "
                               f"({self.run.declared.get('refusal')})")
        at = datetime.combine(_next_working_day(date.fromisoformat(
            self.run.declaration["declared_on"])), time(10, 0))
        self.harness.set_time(at)
        reviewed = self._portal("POST", f"/admin/declarations/{dcla_id}/review",
                                {"seed": self.plan.seed})["declaration"]
        self.run.note(at, "审核 / reviewed")
        due = datetime.combine(date.fromisoformat(reviewed["due_date"]), time(10, 0))
        self.harness.set_time(due)
        self.run.payment = self._portal("POST", f"/admin/declarations/{dcla_id}/pay",
                                        {})["payment"]
        self.run.declaration = self._portal("GET", f"/admin/declarations/{dcla_id}")[
            "declaration"]
        self.run.note(due, "回款 / paid")

    def collect(self) -> Outcome:
        """The HIS collects the payments and shows its receivables of the month."""
        collected = self.harness.his.collect_payments()
        self.run.collected = collected.to_json()
        self.run.receivables = self.harness.his.receivables(self.plan.period).to_json()
        return collected

    def _portal(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        try:
            return self.portal.call(method, path, body=body)
        except PortalProblem as problem:
            raise HarnessError(problem.message) from problem


class MonthSession:
    """The servers and the harness of a month run (a context manager)."""

    def __init__(self, plan: MonthPlan, directory: Path, *, insurer_url: str | None = None,
                 admin_token: str | None = None, his_url: str | None = None,
                 his_class: type[ReferenceHis] = ReferenceHis) -> None:
        self.plan = plan
        self.directory = directory
        self.days = working_days(plan.period, plan.days)
        self.scenario = month_scenario(plan, self.days)
        self._server: RunningServer | None = None
        self._insurer: Insurer | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self.data = prepare_data(self.scenario, directory / "data")
        planned = _comebacks(plan, self.data, plan_visits(self.scenario, self.data),
                             self.days[-1])
        self.planned = sorted(planned, key=lambda p: (p.spec.at, p.spec.id))
        if insurer_url is None:
            admin_token = secrets.token_hex(16)
            start = datetime.combine(self.days[0], time(7, 0))
            self._insurer = Insurer.open(InsurerConfig(
                db_url=f"sqlite:///{directory / 'insurer.db'}", admin_token=admin_token,
                wall=FixedClock(start, timedelta(milliseconds=10)), fresh=True,
                durability="normal"))
            self._server = start_in_thread(self._insurer)
            insurer_url = self._server.url
        self.portal = Portal(insurer_url, admin_token or "", 60.0)
        try:
            self.harness = open_harness(
                self.scenario, self.data, directory, insurer_url=insurer_url,
                admin_token=admin_token, his_url=his_url,
                his_class=with_portal(his_class, insurer_url, admin_token or ""))
        except BaseException:
            self._stop()
            raise
        self.driver = MonthDriver(plan, self.harness, self.portal, self.planned,
                                  self.scenario, self.data, self.days)

    def _stop(self) -> None:
        if self._server is not None:
            stopping = threading.Thread(target=self._server.stop)
            stopping.start()
            stopping.join()
        if self._insurer is not None:
            self._insurer.close()

    def close(self) -> None:
        self.harness.close()
        self._stop()

    def __enter__(self) -> MonthSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_month(plan: MonthPlan, directory: Path, *,
              on_day: Callable[[int, int], None] | None = None,
              insurer_url: str | None = None, admin_token: str | None = None,
              his_url: str | None = None,
              his_class: type[ReferenceHis] = ReferenceHis) -> MonthRun:
    """Run the whole month (see the module docstring); the servers stop at the end."""
    with MonthSession(plan, directory, insurer_url=insurer_url, admin_token=admin_token,
                      his_url=his_url, his_class=his_class) as session:
        driver = session.driver
        driver.window_days(on_day)
        if driver.declare().ok:
            driver.review_and_pay()
            driver.collect()
        return driver.run
