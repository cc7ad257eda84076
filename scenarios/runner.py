"""Running a scenario: the visits, the fault timeline and the day-ends in business-time order,
against a HIS through the driver API, with the insurer's clock following the scenario.

A visit is a generator that yields the business time at which it continues (a patient coming
back after an outage, or for a refund); a heap orders visits, timeline events and day-ends.
Visits run one at a time, so a run is reproducible: the same scenario, seed and HIS give the
same messages. Wall time is only measured (``ms`` of each step), never waited for.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from mock_insurer.transactions import Settings
from scenarios.checks import run_checks
from scenarios.data import ScenarioData
from scenarios.errors import HarnessError
from scenarios.harness import DRIVER_TIMEOUT, Harness, open_harness
from scenarios.library import LIBRARY
from scenarios.model import EventSpec, Scenario
from scenarios.planning import DEPARTMENTS, PlannedVisit, prepare_and_plan
from scenarios.records import CheckResult, DayEndRecord, RunResult, StepRecord, VisitRecord
from simulator.his.app import ReferenceHis
from simulator.his.errors import DriverError, DriverInputError
from simulator.his.operations import (
    ChargeInput,
    ChargeItem,
    DayEndInput,
    IdentifyInput,
    Outcome,
    Override,
    RefundInput,
    RegisterInput,
    SettleInput,
    VisitInput,
)

__all__ = ["COME_BACK", "DAY_END_TIME", "REFUND_AFTER", "RETRY_STEP", "run_scenario"]

RETRY_STEP = ("settlement_unknown", "refund_unknown")
"""The HIS's refusal codes after which the patient waits and the cashier tries the same step
again later (``retry``): the outcome is not known yet, the HIS resolves it first."""

COME_BACK = ("insurer_unavailable", "insurer_gateway", "insurer_no_answer")
"""The HIS's refusal codes after which the patient leaves and comes back later (``retry``) to
start again: the insurer could not be reached or did not answer."""

REFUND_AFTER = timedelta(minutes=15)
"""A patient asks for a refund this long after settling (business time)."""

DAY_END_TIME = (23, 30)
"""Day-end reconciliation runs at 23:30 of each day that had visits."""

OPEN_AT_HIS = ("registered", "charged", "register_unknown")

Process = Generator[datetime, None, None]


def _effect(n: int, fault: Mapping[str, Any]) -> dict[str, Any]:
    """A fault of the timeline as result.json names it: ``{"id", "name", "kind"}`` (the
    effect's kind, e.g. ``refuse``; see :data:`mock_insurer.faults.EFFECT_KINDS`)."""
    effect = fault.get("effect")
    kind = effect.get("kind") if isinstance(effect, Mapping) else effect
    return {"id": fault.get("id", f"f{n + 1}"), "name": fault.get("name"),
            "kind": None if kind is None else str(kind)}


class _StepFailed(Exception):
    """A driver call that did not give a usable answer (recorded; the visit ends)."""


@dataclass
class _Clock:
    now: datetime


class Runner:
    def __init__(self, scenario: Scenario, data: ScenarioData, harness: Harness,
                 on_progress: Callable[[int, int], None] | None = None, *,
                 wait_until: Callable[[datetime], None] | None = None,
                 on_event: Callable[[EventSpec], None] | None = None,
                 day_end_at: Callable[[date], datetime] | None = None) -> None:
        """``wait_until(t)`` runs before anything happens at scenario time ``t`` (a drill
        waits for the wall clock there; a scenario does not wait); ``on_event`` after each
        timeline event; ``day_end_at(day)`` says when day-end runs (default 23:30)."""
        self.scenario = scenario
        self.data = data
        self.harness = harness
        self.his = harness.his
        self.clock = _Clock(datetime.combine(scenario.date, datetime.min.time()))
        self.on_progress = on_progress
        self.wait_until = wait_until
        self.on_event = on_event
        self.day_end_at = day_end_at or (lambda day: datetime.combine(
            day, datetime.min.time()).replace(hour=DAY_END_TIME[0], minute=DAY_END_TIME[1]))
        self.visits: list[VisitRecord] = []
        self.day_ends: list[DayEndRecord] = []
        self.events: list[dict[str, Any]] = []
        self.warnings: dict[str, list[dict[str, Any]]] = {}
        """Every rule-check warning the HIS answered, by scenario visit id (in order)."""
        self.not_run: list[str] = []
        """What was not run because the HIS had stopped answering (``Harness.his_stopped``):
        ``visit ID`` (or ``visit ID (step)`` for one stopped half way), ``day-end DATE``."""

    # -- scheduling ----------------------------------------------------------------------
    def run(self, planned: list[PlannedVisit]) -> None:
        heap: list[tuple[datetime, int, int, Any]] = []
        seq = itertools.count()
        for event in self.scenario.timeline:
            heapq.heappush(heap, (event.at, 0, next(seq), ("event", event)))
        for visit in planned:
            heapq.heappush(heap, (visit.spec.at, 1, next(seq), ("start", visit)))
        days = sorted({visit.spec.at.date() for visit in planned})
        if self.scenario.day_end:
            for day in days:
                heapq.heappush(heap, (self.day_end_at(day), 2, next(seq), ("day_end", day)))
        done, total = 0, len(planned)
        while heap:
            at, _rank, _n, (kind, payload) = heapq.heappop(heap)
            if self.wait_until is not None:
                self.wait_until(at)
            self.clock.now = max(self.clock.now, at)
            if kind == "event":
                self._apply(payload)
                if self.on_event is not None:
                    self.on_event(payload)
                continue
            if kind == "day_end":
                self._day_end(payload)
                continue
            process: Iterator[datetime] = (self._visit(payload) if kind == "start" else payload)
            resume = next(process, None)
            if resume is None:
                done += 1
                if self.on_progress is not None:
                    self.on_progress(done, total)
            else:
                heapq.heappush(heap, (resume, 1, next(seq), ("resume", process)))

    def _apply(self, event: Any) -> None:
        self.harness.set_time(self.clock.now)
        if event.faults is not None:
            self.harness.admin.set_faults(event.faults, event.seed)
        self.events.append({"at": self.clock.now.strftime("%Y-%m-%d %H:%M:%S"),
                            "note": event.note,
                            "faults": [f.get("id", f"f{n + 1}") for n, f in
                                       enumerate(event.faults or [])],
                            "effects": [_effect(n, f) for n, f in enumerate(event.faults or [])]})

    def _day_end(self, day: date) -> None:
        self.harness.set_time(self.clock.now)
        stopped = self.harness.his_stopped
        if stopped is not None:
            self.not_run.append(f"day-end {day.isoformat()}")
            self.day_ends.append(DayEndRecord(day.isoformat(), False, None, 0,
                                              {"error": f"{stopped}; day-end not run"},
                                              0.0))
            return
        started = time.perf_counter()
        try:
            outcome = self.his.day_end(DayEndInput(day))
        except DriverError as exc:
            self.day_ends.append(DayEndRecord(day.isoformat(), False, None, 0,
                                              {"error": str(exc)}, 0.0))
            return
        body = dict(outcome.body)
        self.day_ends.append(DayEndRecord(
            day.isoformat(), outcome.ok, body.get("balanced") if outcome.ok else None,
            len(body.get("corrections") or []), body, (time.perf_counter() - started) * 1000))

    # -- one visit -----------------------------------------------------------------------
    def _call(self, record: VisitRecord, step: str, call: Callable[[], Outcome]) -> Outcome:
        stopped = self.harness.his_stopped
        if stopped is not None:  # not sent: the visit ends here, as on a driver error
            self.not_run.append(f"visit {record.id}" + (f" ({step})" if record.steps else ""))
            record.error = f"{stopped}; this visit not run from its {step} on"
            raise _StepFailed
        self.harness.set_time(self.clock.now)
        started = time.perf_counter()
        try:
            outcome = call()
        except (DriverError, DriverInputError) as exc:
            ms = (time.perf_counter() - started) * 1000
            record.steps.append(StepRecord(step, self._stamp(), False, ms, error=str(exc)))
            record.error = f"{step}: {exc}"
            raise _StepFailed from exc
        ms = (time.perf_counter() - started) * 1000
        for warning in outcome.body.get("warnings") or []:
            if isinstance(warning, dict):
                shown = {"step": step, **warning}
                self.warnings.setdefault(record.id, []).append(shown)
                record.warnings.append(shown)
        refusal = None if outcome.ok or outcome.refusal is None else outcome.refusal.to_json()
        record.steps.append(StepRecord(step, self._stamp(), outcome.ok, ms, refusal))
        return outcome

    def _stamp(self) -> str:
        return self.clock.now.strftime("%Y-%m-%d %H:%M:%S")

    def _retrying(self, record: VisitRecord, plan: PlannedVisit, step: str,
                  call: Callable[[], Outcome]) -> Generator[datetime, None, Outcome]:
        attempts = 0
        while True:
            outcome = self._call(record, step, call)
            if outcome.ok or outcome.refusal is None or outcome.refusal.code not in RETRY_STEP \
                    or attempts >= plan.spec.retry.times:
                return outcome
            attempts += 1
            record.retries += 1
            yield self.clock.now + timedelta(minutes=plan.spec.retry.after_minutes)

    def _visit(self, plan: PlannedVisit) -> Process:
        spec, person = plan.spec, plan.person
        record = VisitRecord(
            id=spec.id, group=spec.group, at=spec.at, psn_no=person["psn_no"],
            psn_name=person["psn_name"], edge_cases=list(person.get("edge_cases") or []),
            certificate=spec.certificate, operator=spec.operator, dept=plan.dept, then=spec.then,
            items=[{"code": line.code, "name": line.record.get("medins_list_name"),
                    "qty": str(line.qty), "days": None if line.days is None else str(line.days)}
                   for line in plan.lines],
            expect=dict(spec.expect))
        self.visits.append(record)
        try:
            for attempt in range(plan.spec.retry.times + 1):
                yield from self._visit_steps(plan, record)
                code = (record.refusal or {}).get("code")
                if record.outcome != "refused" or code not in COME_BACK \
                        or attempt == plan.spec.retry.times:
                    return
                record.retries += 1  # the patient leaves and comes back later
                yield self.clock.now + timedelta(minutes=plan.spec.retry.after_minutes)
                record.refusal, record.his_visit_id, record.outcome = None, None, "pending"
        except _StepFailed:
            record.outcome = "error"

    def _refused(self, record: VisitRecord, step: str, outcome: Outcome) -> None:
        refusal = outcome.refusal.to_json() if outcome.refusal is not None else {}
        record.refusal = {"step": step, **refusal}
        code = refusal.get("code")
        record.outcome = "unresolved" if code in ("settlement_unknown", "refund_unknown") else "refused"

    def _leave(self, record: VisitRecord, operator: str) -> None:
        """After a refusal the patient leaves: a visit the HIS kept open (the insurer could not
        be reached) is cancelled, as the cashier would."""
        if record.his_visit_id is None:
            return
        seen = self._call(record, "visit", lambda: self.his.visit(record.his_visit_id or ""))
        status = (seen.body.get("visit") or {}).get("status") if seen.ok else None
        if status in OPEN_AT_HIS:
            self._call(record, "cancel", lambda: self.his.cancel(
                record.his_visit_id or "", VisitInput(operator)))

    def _visit_steps(self, plan: PlannedVisit, record: VisitRecord) -> Process:
        spec, cert, his = plan.spec, plan.certificate, self.his
        operator = spec.operator
        outcome = yield from self._retrying(record, plan, "identify", lambda: his.identify(
            IdentifyInput(cert.cert_type, cert.cert_no, card_sn=cert.card_sn,
                          psn_name=cert.psn_name, operator=operator)))
        if not outcome.ok:
            self._refused(record, "identify", outcome)
            return
        patient_id = str(outcome.body["patient"]["patient_id"])
        dept_name, doctor, doctor_name = DEPARTMENTS[plan.dept]
        outcome = yield from self._retrying(record, plan, "register", lambda: his.register(
            RegisterInput(patient_id, plan.dept, doctor, dept_name=dept_name,
                          doctor_name=doctor_name, insutype=spec.insutype, operator=operator)))
        if not outcome.ok:
            self._refused(record, "register", outcome)
            record.his_visit_id = (outcome.body.get("visit") or {}).get("visit_id")
            self._leave(record, operator)
            return
        visit_id = str(outcome.body["visit"]["visit_id"])
        record.his_visit_id = visit_id
        charge = ChargeInput(tuple(ChargeItem(line.code, line.qty, line.days)
                                   for line in plan.lines), plan.diagnoses, operator=operator)
        outcome = yield from self._retrying(record, plan, "charge",
                                            lambda: his.charge(visit_id, charge))
        again = self._after_warning(plan, outcome) if outcome.ok else None
        if again is not None:
            outcome = yield from self._retrying(record, plan, "charge",
                                                lambda: his.charge(visit_id, again))
        if not outcome.ok:
            self._refused(record, "charge", outcome)
            if record.outcome == "refused":
                self._leave(record, operator)
            return
        steps: list[tuple[str, Callable[[], Outcome]]] = []
        if spec.then == "walk_away":
            steps.append(("cancel", lambda: his.cancel(visit_id, VisitInput(operator))))
        else:
            settle = SettleInput(spec.acct_used, operator)
            steps += [("pre_settle", lambda: his.pre_settle(visit_id, settle)),
                      ("settle", lambda: his.settle(visit_id, settle))]
        for step, call in steps:
            outcome = yield from self._retrying(record, plan, step, call)
            if not outcome.ok:
                self._refused(record, step, outcome)
                if record.outcome == "refused":
                    self._leave(record, operator)
                return
        if spec.then == "walk_away":
            record.outcome = "cancelled"
            return
        record.bill = dict(outcome.body.get("bill") or {})
        record.printed.append({"kind": "bill", "step": "settle", "document": record.bill})
        record.recovered = bool(record.bill.get("recovered"))
        record.outcome = "settled"
        if spec.then not in ("refund", "partial_refund"):
            return
        yield self.clock.now + REFUND_AFTER
        codes = (tuple(plan.lines[i].code for i in spec.refund_items or (len(plan.lines) - 1,))
                 if spec.then == "partial_refund" else None)
        outcome = yield from self._retrying(record, plan, "refund", lambda: his.refund(
            visit_id, RefundInput(codes, operator=operator)))
        if not outcome.ok:
            self._refused(record, "refund", outcome)
            if record.outcome == "refused":
                record.outcome = "settled"  # the refund was refused: the bill stands
            return
        record.refund = dict(outcome.body.get("refund") or {})
        record.printed.append({"kind": "refund slip", "step": "refund", "document": record.refund})
        bill = outcome.body.get("bill")
        record.bill = dict(bill) if bill else None
        if record.bill:  # a partial refund prints a new bill for what is kept
            record.printed.append({"kind": "bill", "step": "refund", "document": record.bill})
        record.outcome = "partly_refunded" if bill else "refunded"


    @staticmethod
    def _after_warning(plan: PlannedVisit, outcome: Outcome) -> ChargeInput | None:
        """The charge the cashier makes after a severe warning blocked lines (``on_warning``):
        the blocked items again with an override, or cut to the item's per-prescription
        limits (``max_cnt_per_rx``, ``max_days_per_rx``); None to go on as they are."""
        spec = plan.spec
        blocked = [line for line in outcome.body.get("lines") or []
                   if isinstance(line, dict) and line.get("status") == "blocked"]
        if not blocked or spec.on_warning == "proceed":
            return None
        records = {line.code: line.record for line in plan.lines}
        items = []
        for line in blocked:
            qty = Decimal(str(line["qty"]))
            days = None if line.get("days") is None else Decimal(str(line["days"]))
            if spec.on_warning == "correct":
                record = records.get(str(line["code"])) or {}
                if record.get("max_cnt_per_rx") is not None:
                    qty = min(qty, Decimal(str(record["max_cnt_per_rx"])))
                if days is not None and record.get("max_days_per_rx") is not None:
                    days = min(days, Decimal(str(record["max_days_per_rx"])))
            items.append(ChargeItem(str(line["code"]), qty, days))
        override = (Override(spec.operator, spec.override_reason)
                    if spec.on_warning == "override" else None)
        return ChargeInput(tuple(items), plan.diagnoses, operator=spec.operator,
                           override=override)



def _stopped_check(stopped: str, not_run: list[str]) -> CheckResult:
    """The one line of a run whose HIS stopped answering: why, and what was not run (the
    checks about it cannot judge the HIS; conformance reports it as an error)."""
    visits = sum(1 for what in not_run if what.startswith("visit "))
    days = [what.removeprefix("day-end ") for what in not_run if what.startswith("day-end ")]
    left = [f"{visits} visit(s)"] if visits else []
    left += [f"the day-end of {', '.join(days)}"] if days else []
    return CheckResult("harness", False, f"{stopped}; not run: {' and '.join(left) or 'nothing'}",
                       [{"error": stopped, "not_run": not_run}])


def require_fresh_his(harness: Harness) -> None:
    """Stop (:class:`HarnessError`) when the HIS given by URL already holds settlements — an
    earlier run's, which the insurer (reset for this run) knows nothing of: every check would
    then fail on rows of another run. Its ledger (``GET /his/v1/ledger``) says; a HIS that
    cannot answer it is left to the run."""
    try:
        outcome = harness.his.ledger()
    except (DriverError, DriverInputError):
        return
    rows = list(outcome.body.get("settlements") or []) if outcome.ok else []
    if rows:
        days = sorted({str(row.get("setl_date") or row.get("setl_time") or "")[:10]
                       for row in rows} - {""})
        raise HarnessError(
            f"the HIS at {harness.his_url} already holds {len(rows)} settlement row(s)"
            f"{' of ' + ', '.join(days[:3]) if days else ''} from an earlier run: restart it "
            "with a fresh database (the reference HIS: a new --db) and run again")


def shown_source(source: Path | str | None) -> str:
    """Where the scenario came from, as result.json says it: a library scenario as
    ``scenarios/library/NAME.yaml`` (the same on every install), another file as given."""
    if not source:
        return ""
    path = Path(source)
    try:
        return f"scenarios/library/{path.resolve().relative_to(LIBRARY.resolve())}"
    except (ValueError, OSError):
        return str(source)


def run_scenario(scenario: Scenario, directory: Path, *, insurer_url: str | None = None,
                 admin_token: str | None = None, his_url: str | None = None,
                 his_class: type[ReferenceHis] = ReferenceHis, his_timeout: float | None = None,
                 insurer_settings: Settings | None = None,
                 on_progress: Callable[[int, int], None] | None = None,
                 on_finish: Callable[[Harness, RunResult], None] | None = None,
                 insurer_auth: str = "none", his_command: str | None = None,
                 fresh_his: bool = False, driver_timeout: float = DRIVER_TIMEOUT) -> RunResult:
    """Run ``scenario`` (data, servers and files under ``directory``) and judge it.
    ``insurer_settings`` configure an embedded insurer (default: strict mode);
    ``insurer_auth`` the embedded insurer's gateway authentication (none, tif, apikey);
    ``his_command`` starts the HIS under test for this run (:mod:`scenarios.his_process`);
    ``on_finish(harness, result)`` runs after the checks, before the servers stop (to read
    more of the insurer's or the HIS's records; a HIS that stopped answering cannot be read
    there, and its driver errors are not raised); ``fresh_his``: a HIS given by URL must not
    hold settlements yet (:func:`require_fresh_his`); ``driver_timeout``: seconds (wall clock)
    to wait for each answer of the HIS — after :data:`~scenarios.harness.GIVE_UP_AFTER` requests
    in a row without one, the rest of the scenario is not run, each visit and day-end left
    saying so, and the ``harness`` check says it on one line."""
    started = time.perf_counter()
    data, planned = prepare_and_plan(scenario, directory / "data")
    with open_harness(scenario, data, directory, insurer_url=insurer_url,
                      admin_token=admin_token, his_url=his_url, his_class=his_class,
                      his_command=his_command, his_timeout=his_timeout,
                      insurer_settings=insurer_settings, insurer_auth=insurer_auth,
                      driver_timeout=driver_timeout) as harness:
        if fresh_his and his_url is not None:
            require_fresh_his(harness)
        runner = Runner(scenario, data, harness, on_progress)
        runner.run(planned)
        result = RunResult(
            scenario=scenario.id, title=scenario.title, concern=scenario.concern,
            source=shown_source(scenario.source), seed=scenario.seed,
            date=scenario.date.isoformat(), his={"url": harness.his_url, "name": harness.his_name,
                 "embedded": "his" in harness.embedded,
                 "class": his_class.__name__ if "his" in harness.embedded else None,
                 "institution": harness.fixmedins_code},
            insurer={"url": harness.insurer_url, "embedded": "insurer" in harness.embedded},
            visits=runner.visits, day_ends=runner.day_ends, events=runner.events)
        result.checks = run_checks(scenario, result, harness, days=sorted(
            {v.at.date() for v in runner.visits}), warnings=runner.warnings)
        if harness.his_stopped is not None:
            result.checks.insert(0, _stopped_check(harness.his_stopped, runner.not_run))
        if on_finish is not None:
            try:
                on_finish(harness, result)
            except DriverError:
                if harness.his_stopped is None:
                    raise
    result.wall_seconds = time.perf_counter() - started
    return result
