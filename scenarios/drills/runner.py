"""Running a drill in wall-clock time (scaled by ``accelerate``) against an insurer, and
collecting what the debrief needs.

The drill compiles to a scenario: each phase is a timeline event that sets the insurer's fault
plan (empty: none), each phase's injected patients an arrivals group over the phase. The
scenario runner plays it, waiting for the wall clock before each event or visit. The insurer
is told the drill's state (``PUT /admin/drill``) so that its console shows the timeline and the
current phase. Clocks are passed in: ``wall`` (the local time, for the embedded servers and the
phase times shown), ``monotonic`` and ``sleep`` (for waiting), ``epoch`` (seconds since the
epoch, comparable with the insurer's message times).

Day-end (``day_end``) runs at the very end of the last phase, before its faults are cleared: a
drill can rehearse a day-end under faults. An interrupted drill (Ctrl+C) clears the insurer's
faults, tells it the drill was ``aborted`` and raises :class:`DrillAborted` naming the phase.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from scenarios.data import ScenarioData, prepare_data
from scenarios.drills.model import Drill
from scenarios.errors import HarnessError, ScenarioError
from scenarios.harness import Harness, open_harness
from scenarios.insurer_admin import InsurerAdmin
from scenarios.model import ArrivalSpec, EventSpec, Scenario
from scenarios.planning import plan_visits
from scenarios.records import DayEndRecord, VisitRecord
from scenarios.runner import Runner
from simulator.his.app import ReferenceHis
from simulator.his.driver import HisDriver
from simulator.his.errors import DriverError
from simulator.his.operations import Outcome

__all__ = ["DAY_END_BEFORE_END", "Clocks", "DrillAborted", "DrillRun", "PhaseRecord",
           "compile_drill", "run_drill"]

DAY_END_BEFORE_END = timedelta(microseconds=1)
"""Day-end runs this long (drill time) before the drill's end, so the last phase's faults are
still on; injected patients arrive on whole seconds, so every one of them comes before it."""


class DrillAborted(ScenarioError):
    """The drill was interrupted (Ctrl+C). ``phase`` indexes the drill's phases (``None``:
    before the first one began); ``after_last`` when every phase had begun and the drill was
    finishing (day-end, the last patients); ``drill_minutes`` how far it had got (drill time)."""

    def __init__(self, drill: Drill, phase: int | None, drill_minutes: float, *,
                 after_last: bool = False) -> None:
        self.drill = drill
        self.phase = phase
        self.drill_minutes = drill_minutes
        self.after_last = after_last
        where = ("before the first phase" if phase is None else
                 "after the last phase (day-end, the last patients)" if after_last else
                 f"in phase {phase + 1}/{len(drill.phases)} {drill.phases[phase].name}")
        super().__init__(f"drill {drill.id} interrupted {where}, after {drill_minutes:.1f} of "
                         f"{drill.minutes:g} drill minutes")


@dataclass(frozen=True, slots=True)
class Clocks:
    wall: Callable[[], datetime]
    monotonic: Callable[[], float]
    sleep: Callable[[float], None]
    epoch: Callable[[], float]


@dataclass
class PhaseRecord:
    name: str
    instructions: str
    faults: list[str]
    planned_start: datetime
    planned_end: datetime
    started_epoch: float = 0.0
    first_message_id: int = 0      # messages of the phase: ids above this, up to the next's


@dataclass
class DrillRun:
    drill: Drill
    accelerate: float
    insurer_url: str
    his_url: str | None
    institution: str | None
    started: datetime
    ended_epoch: float
    message_id_at_start: int
    phases: list[PhaseRecord]
    messages: list[dict[str, Any]]
    visits: list[VisitRecord] = field(default_factory=list)
    day_ends: list[DayEndRecord] = field(default_factory=list)
    his_ledger: list[dict[str, Any]] | None = None
    settlements: list[dict[str, Any]] = field(default_factory=list)
    open_visits: list[dict[str, Any]] = field(default_factory=list)


class _NoHis(HisDriver):
    """Stands in for a HIS without the driver API: the drill only drives the insurer."""

    def _none(self, *_args: Any, **_kwargs: Any) -> Outcome:
        raise DriverError("this drill runs without a HIS driver API (no --his-url)")

    info = identify = register = charge = pre_settle = settle = _none
    refund = cancel = visit = bill = day_end = ledger = _none


def compile_drill(drill: Drill, start: datetime) -> Scenario:
    """The drill as a scenario starting at ``start`` (drill time = unscaled minutes)."""
    events, arrivals = [], []
    at = start
    for n, phase in enumerate(drill.phases):
        end = at + timedelta(minutes=phase.minutes)
        events.append(EventSpec(at=at, faults=tuple(phase.faults), seed=phase.seed,
                                note=phase.name))
        if phase.patients is not None:
            p = phase.patients
            arrivals.append(ArrivalSpec(
                id=f"p{n + 1}", start=at, end=end, count=p.count, windows=p.windows,
                persons=p.persons, certificates=p.certificates, mix=p.mix, lines=p.lines,
                retry=p.retry))
        at = end
    events.append(EventSpec(at=at, faults=(), note="结束 / end"))
    return Scenario(id=drill.id, title=drill.title, date=start.date(), source=drill.source,
                    concern="drill", seed=drill.seed, data=drill.data, his=drill.his,
                    arrivals=tuple(arrivals), timeline=tuple(events), day_end=drill.day_end)


def _phase_records(drill: Drill, start: datetime) -> list[PhaseRecord]:
    records, at = [], start
    for phase in drill.phases:
        end = at + timedelta(minutes=phase.minutes)
        records.append(PhaseRecord(phase.name, phase.instructions,
                                   [str(f.get("id", f"f{i + 1}")) for i, f in
                                    enumerate(phase.faults)], at, end))
        at = end
    return records


def run_drill(drill: Drill, directory: Path, clocks: Clocks, *, accelerate: float = 1.0,
              insurer_url: str | None = None, admin_token: str | None = None,
              his_url: str | None = None, institution: str | None = None,
              reset_insurer: bool = False, his_class: type[ReferenceHis] = ReferenceHis,
              on_phase: Callable[[int, PhaseRecord], None] | None = None,
              on_embedded: Callable[[str, str | None], None] | None = None) -> DrillRun:
    """Run ``drill``. Without ``insurer_url`` an insurer and the reference HIS are started here
    (a rehearsal on one machine; ``on_embedded`` is told that insurer's URL and admin token
    before the first phase, so its console can be opened); with it, the insurer the staff's HIS
    uses is driven (and reset and loaded with the drill's data only with ``reset_insurer``);
    ``his_url`` gives a HIS driver API (injected patients, day-end, the HIS's ledger in the
    debrief)."""
    start = clocks.wall().replace(microsecond=0, tzinfo=None)
    scenario = compile_drill(drill, start)
    injects = any(phase.patients for phase in drill.phases)
    driven = insurer_url is None or his_url is not None
    data: ScenarioData | None = None
    if driven:
        data = prepare_data(scenario, directory / "data")
    if not driven and injects:
        raise HarnessError("this drill injects patients: give the HIS's driver API (--his-url), "
                           "or run it without --insurer-url (embedded)")
    if data is not None and institution is not None and institution != data.code:
        raise HarnessError(f"--institution {institution}: the drill's HIS is institution "
                           f"{data.code} (the one whose messages the debrief counts): leave "
                           f"--institution out, or give {data.code}")
    harness: Harness
    if data is not None:
        harness = open_harness(scenario, data, directory, insurer_url=insurer_url,
                               admin_token=admin_token, his_url=his_url, his_class=his_class,
                               wall=clocks.wall, prepare_insurer=reset_insurer)
        institution = institution or data.code
    else:
        assert insurer_url is not None
        admin = InsurerAdmin(insurer_url, admin_token)
        admin.require_one_process("a drill")
        harness = Harness(admin=admin, his=_NoHis(),
                          insurer_url=insurer_url, his_url="", fixmedins_code=institution or "",
                          follow_clock=False)
    phases = _phase_records(drill, start)
    with harness:
        admin = harness.admin
        if on_embedded is not None and "insurer" in harness.embedded:
            on_embedded(harness.insurer_url, admin.token)
        first_id = admin.last_message_id()
        t0 = clocks.monotonic()
        epoch0 = clocks.epoch()

        def wall_of(moment: datetime) -> str:
            """When drill time ``moment`` happens on the wall, in UTC (the console may be in
            another time zone)."""
            seconds = epoch0 + (moment - start).total_seconds() / accelerate
            return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds")

        def state(current: int | None, shown: str) -> dict[str, Any]:
            """The drill state for the console: ``shown`` running, finished or aborted."""
            return {"drill": drill.id, "title": drill.title, "accelerate": accelerate,
                    "state": shown, "current": current,
                    "message_id_at_start": first_id,
                    "phases": [{"name": p.name, "instructions": p.instructions,
                                "start": wall_of(p.planned_start), "end": wall_of(p.planned_end),
                                "faults": p.faults} for p in phases]}

        def wait_until(moment: datetime) -> None:
            due = (moment - start).total_seconds() / accelerate
            late = due - (clocks.monotonic() - t0)
            if late > 0:
                clocks.sleep(late)

        index = {"next": 0}

        def on_event(event: EventSpec) -> None:
            n = index["next"]
            index["next"] = n + 1  # begun, whatever happens next (an interruption names it)
            if n < len(phases):
                phases[n].started_epoch = clocks.epoch()
                phases[n].first_message_id = admin.last_message_id()
                admin.set_drill(state(n, "running"))
                if on_phase is not None:
                    on_phase(n, phases[n])

        day_end = scenario.timeline[-1].at - DAY_END_BEFORE_END
        runner = Runner(scenario, data or _empty_data(), harness, wait_until=wait_until,
                        on_event=on_event, day_end_at=lambda _day: day_end)
        aborted: DrillAborted | None = None
        try:
            admin.set_drill(state(None, "running"))
            planned = plan_visits(scenario, data) if data is not None and injects else []
            runner.run(planned)
        except KeyboardInterrupt:
            begun = index["next"]  # phases begun (one more once the end event ran)
            aborted = DrillAborted(drill, min(begun, len(phases)) - 1 if begun else None,
                                   (clocks.monotonic() - t0) * accelerate / 60,
                                   after_last=begun > len(phases))
            raise aborted from None
        finally:
            with contextlib.suppress(HarnessError):
                admin.set_faults([])
            with contextlib.suppress(HarnessError):
                admin.set_drill(state(None, "finished") if aborted is None else
                                state(aborted.phase, "aborted"))
        ended = clocks.epoch()
        messages = admin.messages(after_id=first_id,
                                  **({"fixmedins_code": institution} if institution else {}))
        ledger = None
        if his_url is not None or insurer_url is None:
            with contextlib.suppress(DriverError):
                ledger = list(harness.his.ledger().body.get("settlements") or [])
        settlements, open_visits = _insurer_rows(admin, institution, messages)
    return DrillRun(drill=drill, accelerate=accelerate, insurer_url=harness.insurer_url,
                    his_url=None if data is None else harness.his_url, institution=institution,
                    started=start, ended_epoch=ended, message_id_at_start=first_id,
                    phases=phases, messages=messages, visits=runner.visits,
                    day_ends=runner.day_ends, his_ledger=ledger, settlements=settlements,
                    open_visits=open_visits)


def _insurer_rows(admin: InsurerAdmin, institution: str | None,
                  messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                           list[dict[str, Any]]]:
    """The settlements made by the drill's messages, and the drill's visits still open at the
    insurer (with their fee details and settlements)."""
    if not institution:
        return [], []
    msgids = {str(m["msgid"]) for m in messages}
    days = sorted({str(m.get("biz_time") or "")[:10] for m in messages if m.get("biz_time")})
    if not days:
        return [], []
    rows = admin.settlements(institution, date.fromisoformat(days[0]),
                             date.fromisoformat(days[-1]))
    made = [r for r in rows if str(r.get("medins_setl_id")) in msgids
            or str(r.get("made_by_infno")) == "2601"]
    opened = [admin.visit(str(v["mdtrt_id"])) for v in admin.visits(institution, status="open")
              if str(v.get("created_msgid")) in msgids]
    return made, opened


def _empty_data() -> ScenarioData:
    return ScenarioData(population_file=Path(), institutions_file=Path(),
                        catalogue_file=Path(), insurer_catalogue_file=Path(), persons=[],
                        institutions=[], institution={"fixmedins_code": ""}, items={},
                        mappings=[], diagnoses=[])


