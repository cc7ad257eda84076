"""The reference HIS asks the insurer's rule check (3101 when orders are saved, 3102 before
settling), shows its warnings, keeps a severe one out of the upload and does not settle past it
without a recorded override (docs/reference-his.md "Rule check")."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from simulator.his.errors import DriverInputError
from simulator.his.operations import ChargeInput, ChargeItem, Override, SettleInput
from tests.simulator.his.rig import AMOXI, CONSULT, Rig

INSISTS = Override("C07", "医生坚持 / the doctor insists")


def sent(rig: Rig) -> list[str]:
    return [m["infno"] for m in rig.his.store.messages() if m["infno"] != "9001"]


def over_prescribed(rig: Rig) -> tuple[str, Mapping[str, Any]]:
    """A visit whose second charge is 30 amoxicillin (the limit is 20 per prescription)."""
    visit_id = rig.visit(1, [(CONSULT, "1")])
    charged = rig.driver.charge(visit_id, ChargeInput((ChargeItem(AMOXI, Decimal("30")),)))
    assert charged.ok, charged.body
    return visit_id, charged.body


def test_an_ordinary_visit_is_checked_before_upload_and_before_settlement(rig: Rig) -> None:
    visit_id = rig.visit(1, [(CONSULT, "1"), (AMOXI, "2")])
    settled = rig.settle(visit_id)
    assert settled.ok and settled["warnings"] == []
    order = sent(rig)
    assert order.index("3101") < order.index("2204")
    assert order.index("3102") < order.index("2206") < order.index("2207")
    shown = rig.driver.visit(visit_id)["visit"]
    assert shown["warnings"] == [] and shown["overrides"] == []


def test_a_severe_warning_blocks_the_line_and_the_settlement(rig: Rig) -> None:
    visit_id, charged = over_prescribed(rig)
    [warning] = charged["warnings"]
    [line] = charged["lines"]
    assert warning["rule_id"] == "R-QTY-001" and warning["sev_deg"] == 1
    assert "20" in warning["message"] and warning["lines"] == [line["feedetl_sn"]]
    assert line["status"] == "blocked"
    assert sent(rig).count("2204") == 1, "the blocked line is not uploaded"
    before = len(sent(rig))
    for operation in (rig.driver.pre_settle, rig.driver.settle):
        refused = operation(visit_id, SettleInput())
        assert not refused.ok and refused.refusal is not None
        assert refused.refusal.code == "rule_check_severe" and refused.refusal.source == "his"
        assert "R-QTY-001" in refused.refusal.message
        assert [w["rule_id"] for w in refused["warnings"]] == ["R-QTY-001"]
    assert sent(rig)[before:] == ["3102"], \
        "nothing but the rule check is sent, once for the same orders"
    assert rig.driver.visit(visit_id)["visit"]["warnings"][0]["rule_id"] == "R-QTY-001"


def test_a_corrected_order_replaces_the_blocked_line_and_settles(rig: Rig) -> None:
    visit_id, _charged = over_prescribed(rig)
    corrected = rig.driver.charge(visit_id, ChargeInput((ChargeItem(AMOXI, Decimal("20")),)))
    assert corrected.ok and corrected["warnings"] == []
    assert rig.settle(visit_id).ok
    lines = rig.driver.visit(visit_id)["visit"]["lines"]
    assert [(line["code"], line["qty"], line["status"]) for line in lines] == [
        (CONSULT, "1", "settled"), (AMOXI, "20", "settled")]


def test_an_override_is_recorded_and_the_insurer_refuses_the_same_rule(rig: Rig) -> None:
    visit_id, _charged = over_prescribed(rig)
    refused = rig.driver.settle(visit_id, SettleInput(override=INSISTS))
    assert not refused.ok and refused.refusal is not None
    assert refused.refusal.source == "insurer" and refused.refusal.infno == "2204"
    assert "R-QTY-001" in refused.refusal.message
    visit = rig.driver.visit(visit_id)["visit"]
    [override] = visit["overrides"]
    assert override["by"] == "C07" and override["rule_ids"] == ["R-QTY-001"]
    assert override["operation"] == "settle" and override["at"].startswith("2026-")
    assert visit["status"] == "cancelled" and rig.orphans() == []
    assert "2207" not in sent(rig)


def test_an_override_at_charge_uploads_the_line(rig: Rig) -> None:
    visit_id = rig.visit(1, [(CONSULT, "1")])
    charged = rig.driver.charge(visit_id, ChargeInput((ChargeItem(AMOXI, Decimal("30")),),
                                                      override=INSISTS))
    assert not charged.ok and charged.refusal is not None and charged.refusal.infno == "2204"
    assert charged["warnings"][0]["rule_id"] == "R-QTY-001"
    assert rig.driver.visit(visit_id)["visit"]["overrides"][0]["operation"] == "charge"


def test_an_unavailable_rule_check_warns_and_blocks_nothing(rig: Rig) -> None:
    rig.faults({"id": "rules-down", "match": {"infno": "3101"},
                "effect": {"kind": "business_error", "err_msg": "FSI-规则引擎维护[r01]"}})
    visit_id = rig.visit(1, [(CONSULT, "1")])
    charged = rig.driver.charge(visit_id, ChargeInput((ChargeItem(AMOXI, Decimal("2")),)))
    assert charged.ok
    [warning] = charged["warnings"]
    assert warning["rule_id"] == "rule_check_unavailable" and warning["sev_deg"] == 2
    assert "规则引擎维护" in warning["message"]
    assert rig.settle(visit_id).ok


def test_an_override_needs_who_and_why() -> None:
    with pytest.raises(DriverInputError, match=r"override\.reason"):
        SettleInput.from_json({"override": {"by": "C01"}})
    with pytest.raises(DriverInputError, match="override"):
        ChargeInput.from_json({"items": [{"code": "X", "qty": 1}], "override": "yes"})
    given = SettleInput.from_json({"override": {"by": "C01", "reason": "doctor insists"}})
    assert given.override == Override("C01", "doctor insists")
    assert SettleInput.from_json(given.to_json()) == given
    assert "override" not in SettleInput().to_json()
