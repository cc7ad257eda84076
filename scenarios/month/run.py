"""A month — or several consecutive months — from window to repayment (issue 9, "Done when"), on
the embedded defaults or against a given insurer and HIS:

1. ``days`` working days (from the 1st of ``period``: Monday to Friday, less the public holidays,
   plus the weekend days worked instead — :mod:`simulator.workdays`) of visits at the windows
   — arrivals and departments as the demo and :mod:`scenarios.planning` draw them — with a
   seeded share of patients who come back the same day for the same items (a repeated item:
   what the review's duplicate rule refuses) and a share who come back on the next working
   days for the same items (over a frequency); day-end reconciliation each evening;
2. the declaration by the HIS on the first working day of the next month (the HIS checks the
   month with 3201 first);
3. the insurer's review (admin API), the business date moved to the payment's due date, the
   payment (回款);
4. the HIS collects the payments and matches them to its receivables.

Several months (``MonthPlan.months``) run on the same insurer and HIS, so the ledger, the
year-to-date counters and the review's history carry on. Their steps interleave in business
time, which only moves forward: month k is declared on the first working day of month k+1 at
09:00 (while that day's windows are open), reviewed the next working day at 10:00 and paid on its
due date — each step runs when the window days reach its time (between two visits' steps, or
between two days), and whatever is still due after the last window day runs at the end, in
order. Comebacks are planted within their month, so that each month's deductions come from its
own visits (the review would also see a comeback across the boundary: docs/review.md).

Business dates are the insurer's business clock (moved through its admin API), never the wall
clock. Money is Decimal yuan. The embedded HIS is given the insurer's admin API as its
settlement portal (``portal_url``/``portal_token``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import itertools
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
from simulator.workdays import WorkCalendar, national_calendar

__all__ = ["MAX_MONTHS", "MonthDriver", "MonthPlan", "MonthRun", "MonthSession", "calendar_notes",
           "month_periods",
           "month_scenario", "run_month", "run_months", "with_portal", "working_days"]

DAY_OPEN, DAY_CLOSE = time(8, 0), time(11, 30)
"""The morning clinic's arrivals (business time)."""

DECLARE_AT, REVIEW_AT = time(9, 0), time(10, 0)
"""When the HIS declares (the first working day of the next month) and when the insurer reviews
(the next working day) and pays (on the due date), business time."""

MAX_MONTHS = 12
"""The most consecutive months one run covers."""


@dataclass(frozen=True, slots=True)
class MonthPlan:
    """What to run. ``repeat_share``: the share of visits whose patient comes back later the
    same day for the same items; ``frequency_share``: the share who come back on each of the
    next two working days. ``plant_unbalanced``: after the last day-end, one settlement whose
    answer is lost and cannot be recovered (the conformance group DECL's situation: the HIS's
    month does not balance with the insurer's). ``months``: consecutive months from ``period``
    (1 to :data:`MAX_MONTHS`), each with ``days`` working days of visits."""

    period: str = "2026-03"
    days: int = 20
    visits_per_day: int = 40
    seed: int = 1
    repeat_share: float = 0.08
    frequency_share: float = 0.04
    windows: int = 4
    population: int = 2000
    plant_unbalanced: bool = False
    months: int = 1


def month_periods(period: str, months: int) -> list[str]:
    """``months`` consecutive periods ("YYYY-MM") from ``period``; :class:`ScenarioFileError`
    when ``months`` is out of 1..:data:`MAX_MONTHS`."""
    if not 1 <= months <= MAX_MONTHS:
        raise ScenarioFileError("finance month", "--months",
                                f"expected 1 to {MAX_MONTHS} months, got {months}")
    first, _last = month_bounds(period)
    index = first.year * 12 + first.month - 1
    return [f"{(index + n) // 12:04d}-{(index + n) % 12 + 1:02d}" for n in range(months)]


