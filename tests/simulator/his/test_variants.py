"""The deliberately broken HIS variants: each, driven into the situation it is about against a
real mock insurer, shows exactly the damage it names — and the reference HIS, driven the same
way, shows none.

Each situation below drives a HIS through the driver API and returns what a checker finds
wrong (a set of short problem labels, with the evidence asserted where it is found)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cardsettle.cli.his import his
from mock_insurer.ledger import queries as ledger_queries
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
    RegisterInput,
    SettleInput,
)
from simulator.his.variants import CONCERNS, VARIANTS, VariantHis, variant
from simulator.his.variants.identity import gbk_field
from tests.mock_insurer.gateway import dataset
from tests.simulator.his.rig import AMOXI, CONSULT, HOSPITAL, START, TONIC, Rig, write_dataset

Problems = set[str]


def insurer_refusal(rig: Rig, outcome: Outcome) -> str:
    """The insurer's rejection code of a refused outcome; asserts the cashier saw the insurer's
    own text."""
    refusal = outcome.refusal
    assert refusal is not None and refusal.source == "insurer" and refusal.msgid, outcome.body
    with rig.insurer.ledger.read() as tx:
        (record,) = [m for m in tx.messages(limit=10_000) if m["msgid"] == refusal.msgid]
    assert refusal.message == record["err_msg"]
    return str(record["rejection_code"])


def live_settlements(rig: Rig) -> list[Any]:
    """The insurer's settlements in effect and not cancelled."""
    return [s for s in rig.settlements() if s.refd_setl_flag == "0" and s.cancelled_by is None]


def sent_infnos(rig: Rig) -> list[str]:
    with rig.insurer.ledger.read() as tx:
        return [m["infno"] for m in tx.messages(limit=10_000)]


# -- the situations ------------------------------------------------------------------------
def typed_certificate_numbers(rig: Rig) -> Problems:
    """ID numbers typed with full-width digits, spaces and a lower-case x."""
    problems: Problems = set()
    for typed in ("11010519550303002x", "\u3000１１０１０５１９５５０３０３００２X "):
        outcome = rig.driver.identify(IdentifyInput("02", typed, psn_name="王秀英"))
        if not outcome.ok:
            problems.add(f"identify refused: {insurer_refusal(rig, outcome)}")
    return problems


def registering_after_typed_identification(rig: Rig) -> Problems:
    """Identified by a typed ID number (lower-case x) and by a typed card number (lower case),
    then registered."""
    problems: Problems = set()
    person, card = dataset.PERSONS[1], dataset.PERSONS[0]["cards"][-1]
    for request in (IdentifyInput("02", person["certno"].lower()),
                    IdentifyInput("03", card["card_no"].lower(), card_sn=card["card_sn"])):
        identified = rig.driver.identify(request)
        assert identified.ok, identified.body
        registered = rig.driver.register(RegisterInput(
            identified["patient"]["patient_id"], "A03", "D0007"))
        if not registered.ok:
            problems.add(f"register refused: {insurer_refusal(rig, registered)}")
    return problems


def names_beyond_a_gbk_field(rig: Rig) -> Problems:
    """A six-character name typed at the window; a name outside GBK read from the card."""
    problems: Problems = set()
    tibetan, rare = dataset.PERSONS[9], dataset.PERSONS[10]
    typed = rig.driver.identify(IdentifyInput("02", tibetan["certno"],
                                              psn_name=tibetan["psn_name"]))
    if not typed.ok:
        code = insurer_refusal(rig, typed)
        assert typed.refusal is not None and tibetan["psn_name"] in typed.refusal.message
        problems.add(f"identify refused: {code}")
    card = rare["cards"][-1]
    by_card = rig.driver.identify(IdentifyInput("03", card["card_no"], card_sn=card["card_sn"]))
    assert by_card.ok, by_card.body
    if by_card["patient"]["psn_name"] != rare["psn_name"]:
        assert by_card["patient"]["psn_name"] == "马?"
        problems.add("identity not as the insurer answered")
    bill = rig.settle(rig.visit(11, [(CONSULT, "1")]))["bill"]
    if bill["psn_name"] != rare["psn_name"]:
        problems.add("bill name not as the insurer's")
    return problems


