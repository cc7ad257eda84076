"""Fault plans: every selector and effect read from YAML and from plain data, written back
unchanged, and every kind of bad plan refused with one error that says where."""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mock_insurer.errors import InsurerError
from mock_insurer.faults import (
    EFFECT_KINDS,
    BusinessError,
    ClockSkew,
    Close,
    Delay,
    DelayDistribution,
    Effect,
    Fault,
    FaultPlan,
    FaultPlanError,
    HttpError,
    LoseAnswer,
    Malformed,
    Refuse,
    Selector,
    SigninInvalidated,
    Window,
)
from mock_insurer.faults.plan import (
    DEFAULT_BUSINESS_ERR_MSG,
    DEFAULT_LOSE_ANSWER_HOLD_MS,
    DEFAULT_NOT_ENVELOPE_BODY,
    DEFAULT_SUCCESS_ERR_MSG,
)

EVERYTHING = """
seed: 7
faults:
  - id: lose-2207
    name: 结算成功但应答丢失 / settlement committed, answer lost
    active: true
    match:
      infno: ["2207", "2208"]
      fixmedins_code: H11010500001
      psn_no: ["11000000000000000001"]
      probability: 0.3
      first: 5
      window: {start: "2026-03-02 08:00:00", end: "2026-03-02 09:00:00"}
    effect: {kind: lose_answer, how: timeout, after_ms: 30000}
  - id: rst
    effect: {kind: refuse}
  - id: fin
    active: false
    effect: {kind: close}
  - id: slow
    effect: {kind: delay, ms: 3000}
  - id: slow-logn
    effect: {kind: delay, dist: {kind: lognormal, median: 800, sigma: 0.6, max: 20000}}
  - id: slow-unif
    effect: {kind: delay, dist: {kind: uniform, low: 100, high: 900}}
  - id: slow-exp
    effect: {kind: delay, dist: {kind: exponential, mean: 400}}
  - id: slow-norm
    effect: {kind: delay, dist: {kind: normal, mean: 1000, sd: 250}}
  - id: bad-gateway
    effect: {kind: http_error, status: 502, body: '{"code":"999","msg":"网关超时"}'}
  - id: refusal
    effect: {kind: business_error, err_msg: "FSI-系统维护中[maint_01]"}
  - id: garbage
    effect: {kind: malformed, how: garbage, body: "<html>维护</html>"}
  - id: cut
    effect: {kind: malformed, how: truncated}
  - id: gw
    effect: {kind: malformed, how: not_envelope}
  - id: str-infcode
    effect: {kind: malformed, how: infcode_string}
  - id: hunan
    effect: {kind: malformed, how: err_msg_on_success, err_msg: "FSI-提示[x]"}
  - id: signout
    match: {fixmedins_code: [H11010500001]}
    effect: {kind: signin_invalidated}
  - id: skew
    effect: {kind: clock_skew, seconds: -300}
"""


def test_every_selector_and_effect_reads_from_yaml() -> None:
    plan = FaultPlan.from_yaml(EVERYTHING)
    assert plan.seed == 7
    by_id = {fault.id: fault for fault in plan.faults}
    lose = by_id["lose-2207"]
    assert lose.name.startswith("结算成功但应答丢失")
    assert lose.match == Selector(
        infno=("2207", "2208"),
        fixmedins_code=("H11010500001",),  # a single value reads as a one-item list
        psn_no=("11000000000000000001",),
        probability=0.3,
        first=5,
        window=Window(datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 9)),
    )
    assert lose.effect == LoseAnswer(how="timeout", after_ms=30000)
    assert by_id["rst"].effect == Refuse()
    assert by_id["fin"].effect == Close()
    assert by_id["fin"].active is False
    assert by_id["slow"].effect == Delay(ms=3000)
    assert by_id["slow-logn"].effect == Delay(
        dist=DelayDistribution("lognormal", median=800, sigma=0.6, max=20000)
    )
    assert by_id["slow-unif"].effect == Delay(dist=DelayDistribution("uniform", low=100, high=900))
    assert by_id["slow-exp"].effect == Delay(dist=DelayDistribution("exponential", mean=400))
    assert by_id["slow-norm"].effect == Delay(dist=DelayDistribution("normal", mean=1000, sd=250))
    assert by_id["bad-gateway"].effect == HttpError(502, '{"code":"999","msg":"网关超时"}')
    assert by_id["refusal"].effect == BusinessError("FSI-系统维护中[maint_01]")
    assert by_id["garbage"].effect == Malformed("garbage", body="<html>维护</html>")
    assert by_id["cut"].effect == Malformed("truncated")
    assert by_id["gw"].effect == Malformed("not_envelope")
    assert by_id["str-infcode"].effect == Malformed("infcode_string")
    assert by_id["hunan"].effect == Malformed("err_msg_on_success", err_msg="FSI-提示[x]")
    assert by_id["signout"].effect == SigninInvalidated()
    assert by_id["skew"].effect == ClockSkew(-300)
    assert {f.effect.kind for f in plan.faults} == set(EFFECT_KINDS)


