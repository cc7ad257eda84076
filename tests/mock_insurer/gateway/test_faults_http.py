"""Each fault effect through the real gateway: what the client sees, what the ledger holds,
and that the record names the fault."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import requests

from mock_insurer.client import (
    ConnectionLost,
    GatewayError,
    InsurerRefusal,
    InsurerTimeout,
    InsurerUnavailable,
    MalformedAnswer,
)
from mock_insurer.faults import FaultPlan
from mock_insurer.gateway import Insurer
from mock_insurer.wire.jsonio import dumps, loads
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.driver import Window

D = Decimal


def plan(effect: dict[str, Any], infno: str = "2207", **match: Any) -> FaultPlan:
    return FaultPlan.from_dict({"seed": 1, "faults": [
        {"id": "f", "name": "test", "match": {"infno": infno, **match}, "effect": effect}]})


def ready(window: Window) -> str:
    mdtrt_id = window.register(1)
    window.diagnose(1, mdtrt_id)
    window.upload([window.row(1, mdtrt_id, "001102000010000", "1")])
    return mdtrt_id


def state(insurer: Insurer) -> tuple[int, Any]:
    with insurer.ledger.read() as tx:
        messages = tx.messages(limit=1000)
        return tx.count("settlements"), messages[-1]


@pytest.mark.parametrize(("effect", "error", "applied"), [
    ({"kind": "refuse"}, (InsurerUnavailable, ConnectionLost), False),
    ({"kind": "close"}, (ConnectionLost,), False),
    ({"kind": "http_error", "status": 503}, (GatewayError,), False),
    ({"kind": "business_error", "err_msg": "FSI-医保中心系统维护中，请稍后再试"},
     (InsurerRefusal,), False),
    ({"kind": "malformed", "how": "not_envelope"}, (GatewayError, MalformedAnswer), False),
    ({"kind": "malformed", "how": "garbage"}, (MalformedAnswer,), True),
    ({"kind": "malformed", "how": "truncated"}, (ConnectionLost, MalformedAnswer), True),
    ({"kind": "lose_answer", "how": "reset"}, (ConnectionLost,), True),
    ({"kind": "lose_answer", "how": "timeout", "after_ms": 3000}, (InsurerTimeout,), True),
])
def test_each_effect(window: Window, insurer: Insurer, effect: dict[str, Any],
                     error: tuple[type[Exception], ...], applied: bool) -> None:
    mdtrt_id = ready(window)
    insurer.service.faults.set_plan(plan(effect))
    window.client.timeout = 1.0
    with pytest.raises(error):
        window.settle(1, mdtrt_id, D("30.00"))
    count, last = state(insurer)
    assert count == (1 if applied else 0)
    assert last["fault_id"] == "f"
    assert last["fault_effect"] == effect["kind"]


def test_a_success_with_an_err_msg_settles_and_keeps_the_notice(window: Window,
                                                                insurer: Insurer) -> None:
    """err_msg_on_success: infcode decides (the client's default); the text is a notice."""
    mdtrt_id = ready(window)
    insurer.service.faults.set_plan(plan({"kind": "malformed", "how": "err_msg_on_success"}))
    answer = window.settle(1, mdtrt_id, D("30.00"))
    assert answer.infcode == 0 and answer.err_msg and not answer.ok
    count, last = state(insurer)
    assert count == 1 and last["fault_id"] == "f" and last["fault_effect"] == "malformed"
    window.client.strict_err_msg = True  # a center where it means failure: effect unknown
    insurer.service.faults.set_plan(plan({"kind": "malformed", "how": "err_msg_on_success"}))
    with pytest.raises(InsurerRefusal) as caught:
        window.client.send_raw(window.client.last_request or {})
    assert caught.value.effect_unknown


def test_delay_still_settles(window: Window, insurer: Insurer) -> None:
    mdtrt_id = ready(window)
    insurer.service.faults.set_plan(plan({"kind": "delay", "ms": 300}))
    answer = window.settle(1, mdtrt_id, D("30.00"))
    assert answer.elapsed_ms >= 300
    assert state(insurer)[0] == 1


def test_a_delayed_settlement_keeps_the_business_time_it_arrived_at(
        window: Window, insurer: Insurer) -> None:
    mdtrt_id = ready(window)
    insurer.service.faults.set_plan(plan({"kind": "delay", "ms": 600}))
    arrived = insurer.clock.now()
    timer = threading.Timer(0.3, insurer.clock.set_business_date, (date(2026, 3, 9),))
    timer.start()  # the business day moves on while the message waits (as a scenario runner's)
    try:
        answer = window.settle(1, mdtrt_id, D("30.00"))
    finally:
        timer.join()
    assert answer.output["setlinfo"]["setl_time"][:10] == arrived.date().isoformat()
    assert insurer.clock.now().date() == date(2026, 3, 9)


def test_infcode_as_string_is_still_a_success(window: Window, insurer: Insurer) -> None:
    mdtrt_id = ready(window)
    insurer.service.faults.set_plan(plan({"kind": "malformed", "how": "infcode_string"}))
    envelope = window.client.build("2207", window.settle_input(1, mdtrt_id, D("30.00")))
    url = window.client.url
    raw = loads(requests.post(url, data=dumps(envelope), timeout=5).content)
    assert raw["infcode"] == "0"


def test_signin_invalidated_mid_shift(window: Window, insurer: Insurer) -> None:
    insurer.service.faults.set_plan(plan({"kind": "signin_invalidated"}, infno="1101",
                                         first=1))
    with pytest.raises(InsurerRefusal) as caught:
        window.info(1)
    assert "签到" in caught.value.err_msg
    window.client.sign_in(opter_no="C01", mac="m", ip="i")
    assert window.info(1).output["baseinfo"]["psn_no"] == dataset.PERSONS[0]["psn_no"]


def test_clock_skew_shows_in_the_answer_times(window: Window, insurer: Insurer) -> None:
    insurer.service.faults.set_plan(plan({"kind": "clock_skew", "seconds": -3600},
                                         infno="1101"))
    answer = window.info(1)
    assert answer.raw["respond_time"].startswith("2026030207")


def test_selectors_limit_the_fault(window: Window, insurer: Insurer) -> None:
    insurer.service.faults.set_plan(plan({"kind": "business_error"}, infno="1101",
                                         psn_no=[dataset.PERSONS[1]["psn_no"]]))
    window.info(1)  # another person: untouched
    with pytest.raises(InsurerRefusal):
        window.client.call("1101", {"data": {"mdtrt_cert_type": "02",
                                             "mdtrt_cert_no": dataset.PERSONS[1]["certno"],
                                             "psn_no": dataset.PERSONS[1]["psn_no"]}})
    assert insurer.service.faults.stats() == {"f": 1}
