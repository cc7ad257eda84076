"""The conformance mutants: each new one, driven into the situation its defect is about against
a real mock insurer, shows exactly the damage it names — and the reference HIS, driven the same
way, shows none. And the registry: enough mutants, each naming requirements that exist.

Each situation drives a HIS through the driver API and returns what a checker finds wrong (a
set of short problem labels); the evidence is asserted where it is found."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from conformance.mutants import MUTANTS, mutant
from conformance.mutants.rejections import GENERIC_REFUSAL
from mock_insurer.client import TifAuth
from simulator.his.app import ReferenceHis
from simulator.his.errors import HisConfigError
from simulator.his.operations import (
    ChargeInput,
    ChargeItem,
    DayEndInput,
    IdentifyInput,
    Outcome,
    Override,
    RefundInput,
)
from simulator.his.variants import VARIANTS, VariantHis
from tests.conformance.declaration_situations import DECLARATION_SITUATIONS
from tests.conformance.multi_payer_situations import MULTI_PAYER_SITUATIONS
from tests.conformance.out_of_area_situations import OUT_OF_AREA_SITUATIONS
from tests.mock_insurer.gateway import dataset
from tests.simulator.his.rig import AMOXI, CONSULT, HOSPITAL, START, TONIC, Rig

Problems = set[str]
CATALOGUE = Path(__file__).resolve().parents[2] / "conformance" / "requirements.yaml"


# -- what a checker reads at the insurer -----------------------------------------------------
def received(rig: Rig) -> list[dict[str, Any]]:
    """Every message the insurer recorded, oldest first."""
    with rig.insurer.ledger.read() as tx:
        return [dict(m) for m in tx.messages(limit=10_000)]


def refusal_code(rig: Rig, outcome: Outcome) -> str:
    """The insurer's rejection code behind a refused outcome (found by the refusal's msgid)."""
    refusal = outcome.refusal
    assert refusal is not None and refusal.msgid, outcome.body
    (record,) = [m for m in received(rig)
                 if m["msgid"] == refusal.msgid and m["rejection_code"]]
    return str(record["rejection_code"])


def live_settlements(rig: Rig) -> list[Any]:
    """The insurer's settlements in effect and not cancelled."""
    return [s for s in rig.settlements() if s.refd_setl_flag == "0" and s.cancelled_by is None]


def settled_visit(rig: Rig, items: list[tuple[str, str]], n: int = 1) -> str:
    visit_id = rig.visit(n, items)
    settled = rig.settle(visit_id)
    assert settled.ok, settled.body
    return visit_id


def partial_refund(rig: Rig) -> tuple[Outcome, Problems]:
    """Three items settled, two refunded: the patient keeps the consultation (30.00)."""
    problems: Problems = set()
    visit_id = settled_visit(rig, [(CONSULT, "1"), (AMOXI, "2"), (TONIC, "1")])
    refunded = rig.driver.refund(visit_id, RefundInput(items=(AMOXI, TONIC)))
    if not refunded.ok:
        problems.add(f"re-settlement refused: {refusal_code(rig, refunded)}")
    if not any(s.medfee_sumamt == Decimal("30.00") for s in live_settlements(rig)):
        problems.add("kept items unsettled")
    return refunded, problems


# -- the situations ------------------------------------------------------------------------
def account_pays(rig: Rig) -> Problems:
    """A patient with an account balance settles with the account (SPLIT-001/002)."""
    problems: Problems = set()
    bill = rig.settle(rig.visit(1, [(CONSULT, "1"), (TONIC, "1")]), acct_used=True)["bill"]
    (held,) = live_settlements(rig)
    assert held.acct_pay > 0
    for key in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay"):
        if Decimal(bill["amounts"][key]) != getattr(held, key):
            problems.add(f"bill {key} differs from the insurer's")
    if Decimal(bill["charged"]["cash"]) != held.psn_cash_pay:
        assert Decimal(bill["charged"]["cash"]) == held.medfee_sumamt
        problems.add("cash charged is not psn_cash_pay")
    if Decimal(bill["charged"]["account"]) != held.acct_pay:
        problems.add("account charged is not acct_pay")
    return problems


