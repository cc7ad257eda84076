"""What the suite certifies: a HIS (given by URL, or the embedded reference HIS or one of its
mutants) against the mock insurer (given by URL, or embedded), by running scenarios through the
HIS driver API and keeping, for each run, the scenario's result and every message the insurer
recorded for the institution.

Runs are memoised by scenario name: several requirements judge the same run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import yaml

from scenarios.errors import HarnessError
from scenarios.harness import Harness
from scenarios.library import library_path
from scenarios.loading import load_scenario, parse_scenario
from scenarios.model import Scenario
from scenarios.records import RunResult, VisitRecord
from scenarios.report import write_json
from scenarios.runner import run_scenario
from simulator.his.app import ReferenceHis
from simulator.masking import mask
from simulator.output import atomic_write

__all__ = ["Profile", "ScenarioRun", "Target", "profile"]


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    window_seconds: float
    insurer_latency_ms: float
    his_timeout: float


@cache
def _profiles() -> dict[str, dict[str, Any]]:
    text = resources.files("conformance").joinpath("profiles.yaml").read_text("utf-8")
    data: dict[str, dict[str, Any]] = yaml.safe_load(text)
    return data


def profile(name: str) -> Profile:
    """A certification profile by name (conformance/profiles.yaml); ValueError lists names."""
    found = _profiles().get(name)
    if found is None:
        raise ValueError(f"unknown profile {name!r} (expected one of: {', '.join(_profiles())})")
    return Profile(name=name, description=found["description"],
                   window_seconds=float(found["window_seconds"]),
                   insurer_latency_ms=float(found["insurer_latency_ms"]),
                   his_timeout=float(found["his_timeout"]))


@dataclass
class ScenarioRun:
    """One scenario run: its result, the insurer's messages of the institution (oldest first,
    with request and answer), and the persons of its population by ``psn_no``."""

    name: str
    result: RunResult
    messages: list[dict[str, Any]]
    persons: dict[str, dict[str, Any]]
    directory: Path

    def check(self, name: str) -> Any:
        return next((c for c in self.result.checks if c.name == name), None)

    def visit(self, visit_id: str) -> VisitRecord:
        return next(v for v in self.result.visits if v.id == visit_id)

    def messages_of(self, psn_no: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("psn_no") == psn_no]


def message_evidence(message: dict[str, Any]) -> dict[str, Any]:
    """A message as the report shows it: personal data masked, bodies kept to their input and
    output."""
    request = (message.get("request") or {}).get("content")
    answer = (message.get("answer") or {}).get("content")
    return mask({
        "infno": message.get("infno"), "msgid": message.get("msgid"),
        "biz_time": message.get("biz_time"), "infcode": message.get("infcode"),
        "rejection_code": message.get("rejection_code"), "err_msg": message.get("err_msg"),
        "fault": message.get("fault"), "deviations": message.get("deviations") or [],
        "input": request.get("input") if isinstance(request, dict) else request,
        "output": answer.get("output") if isinstance(answer, dict) else None,
    })


class Target:
    """Runs scenarios against the HIS under certification."""

    def __init__(self, workdir: Path, *, profile: Profile, his_url: str | None = None,
                 insurer_url: str | None = None, admin_token: str | None = None,
                 his_class: type[ReferenceHis] = ReferenceHis, his_label: str = "",
                 his_command: str | None = None) -> None:
        self.workdir = workdir
        self.profile = profile
        self.his_url = his_url
        self.his_command = his_command
        self.insurer_url = insurer_url
        self.admin_token = admin_token
        self.his_class = his_class
        self.his_label = his_label or his_url or (
            f"started per scenario: {his_command}" if his_command else f"embedded {his_class.__name__}")
        self.runs: dict[str, ScenarioRun] = {}
        self.failed: dict[str, HarnessError] = {}
        self.his_info: dict[str, Any] = {}

    def scenario(self, name: str) -> Scenario:
        if name == "window-time":
            latency = round(self.profile.insurer_latency_ms)
            text = resources.files("conformance").joinpath("scenarios/window-time.yaml").read_text(
                "utf-8").replace("{latency_max}", str(latency * 5)).replace("{latency}", str(latency))
            return parse_scenario(text, source=f"conformance/scenarios/{name}.yaml")
        path = library_path(name)
        if path is None:
            raise ValueError(f"no scenario {name!r}")
        return load_scenario(path)

    def run(self, name: str, *, auth: str = "none") -> ScenarioRun:
        """Run scenario ``name`` (once per session); ``auth``: the embedded insurer's gateway
        authentication (an insurer given by URL keeps its own, and a HIS started here signs as
        that insurer asks: the same run whatever ``auth`` says)."""
        if self.insurer_url:
            auth = "none"  # not used with an insurer given by URL (scenarios.harness)
        key = name if auth == "none" else f"{name}@{auth}"
        if key in self.runs:
            return self.runs[key]
        if key in self.failed:  # the servers could not start: say so again, do not retry
            raise self.failed[key]
        captured: dict[str, Any] = {}

        def keep(harness: Harness, _result: RunResult) -> None:
            captured["messages"] = harness.admin.messages(fixmedins_code=harness.fixmedins_code)
            info = harness.his.info()
            self.his_info = dict(info.body) if info.ok else {}

        directory = self.workdir / key
        try:
            result = run_scenario(self.scenario(name), directory,
                                  insurer_url=self.insurer_url, admin_token=self.admin_token,
                                  his_url=self.his_url, his_class=self.his_class,
                                  on_finish=keep, insurer_auth=auth,
                                  his_command=self.his_command)
        except HarnessError as exc:  # every test of this scenario errors with the same cause
            self.failed[key] = exc
            raise
        persons = {}
        for path in (directory / "data").glob("population-*.jsonl"):
            for line in path.read_bytes().splitlines():
                if line.strip():
                    record = orjson.loads(line)
                    persons[record["psn_no"]] = record
        write_json(result, directory)  # result.json: the scenario's institution, checks, visits
        run = ScenarioRun(key, result, captured.get("messages", []), persons, directory)
        atomic_write(directory / "messages.json", json.dumps(
            [message_evidence(m) for m in run.messages], ensure_ascii=False, default=str))
        self.runs[key] = run
        return run