def test_a_plan_round_trips_through_dict_yaml_and_json(tmp_path: Path) -> None:
    plan = FaultPlan.from_yaml(EVERYTHING)
    assert FaultPlan.from_dict(plan.to_dict()) == plan
    assert FaultPlan.from_yaml(plan.to_yaml()) == plan
    as_json = tmp_path / "plan.json"
    as_json.write_text(json.dumps(plan.to_dict(), ensure_ascii=False), encoding="utf-8")
    assert FaultPlan.from_file(as_json) == plan
    as_yaml = tmp_path / "plan.yaml"
    as_yaml.write_text(EVERYTHING, encoding="utf-8")
    assert FaultPlan.from_file(as_yaml) == plan


def test_plain_data_reads_the_same_as_yaml() -> None:
    data: dict[str, Any] = {
        "seed": 3,
        "faults": [
            {
                "id": "x",
                "match": {
                    "infno": 2207,  # numbers are accepted for codes and kept as text
                    "window": {"start": datetime(2026, 3, 2, 8), "end": "2026-03-02T09:00:00"},
                },
                "effect": {"kind": "http_error", "status": 503},
            }
        ],
    }
    plan = FaultPlan.from_dict(data)
    fault = plan.faults[0]
    assert fault.match.infno == ("2207",)
    assert fault.match.window == Window(datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 9))
    assert fault.effect == HttpError(503)


def test_defaults() -> None:
    plan = FaultPlan.from_yaml(
        """
        faults:
          - effect: refuse            # shorthand for {kind: refuse}
          - id: f1                    # an explicit id wins; the generated ones skip it
            effect: {kind: business_error}
          - effect: {kind: lose_answer}
          - match: {window: {start: 2026-03-02}}
            effect: {kind: lose_answer, how: timeout}
          - effect: {kind: http_error}
          - effect: {kind: malformed, how: not_envelope}
          - effect: {kind: malformed, how: err_msg_on_success}
        """
    )
    assert plan.seed == 0
    assert [f.id for f in plan.faults] == ["f2", "f1", "f3", "f4", "f5", "f6", "f7"]
    assert all(f.active and f.name == "" for f in plan.faults)
    assert plan.faults[0].match == Selector()
    assert plan.faults[1].effect == BusinessError(DEFAULT_BUSINESS_ERR_MSG)
    assert DEFAULT_BUSINESS_ERR_MSG.startswith("FSI-")
    close_effect, timeout_effect = plan.faults[2].effect, plan.faults[3].effect
    assert isinstance(close_effect, LoseAnswer) and close_effect.how == "close"
    assert close_effect.hold_ms == 0
    assert isinstance(timeout_effect, LoseAnswer)
    assert timeout_effect.hold_ms == DEFAULT_LOSE_ANSWER_HOLD_MS > 120_000
    assert plan.faults[3].match.window == Window(start=datetime(2026, 3, 2))
    assert plan.faults[4].effect == HttpError(502)
    not_envelope, quirk = plan.faults[5].effect, plan.faults[6].effect
    assert isinstance(not_envelope, Malformed) and isinstance(quirk, Malformed)
    assert json.loads(not_envelope.not_envelope_body)["code"] == "999"
    assert not_envelope.not_envelope_body == DEFAULT_NOT_ENVELOPE_BODY
    assert quirk.success_err_msg == DEFAULT_SUCCESS_ERR_MSG != ""


