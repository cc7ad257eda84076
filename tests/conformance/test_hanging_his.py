"""A HIS that stops answering during a certification: the scenario's requirements are errors
that say so (not judged), found after a few timeouts rather than one timeout per visit — and the
suite goes on to read the insurer's messages of the run."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import pytest

from conformance import plugin, target
from conformance.plugin import Cert, HisDriverError
from conformance.target import Target, profile
from scenarios.runner import run_scenario
from tests.scenarios.test_hanging_his import DRIVER_TIMEOUT, HangsAfterFirstPatient


def test_a_his_that_stops_answering_errors_its_requirements_saying_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(target, "run_scenario",
                        functools.partial(run_scenario, driver_timeout=DRIVER_TIMEOUT))
    suite = Target(tmp_path, profile=profile("default"), his_class=HangsAfterFirstPatient)
    cert = Cert(suite, plugin.TestRecord("test_x.py::test_x", "test_x", ("REF-001",)))
    started = time.monotonic()
    with pytest.raises(HisDriverError) as error:
        cert.run("refunds")
    assert time.monotonic() - started < 60
    url = suite.runs["refunds"].result.his["url"]
    stopped = (f"POST {url}/his/v1/identify: no answer within {DRIVER_TIMEOUT:g} s, 3 requests "
               "in a row without an answer: the HIS stopped answering, so the harness drives it "
               "no further")
    assert str(error.value).startswith(
        "scenario refunds, visit whole-account (after settle): the HIS's driver API gave no usable "
        f"answer — {stopped}; this visit not run from its refund on (")
    assert "not judged: fix the driver API" in str(error.value)
    where = [e["where"] for e in cert.record.evidence]
    assert "day-end 2026-03-02" in where and "reading the HIS" in where
    assert {"where": "reading the HIS", "scenario": "refunds",
            "error": f"{stopped}; not run: 2 visit(s) and the day-end of 2026-03-02"
            } in cert.record.evidence
    assert suite.runs["refunds"].messages, "the insurer's messages are read all the same"
    assert (tmp_path / "refunds" / "result.json").exists()