def refusals_inside_visits(rig: Rig) -> Problems:
    """An upload refused (over quantity) and a settlement refused (business error)."""
    problems: Problems = set()
    visit_id = rig.visit(1, [(CONSULT, "1")])
    over = rig.driver.charge(visit_id, ChargeInput((ChargeItem(AMOXI, Decimal("30")),),
                                                   override=Override("C01", "doctor insists")))
    assert insurer_refusal(rig, over) == "over_quantity"
    rig.faults({"id": "no", "match": {"infno": "2207", "first": 1},
                "effect": {"kind": "business_error", "err_msg": "FSI-结算失败[test]"}})
    refused = rig.settle(rig.visit(2, [(CONSULT, "1")]))
    assert not refused.ok and refused.refusal is not None
    assert refused.refusal.message == "FSI-结算失败[test]"
    orphans = rig.orphans()
    if orphans:
        problems.add(f"{len(orphans)} orphan registrations")
    return problems


def signin_invalidated(rig: Rig) -> Problems:
    """The insurer invalidates the sign-in at a pre-settlement; the cashier carries on."""
    problems: Problems = set()
    visit_id = rig.visit(1, [(CONSULT, "1")])
    rig.faults({"id": "signout", "match": {"infno": "2206", "first": 1},
                "effect": {"kind": "signin_invalidated"}})
    settled = rig.settle(visit_id)
    if not settled.ok:
        assert insurer_refusal(rig, settled) == "no_signin"
        problems.add("settle refused: no_signin")
    later = rig.driver.identify(IdentifyInput("02", dataset.PERSONS[2]["certno"]))
    if not later.ok:
        assert insurer_refusal(rig, later) == "no_signin"
        problems.add("later message refused: no_signin")
    return problems


def settlement_answer_lost(rig: Rig) -> Problems:
    """The insurer commits the first 2207 and loses its answer; day-end follows."""
    problems: Problems = set()
    rig.faults({"id": "lose", "match": {"infno": "2207", "first": 1},
                "effect": {"kind": "lose_answer", "how": "close"}})
    visit_id = rig.visit(1, [(CONSULT, "1"), (AMOXI, "2")])
    settled = rig.settle(visit_id)
    if not settled.ok:
        assert settled.refusal is not None
        problems.add(f"cashier told: {settled.refusal.code}")
    live = live_settlements(rig)
    if len(live) > 1:
        assert len({s.mdtrt_id for s in live}) == 1
        assert "5203" not in sent_infnos(rig) and "2601" not in sent_infnos(rig)
        problems.add("settled twice")
    his_rows = {row["setl_id"] for row in rig.counted()}
    if any(s.setl_id not in his_rows for s in live):
        problems.add("settlement missing from the HIS's ledger")
    day_end = rig.driver.day_end(DayEndInput(START.date()))
    assert day_end.ok, day_end.body
    if not day_end["balanced"]:
        assert [c["action"] for c in day_end["corrections"]] == ["ignored"]
        problems.add("day-end unbalanced")
    return problems


def partial_refund(rig: Rig) -> Problems:
    """Two of three items refunded; the patient keeps the consultation."""
    problems: Problems = set()
    visit_id = rig.visit(1, [(CONSULT, "1"), (AMOXI, "2"), (TONIC, "1")])
    assert rig.settle(visit_id).ok
    refunded = rig.driver.refund(visit_id, RefundInput(items=(AMOXI, TONIC)))
    assert refunded.ok, refunded.body
    if not any(s.medfee_sumamt == Decimal("30.00") for s in live_settlements(rig)):
        problems.add("kept items unsettled")
    if refunded["bill"] is None:
        problems.add("no bill for the kept items")
    if rig.orphans():
        problems.add("orphan registration")
    return problems


def account_pays(rig: Rig) -> Problems:
    """A patient with an account balance settles with the account."""
    problems: Problems = set()
    settled = rig.settle(rig.visit(1, [(CONSULT, "1"), (AMOXI, "2")]), acct_used=True)
    assert settled.ok, settled.body
    bill = settled["bill"]
    (held,) = live_settlements(rig)
    assert held.acct_pay > 0
    for key in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay"):
        if Decimal(bill["amounts"][key]) != getattr(held, key):
            problems.add(f"bill {key} differs from the insurer's")
    charged = Decimal(bill["charged"]["cash"]) + Decimal(bill["charged"]["account"])
    if charged != held.acct_pay + held.psn_cash_pay:
        problems.add("patient charged more than the person's part")
    return problems


