"""The control endpoints: the fault plan, the business clock, the settings."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_insurer.gateway import Insurer

from .conftest import Hospital

PLAN = {
    "seed": 7,
    "faults": [
        {"id": "no-signin", "name": "签到失败 / sign-in refused",
         "match": {"infno": ["9001"], "first": 2},
         "effect": {"kind": "business_error", "err_msg": "FSI-演练：医保中心繁忙"}},
        {"id": "slow-2207", "active": False, "match": {"infno": "2207"},
         "effect": {"kind": "delay", "ms": 10}},
    ],
}

PLAN_YAML = """\
seed: 3
faults:
  - id: refuse-all
    effect: refuse
"""


def _ok(answer: Any) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_plan_set_through_the_api_is_the_services_plan(client: TestClient,
                                                         insurer: Insurer) -> None:
    state = _ok(client.put("/admin/faults", json=PLAN))
    assert [f["id"] for f in state["plan"]["faults"]] == ["no-signin", "slow-2207"]
    assert state["armed"] is True and state["stats"] == {"no-signin": 0, "slow-2207": 0}
    engine = insurer.service.faults
    assert engine.plan().seed == 7 and engine.has_active
    assert _ok(client.get("/admin/faults")) == state


def test_a_fault_hits_the_gateway_and_the_record_names_it(client: TestClient,
                                                          insurer: Insurer) -> None:
    _ok(client.put("/admin/faults", json=PLAN))
    hospital = Hospital(client)
    answer = hospital.send("9001", {"signIn": {"opter_no": "001"}})
    assert answer["infcode"] == -1 and answer["err_msg"] == "FSI-演练：医保中心繁忙"
    assert _ok(client.get("/admin/faults"))["stats"]["no-signin"] == 1
    message = _ok(client.get("/admin/messages"))["items"][-1]
    assert message["fault"] == {"id": "no-signin", "effect": "business_error"}


def test_faults_stop_start_and_clear(client: TestClient, insurer: Insurer) -> None:
    _ok(client.put("/admin/faults", json=PLAN))
    state = _ok(client.post("/admin/faults/no-signin/stop"))
    assert state["armed"] is False and not insurer.service.faults.has_active
    hospital = Hospital(client)
    hospital.sign_in()  # no fault armed: the sign-in goes through
    state = _ok(client.post("/admin/faults/slow-2207/start"))
    active = {f["id"]: f["active"] for f in state["plan"]["faults"]}
    assert active == {"no-signin": False, "slow-2207": True}
    missing = client.post("/admin/faults/nope/start")
    assert missing.status_code == 404 and missing.json()["error"]["where"] == "path.id"
    cleared = _ok(client.delete("/admin/faults"))
    assert cleared["plan"]["faults"] == [] and cleared["armed"] is False
    assert insurer.service.faults.plan().faults == ()


def test_a_plan_in_yaml(client: TestClient, insurer: Insurer) -> None:
    state = _ok(client.put("/admin/faults", content=PLAN_YAML.encode(),
                           headers={"Content-Type": "application/yaml"}))
    assert state["plan"]["seed"] == 3
    assert state["plan"]["faults"][0]["effect"]["kind"] == "refuse"
    assert insurer.service.faults.plan().faults[0].id == "refuse-all"


@pytest.mark.parametrize(("body", "where"), [
    ({"faults": [{"match": {"probability": 1.5}, "effect": "refuse"}]},
     "faults[0].match.probability"),
    ({"faults": [{"id": "x", "effect": {"kind": "explode"}}]}, "faults[0].effect.kind"),
    ({"faults": [{"effect": {"kind": {"nested": 1}}}]}, "faults[0].effect.kind"),
    ({"faults": "refuse"}, "faults"),
    ({"seed": "seven"}, "seed"),
    ({"unknown": 1}, "unknown"),
    ([1, 2], "body"),
])
def test_a_bad_plan_is_refused_422_and_the_old_plan_stays(client: TestClient, insurer: Insurer,
                                                          body: Any, where: str) -> None:
    _ok(client.put("/admin/faults", json=PLAN))
    answer = client.put("/admin/faults", json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_fault_plan" and error["where"] == where
    assert error["message"].startswith("fault plan:")
    assert insurer.service.faults.plan().seed == 7


@pytest.mark.parametrize(("content", "media_type"), [
    (b"{not json", "application/json"),
    (b"\xff\xfe", "application/json"),
    (b"seed: [1,", "application/yaml"),
    (b"\xff", "text/yaml"),
])
def test_an_unreadable_plan_is_refused_400(client: TestClient, content: bytes,
                                           media_type: str) -> None:
    answer = client.put("/admin/faults", content=content, headers={"Content-Type": media_type})
    assert answer.status_code == 400
    assert answer.json()["error"]["where"] == "body"


def test_an_oversized_body_is_refused_413(client: TestClient) -> None:
    answer = client.put("/admin/faults", content=b" " * 1_000_001,
                        headers={"Content-Type": "application/json"})
    assert answer.status_code == 413


def test_the_business_clock(client: TestClient, insurer: Insurer) -> None:
    assert _ok(client.get("/admin/clock")) == {"business_time": "2026-03-02 08:00:00",
                                               "business_date": "2026-03-02"}
    moved = _ok(client.put("/admin/clock", json={"business_date": "2023-01-01"}))
    assert moved == {"business_time": "2023-01-01 08:00:00", "business_date": "2023-01-01"}
    assert insurer.clock.now().date().isoformat() == "2023-01-01"
    assert client.get("/health").json()["business_time"] == "2023-01-01 08:00:00"
    hospital = Hospital(client)
    hospital.sign_in()
    signin = _ok(client.get("/admin/messages"))["items"][-1]
    assert signin["biz_time"] == "2023-01-01 08:00:00"
    at = _ok(client.put("/admin/clock", json={"business_time": "2022-12-31 23:59:00"}))
    assert at["business_time"] == "2022-12-31 23:59:00"
    back = _ok(client.put("/admin/clock", json={"reset": True}))
    assert back["business_date"] == "2026-03-02"


@pytest.mark.parametrize(("body", "where"), [
    ({}, "body"),
    ({"business_date": "2026-03-02", "reset": True}, "body"),
    ({"business_date": "2026-02-30"}, "body.business_date"),
    ({"business_date": "20260302"}, "body.business_date"),
    ({"business_date": "0001-01-01"}, "body.business_date"),
    ({"business_time": "2026-03-02"}, "body.business_time"),
    ({"business_time": "9999-12-31 23:59:59"}, "body.business_time"),
    ({"reset": False}, "body.reset"),
    ({"when": "now"}, "body.when"),
])
def test_a_bad_clock_setting_is_refused_422(client: TestClient, insurer: Insurer,
                                            body: dict[str, Any], where: str) -> None:
    answer = client.put("/admin/clock", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["where"] == where
    assert insurer.clock.now().date().isoformat() == "2026-03-02"


def test_settings(client: TestClient, insurer: Insurer, seeded: Hospital) -> None:
    settings = _ok(client.get("/admin/settings"))
    assert settings["mode"] == "strict" and settings["switches"]["require_signin"] is True
    assert settings["gateway_auth"] == "none" and settings["admin_auth"] == "token"
    assert settings["policy"] == "beijing"
    assert settings["ledger"]["backend"] == insurer.config.db_url.split(":", 1)[0]
    assert settings["ledger"]["counts"]["settlements"] == 1
    assert settings["faults_armed"] is False


@pytest.mark.parametrize(("content", "media_type", "where"), [
    (b"faults: [{id: skew, effect: {kind: clock_skew, seconds: 99999999999999999999999}}]",
     "application/yaml", "faults[0].effect.seconds"),
    (b'{"faults": [{"id": "skew", "effect": {"kind": "clock_skew", "seconds": 315360000000}}]}',
     "application/json", "faults[0].effect.seconds"),
    (b'{"faults": [{"id": "slow", "effect": {"kind": "delay", "ms": 1e23}}]}',
     "application/json", "faults[0].effect.ms"),
    (b'{"faults": [{"id": "lost", "effect": {"kind": "lose_answer", "after_ms": 1e23}}]}',
     "application/json", "faults[0].effect.after_ms"),
    (b"faults: [{id: once, match: {first: 100000000000000000000000}, effect: close}]",
     "application/yaml", "faults[0].match.first"),
    (b"seed: 12345678901234567890123456\nfaults: []", "application/yaml", "seed"),
])
def test_a_number_beyond_its_bound_is_refused_422_and_messages_still_answer(
        client: TestClient, insurer: Insurer, content: bytes, media_type: str,
        where: str) -> None:
    _ok(client.put("/admin/faults", json=PLAN))
    answer = client.put("/admin/faults", content=content, headers={"Content-Type": media_type})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["where"] == where and "at most" in error["message"]
    assert insurer.service.faults.plan().seed == 7
    refused = Hospital(client).send("9001", {"signIn": {"opter_no": "001", "mac": "", "ip": "127.0.0.1"}})
    assert refused["infcode"] == -1 and "演练" in refused["err_msg"]  # the old plan answers