def test_an_empty_plan() -> None:
    assert FaultPlan.from_yaml("") == FaultPlan()
    assert FaultPlan.from_dict({"faults": None}) == FaultPlan()


def test_which_effects_let_the_message_through() -> None:
    """What a fault does to the ledger: the gateway runs the handler only for these."""
    through: dict[Effect, bool] = {
        Delay(ms=1): True,
        LoseAnswer(): True,
        SigninInvalidated(): True,
        ClockSkew(5): True,
        Malformed("garbage"): True,
        Malformed("truncated"): True,
        Malformed("infcode_string"): True,
        Malformed("err_msg_on_success"): True,
        Refuse(): False,
        Close(): False,
        HttpError(): False,
        BusinessError(): False,
        Malformed("not_envelope"): False,
    }
    assert {effect: effect.runs_handler for effect in through} == through


def test_with_active_and_lookup() -> None:
    plan = FaultPlan.from_yaml(EVERYTHING)
    off = plan.with_active("rst", False)
    assert off.fault("rst") is not None and not off.fault("rst").active  # type: ignore[union-attr]
    assert plan.fault("rst").active  # type: ignore[union-attr]  # plans are immutable
    assert plan.fault("nope") is None
    assert plan.with_active("nope", False) == plan


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "faults: [{id: a, effect: {kind: explode}}]",
            "faults[0] (id 'a'): effect.kind: unknown effect",
        ),
        (
            "faults: [{id: a, effect: close}, {id: b, effect: close, match: {probability: 1.5}}]",
            "faults[1] (id 'b'): match.probability: must be a number from 0 to 1, got 1.5",
        ),
        (
            "faults: [{id: a, effect: close, match: {probability: -0.1}}]",
            "match.probability: must be a number from 0 to 1",
        ),
        (
            "faults: [{id: a, effect: close, match: {probability: often}}]",
            "match.probability: must be a number from 0 to 1, got 'often'",
        ),
        (
            "faults: [{id: a, effect: close}, {id: a, effect: refuse}]",
            "faults[1] (id 'a'): id: duplicate id (faults[0] has it already)",
        ),
        (
            "faults: [{id: w, effect: close, match: {window: {start: '2026-03-02 09:00:00', "
            "end: '2026-03-02 08:00:00'}}}]",
            "faults[0] (id 'w'): match.window.end: must be after start (2026-03-02 09:00:00)",
        ),
        (
            "faults: [{id: w, effect: close, match: {window: {start: tomorrow}}}]",
            "match.window.start: must be a time like",
        ),
        (
            "faults: [{id: w, effect: close, match: {window: {}}}]",
            "match.window: give start, end or both",
        ),
        (
            "faults: [{id: w, effect: close, match: {window: {start: '2026-03-02T08:00:00+08:00'}}}]",
            "match.window.start: must be a time like",
        ),
        (
            "faults: [{id: w, effect: close, match: {window: {start: 2026-03-02 08:00:00+08:00}}}]",
            "match.window.start: must be a business-clock time without a time zone",
        ),
        ("faults: [{id: t, effect: close, mtach: {}}]", "faults[0] (id 't'): mtach: unknown field"),
        ("faults: [{effect: close, match: {infno: []}}]", "faults[0]: match.infno: an empty list"),
        ("faults: [{effect: close, match: {first: 0}}]", "match.first: must be a whole number"),
        ("faults: [{effect: close, match: {first: 2.5}}]", "match.first: must be a whole number"),
        ("faults: [{effect: close, match: {psn_no: [true]}}]", "match.psn_no[0]: must be a text"),
        ("faults: [{id: off, effect: close}]", "id: must be a text (quote it: YAML reads"),
        (
            "faults: [{effect: close, match: {infno: no}}]",
            "match.infno: must be a text (a code) or a list of them (quote it",
        ),
        ("faults: [{effect: close, match: {institution: x}}]", "match.institution: unknown field"),
        ("faults: [{effect: close, active: maybe}]", "faults[0]: active: must be true or false"),
        ("faults: [{id: e}]", "faults[0] (id 'e'): effect: is required"),
        ("faults: [{effect: {how: close}}]", "effect.kind: is required"),
        ("faults: [{effect: {kind: refuse, ms: 3}}]", "effect.ms: unknown field"),
        ("faults: [{effect: {kind: delay}}]", "effect: give exactly one of ms"),
        ("faults: [{effect: {kind: delay, ms: -5}}]", "effect.ms: must be at least 0"),
        (
            "faults: [{effect: {kind: delay, ms: 5, dist: {kind: uniform, low: 1, high: 2}}}]",
            "effect: give exactly one of ms",
        ),
        (
            "faults: [{effect: {kind: delay, dist: {kind: gamma}}}]",
            "effect.dist.kind: must be one of",
        ),
        (
            "faults: [{effect: {kind: delay, dist: {kind: uniform, low: 5}}}]",
            "effect.dist.high: is required for a uniform distribution",
        ),
        (
            "faults: [{effect: {kind: delay, dist: {kind: uniform, low: 5, high: 1}}}]",
            "effect.dist.high: must be at least low",
        ),
        (
            "faults: [{effect: {kind: delay, dist: {kind: normal, mean: 5, sd: 1, sigma: 2}}}]",
            "effect.dist.sigma: is not a parameter of a normal distribution",
        ),
        (
            "faults: [{effect: {kind: delay, dist: {kind: lognormal, median: 0, sigma: 1}}}]",
            "effect.dist.median: must be greater than 0",
        ),
        (
            "faults: [{effect: {kind: http_error, status: 404}}]",
            "effect.status: must be an HTTP status from 500 to 599, got 404",
        ),
        ("faults: [{effect: {kind: business_error, err_msg: ''}}]", "effect.err_msg: must not"),
        ("faults: [{effect: {kind: malformed}}]", "effect.how: is required"),
        ("faults: [{effect: {kind: malformed, how: wrong}}]", "effect.how: must be one of"),
        (
            "faults: [{effect: {kind: malformed, how: truncated, body: x}}]",
            "effect.body: applies only to how: garbage or not_envelope",
        ),
        (
            "faults: [{effect: {kind: lose_answer, how: vanish}}]",
            "effect.how: must be one of: close, reset, timeout",
        ),
        ("faults: [{effect: {kind: clock_skew}}]", "effect.seconds: is required"),
        ("faults: [{effect: {kind: clock_skew, seconds: 1.5}}]", "effect.seconds: must be a whole"),
        ("faults: {a: 1}", "faults: must be a list of faults, not a mapping"),
        ("faults: [3]", "faults[0]: must be a mapping"),
        ("seed: x", "seed: must be a whole number"),
        ("fault: []", "fault: unknown field"),
        ("faults: [ {", "not valid YAML"),
    ],
)
def test_a_bad_plan_is_refused_saying_where(text: str, expected: str) -> None:
    with pytest.raises(FaultPlanError) as caught:
        FaultPlan.from_yaml(text)
    message = str(caught.value)
    assert message.startswith("fault plan: ")
    assert expected in message
    assert isinstance(caught.value, InsurerError)