def a_planted_mismatch(rig: Rig) -> Problems:
    """Two settlements; the HIS's ledger loses one of them; day-end."""
    problems: Problems = set()
    for n in (1, 3):
        assert rig.settle(rig.visit(n, [(CONSULT, "1")])).ok
    (lost,) = [e for e in rig.his.store.entries() if e["insutype"] == "390"]
    rig.his.store.delete_entry(lost["id"])
    day_end = rig.driver.day_end(DayEndInput(START.date()))
    assert day_end.ok, day_end.body
    assert any(g["first"]["stmt_rslt"] != "0" for g in day_end["groups"])  # found either way
    if not day_end["balanced"]:
        assert "3202" not in sent_infnos(rig)
        problems.add("day-end unbalanced")
    return problems


def an_over_prescribed_visit(rig: Rig) -> Problems:
    """A quantity above the per-prescription limit is charged, then settled without override;
    a plain visit is settled: the rule check must be asked, warn and stop the first."""
    problems: Problems = set()
    visit_id = rig.visit(1, [(CONSULT, "1")])
    over = rig.driver.charge(visit_id, ChargeInput((ChargeItem(AMOXI, Decimal("30")),)))
    if not over.ok:
        problems.add(f"charge refused: {insurer_refusal(rig, over)}")
    elif not any(w["rule_id"] == "R-QTY-001" for w in over["warnings"]):
        problems.add("no warning shown")
    settled = rig.driver.settle(visit_id, SettleInput())
    if settled.ok:
        problems.add("settled past a severe warning")
    plain = rig.visit(2, [(CONSULT, "1")])
    assert rig.settle(plain).ok
    asked = {m["infno"] for m in rig.his.store.messages()}
    problems |= {f"no {infno} sent" for infno in ("3101", "3102") if infno not in asked}
    return problems


