"""A HIS that stops answering: after a few requests in a row without an answer the harness
stops driving it — the rest of the scenario is recorded as not run, with one line saying why —
instead of waiting the timeout on every visit; and a HIS whose info names its institution
wrongly gets a clear error, not a crash."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from rich.console import Console

from scenarios.errors import HarnessError
from scenarios.harness import GIVE_UP_AFTER, GivingUpDriver
from scenarios.library import library_path
from scenarios.loading import load_scenario
from scenarios.report import render
from scenarios.runner import run_scenario
from simulator.his.app import ReferenceHis
from simulator.his.errors import DriverError
from simulator.his.operations import IdentifyInput, Outcome
from tests.support.answering import answering

HANG_SECONDS = 6.0
"""How long the hanging HIS keeps a request (longer than the test's driver timeout)."""

DRIVER_TIMEOUT = 2.0


class HangsAfterFirstPatient(ReferenceHis):
    """The reference HIS that answers the first identify, then hangs on every other one."""

    _seen = 0

    def identify(self, request: IdentifyInput) -> Outcome:
        self._seen += 1
        if self._seen > 1:
            time.sleep(HANG_SECONDS)
        return super().identify(request)


def test_a_his_that_hangs_is_given_up_and_the_rest_is_not_run(tmp_path: Path) -> None:
    """refunds: the first patient settles; the next three identifies get no answer, so the
    harness stops there — the first patient's refund, the last visit and the day-end are not
    run (not waited for), each saying why, and the result's first check says it on one line."""
    scenario = load_scenario(library_path("refunds") or "")
    started = time.monotonic()
    result = run_scenario(scenario, tmp_path, his_class=HangsAfterFirstPatient,
                          driver_timeout=DRIVER_TIMEOUT)
    assert time.monotonic() - started < 60
    assert not result.passed
    visits = {v.id: v for v in result.visits}
    assert visits["whole-account"].bill is not None  # settled before the HIS hung
    timed_out = [v for v in result.visits
                 if any(f"did not answer within {DRIVER_TIMEOUT:g} s" in (s.error or "")
                        for s in v.steps)]
    assert [v.id for v in timed_out] == ["whole-cash", "partial-one", "partial-two"]
    assert (timed_out[-1].error or "").endswith(
        "— 3 requests in a row without an answer: the HIS stopped answering, so the harness "
        "drives it no further")
    stopped = (f"POST {result.his['url']}/his/v1/identify: no answer within {DRIVER_TIMEOUT:g} s, "
               "3 requests in a row without an answer: the HIS stopped answering, so the harness "
               "drives it no further")
    for visit_id, step in (("whole-account", "refund"), ("kept", "identify")):
        visit = visits[visit_id]
        assert visit.outcome == "error"
        assert visit.error == f"{stopped}; this visit not run from its {step} on"
        assert not any(s.step == step for s in visit.steps), "nothing was sent for it"
    assert visits["kept"].steps == []
    assert [d.body.get("error") for d in result.day_ends] == [f"{stopped}; day-end not run"]
    first = result.checks[0]
    assert first.name == "harness" and not first.passed
    assert first.summary == f"{stopped}; not run: 2 visit(s) and the day-end of 2026-03-02"
    console = Console(record=True, width=400)
    render(result, console)
    shown = [line for line in console.export_text().splitlines() if "stopped answering" in line]
    assert shown and "harness" in shown[0] and "not run: 2 visit(s)" in shown[0], shown
    assert "HIS 停止应答 HIS stopped answering harness" in shown[0]  # the check's label
    saved = json.loads(json.dumps(result.to_json(), default=str))
    assert saved["checks"][0]["summary"] == first.summary


class _Silent:
    """A driver whose answers are scripted: ``"timeout"`` (no answer in time), ``"bad"`` (an
    answer the harness cannot use) or ``"ok"``."""

    timeout = 0.3

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.sent = 0

    def identify(self, _request: Any) -> Outcome:
        self.sent += 1
        what = self.script.pop(0)
        if what == "timeout":
            raise DriverError("POST http://his/his/v1/identify: the HIS did not answer within "
                              "0.3 s") from requests.ReadTimeout("read timed out")
        if what == "bad":
            raise DriverError("POST http://his/his/v1/identify: HTTP 500 is not a driver-API "
                              "answer")
        return Outcome.success(patient={})


def _identify(driver: GivingUpDriver) -> str:
    try:
        driver.identify(IdentifyInput("02", "110105195503030020"))
    except DriverError as exc:
        return str(exc)
    return "ok"


def test_only_requests_in_a_row_without_an_answer_count() -> None:
    """Two slow answers, then an answer (even an unusable one) start the count again; the
    third in a row stops it, and nothing more is sent."""
    inner = _Silent(["timeout", "timeout", "bad", "timeout", "timeout", "ok", "timeout",
                     "timeout", "timeout"])
    driver = GivingUpDriver(inner, after=GIVE_UP_AFTER)  # type: ignore[arg-type]
    said = [_identify(driver) for _ in range(9)]
    assert "stopped answering" not in " ".join(said[:8])
    assert said[-1] == ("POST http://his/his/v1/identify: the HIS did not answer within 0.3 s — 3 "
                        "requests in a row without an answer: the HIS stopped answering, so the "
                        "harness drives it no further")
    assert driver.stopped == ("POST http://his/his/v1/identify: no answer within 0.3 s, 3 "
                              "requests in a row without an answer: the HIS stopped answering, "
                              "so the harness drives it no further")
    assert _identify(driver) == f"not sent: {driver.stopped}"
    assert inner.sent == 9


@contextlib.contextmanager
def his_answering_info(info: dict[str, Any]) -> Iterator[str]:
    """A vendor's HIS on 127.0.0.1 that answers GET /his/v1/info with ``info``."""
    with answering({"/his/v1/info": json.dumps(info).encode()}) as url:
        yield url


@pytest.mark.parametrize(("institution", "said"), [
    ("H11011900001", "with institution as string 'H11011900001': it must be an object"),
    (["H11011900001"], "with institution as array ['H11011900001']: it must be an object"),
    (None, "with institution as null: it must be an object"),
])
def test_an_info_whose_institution_is_not_an_object_is_a_clear_error(
        tmp_path: Path, institution: Any, said: str) -> None:
    scenario = load_scenario(library_path("rule-check") or "")
    info = {"ok": True, "name": "Acme HIS", "version": "1", "api_version": "1",
            "institution": institution}
    with his_answering_info(info) as url, pytest.raises(HarnessError) as caught:
        run_scenario(scenario, tmp_path, his_url=url)
    text = str(caught.value)
    assert text.startswith(f"the HIS at {url} answered GET /his/v1/info {said} with "
                           "fixmedins_code"), text
    assert "docs/his-driver.md" in text
