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
faults, tells it the drill was ``aborted`` and raises :class:`DrillAborted` naming the phase;
a drill that fails once running is shown ``aborted`` too.

Before anything is shown, reset or told to the insurer, the drill is planned as ``drill check``
plans it (:func:`plan_drill`, :func:`check_drill`: its data, its patients, the persons its faults
select — a mistake named by its path in the drill file), the insurer's admin API takes the
token, and a HIS given by URL serves the drill's institution and holds no settlements yet (an
earlier group's: the check ``scenario run`` makes, :func:`~scenarios.runner.require_fresh_his`).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scenarios.data import ScenarioData, SelectionError, prepare_data
from scenarios.drills.loading import drill_file_error
from scenarios.drills.model import Drill, Phase
from scenarios.errors import HarnessError, ScenarioError, ScenarioFileError
from scenarios.harness import DRIVER_TIMEOUT, Harness, his_info, open_harness
from scenarios.insurer_admin import InsurerAdmin
from scenarios.model import ArrivalSpec, EventSpec, Scenario
from scenarios.planning import PlannedVisit, plan_visits
from scenarios.records import DayEndRecord, VisitRecord
from scenarios.runner import Runner, require_fresh_his
from simulator.his.app import ReferenceHis
from simulator.his.driver import HisDriver, HttpHisDriver
from simulator.his.errors import DriverError
from simulator.his.operations import Outcome

__all__ = ["DAY_END_BEFORE_END", "Clocks", "DrillAborted", "DrillPlan", "DrillRun",
           "PhaseRecord", "check_drill", "compile_drill", "fault_names", "fault_person_problems",
           "plan_drill",
           "run_drill"]

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


FAULT_NAME_SHOWN = 100
"""Characters of a fault's name the console's timeline takes (the admin API's limit)."""


def fault_names(phase: Phase) -> list[str]:
    """The phase's faults as the drill file names them (``name``, else ``id``): what the
    console's timeline and the terminal show, before and during the phase."""
    return [" ".join(str(f.get("name") or f.get("id") or f"f{i + 1}").split())[:FAULT_NAME_SHOWN]
            for i, f in enumerate(phase.faults)]


def _phase_records(drill: Drill, start: datetime) -> list[PhaseRecord]:
    records, at = [], start
    for phase in drill.phases:
        end = at + timedelta(minutes=phase.minutes)
        records.append(PhaseRecord(phase.name, phase.instructions,
                                   [str(f.get("id", f"f{i + 1}")) for i, f in
                                    enumerate(phase.faults)], at, end))
        at = end
    return records


@dataclass(frozen=True, slots=True)
class DrillPlan:
    """A drill ready to run: the scenario it compiles to, its data (``None``: a drill on an
    insurer alone uses none) and its injected patients, planned."""

    scenario: Scenario
    data: ScenarioData | None
    planned: list[PlannedVisit]


def _injects(drill: Drill) -> bool:
    return any(phase.patients for phase in drill.phases)


def _fault_persons(drill: Drill) -> bool:
    return any(isinstance(fault.get("match"), Mapping) and fault["match"].get("psn_no")
               is not None for phase in drill.phases for fault in phase.faults)


def plan_drill(drill: Drill, start: datetime, directory: Path | None) -> DrillPlan:
    """The drill compiled to start at ``start``, its data generated into ``directory``
    (``None``: it uses none — a drill on an insurer alone) and its injected patients planned,
    as the run plays them. A selector nothing matches raises :class:`ScenarioFileError` with
    its path in the drill file (``phases[0].patients.persons``); what this call generated is
    removed again then. Nothing is shown or sent anywhere."""
    scenario = compile_drill(drill, start)
    if directory is None:
        return DrillPlan(scenario, None, [])
    phases = [n for n, phase in enumerate(drill.phases) if phase.patients is not None]
    made = [path for path in (directory, *directory.parents) if not path.exists()]
    before = set(directory.iterdir()) if directory.is_dir() else set()
    try:
        data = prepare_data(scenario, directory)
        planned = plan_visits(scenario, data) if _injects(drill) else []
    except (ScenarioFileError, SelectionError) as exc:
        _remove_new(directory, before, made)
        if isinstance(exc, SelectionError):
            exc = ScenarioFileError(str(drill.source or drill.id), exc.where,
                                    str(exc).removeprefix(f"{exc.where}: "))
        raise drill_file_error(exc, phases) from None
    except BaseException:
        _remove_new(directory, before, made)
        raise
    return DrillPlan(scenario, data, planned)