def test_the_error_keeps_its_parts_for_the_admin_api() -> None:
    with pytest.raises(FaultPlanError) as caught:
        FaultPlan.from_dict(
            {
                "faults": [
                    {"effect": "close"},
                    {"id": "p", "effect": "close", "match": {"first": -1}},
                ]
            }
        )
    error = caught.value
    assert (error.fault_index, error.fault_id, error.field) == (1, "p", "match.first")
    assert "at least 1" in error.problem


def test_built_in_python_the_same_rules_hold() -> None:
    with pytest.raises(FaultPlanError, match="duplicate id"):
        FaultPlan(faults=(Fault("a", Close()), Fault("a", Refuse())))
    with pytest.raises(FaultPlanError, match="probability"):
        Selector(probability=2.0)
    with pytest.raises(FaultPlanError, match="status"):
        HttpError(418)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FaultPlanError, match="cannot read"):
        FaultPlan.from_file(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(FaultPlanError, match="not valid JSON"):
        FaultPlan.from_file(broken)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {"faults": [{"effect": {"kind": "clock_skew", "seconds": 10**23}}]},
            "effect.seconds: must be a whole number of seconds, at least -31622400 and at most "
            "31622400",
        ),
        ({"faults": [{"effect": {"kind": "clock_skew", "seconds": 315360000000}}]},
         "effect.seconds: must be a whole number of seconds"),
        ({"faults": [{"effect": {"kind": "clock_skew", "seconds": -31622401}}]},
         "effect.seconds: must be a whole number of seconds"),
        ({"faults": [{"effect": {"kind": "delay", "ms": 1e23}}]},
         "effect.ms: must be at most 600000, got 1e+23"),
        ({"faults": [{"effect": {"kind": "delay", "ms": 10**30}}]}, "effect.ms: must be at most"),
        ({"faults": [{"effect": {"kind": "delay", "dist": {"kind": "uniform", "low": 0,
                                                          "high": 600001}}}]},
         "effect.dist.high: must be at most 600000"),
        ({"faults": [{"effect": {"kind": "delay", "dist": {"kind": "lognormal", "median": 10,
                                                          "sigma": 1000}}}]},
         "effect.dist.sigma: must be at most 10"),
        ({"faults": [{"effect": {"kind": "delay", "dist": {"kind": "normal", "mean": -1e23,
                                                          "sd": 1}}}]},
         "effect.dist.mean: must be at least -600000"),
        ({"faults": [{"effect": {"kind": "lose_answer", "how": "timeout", "after_ms": 1e23}}]},
         "effect.after_ms: must be at most 600000"),
        ({"faults": [{"effect": "close", "match": {"first": 10**23}}]},
         "match.first: must be a whole number, at least 1 and at most 1000000000"),
        ({"seed": 12345678901234567890123456, "faults": []},
         "seed: must be a whole number, at least 0 and at most 9223372036854775807"),
        ({"seed": -1, "faults": []}, "seed: must be a whole number, at least 0"),
    ],
)
def test_a_number_beyond_its_bound_is_refused_saying_where(data: Any, expected: str) -> None:
    with pytest.raises(FaultPlanError) as caught:
        FaultPlan.from_dict(data)
    assert expected in str(caught.value)


def test_numbers_at_their_bounds_are_accepted() -> None:
    plan = FaultPlan.from_dict({"seed": 2**63 - 1, "faults": [
        {"id": "ahead", "effect": {"kind": "clock_skew", "seconds": 366 * 86400}},
        {"id": "behind", "effect": {"kind": "clock_skew", "seconds": -366 * 86400}},
        {"id": "slow", "effect": {"kind": "delay", "ms": 600000}, "match": {"first": 10**9}},
        {"id": "lost", "effect": {"kind": "lose_answer", "how": "timeout", "after_ms": 600000}},
    ]})
    assert FaultPlan.from_dict(plan.to_dict()) == plan


def test_a_drawn_delay_never_exceeds_ten_minutes() -> None:
    plan = FaultPlan.from_yaml("faults: [{id: d, effect: {kind: delay, dist: "
                               "{kind: lognormal, median: 600000, sigma: 10}}}]")
    effect = plan.faults[0].effect
    assert isinstance(effect, Delay)
    rng = random.Random(1)
    assert max(effect.draw_ms(rng) for _ in range(500)) == 600000
