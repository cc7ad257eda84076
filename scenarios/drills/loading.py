"""Reading a drill file: YAML → the drill JSON Schema (with the scenario schema's definitions)
→ fault plans checked by the insurer's own reader → a :class:`~scenarios.drills.model.Drill`.
A mistake raises :class:`~scenarios.errors.ScenarioFileError` with the field's path."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from scenarios.drills.model import Drill, Patients, Phase
from scenarios.errors import ScenarioFileError
from scenarios.loading import (
    checked_document,
    fault_plan_problem,
    parse_scenario,
    read_file,
    scenario_schema,
)
from scenarios.model import RetrySpec

__all__ = ["drill_file_error", "drill_schema", "load_drill", "parse_drill"]


@cache
def drill_schema() -> dict[str, Any]:
    """The JSON Schema of drill files (the scenario schema's ``$defs`` merged in)."""
    text = resources.files("scenarios.drills").joinpath("drill.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    schema["$defs"] = {**scenario_schema()["$defs"], **schema["$defs"]}
    return schema


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(drill_schema())


_ARRIVALS = re.compile(r"arrivals\[(\d+)\]")


def drill_file_error(error: ScenarioFileError, phases: Sequence[int]) -> ScenarioFileError:
    """``error`` of the scenario a drill is checked or planned as, named as the drill file
    says it: the scenario's ``arrivals[i]`` are the patients of the drill's phase
    ``phases[i]`` (``phases[n].patients``)."""

    def rename(text: str) -> str:
        return _ARRIVALS.sub(lambda m: f"phases[{phases[int(m.group(1))]}].patients"
                             if int(m.group(1)) < len(phases) else m.group(0), text)

    return ScenarioFileError(error.source, rename(error.where), rename(error.message))


def load_drill(path: str | Path) -> Drill:
    path = Path(path)
    return parse_drill(read_file(path), source=path)


def parse_drill(text: str, *, source: Path | str = "<drill>") -> Drill:
    name = str(source)
    data = checked_document(text, name, _validator(), "drill:, title:, phases:, ...")
    phases = []
    drill_seed = data.get("seed", 1)
    for n, phase in enumerate(data["phases"]):
        faults = tuple(phase.get("faults", ()))
        seed = phase.get("seed", drill_seed)  # the fault draws: the phase's seed, else the drill's
        if problem := fault_plan_problem(faults, seed):
            raise ScenarioFileError(name, f"phases[{n}].faults", problem)
        patients = phase.get("patients")
        if isinstance(patients, int):
            patients = {"count": patients}
        phases.append(Phase(
            name=phase["name"], minutes=float(phase["minutes"]),
            instructions=phase.get("instructions", ""), faults=faults,
            seed=seed,
            patients=None if not patients or not patients["count"] else Patients(
                count=patients["count"], windows=patients.get("windows", 2),
                persons=patients.get("persons", {}),
                certificates=patients.get("certificates", {"card": 1.0}),
                mix=patients.get("mix", {"settle": 1.0}),
                lines=tuple(patients.get("lines", (1, 4))),
                retry=RetrySpec(**patients["retry"]) if "retry" in patients else RetrySpec())))
    # data, his and each phase's patients are checked exactly as a scenario's (its data, his
    # and arrival groups: the shares of mix and certificates add up to 1, lines, retry), and a
    # mistake named by its path in the drill file
    injected = [(n, dict(p)) for n, p in enumerate(data["phases"])
                if isinstance(p.get("patients"), dict) and p["patients"]["count"]]
    try:
        probe = parse_scenario(json.dumps({
            "scenario": data["drill"], "title": data["title"], "date": "2026-01-01",
            "data": data.get("data", {}), "his": data.get("his", {}),
            "visits": [{"id": "probe", "at": "00:00", "person": {}}],
            "arrivals": [{**phase["patients"], "from": "00:00", "to": "00:01", "count": 1}
                         for _, phase in injected]}), source=source)
    except ScenarioFileError as exc:
        raise drill_file_error(exc, [n for n, _ in injected]) from None
    return Drill(id=data["drill"], title=data["title"], phases=tuple(phases),
                 source=source if isinstance(source, Path) else None,
                 description=data.get("description", ""), audience=data.get("audience", ""),
                 seed=drill_seed, data=probe.data, his=probe.his,
                 day_end=data.get("day_end", True))
