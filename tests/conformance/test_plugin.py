"""The ``cert`` fixture's judgement of a scenario run, without servers: a run the harness could
not drive is an error saying where and why; a requirement about some visits is not failed by
the others' problems."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from conformance import plugin
from conformance.plugin import Cert, HisDriverError
from conformance.target import ScenarioRun, Target, profile
from scenarios.records import CheckResult, DayEndRecord, RunResult, StepRecord, VisitRecord


def visit(name: str, *, error: str | None = None, then: str = "settle") -> VisitRecord:
    record = VisitRecord(id=name, group="g", at=datetime(2026, 3, 2, 8), psn_no="1",
                         psn_name="张三", edge_cases=[], certificate="id", operator="C01",
                         dept="A03", then=then, items=[])
    if error is not None:
        record.outcome, record.error = "error", f"identify: {error}"
        record.steps.append(StepRecord("identify", "2026-03-02 08:00:00", False, 1.0,
                                       error=error))
    return record


def cert_on(tmp_path: Path, visits: list[VisitRecord], *, his_url: str | None = None,
            checks: list[CheckResult] | None = None,
            day_ends: list[DayEndRecord] | None = None) -> Cert:
    target = Target(tmp_path, profile=profile("default"), his_url=his_url)
    result = RunResult("rule-check", "t", "c", "s", 1, {}, {}, visits, day_ends or [], [],
                       checks or [])
    target.runs["rule-check"] = ScenarioRun("rule-check", result, [], {},
                                            tmp_path / "rule-check")
    return Cert(target, plugin.TestRecord("test_x.py::test_x", "test_x", ("RULE-001",)))


def test_a_run_the_harness_could_not_drive_is_an_error_naming_where(tmp_path: Path) -> None:
    broken = "POST http://127.0.0.1:1/his/v1/identify: HTTP 500 is not a driver-API answer"
    cert = cert_on(tmp_path, [visit("ordinary"), visit("overridden", error=broken)],
                   day_ends=[DayEndRecord("2026-03-02", False, None, 0, {"error": "GET x"}, 0)])
    with pytest.raises(HisDriverError) as error:
        cert.run("rule-check")
    assert str(error.value).startswith(
        f"scenario rule-check, visit overridden (identify): the HIS's driver API gave no usable "
        f"answer — {broken} (2 step(s) in all; not judged: fix the driver API")
    assert [e["where"] for e in cert.record.evidence] == ["visit overridden (identify)",
                                                          "day-end 2026-03-02"]
    assert cert.record.scenarios == ["rule-check"]


def test_bad_input_from_a_his_given_by_url_points_at_the_scenarios_data(
        tmp_path: Path) -> None:
    """A HIS set up with another scenario's catalogue refuses its item codes as bad input:
    the error says so, not that the driver API is broken."""
    cert = cert_on(tmp_path, [visit("am-0001", error="items[0].code: unknown hospital item "
                                                     "code 'YP004826'")],
                   his_url="http://127.0.0.1:8090")
    with pytest.raises(HisDriverError, match=r"answered the harness's request as bad input — "
                                             r"items\[0\]\.code: unknown hospital item code "
                                             r"'YP004826' .* must serve this scenario's data"):
        cert.run("rule-check")


def test_a_requirement_about_some_visits_is_judged_on_their_evidence_only(
        tmp_path: Path) -> None:
    check = CheckResult("exactly_once", False, "2 visit(s) settled twice",
                        [{"visit": "partial-one", "problem": "twice"},
                         {"visit": "whole-cash", "problem": "twice"}])
    cert = cert_on(tmp_path, [visit("partial-one"), visit("whole-cash")], checks=[check])
    run = cert.run("rule-check")
    cert.require(run, "exactly_once", visits={"other"})  # nothing about these visits
    with pytest.raises(AssertionError) as failed:
        cert.require(run, "exactly_once", visits={"whole-cash"})
    assert str(failed.value) == ("rule-check: 2 visit(s) settled twice (1 of them about the "
                                 "visits judged here)")
    evidence: list[Any] = cert.record.evidence
    assert [e["visit"] for e in evidence] == ["whole-cash"]