def _remove_new(directory: Path, before: set[Path], made: list[Path]) -> None:
    """Remove the files of ``directory`` not in ``before``, then the directories ``made``."""
    if directory.is_dir():
        for path in set(directory.iterdir()) - before:
            if path.is_file():
                path.unlink(missing_ok=True)
    for path in made:  # innermost first
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def fault_person_problems(drill: Drill, data: ScenarioData) -> list[ScenarioFileError]:
    """Each person a fault selects (``match.psn_no``) who is not in the drill's population:
    the fault would never fire. One error per person, with its path in the drill file."""
    known = {str(person.get("psn_no")) for person in data.persons}
    source = str(drill.source or drill.id)
    problems = []
    for n, phase in enumerate(drill.phases):
        for k, fault in enumerate(phase.faults):
            match = fault.get("match")
            wanted = match.get("psn_no") if isinstance(match, Mapping) else None
            if wanted is None:
                continue
            name = f" ({fault['name']})" if fault.get("name") else ""
            for psn_no in [wanted] if isinstance(wanted, str | int) else list(wanted):
                if str(psn_no) not in known:
                    problems.append(ScenarioFileError(
                        source, f"phases[{n}].faults[{k}].match.psn_no",
                        f"fault {fault.get('id', f'f{k + 1}')!r}{name} selects person {psn_no}, "
                        f"who is not in the drill's population ({len(known)} persons, "
                        "data.population), so the fault would never fire: choose a psn_no of "
                        "the drill's population (its data/population-*.jsonl), or name the "
                        "insurer's own population file (data: {population: {file: ...}})"))
    return problems


def check_drill(drill: Drill, start: datetime) -> tuple[DrillPlan, list[str]]:
    """Plan ``drill`` as a run would — its data generated into a temporary directory, removed
    afterwards — so that ``drill check`` finds what ``drill run`` would fail on before it
    starts: a selector nothing matches, a fault on a person not in the drill's population
    (refused for a drill that injects patients, which runs on the drill's data; else a
    warning, returned: run with ``--insurer-url`` alone, the insurer's own population counts).
    The plan's data names files that no longer exist."""
    if not _injects(drill) and not _fault_persons(drill):
        return plan_drill(drill, start, None), []
    with tempfile.TemporaryDirectory(prefix="cardsettle-check-") as temp:
        plan = plan_drill(drill, start, Path(temp) / "data")
        assert plan.data is not None
        problems = fault_person_problems(drill, plan.data)
    if problems and _injects(drill):
        raise problems[0]
    return plan, [f"{problem} (unless the drill runs with --insurer-url alone, on the "
                  "insurer's own population)" for problem in problems]


def his_serve_command(data: ScenarioData, his_url: str, insurer_url: str | None) -> str:
    """The reference HIS's command line serving the drill's institution at ``his_url``, with
    the drill's catalogue and institutions and a new database."""
    where = urlsplit(his_url)
    host = "" if where.hostname in (None, "127.0.0.1", "localhost") else " --host 0.0.0.0"
    port = f" --port {where.port}" if where.port else ""
    return (f"cardsettle his serve --insurer-url {insurer_url or '<the insurer URL>'}{host}{port} "
            f"--catalogue {data.catalogue_file} --institutions {data.institutions_file} "
            f"--institution {data.code} --db <a new file>")


def _check_his(drill: Drill, data: ScenarioData, his_url: str, insurer_url: str | None) -> None:
    """Before the insurer is touched: the HIS at ``his_url`` serves the drill's institution,
    and holds no settlements yet (an earlier group's: the insurer's setl_ids start again after
    ``--reset-insurer``, so the debrief would match old rows with new ones) — the check
    ``scenario run`` makes (:func:`~scenarios.runner.require_fresh_his`). Else a
    :class:`HarnessError` saying how to serve the HIS for the drill."""
    command = his_serve_command(data, his_url, insurer_url)
    driver = HttpHisDriver(his_url, timeout=DRIVER_TIMEOUT)
    admin = InsurerAdmin(insurer_url or his_url)  # not called: the checks read the HIS only
    try:
        his_info(driver, his_url, data.code, f"drill {drill.id}", (
            f"serve the HIS as {data.code} with the drill's catalogue and institutions and a "
            f"new database, then run the drill again — the reference HIS: `{command}`"))
        try:
            require_fresh_his(Harness(admin=admin, his=driver, insurer_url=insurer_url or "",
                                      his_url=his_url, fixmedins_code=data.code))
        except HarnessError as exc:
            raise HarnessError(f"{exc}: `{command}` (docs/drills.md, \"Between two groups of "
                               "trainees\")") from None
    except DriverError as exc:
        raise HarnessError(f"cannot start the drill: {exc}") from exc
    finally:
        driver.close()
        admin.close()