def half_cent_lines(rig: Rig) -> Problems:
    """Two lines of 0.125 × 4.52 = 0.565 each: 0.57 + 0.57 on the lines (SPLIT-003)."""
    problems: Problems = set()
    visit_id = rig.visit(1, [(CONSULT, "1"), (AMOXI, "0.125"), (AMOXI, "0.125")])
    lines = rig.driver.visit(visit_id)["visit"]["lines"]
    assert [line["amount"] for line in lines] == ["30.00", "0.57", "0.57"]
    settled = rig.settle(visit_id)
    if not settled.ok:
        problems.add(f"settle refused: {refusal_code(rig, settled)}")
    else:
        assert settled["bill"]["amounts"]["medfee_sumamt"] == "31.14"
    return problems


def kept_items_resettled(rig: Rig) -> Problems:
    """A partial refund; the kept items are settled again (SPLIT-003, REF-002)."""
    refunded, problems = partial_refund(rig)
    if refunded.ok:
        assert refunded["bill"]["amounts"]["medfee_sumamt"] == "30.00"
    return problems


def settlement_refused(rig: Rig) -> Problems:
    """2207 refused by the insurer (a business error) (REJ-001/002)."""
    problems: Problems = set()
    rig.faults({"id": "no", "match": {"infno": "2207", "first": 1},
                "effect": {"kind": "business_error", "err_msg": "FSI-结算失败[test]"}})
    visit_id = rig.visit(1, [(CONSULT, "1"), (AMOXI, "2")])
    settled = rig.settle(visit_id)
    if settled.ok:
        problems.add("answered ok")
    elif settled.refusal is None or settled.refusal.message != "FSI-结算失败[test]":
        problems.add("cashier did not see the insurer's reason")
    if settled.get("bill") or rig.driver.bill(visit_id)["bill"]:
        problems.add("bill printed")
    assert live_settlements(rig) == [] and rig.orphans() == []
    return problems


def refusals_shown(rig: Rig) -> Problems:
    """An unknown person at identification and an over-quantity upload (REJ-002)."""
    problems: Problems = set()
    unknown = rig.driver.identify(IdentifyInput("02", "110105195503030999"))
    over = rig.driver.charge(rig.visit(1, [(CONSULT, "1")]),  # past the rule check's warning
                             ChargeInput((ChargeItem(AMOXI, Decimal("30")),),
                                         override=Override("C01", "doctor insists")))
    for outcome in (unknown, over):
        assert not outcome.ok and outcome.refusal is not None
        (record,) = [m for m in received(rig) if m["msgid"] == outcome.refusal.msgid]
        if outcome.refusal.message != record["err_msg"]:
            assert outcome.refusal.message == GENERIC_REFUSAL
            problems.add(f"{record['infno']} reason hidden")
    return problems


def settlement_unanswered(rig: Rig) -> Problems:
    """The first 2207 gets a 502 and never reaches the center: query, reverse, settle again
    (OUT-003)."""
    problems: Problems = set()
    rig.faults({"id": "bad-gateway", "match": {"infno": "2207", "first": 1},
                "effect": {"kind": "http_error", "status": 502}})
    settled = rig.settle(rig.visit(1, [(CONSULT, "1")]))
    assert settled.ok, settled.body
    messages = received(rig)
    sent = {m["msgid"]: m["infno"] for m in messages if m["status"] != "tombstone"}
    reversals = [m for m in messages if m["infno"] == "2601"]
    assert reversals
    for reversal in reversals:
        data = orjson.loads(reversal["request"])["input"]["data"]
        if sent.get(data["omsgid"]) != data["oinfno"] or data["oinfno"] not in ("2207", "2208"):
            problems.add(f"2601 names a {sent.get(data['omsgid'])}")
        if reversal["rejection_code"]:
            problems.add(f"2601 refused: {reversal['rejection_code']}")
    assert len(live_settlements(rig)) == 1
    return problems


