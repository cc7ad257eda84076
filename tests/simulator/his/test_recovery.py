"""Lost answers, timeouts and lost sign-ins: the reference HIS never settles twice and never
loses a settlement, and the cashier does not notice a renewed sign-in."""

from __future__ import annotations

import time
from typing import Any

import pytest

from simulator.his.operations import DayEndInput, RefundInput, SettleInput
from tests.simulator.his.rig import AMOXI, CONSULT, START, Rig


def one_settlement(rig: Rig, bill: dict[str, Any]) -> None:
    """Exactly one settlement in effect at the insurer and in the HIS's ledger: the bill's."""
    (held,) = rig.settlements()
    (row,) = rig.counted()
    assert held.setl_id == row["setl_id"] == bill["setl_id"]
    assert row["msgid"] == held.medins_setl_id
    assert f"{held.medfee_sumamt}" == bill["amounts"]["medfee_sumamt"] == row["medfee_sumamt"]
    assert rig.orphans() == []


@pytest.mark.parametrize("effect", [
    {"kind": "lose_answer", "how": "close"},
    {"kind": "lose_answer", "how": "reset"},
    {"kind": "malformed", "how": "garbage"},
    {"kind": "malformed", "how": "truncated"},
])
def test_a_lost_settlement_answer_is_learned_by_query(rig: Rig, effect: dict[str, Any]) -> None:
    rig.faults({"id": "lose", "match": {"infno": "2207", "first": 1}, "effect": effect})
    visit_id = rig.visit(1, [(CONSULT, "1"), (AMOXI, "2")])
    settled = rig.settle(visit_id)
    assert settled.ok, settled.body
    assert settled["bill"]["recovered"] is True
    one_settlement(rig, settled["bill"])
    assert [m["infno"] for m in rig.his.store.messages()][-3:] == ["2206", "2207", "5203"]


@pytest.mark.parametrize("effect", [
    {"kind": "http_error", "status": 502},
    {"kind": "close"},
    {"kind": "malformed", "how": "not_envelope"},
])
def test_a_settlement_that_never_arrived_is_reversed_then_sent_once_more(
        rig: Rig, effect: dict[str, Any]) -> None:
    rig.faults({"id": "drop", "match": {"infno": "2207", "first": 1}, "effect": effect})
    visit_id = rig.visit(1, [(CONSULT, "1")])
    settled = rig.settle(visit_id)
    assert settled.ok, settled.body
    assert settled["bill"]["recovered"] is False
    one_settlement(rig, settled["bill"])
    infnos = [m["infno"] for m in rig.his.store.messages()]
    assert infnos[-4:] == ["2207", "5203", "2601", "2207"]
    statuses = [r["status"] for r in rig.driver.ledger().body["settlements"]]
    assert statuses == ["void", "settled"]


def test_an_answer_later_than_the_timeout_is_reversed_and_settled_once(
        make_rig: Any) -> None:
    rig = make_rig(timeout=0.5)
    rig.faults({"id": "slow", "match": {"infno": "2207", "first": 1},
                "effect": {"kind": "delay", "ms": 1500}})
    visit_id = rig.visit(1, [(CONSULT, "1")])
    settled = rig.settle(visit_id)
    assert settled.ok, settled.body
    time.sleep(1.5)  # let the delayed original reach the insurer: it must not count
    one_settlement(rig, settled["bill"])
    infnos = [m["infno"] for m in rig.his.store.messages()]
    assert infnos[-4:] == ["2207", "5203", "2601", "2207"]
    with rig.insurer.ledger.read() as tx:
        statuses = sorted(m["status"] for m in tx.messages(limit=1000) if m["infno"] == "2207")
    assert "answered" in statuses


