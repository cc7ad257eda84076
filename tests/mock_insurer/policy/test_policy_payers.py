"""The supplementary payers as a chain described by data (docs/policy.md "Several payers"):
every combination of enrolments keeps the settlement invariants, each payer's setldetail row
is its counter's movement, a cancellation puts every counter back, and the chain is refused
clearly when the profile describes it wrongly."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_insurer.money import CENT
from mock_insurer.policy import (
    COUNTERS,
    MONEY_FIELDS,
    Decomposition,
    Profile,
    ProfileError,
    RowSplit,
    SettlementFacts,
    decompose,
)
from mock_insurer.policy.parameters import PAYER_COUNTERS, PAYER_WIRE_FIELDS, profile_document
from tests.mock_insurer.policy.strategies import ALL_FUNDS, BEIJING, facts, money, rows

ENROLLABLE = ("veterans", "commercial")
PROPERTY = settings(max_examples=200, deadline=None)


@st.composite
def enrolled_settlements(draw: st.DrawFn) -> tuple[Profile, list[RowSplit], SettlementFacts]:
    profile = draw(st.sampled_from([BEIJING, ALL_FUNDS]))
    base = draw(facts(profile))
    ytd = dataclasses.replace(
        base.ytd,
        veterans_paid=draw(st.one_of(st.just(Decimal("0.00")), money("7500", "8000"))),
        commercial_paid=draw(st.one_of(st.just(Decimal("0.00")), money("19000", "20000"))),
        commercial_base_used=draw(st.one_of(st.just(Decimal("0.00")), money("0", "1500"))))
    enrolments = frozenset(draw(st.sets(st.sampled_from(ENROLLABLE))))
    return profile, draw(rows()), dataclasses.replace(base, ytd=ytd, enrolments=enrolments)


def _payer_invariants(d: Decomposition, f: SettlementFacts, profile: Profile) -> None:
    params = profile.at(f.setl_date)
    rates = params.rates(f.insutype, f.tier, f.retired)
    by_type = {r.fund_pay_type: r.fund_payamt for r in d.fund_rows}
    # setldetail: one row per fund that paid; they add up to funds + account + hospital
    assert sum(by_type.values(), Decimal(0)) == d.fund_pay_sumamt + d.acct_pay + d.hosp_part_amt
    assert len(by_type) == len(d.fund_rows)
    assert d.fund_pay_sumamt == (d.hifp_pay + d.cvlserv_pay + d.hifes_pay + d.hifmi_pay
                                 + d.hifob_pay + d.maf_pay + d.oth_pay)
    assert d.psn_part_amt == d.medfee_sumamt - d.fund_pay_sumamt - d.hosp_part_amt
    assert d.psn_part_amt == d.acct_pay + d.psn_cash_pay
    for name in (*MONEY_FIELDS, "balc"):
        value = getattr(d, name)
        assert value >= 0 and value == value.quantize(CENT), name
    assert set(d.counter_deltas) == set(COUNTERS)
    # each payer: its row is its paid counter's movement, its wire field sums its payers
    wire = dict.fromkeys(PAYER_WIRE_FIELDS, Decimal(0))
    for payer in rates.payers:
        paid = d.counter_deltas[payer.paid_counter]
        assert by_type.get(payer.fund.fund_pay_type, Decimal(0)) == paid, payer.id
        wire[payer.wire_field] += paid
        before = f.ytd.get(payer.paid_counter)
        if payer.annual_cap is not None:
            assert before + paid <= max(before, payer.annual_cap), payer.id
        if payer.eligibility == "enrolment" and payer.id not in f.enrolments:
            assert paid == 0, f"{payer.id} paid a person not enrolled"
    for field in PAYER_WIRE_FIELDS:
        assert getattr(d, field) == wire[field], field


@PROPERTY
@given(enrolled_settlements())
def test_every_combination_of_enrolments_keeps_the_invariants(
    case: tuple[Profile, list[RowSplit], SettlementFacts],
) -> None:
    profile, bill, f = case
    _payer_invariants(decompose(bill, f, profile.at(f.setl_date)), f, profile)


@PROPERTY
@given(enrolled_settlements())
def test_settle_then_cancel_puts_every_payers_counter_back(
    case: tuple[Profile, list[RowSplit], SettlementFacts],
) -> None:
    profile, bill, f = case
    d = decompose(bill, f, profile.at(f.setl_date))
    cancel = d.negated(balc_after=d.balc + d.acct_pay)
    assert f.ytd.plus(d.counter_deltas).plus(cancel.counter_deltas) == f.ytd
    assert cancel.balc == f.balc
    assert sorted((r.fund_pay_type, -r.fund_payamt) for r in cancel.fund_rows) == sorted(
        (r.fund_pay_type, r.fund_payamt) for r in d.fund_rows)


@PROPERTY
@given(enrolled_settlements())
def test_the_new_payers_change_nothing_for_a_person_not_enrolled(
    case: tuple[Profile, list[RowSplit], SettlementFacts],
) -> None:
    _, bill, f = case
    f = dataclasses.replace(f, enrolments=frozenset())
    a = decompose(bill, f, BEIJING.at(f.setl_date))
    b = decompose(bill, f, WITHOUT_NEW.at(f.setl_date))
    assert a.as_setlinfo() == b.as_setlinfo()
    assert a.fund_rows == b.fund_rows


def test_an_enrolled_payer_pays_only_its_enrolled_persons() -> None:
    rates = BEIJING.at(dt.date(2025, 1, 1)).rates("390", "2", False)
    assert [p.id for p in rates.payers] == ["serious_illness", "assistance", "veterans",
                                            "commercial"]
    commercial = rates.payer("commercial")
    assert commercial is not None
    assert (commercial.fund.fund_pay_type, commercial.wire_field, commercial.base,
            commercial.threshold) == ("999997", "oth_pay", "psn_part", Decimal("500"))
    veterans = rates.payer("veterans")
    assert veterans is not None and veterans.fund.fund_pay_type == "610200"
    assert all(PAYER_COUNTERS[p.id][0] == p.paid_counter for p in rates.payers)


def _without_new_payers() -> Profile:
    """beijing with the veterans' and commercial payers taken out of every chain."""
    data, _ = profile_document("beijing")
    data = copy.deepcopy(data)
    for scheme in data["schemes"].values():
        for payer in ENROLLABLE:
            scheme.pop(payer, None)
        scheme["payer_chain"] = [p for p in scheme["payer_chain"] if p not in ENROLLABLE]
    return Profile.from_mapping(data, source="beijing without the new payers (test)")