def whole_refund(rig: Rig) -> Problems:
    """A settled visit refunded in full (REF-001, DAY-003)."""
    problems: Problems = set()
    visit_id = settled_visit(rig, [(CONSULT, "1"), (AMOXI, "2")])
    refunded = rig.driver.refund(visit_id, RefundInput())
    assert refunded.ok, refunded.body
    infnos = [m["infno"] for m in received(rig)]
    if "2208" not in infnos:
        refused = [m["rejection_code"] for m in received(rig) if m["infno"] == "2205"]
        assert refused == ["details_settled"]
        problems.add("no 2208 sent")
    if live_settlements(rig):
        problems.add("settlement still in effect at the insurer")
    theirs = sorted((s.setl_id, s.medfee_sumamt) for s in rig.settlements())
    ours = sorted((r["setl_id"], Decimal(r["medfee_sumamt"])) for r in rig.counted())
    if ours != theirs:
        problems.add("ledgers disagree")
    return problems


def a_day_with_a_refund(rig: Rig) -> Problems:
    """Two visits settled, one of them refunded in full; day-end (DAY-001)."""
    problems: Problems = set()
    settled_visit(rig, [(CONSULT, "1")], n=1)
    refunded = settled_visit(rig, [(CONSULT, "1"), (AMOXI, "2")], n=2)
    assert rig.driver.refund(refunded, RefundInput()).ok
    day_end = rig.driver.day_end(DayEndInput(START.date()))
    assert day_end.ok, day_end.body
    if not day_end["balanced"]:
        assert day_end["corrections"] == []
        problems.add("day-end unbalanced")
    return problems


def account_and_cash_differ(rig: Rig) -> Problems:
    """A visit paid by the account and in cash (different totals); day-end (DAY-001)."""
    problems: Problems = set()
    rig.settle(rig.visit(1, [(CONSULT, "1"), (TONIC, "1")]), acct_used=True)
    (held,) = live_settlements(rig)
    assert held.acct_pay != held.psn_cash_pay
    day_end = rig.driver.day_end(DayEndInput(START.date()))
    assert day_end.ok, day_end.body
    if not day_end["balanced"]:
        problems.add("day-end unbalanced")
    return problems


def msgids_after_a_refund(rig: Rig) -> Problems:
    """A partial refund: the visit's messages go on after 2208 (SEC-001, MSG-003)."""
    _refunded, problems = partial_refund(rig)
    messages = received(rig)
    duplicates = [m for m in messages if m["rejection_code"] == "duplicate_msgid"]
    if duplicates:
        problems.add("msgid reused with another body")
    keyed: dict[str, int] = {}
    for m in messages:
        if m["keyed"]:
            keyed[m["msgid"]] = keyed.get(m["msgid"], 0) + 1
    assert all(count == 1 for count in keyed.values())
    if rig.orphans():
        problems.add("orphan registration")
    return problems


def tif_gateway(rig: Rig) -> Problems:
    """The insurer requires TIF signatures (SEC-002): a card is read."""
    problems: Problems = set()
    outcome = rig.driver.identify(IdentifyInput("02", dataset.PERSONS[0]["certno"]))
    if not outcome.ok:
        problems.add("refused by the gateway")
    if any(m["rejection_code"] == "auth_failed" for m in received(rig)):
        problems.add("auth_failed recorded")
    return problems


RIG_OPTIONS: dict[str, dict[str, Any]] = {
    "tif-millis": {"insurer_auth": "tif", "auth": TifAuth("paas03", "token03")},
}
"""Rig options a situation needs (the insurer's gateway authentication and the HIS's)."""

SITUATIONS: dict[str, tuple[Callable[[Rig], Problems], Problems]] = {
    "charges-total": (account_pays, {"cash charged is not psn_cash_pay",
                                     "account charged is not acct_pay"}),
    "rounds-per-item": (half_cent_lines, {"settle refused: medfee_mismatch"}),
    "medfee-mismatch": (kept_items_resettled, {"re-settlement refused: medfee_mismatch",
                                               "kept items unsettled"}),
    "bill-despite-refusal": (settlement_refused, {"answered ok", "bill printed"}),
    "tif-millis": (tif_gateway, {"refused by the gateway", "auth_failed recorded"}),
    "hides-refusal-reason": (refusals_shown, {"1101 reason hidden", "2204 reason hidden"}),
    "bad-reversal": (settlement_unanswered, {"2601 names a 5203",
                                             "2601 refused: reversal_infno_mismatch"}),
    "refund-without-2208": (whole_refund, {"no 2208 sent",
                                           "settlement still in effect at the insurer",
                                           "ledgers disagree"}),
    "stale-resettle": (kept_items_resettled, {"re-settlement refused: amounts_mismatch",
                                              "kept items unsettled"}),
    "dayend-skips-refunds": (a_day_with_a_refund, {"day-end unbalanced"}),
    "dayend-wrong-field": (account_and_cash_differ, {"day-end unbalanced"}),
    "reuses-msgid": (msgids_after_a_refund, {"re-settlement refused: duplicate_msgid",
                                             "kept items unsettled",
                                             "msgid reused with another body",
                                             "orphan registration"}),
    **OUT_OF_AREA_SITUATIONS,
    **MULTI_PAYER_SITUATIONS,
    **DECLARATION_SITUATIONS,
}
NEW = [name for name in MUTANTS if name not in VARIANTS]


