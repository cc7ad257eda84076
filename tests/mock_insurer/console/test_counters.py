"""``/admin/counters``: what a known sequence of messages came to, on both ledgers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from mock_insurer.client import ConnectionLost, GatewayError, InsurerRefusal
from mock_insurer.faults import FaultPlan
from mock_insurer.gateway import Insurer
from mock_insurer.server import RunningServer
from tests.mock_insurer.gateway.driver import Window

from .conftest import AUTH

ITEMS = [("001102000010000", "1"), ("002203000010000", "1")]
DAY = "2026-03-02"


def counters(server: RunningServer, after_id: int | None = None) -> dict[str, Any]:
    params = {} if after_id is None else {"after_id": after_id}
    answer = requests.get(f"{server.url}/admin/counters", params=params, headers=AUTH,
                          timeout=5)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def reconcile(window: Window, rows: list[dict[str, Any]]) -> str:
    """3201 for the employees' scheme (310) declaring ``rows``; the answer's stmt_rslt."""
    answer = window.client.call("3201", {"data": {
        "insutype": "310", "clr_type": "11", "setl_optins": "110000",
        "stmt_begndate": DAY, "stmt_enddate": DAY,
        "medfee_sumamt": sum((r["medfee_sumamt"] for r in rows), Decimal("0")),
        "fund_pay_sumamt": sum((r["fund_pay_sumamt"] for r in rows), Decimal("0")),
        "acct_pay": sum((r["acct_pay"] for r in rows), Decimal("0")),
        "fixmedins_setl_cnt": len(rows)}})
    return str(answer.output["stmtinfo"]["stmt_rslt"])


def test_counters_of_a_known_sequence(window: Window, insurer: Insurer,
                                      server: RunningServer) -> None:
    start = counters(server)
    assert start["messages"] == 1 and start["last_id"] == 1  # the fixture's sign-in (9001)
    assert start["settled"] == 0 and start["after_id"] == 0

    first = window.visit(1, ITEMS).output["setlinfo"]  # 2201 2203 2204 2207: settled
    second = window.visit(2, ITEMS).output["setlinfo"]
    cancel = window.cancel(2, second["mdtrt_id"], second["setl_id"]).output["setlinfo"]
    middle = counters(server)["last_id"]

    # settled, but the answer is lost; then reversed (2601)
    insurer.service.faults.set_plan(FaultPlan.from_dict({"faults": [
        {"id": "lose", "match": {"infno": "2207"}, "effect": {"kind": "lose_answer",
                                                               "how": "reset"}},
        {"id": "gateway-502", "match": {"infno": "1101"},
         "effect": {"kind": "http_error", "status": 502}}]}))
    with pytest.raises(ConnectionLost):
        window.visit(3, ITEMS)
    lost_msgid = window.client.last_request["msgid"]
    with pytest.raises(GatewayError):
        window.info(1)  # a transport fault: failed
    insurer.service.faults.clear()
    window.client.reverse(psn_no=window.person(3)["psn_no"], omsgid=lost_msgid, oinfno="2207")
    with pytest.raises(InsurerRefusal):
        window.client.call("2201", {"data": {"psn_no": "nobody"}})  # refused
    with pytest.raises(InsurerRefusal):  # a query that finds nothing: not a refused patient
        window.client.call("5203", {"data": {"psn_no": window.person(1)["psn_no"],
                                             "setl_id": "409999999999", "mdtrt_id": "0"}})
    assert reconcile(window, [first, second, cancel]) == "0"  # balanced
    assert reconcile(window, [first]) != "0"  # unreconciled

    every = counters(server)
    assert every["last_id"] > middle
    assert every["other_refused"] == 1
    assert {key: every[key] for key in ("settled", "refused", "failed", "reversed",
                                        "refunded", "unreconciled")} == {
        "settled": 3, "refused": 1, "failed": 2, "reversed": 1, "refunded": 1,
        "unreconciled": 1}
    log = requests.get(f"{server.url}/admin/messages", params={"limit": 1000}, headers=AUTH,
                       timeout=5).json()["items"]
    assert every["messages"] == len([m for m in log if m["status"] != "tombstone"])

    later = counters(server, middle)
    assert later["after_id"] == middle and later["last_id"] == every["last_id"]
    assert {key: later[key] for key in ("settled", "refused", "failed", "reversed",
                                        "refunded", "unreconciled")} == {
        "settled": 1, "refused": 1, "failed": 2, "reversed": 1, "refunded": 0,
        "unreconciled": 1}
    assert later["messages"] == len([m for m in log if m["id"] > middle])

    beyond = counters(server, 10**17)  # nothing after: zeros, and where the log ends
    assert beyond["messages"] == 0 and beyond["last_id"] == every["last_id"]


def test_counters_refuse_a_bad_after_id(server: RunningServer) -> None:
    for value in ("-1", "x", "1" * 19):
        answer = requests.get(f"{server.url}/admin/counters", params={"after_id": value},
                              headers=AUTH, timeout=5)
        assert answer.status_code == 400 and answer.json()["error"]["where"] == "after_id"
    unknown = requests.get(f"{server.url}/admin/counters", params={"since": "1"}, headers=AUTH,
                           timeout=5)
    assert unknown.status_code == 400


def test_counters_polled_all_day_count_only_what_arrived_and_match_a_fresh_count(
        window: Window, insurer: Insurer, server: RunningServer) -> None:
    """Soak audit: a console polling /admin/counters every second counted the whole log each
    time (1.7 s a poll at a million messages). On SQLite the totals are kept and only the
    messages since the last poll are counted — and always equal what a fresh count gives, a
    reset of the log included."""
    from mock_insurer.ledger import queries

    def fresh(after_id: int) -> dict[str, int]:
        with insurer.ledger.read() as tx:
            return queries.message_counters(tx, after_id=after_id)

    for n in (1, 2, 3):
        window.visit(n, ITEMS)
        for after_id in (0, 3, 10**17):
            polled = counters(server, after_id)
            assert {k: v for k, v in polled.items() if k != "after_id"} == fresh(after_id)
    emptied = requests.post(f"{server.url}/admin/reset", headers=AUTH, timeout=30, json={})
    assert emptied.status_code == 200, emptied.text
    assert counters(server, 0)["messages"] == fresh(0)["messages"] == 0
    window.client.sign_no = ""
    window.client.sign_in(opter_no="C01", mac="m", ip="127.0.0.1")
    for n in (1, 2, 3, 1, 2):  # past the ids counted before the reset
        window.visit(n, ITEMS)
    polled = counters(server, 0)
    assert {k: v for k, v in polled.items() if k != "after_id"} == fresh(0)