def working_days(period: str, count: int, calendar: WorkCalendar | None = None) -> list[date]:
    """The first ``count`` working days of ``period`` in ``calendar`` (default: the national
    one — weekends and public holidays skipped, make-up days worked);
    :class:`ScenarioFileError` when the month has fewer."""
    first, last = month_bounds(period)
    days = (calendar or national_calendar()).working_days(first, last)
    if count < 1 or count > len(days):
        raise ScenarioFileError("finance month", "--days",
                                f"{period} has {len(days)} working days; asked for {count}")
    return days[:count]


def calendar_notes(period: str, calendar: WorkCalendar | None = None) -> dict[str, Any]:
    """What the calendar says about ``period``: its source, the weekday holidays skipped and the
    weekend days worked (month.json's ``calendar``)."""
    calendar = calendar or national_calendar()
    first, last = month_bounds(period)
    covered = calendar.covers(first.year)
    return {
        "source": calendar.sources.get(first.year) if covered else
        "no announced holidays for this year: weekends and the fixed-date statutory days only",
        "holidays": [{"date": str(day), "name": name}
                     for day, name in calendar.weekday_holidays(first, last)],
        "weekend_days_worked": [str(day) for day in sorted(calendar.working)
                                if first <= day <= last],
        "announced": covered,
    }


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
               last: date, calendar: WorkCalendar) -> list[PlannedVisit]:
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
                day = calendar.next_working_day(day)
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
    calendar: dict[str, Any] = field(default_factory=dict)
    """:func:`calendar_notes` of the month (month.json's ``calendar``)."""

    def note(self, at: datetime, text: str) -> None:
        self.steps.append({"at": at.strftime("%Y-%m-%d %H:%M"), "step": text})