WITHOUT_NEW = _without_new_payers()


def _broken(change: Any) -> dict[str, Any]:
    data, _ = profile_document("beijing")
    data = copy.deepcopy(data)
    change(data)
    return data


def _s310(data: dict[str, Any]) -> dict[str, Any]:
    scheme: dict[str, Any] = data["schemes"]["310"]
    return scheme


BAD_CHAINS = [
    (lambda d: _s310(d).update(payer_chain=["civil_servant", "assistance", "veterans"]),
     "schemes.310.payer_chain: must name each payer section"),
    (lambda d: _s310(d).update(payer_chain="civil_servant"),
     "schemes.310.payer_chain: expected a list"),
    (lambda d: _s310(d)["veterans"].update(wire_field="psn_cash_pay"),
     "schemes.310.veterans.wire_field: 'psn_cash_pay' is not one of"),
    (lambda d: _s310(d)["veterans"].update(eligibility="anyone"),
     "schemes.310.veterans.eligibility: 'anyone' is not one of"),
    (lambda d: _s310(d)["veterans"].update(brackets=_s310(d)["veterans"]["share"]),
     "schemes.310.veterans: give exactly one of 'share' and 'brackets'"),
    (lambda d: _s310(d)["veterans"].update(deductible=_s310(d)["commercial"]["deductible"]),
     "schemes.310.veterans: this payer keeps no base counter"),
    (lambda d: _s310(d)["commercial"].pop("base"), "schemes.310.commercial.base: missing"),
    (lambda d: _s310(d).update(pension=_s310(d)["veterans"]),
     "schemes.310.pension: unknown key"),
]


@pytest.mark.parametrize(("change", "message"), BAD_CHAINS)
def test_a_wrong_chain_is_refused_with_where_and_what(change: Any, message: str) -> None:
    with pytest.raises(ProfileError, match=message.replace("(", r"\(")):
        Profile.from_mapping(_broken(change), source="bad.yaml")


def test_the_chain_order_is_data() -> None:
    data = _broken(lambda d: _s310(d).update(
        payer_chain=["commercial", "veterans", "assistance", "civil_servant"]))
    profile = Profile.from_mapping(data, source="reordered.yaml")
    rates = profile.at(dt.date(2025, 1, 1)).rates("310", "3", False)
    assert [p.id for p in rates.payers] == ["commercial", "veterans", "assistance",
                                            "civil_servant"]