def run_drill(drill: Drill, directory: Path, clocks: Clocks, *, accelerate: float = 1.0,
              insurer_url: str | None = None, admin_token: str | None = None,
              his_url: str | None = None, institution: str | None = None,
              reset_insurer: bool = False, his_class: type[ReferenceHis] = ReferenceHis,
              on_phase: Callable[[int, PhaseRecord], None] | None = None,
              on_embedded: Callable[[str, str | None], None] | None = None,
              on_ready: Callable[[], None] | None = None, insurer_port: int = 0) -> DrillRun:
    """Run ``drill``. Without ``insurer_url`` an insurer and the reference HIS are started here
    (a rehearsal on one machine; ``on_embedded`` is told that insurer's URL and admin token
    before the first phase, so its console can be opened); with it, the insurer the staff's HIS
    uses is driven (and reset and loaded with the drill's data only with ``reset_insurer``);
    ``his_url`` gives a HIS driver API (injected patients, day-end, the HIS's ledger in the
    debrief).

    Everything that can be checked is checked before the insurer is reset or told of the
    drill (its console): the patients planned (:func:`plan_drill`), the faults' persons, the
    institution, and a HIS given by URL serving the drill's institution with no settlements
    yet (:func:`_check_his`). ``on_ready`` runs once the drill can start, before
    ``on_embedded`` and the first phase (the terminal's banner). A drill that fails once
    running is shown aborted on the console, as an interrupted one. ``insurer_port``: where an
    insurer started here listens (0: any free port), so its console's address can be known
    before the drill."""
    start = clocks.wall().replace(microsecond=0, tzinfo=None)
    injects = _injects(drill)
    driven = insurer_url is None or his_url is not None
    if not driven and injects:
        raise HarnessError("this drill injects patients: give the HIS's driver API (--his-url), "
                           "or run it without --insurer-url (embedded)")
    plan = plan_drill(drill, start, directory / "data" if driven else None)
    scenario, data = plan.scenario, plan.data
    if data is not None:
        if problems := fault_person_problems(drill, data):
            raise problems[0]
        if institution is not None and institution != data.code:
            raise HarnessError(f"--institution {institution}: the drill's HIS is institution "
                               f"{data.code} (the one whose messages the debrief counts): leave "
                               f"--institution out, or give {data.code}")
    staff: InsurerAdmin | None = None
    if insurer_url is not None:  # its admin API takes the token (read only: nothing changes)
        staff = InsurerAdmin(insurer_url, admin_token)
        try:
            staff.require_one_process("a drill")
            if data is not None and his_url is not None:
                _check_his(drill, data, his_url, insurer_url)
        except BaseException:
            staff.close()
            raise
    elif data is not None and his_url is not None:
        _check_his(drill, data, his_url, insurer_url)
    harness: Harness
    if data is not None:
        if staff is not None:
            staff.close()
        harness = open_harness(scenario, data, directory, insurer_url=insurer_url,
                               admin_token=admin_token, his_url=his_url, his_class=his_class,
                               wall=clocks.wall, prepare_insurer=reset_insurer,
                               insurer_port=insurer_port)
        institution = institution or data.code
    else:
        assert insurer_url is not None and staff is not None
        harness = Harness(admin=staff, his=_NoHis(),
                          insurer_url=insurer_url, his_url="", fixmedins_code=institution or "",
                          follow_clock=False)
    phases = _phase_records(drill, start)
    with harness:
        admin = harness.admin
        if on_ready is not None:
            on_ready()
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
                                "faults": fault_names(drill.phases[n])}
                               for n, p in enumerate(phases)]}

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

        def current() -> int | None:
            begun = index["next"]  # phases begun (one more once the end event ran)
            return min(begun, len(phases)) - 1 if begun else None

        day_end = scenario.timeline[-1].at - DAY_END_BEFORE_END
        runner = Runner(scenario, data or _empty_data(), harness, wait_until=wait_until,
                        on_event=on_event, day_end_at=lambda _day: day_end)
        shown = "finished"
        try:
            admin.set_drill(state(None, "running"))
            runner.run(plan.planned)
        except KeyboardInterrupt:
            shown = "aborted"
            raise DrillAborted(drill, current(), (clocks.monotonic() - t0) * accelerate / 60,
                               after_last=index["next"] > len(phases)) from None
        except BaseException:
            shown = "aborted"  # not a finished drill: the console says it stopped, and where
            raise
        finally:
            with contextlib.suppress(HarnessError):
                admin.set_faults([])
            with contextlib.suppress(HarnessError):
                admin.set_drill(state(None if shown == "finished" else current(), shown))
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