def test_a_lost_refund_answer_refunds_exactly_once(rig: Rig) -> None:
    visit_id = rig.visit(1, [(CONSULT, "1"), (AMOXI, "2")])
    first = rig.settle(visit_id)["bill"]
    rig.faults({"id": "lose", "match": {"infno": "2208", "first": 1},
                "effect": {"kind": "lose_answer", "how": "close"}})
    refunded = rig.driver.refund(visit_id, RefundInput())
    assert refunded.ok, refunded.body
    assert refunded["refund"]["recovered"] is True
    assert refunded["bill"] is None and refunded["visit"]["status"] == "refunded"
    with rig.insurer.ledger.read() as tx:
        rows = tx.settlements_of_visit(first["mdtrt_id"])
    assert [r.refd_setl_flag for r in rows] == ["0", "1"]
    assert rows[0].cancelled_by == rows[1].setl_id
    statuses = [r["status"] for r in rig.counted()]
    assert statuses == ["cancelled", "refund"]
    assert rig.orphans() == []


def test_a_signin_invalidated_mid_shift_is_renewed_without_the_cashier_noticing(
        rig: Rig) -> None:
    visit_id = rig.visit(1, [(CONSULT, "1")])
    rig.faults({"id": "signout", "match": {"infno": "2206", "first": 1},
                "effect": {"kind": "signin_invalidated"}})
    settled = rig.settle(visit_id)
    assert settled.ok, settled.body
    signins = [m for m in rig.his.store.messages() if m["infno"] == "9001"]
    assert len(signins) == 2 and all(m["outcome"] == "ok" for m in signins)
    one_settlement(rig, settled["bill"])


def test_a_settlement_left_unknown_is_resolved_before_anything_else(rig: Rig) -> None:
    rig.faults({"id": "lose", "match": {"infno": "2207", "first": 1},
                "effect": {"kind": "lose_answer", "how": "close"}},
               {"id": "down", "match": {"infno": ["5203", "2601"]},
                "effect": {"kind": "refuse"}})
    visit_id = rig.visit(1, [(CONSULT, "1")])
    unknown = rig.settle(visit_id)
    assert not unknown.ok and unknown.refusal is not None
    assert unknown.refusal.code == "settlement_unknown"
    assert unknown["visit"]["status"] == "settling"
    assert [r["status"] for r in rig.driver.ledger().body["settlements"]] == ["pending"]
    assert len(rig.settlements()) == 1  # the insurer did settle
    rig.faults()  # the insurer answers queries again
    again = rig.driver.settle(visit_id, SettleInput())
    assert again.ok and again["bill"]["recovered"] is True
    one_settlement(rig, again["bill"])


def test_day_end_resolves_a_pending_settlement(rig: Rig) -> None:
    rig.faults({"id": "lose", "match": {"infno": "2207", "first": 1},
                "effect": {"kind": "lose_answer", "how": "close"}},
               {"id": "down", "match": {"infno": ["5203"], "first": 2},
                "effect": {"kind": "refuse"}})
    visit_id = rig.visit(1, [(CONSULT, "1")])
    assert not rig.settle(visit_id).ok
    day_end = rig.driver.day_end(DayEndInput(START.date()))
    assert day_end.ok and day_end["balanced"] is True, day_end.body
    assert rig.driver.visit(visit_id)["visit"]["status"] == "settled"
    (row,) = rig.counted()
    assert row["status"] == "settled"


def test_an_insurer_that_is_down_changes_nothing_and_the_cashier_retries(rig: Rig) -> None:
    from mock_insurer.server import start_in_thread

    visit_id = rig.visit(1, [(CONSULT, "1")])
    port = rig.insurer_server.port
    rig.insurer_server.stop()
    down = rig.settle(visit_id)
    assert not down.ok and down.refusal is not None
    assert down.refusal.code == "insurer_unavailable" and down.refusal.source == "his"
    assert down["visit"]["status"] == "charged"  # nothing happened: settle again later
    assert rig.driver.ledger().body["settlements"] == []
    rig.insurer_server = start_in_thread(rig.insurer, port=port)
    settled = rig.settle(visit_id)
    assert settled.ok, settled.body
    one_settlement(rig, settled["bill"])
