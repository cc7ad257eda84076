"""From a scenario to the visits it will run: explicit visits with their persons and items
chosen, and arrivals expanded into visits (seeded: the same scenario and seed give the same
visits, persons, items and times).

Arrival times of a group are ``count`` uniform draws over [from, to) sorted — a Poisson process
conditioned on its count — rounded to the second (business time).
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from scenarios.data import (
    Certificate,
    ChosenLine,
    ScenarioData,
    SelectionError,
    certificate,
    prepare_data,
)
from scenarios.errors import ScenarioFileError
from scenarios.model import ArrivalSpec, LineSpec, Scenario, VisitSpec

__all__ = ["DEFAULT_ARRIVING", "DEPARTMENTS", "PlannedVisit", "check_plan", "plan_visits",
           "prepare_and_plan"]

DEPARTMENTS: Mapping[str, tuple[str, str, str]] = {
    # 科室代码 (national department codes, 科别 A03...): name, a doctor's code and name
    "A03": ("内科", "D0301", "李建国"),
    "A04": ("外科", "D0401", "王志强"),
    "A05": ("妇产科", "D0501", "陈静"),
    "A07": ("儿科", "D0701", "刘敏"),
    "A10": ("眼科", "D1001", "赵明"),
    "A12": ("口腔科", "D1201", "孙丽"),
    "A50": ("中医科", "D5001", "周文华"),
}
"""Departments a scenario's visits are registered in (docs/scenarios.md)."""


DEFAULT_ARRIVING: Mapping[str, Any] = {"insutype": ["310", "390"]}
"""Who arrives when an arrivals group names no ``persons``: insured normally in the two
schemes every region profile covers (employees 310, residents 390)."""


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    spec: VisitSpec
    person: Mapping[str, Any]
    certificate: Certificate
    lines: tuple[ChosenLine, ...]
    diagnoses: tuple[str, ...]
    dept: str
    where: str


def _shares(rng: random.Random, shares: Mapping[str, float]) -> str:
    names = [name for name, share in shares.items() if share > 0]
    return rng.choices(names, weights=[shares[n] for n in names])[0]


def _explicit(data: ScenarioData, visit: VisitSpec, where: str,
              chosen: dict[str, Mapping[str, Any]]) -> PlannedVisit:
    same = visit.person.get("same_as")
    if same is not None:
        person = chosen[same]
    else:
        person = data.choose_person(visit.person, visit.at.date(), f"{where}.person")
    chosen[visit.id] = person
    lines = visit.items or (LineSpec({"category": "A", "list_type": "service"}),)
    picked = tuple(data.choose_line(line, f"{where}.items[{n}]") for n, line in enumerate(lines))
    if visit.dept and visit.dept not in DEPARTMENTS:
        raise SelectionError(f"{where}.dept", f"{visit.dept!r} is not one of "
                                              f"{', '.join(DEPARTMENTS)}")
    return PlannedVisit(visit, person, certificate(person, visit.certificate, visit.typed,
                                                   f"{where}.certificate"),
                        picked, visit.diagnoses or (data.diagnosis(),), visit.dept or "A03", where)


def _arrivals(data: ScenarioData, group: ArrivalSpec, where: str,
              rng: random.Random) -> list[PlannedVisit]:
    persons_wanted = group.persons or DEFAULT_ARRIVING
    pool = [p for p in data.candidates(persons_wanted, group.start.date())
            if p["psn_no"] not in data.used]
    if not pool:
        raise SelectionError(f"{where}.persons", f"no person matches {dict(persons_wanted)}")
    persons = (rng.sample(pool, group.count) if len(pool) >= group.count
               else [rng.choice(pool) for _ in range(group.count)])
    span = (group.end - group.start).total_seconds()
    times = sorted(group.start + timedelta(seconds=int(rng.random() * span))
                   for _ in range(group.count))
    departments = list(DEPARTMENTS)
    planned = []
    for n, (at, person) in enumerate(zip(times, persons, strict=True)):
        then = _shares(rng, group.mix)
        kind = _shares(rng, group.certificates)
        count = rng.randint(*group.lines)
        item = LineSpec(dict(group.items))
        lines = tuple(data.choose_line(item, f"{where}.items", rng) for _ in range(count))
        unique = tuple({line.code: line for line in lines}.values())
        spec = VisitSpec(
            id=f"{group.id}-{n + 1:04d}", at=at, person={"psn_no": person["psn_no"]},
            certificate=kind, operator=f"C{(n % group.windows) + 1:02d}",
            then=then,  # type: ignore[arg-type]
            refund_items=(len(unique) - 1,) if then == "partial_refund" and len(unique) > 1 else (),
            retry=group.retry, expect=group.expect, group=group.id)
        if spec.then == "partial_refund" and len(unique) < 2:
            spec = replace(spec, then="refund")
        planned.append(PlannedVisit(spec, person, certificate(person, kind, {}, where), unique,
                                    (data.diagnosis(),), rng.choice(departments),
                                    f"{where} (visit {spec.id})"))
    return planned


def plan_visits(scenario: Scenario, data: ScenarioData) -> list[PlannedVisit]:
    """Every visit of the scenario in the order of arrival (explicit visits first on a tie).
    A selector nothing matches raises :class:`ScenarioFileError` naming it; nothing has run."""
    source = str(scenario.source or scenario.id)
    rng = random.Random(f"{scenario.seed}:{scenario.id}:arrivals")
    chosen: dict[str, Mapping[str, Any]] = {}
    try:
        planned = [_explicit(data, visit, f"visits[{i}]", chosen)
                   for i, visit in enumerate(scenario.visits)]
        for i, group in enumerate(scenario.arrivals):
            planned.extend(_arrivals(data, group, f"arrivals[{i}]", rng))
    except SelectionError as exc:
        raise ScenarioFileError(source, exc.where, str(exc).removeprefix(f"{exc.where}: ")) from exc
    order = {id(p): n for n, p in enumerate(planned)}
    return sorted(planned, key=lambda p: (p.spec.at, p.spec.group != "", order[id(p)]))


def prepare_and_plan(scenario: Scenario, directory: Path) -> tuple[ScenarioData,
                                                                    list[PlannedVisit]]:
    """The scenario's data (generated into ``directory``, where earlier files of the same
    settings are reused) and its visits planned. When that fails (a selector nothing matches,
    data that cannot be generated) whatever this call created is removed again: a run that
    cannot start leaves no half report."""
    first_new = None
    for parent in (directory, *directory.parents):
        if parent.exists():
            break
        first_new = parent
    before = set(directory.iterdir()) if directory.is_dir() else set()
    try:
        data = prepare_data(scenario, directory)
        return data, plan_visits(scenario, data)
    except BaseException:
        if first_new is not None:
            shutil.rmtree(first_new, ignore_errors=True)
        elif directory.is_dir():
            for path in set(directory.iterdir()) - before:
                if path.is_file():
                    path.unlink(missing_ok=True)
        raise


def check_plan(scenario: Scenario) -> list[PlannedVisit]:
    """Plan the scenario's visits as a run would — its data generated from its seeds into a
    temporary directory, removed afterwards — so that ``scenario check`` finds an item, a
    person or a selector nothing matches without running anything."""
    with tempfile.TemporaryDirectory(prefix="cardsettle-check-") as temp:
        return prepare_and_plan(scenario, Path(temp) / "data")[1]