@pytest.mark.parametrize("name", NEW)
def test_each_new_mutant_shows_exactly_its_damage(make_rig: Callable[..., Rig],
                                                  name: str) -> None:
    situation, expected = SITUATIONS[name]
    rig = make_rig(his_class=mutant(name).his_class, **RIG_OPTIONS.get(name, {}))
    assert situation(rig) == expected


@pytest.mark.parametrize("name", NEW)
def test_the_reference_his_in_the_same_situation_shows_none(make_rig: Callable[..., Rig],
                                                            name: str) -> None:
    situation, _expected = SITUATIONS[name]
    assert situation(make_rig(**RIG_OPTIONS.get(name, {}))) == set()


def test_a_new_mutant_is_a_working_his_outside_its_situation(
        make_rig: Callable[..., Rig]) -> None:
    """An ordinary visit — identified by card, settled, refunded in part, day-end — goes
    through every new mutant whose defect it does not touch, as through the reference."""
    untouched = {"rounds-per-item", "bill-despite-refusal", "hides-refusal-reason",
                 "bad-reversal"}
    for name in NEW:
        rig = make_rig(his_class=mutant(name).his_class)
        visit_id = rig.visit(1, [(CONSULT, "1"), (AMOXI, "2")])
        settled = rig.settle(visit_id, acct_used=False)
        assert settled.ok, name
        (held,) = live_settlements(rig)
        assert settled["bill"]["amounts"]["psn_cash_pay"] == str(held.psn_cash_pay), name
        if name not in untouched:
            continue
        assert rig.driver.refund(visit_id, RefundInput(items=(AMOXI,))).ok, name
        assert len(live_settlements(rig)) == 1 and rig.orphans() == [], name
        assert rig.driver.day_end(DayEndInput(START.date()))["balanced"] is True, name


# -- the registry ----------------------------------------------------------------------------
def test_the_registry() -> None:
    catalogue = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))["requirements"]
    assert len(MUTANTS) >= 16
    assert set(VARIANTS) <= set(MUTANTS)
    assert set(SITUATIONS) == set(NEW)
    classes = [m.his_class for m in MUTANTS.values()]
    assert len(set(classes)) == len(classes)
    for name, found in MUTANTS.items():
        assert found.name == name == getattr(found.his_class, "variant_name", None)
        assert issubclass(found.his_class, VariantHis) and issubclass(found.his_class,
                                                                      ReferenceHis)
        assert name == name.lower() and " " not in name and "_" not in name
        assert " / " in found.title and "\n" not in found.title and found.defect
        assert found.fails, name
        for requirement in found.fails:
            assert requirement in catalogue, (name, requirement)
            assert not catalogue[requirement].get("withdrawn"), (name, requirement)
    assert mutant("reuses-msgid").fails[0] == "SEC-001"
    with pytest.raises(HisConfigError, match=r"no conformance mutant 'nope'.*typed-certno.*"
                                             r"reuses-msgid"):
        mutant("nope")


def test_a_mutant_says_what_it_is(make_rig: Callable[..., Rig]) -> None:
    info = make_rig(his_class=mutant("charges-total").his_class).driver.info()
    assert info["x_variant"] == "charges-total" and "deliberately broken" in info["name"]
    assert info["institution"]["fixmedins_code"] == HOSPITAL


def test_the_dataset_person_is_unknown() -> None:
    """The ID number the REJ-002 situation identifies is nobody's."""
    assert all(p["certno"] != "110105195503030999" for p in dataset.PERSONS)