class MonthDriver:
    """Runs a :class:`MonthPlan` step by step inside an open harness (the conformance suite
    calls the steps one by one; :func:`run_months` all of them, interleaved in business time).

    ``runs`` holds one :class:`MonthRun` per month (``month_days``: each period's window days,
    in order; default: ``plan.period`` with ``days``); ``run`` is the first. The steps take the
    month's index ``k`` (0: the first month)."""

    def __init__(self, plan: MonthPlan, harness: Harness, portal: Portal,
                 planned: list[PlannedVisit], scenario: Scenario, data: Any,
                 days: list[date], month_days: dict[str, list[date]] | None = None,
                 calendar: WorkCalendar | None = None) -> None:
        self.plan = plan
        self.calendar = calendar or national_calendar()
        self.harness = harness
        self.portal = portal
        self.planned = planned
        self.scenario = scenario
        self.data = data
        month_days = month_days or {plan.period: days}
        self.runs = [MonthRun(dataclasses.replace(plan, period=period), list(ds),
                              calendar=calendar_notes(period, self.calendar))
                     for period, ds in month_days.items()]
        self.steps: list[dict[str, str]] = []
        """Every month's steps in the order they ran ({at, period, step}): business time."""

    @property
    def run(self) -> MonthRun:
        """The first month's run (the only one when ``plan.months`` is 1)."""
        return self.runs[0]

    def window_days(self, on_day: Callable[[int, int], None] | None = None, *,
                    wait_until: Callable[[datetime], None] | None = None,
                    after_month: Callable[[int], None] | None = None) -> None:
        """Every working day's visits of every month, then day-end at 23:30 (the plant, if
        any, after the last one). ``on_day(done, total)`` after each day (over all months);
        ``wait_until(t)`` before anything happens at business time ``t`` (the steps due by
        then run there); ``after_month(k)`` after month ``k``'s last day-end."""
        last = self.runs[-1].days[-1]
        total, done = sum(len(run.days) for run in self.runs), 0
        for k, run in enumerate(self.runs):
            for day in run.days:
                todays = [p for p in self.planned if p.spec.at.date() == day]
                scenario = self.scenario if day == last else \
                    dataclasses.replace(self.scenario, timeline=())
                runner = Runner(scenario, self.data, self.harness, wait_until=wait_until)
                runner.run(todays)
                run.visits.extend(runner.visits)
                run.day_ends.extend(runner.day_ends)
                done += 1
                if on_day is not None:
                    on_day(done, total)
            if after_month is not None:
                after_month(k)

    def declare_at(self, k: int = 0) -> datetime:
        """The first working day after month ``k``, 09:00 (business time)."""
        _first, last = month_bounds(self.runs[k].plan.period)
        return datetime.combine(self.calendar.next_working_day(last), DECLARE_AT)

    def declare(self, k: int = 0) -> Outcome:
        """The HIS declares month ``k`` on the first working day of the next month, 09:00."""
        run = self.runs[k]
        at = self.declare_at(k)
        self.harness.set_time(at)
        outcome = self.harness.his.declare(DeclareInput(run.plan.period))
        run.declared = outcome.to_json()
        run.declaration = dict(outcome.get("declaration") or {})
        refusal = outcome.refusal
        self._note(run, at, "申报 / declared" if outcome.ok else
                   f"未申报 / not declared: {refusal.message if refusal else outcome.body}")
        return outcome

    def review_at(self, k: int = 0) -> datetime:
        """The working day after month ``k``'s declaration, 10:00 (business time)."""
        run = self.runs[k]
        if not run.declaration.get("dcla_id"):
            raise HarnessError(f"{run.plan.period} was not declared: nothing to review "
                               f"({run.declared.get('refusal')})")
        return datetime.combine(self.calendar.next_working_day(date.fromisoformat(
            run.declaration["declared_on"])), REVIEW_AT)

    def review(self, k: int = 0) -> datetime:
        """The insurer reviews month ``k``'s declaration; returns when its payment is due."""
        run = self.runs[k]
        at = self.review_at(k)
        self.harness.set_time(at)
        reviewed = self._portal("POST", f"/admin/declarations/{run.declaration['dcla_id']}"
                                "/review", {"seed": self.plan.seed})["declaration"]
        run.declaration = dict(reviewed)
        self._note(run, at, "审核 / reviewed")
        return datetime.combine(date.fromisoformat(reviewed["due_date"]), REVIEW_AT)

    def pay(self, k: int = 0) -> None:
        """The insurer pays month ``k`` on its due date, 10:00."""
        run = self.runs[k]
        dcla_id = run.declaration["dcla_id"]
        due = datetime.combine(date.fromisoformat(run.declaration["due_date"]), REVIEW_AT)
        self.harness.set_time(due)
        run.payment = self._portal("POST", f"/admin/declarations/{dcla_id}/pay", {})["payment"]
        run.declaration = self._portal("GET", f"/admin/declarations/{dcla_id}")["declaration"]
        self._note(run, due, "回款 / paid")

    def review_and_pay(self, k: int = 0) -> None:
        """The insurer reviews the declaration the next working day, and pays on its due date."""
        self.review(k)
        self.pay(k)

    def collect(self, k: int = 0) -> Outcome:
        """The HIS collects the payments and shows its receivables of month ``k``."""
        run = self.runs[k]
        collected = self.harness.his.collect_payments()
        run.collected = collected.to_json()
        run.receivables = self.harness.his.receivables(run.plan.period).to_json()
        return collected

    def run_all(self, on_day: Callable[[int, int], None] | None = None) -> list[MonthRun]:
        """Every month's window days, with each month's declaration, review, payment and
        collection run when business time reaches them (see the module docstring): the
        business clock only moves forward. A month that cannot be declared stops there."""
        queue: list[tuple[datetime, int, Callable[[], None]]] = []
        order = itertools.count()

        def push(at: datetime, step: Callable[[], None]) -> None:
            heapq.heappush(queue, (at, next(order), step))

        def due(until: datetime | None) -> None:
            while queue and (until is None or queue[0][0] <= until):
                _at, _n, step = heapq.heappop(queue)
                step()

        def declared(k: int) -> None:
            if self.declare(k).ok:
                push(self.review_at(k), lambda: reviewed(k))

        def reviewed(k: int) -> None:
            push(self.review(k), lambda: paid(k))

        def paid(k: int) -> None:
            self.pay(k)
            self.collect(k)

        self.window_days(on_day, wait_until=due,
                         after_month=lambda k: push(self.declare_at(k), lambda: declared(k)))
        due(None)
        return self.runs

    def _note(self, run: MonthRun, at: datetime, text: str) -> None:
        run.note(at, text)
        self.steps.append({"period": run.plan.period, **run.steps[-1]})

    def _portal(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        try:
            return self.portal.call(method, path, body=body)
        except PortalProblem as problem:
            raise HarnessError(problem.message) from problem


class MonthSession:
    """The servers and the harness of a month run (a context manager). ``days`` are the
    window days of every month, in order; ``month_days`` the same by period. The HIS is the
    one at ``his_url``, else one started from ``his_command`` (:mod:`scenarios.his_process`,
    its ``{portal_token}`` the institution's portal credential), else the embedded
    ``his_class``."""

    def __init__(self, plan: MonthPlan, directory: Path, *, insurer_url: str | None = None,
                 admin_token: str | None = None, his_url: str | None = None,
                 his_class: type[ReferenceHis] = ReferenceHis,
                 his_command: str | None = None,
                 calendar: WorkCalendar | None = None) -> None:
        self.plan = plan
        self.directory = directory
        self.calendar = calendar or national_calendar()
        self.month_days = {period: working_days(period, plan.days, self.calendar)
                           for period in month_periods(plan.period, plan.months)}
        self.days = [day for days in self.month_days.values() for day in days]
        self.scenario = month_scenario(plan, self.days)
        self._server: RunningServer | None = None
        self._insurer: Insurer | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self.data = prepare_data(self.scenario, directory / "data")
        every = plan_visits(self.scenario, self.data)
        planned: list[PlannedVisit] = []
        for period, days in self.month_days.items():
            within = set(days)
            planned += _comebacks(dataclasses.replace(plan, period=period), self.data,
                                  [p for p in every if p.spec.at.date() in within], days[-1],
                                  self.calendar)
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
        self.portal = Portal(insurer_url, admin_token or "", 60.0)  # the insurer's side
        # the HIS declares with its hospital's own portal credential, as in the field
        his_token = str((self.data.institution.get("credentials") or {}).get("portal")
                        or admin_token or "")
        try:
            self.harness = open_harness(
                self.scenario, self.data, directory, insurer_url=insurer_url,
                admin_token=admin_token, his_url=his_url, his_command=his_command,
                his_class=with_portal(his_class, insurer_url, his_token))
        except BaseException:
            self._stop()
            raise
        self.driver = MonthDriver(plan, self.harness, self.portal, self.planned,
                                  self.scenario, self.data, self.days, self.month_days,
                                  self.calendar)

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


def run_months(plan: MonthPlan, directory: Path, *,
               on_day: Callable[[int, int], None] | None = None,
               insurer_url: str | None = None, admin_token: str | None = None,
               his_url: str | None = None,
               his_class: type[ReferenceHis] = ReferenceHis,
               calendar: WorkCalendar | None = None) -> list[MonthRun]:
    """Run ``plan.months`` months (see the module docstring), one :class:`MonthRun` each, in
    order; ``on_day(done, total)`` counts the window days of all months. The servers stop at
    the end."""
    with MonthSession(plan, directory, insurer_url=insurer_url, admin_token=admin_token,
                      his_url=his_url, his_class=his_class, calendar=calendar) as session:
        return session.driver.run_all(on_day)


def run_month(plan: MonthPlan, directory: Path, *,
              on_day: Callable[[int, int], None] | None = None,
              insurer_url: str | None = None, admin_token: str | None = None,
              his_url: str | None = None,
              his_class: type[ReferenceHis] = ReferenceHis) -> MonthRun:
    """Run one whole month (``plan.months`` must be 1: use :func:`run_months` for more)."""
    if plan.months != 1:
        raise ValueError(f"run_month runs one month, the plan has {plan.months}: use run_months")
    return run_months(plan, directory, on_day=on_day, insurer_url=insurer_url,
                      admin_token=admin_token, his_url=his_url, his_class=his_class)[0]