SITUATIONS: dict[str, tuple[Callable[[Rig], Problems], Problems]] = {
    "typed-certno": (typed_certificate_numbers, {"identify refused: person_not_found"}),
    "register-typed-identity": (registering_after_typed_identification,
                                {"register refused: person_not_found",
                                 "register refused: card_not_found"}),
    "name-gbk": (names_beyond_a_gbk_field, {"identify refused: identity_mismatch",
                                            "identity not as the insurer answered",
                                            "bill name not as the insurer's"}),
    "orphan-on-refusal": (refusals_inside_visits, {"2 orphan registrations"}),
    "ignores-rule-check": (an_over_prescribed_visit, {"charge refused: over_quantity",
                                                      "no 3101 sent", "no 3102 sent"}),
    "no-signin-renewal": (signin_invalidated, {"settle refused: no_signin",
                                               "later message refused: no_signin"}),
    "blind-resend": (settlement_answer_lost, {"settled twice",
                                              "settlement missing from the HIS's ledger"}),
    "forget-lost": (settlement_answer_lost, {"cashier told: settlement_failed",
                                             "settlement missing from the HIS's ledger",
                                             "day-end unbalanced"}),
    "refund-drops-rest": (partial_refund, {"kept items unsettled", "no bill for the kept items",
                                           "orphan registration"}),
    "bill-ignores-account": (account_pays, {"bill psn_cash_pay differs from the insurer's",
                                            "patient charged more than the person's part"}),
    "dayend-no-correction": (a_planted_mismatch, {"day-end unbalanced"}),
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_each_variant_shows_exactly_its_damage(make_rig: Callable[..., Rig], name: str) -> None:
    situation, expected = SITUATIONS[name]
    rig = make_rig(his_class=variant(name).his_class)
    assert situation(rig) == expected


@pytest.mark.parametrize("name", list(VARIANTS))
def test_the_reference_his_in_the_same_situation_shows_none(make_rig: Callable[..., Rig],
                                                            name: str) -> None:
    situation, _expected = SITUATIONS[name]
    assert situation(make_rig()) == set()


def test_a_variant_is_a_working_his_outside_its_situation(make_rig: Callable[..., Rig]) -> None:
    """An ordinary visit — identified by card, settled, refunded in part, day-end — goes
    through every variant but those whose defect it touches, exactly as the reference."""
    ordinary = {"typed-certno", "register-typed-identity", "name-gbk", "orphan-on-refusal",
                "ignores-rule-check", "no-signin-renewal", "blind-resend", "forget-lost", "dayend-no-correction"}
    for name in sorted(ordinary):
        rig = make_rig(his_class=variant(name).his_class)
        visit_id = rig.visit(1, [(CONSULT, "1"), (AMOXI, "2")])
        assert rig.settle(visit_id).ok, name
        assert rig.driver.refund(visit_id, RefundInput(items=(AMOXI,))).ok, name
        assert len(live_settlements(rig)) == 1 and rig.orphans() == [], name
        assert rig.driver.day_end(DayEndInput(START.date()))["balanced"] is True, name


# -- the registry, the info answer and the CLI ---------------------------------------------
def test_the_registry() -> None:
    assert list(VARIANTS) == list(SITUATIONS)
    for name, found in VARIANTS.items():
        assert issubclass(found.his_class, VariantHis)
        assert issubclass(found.his_class, ReferenceHis)
        assert found.name == name == found.his_class.variant_name
        assert name == name.lower() and " " not in name and "_" not in name
        assert " / " in found.title and "\n" not in found.title
        assert found.concern in CONCERNS and found.breaks
    assert {v.concern for v in VARIANTS.values()} == set(CONCERNS)
    with pytest.raises(HisConfigError, match=r"no HIS variant 'nope'.*typed-certno.*"
                                             r"dayend-no-correction"):
        variant("nope")


def test_gbk_field() -> None:
    assert gbk_field("张伟") == "张伟"
    assert gbk_field("阿卜杜·热合曼") == "阿卜杜·热"
    assert gbk_field("马\U0002a7dd") == "马?"


def test_a_variant_says_what_it_is(make_rig: Callable[..., Rig]) -> None:
    info = make_rig(his_class=variant("blind-resend").his_class).driver.info()
    assert info["x_variant"] == "blind-resend" and "deliberately broken" in info["name"]
    assert info["institution"]["fixmedins_code"] == HOSPITAL


def test_his_serve_names_the_variants_and_refuses_an_unknown_one() -> None:
    runner = CliRunner()
    shown = runner.invoke(his, ["serve", "--help"])
    assert shown.exit_code == 0
    assert "--variant NAME" in shown.output and "DELIBERATELY BROKEN" in shown.output
    unknown = runner.invoke(his, ["serve", "--insurer-url", "http://127.0.0.1:1",
                                  "--variant", "nope"])
    assert unknown.exit_code == 1 and "Traceback" not in unknown.output
    assert unknown.output.strip().splitlines() == [
        "Error: --variant: no HIS variant 'nope'; the variants are: " + ", ".join(VARIANTS)]


def test_orphans_of_the_variant_are_open_at_the_insurer(make_rig: Callable[..., Rig]) -> None:
    """The orphan variant's damage as the insurer's ledger shows it: the visits are open."""
    rig = make_rig(his_class=variant("orphan-on-refusal").his_class)
    refusals_inside_visits(rig)
    with rig.insurer.ledger.read() as tx:
        held = ledger_queries.visits(tx, fixmedins_code=HOSPITAL).rows
    assert sorted(v["status"] for v in held) == ["open", "open"]
    his_side = [rig.driver.visit(v["visit_id"])["visit"]["status"]
                for v in rig.his.store.visits()]
    assert his_side == ["cancelled", "cancelled"]


def test_his_serve_variant_warns_loudly_and_serves_the_variant(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    paths = write_dataset(tmp_path)
    served: list[Any] = []
    module = importlib.import_module("cardsettle.cli.his")  # the package's `his` is the group
    monkeypatch.setattr(module, "run", lambda app, **_options: served.append(app))
    result = CliRunner().invoke(his, [
        "serve", "--insurer-url", "http://127.0.0.1:1", "--variant", "forget-lost",
        "--catalogue", str(paths["catalogue"]), "--institutions", str(paths["institutions"]),
        "--institution", HOSPITAL, "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stderr.startswith("WARNING: this HIS is DELIBERATELY BROKEN (variant "
                                    "forget-lost")
    assert "HIS variant forget-lost (broken)" in result.stdout
    assert len(served) == 1
