"""Hypothesis strategies for the policy engine (money, catalogue items, bills, persons' facts)
and the one function that asserts every invariant of a settlement split."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from mock_insurer.money import CENT
from mock_insurer.policy import (
    COUNTERS,
    MONEY_FIELDS,
    CatalogueEntry,
    Decomposition,
    FeeLine,
    Parameters,
    Profile,
    RowSplit,
    SettlementFacts,
    YearToDate,
    load_profile,
    split_row,
)
from mock_insurer.policy.parameters import profile_document

BEIJING = load_profile("beijing")


def _all_funds_profile() -> Profile:
    """beijing with every optional fund active and binding caps, so that properties reach
    every branch: serious illness on for all med types with a low threshold, small caps on the
    large-amount and civil-servant funds, an account for residents, and an account rule that
    changes on 2024-01-01."""
    data, _ = profile_document("beijing")
    data = copy.deepcopy(data)
    s310, s390 = data["schemes"]["310"], data["schemes"]["390"]
    every = ["11", "12", "13", "14", "15", "16", "19", "51", "53"]
    s390["serious_illness"]["med_types"]["values"] = {"2020-01-01": every}
    s390["serious_illness"]["threshold"]["values"] = {"2020-01-01": 500}
    s390["serious_illness"]["annual_cap"]["values"] = {"2020-01-01": 900}
    s310["large_amount"]["annual_cap"]["values"] = {"2020-01-01": 300}
    s310["civil_servant"]["annual_cap"]["values"] = {"2020-01-01": 200}
    s310["account"]["may_pay"]["values"] = {"2020-01-01": "psn_part",
                                            "2024-01-01": "inscp_selfpay"}
    s390["account"] = copy.deepcopy(s310["account"])
    s390["account"]["fund_pay_type"] = "390500"
    s390["account"]["fund_name"] = "居民家庭账户金"
    return Profile.from_mapping(data, source="beijing+all-funds (test)")


ALL_FUNDS = _all_funds_profile()
PROFILES = (BEIJING, ALL_FUNDS)
TIERS = ("community", "1", "2", "3")
MED_TYPES = ("11", "12", "13", "14", "41")


def money(low: str, high: str) -> st.SearchStrategy[Decimal]:
    """Yuan with two places in [low, high]."""
    return st.integers(int(Decimal(low) * 100), int(Decimal(high) * 100)).map(
        lambda cents: Decimal(cents).scaleb(-2))


def ratio(low: str = "0", high: str = "1") -> st.SearchStrategy[Decimal]:
    return st.integers(int(Decimal(low) * 10000), int(Decimal(high) * 10000)).map(
        lambda n: Decimal(n).scaleb(-4))


@st.composite
def items(draw: st.DrawFn) -> CatalogueEntry:
    lv = draw(st.sampled_from(["01", "02", "03"]))
    prop = {"01": st.just(Decimal("0")), "02": ratio("0", "0.5"),
            "03": st.just(Decimal("1"))}[lv]
    return CatalogueEntry(
        med_list_codg=f"X{draw(st.integers(1, 99)):03d}", med_list_name="测试项目",
        chrgitm_lv=lv, med_chrgitm_type=draw(st.sampled_from(["02", "03", "09", "11"])),
        pric_uplmt_amt=draw(st.one_of(st.just(Decimal("999999.00")), money("0", "300"))),
        selfpay_prop=draw(prop), lmt_used_flag="0", max_cnt_per_rx=None,
        max_days_per_rx=None, indications=(), gend_limit=None, age_min=None, age_max=None)


@st.composite
def rows(draw: st.DrawFn, max_lines: int = 8) -> list[RowSplit]:
    """A bill: each line split against a random item, in scope or not."""
    out = []
    for n in range(draw(st.integers(0, max_lines))):
        item = draw(items())
        cnt = draw(st.one_of(st.integers(1, 60).map(Decimal),
                             st.integers(1, 5000).map(lambda i: Decimal(i).scaleb(-2))))
        pric = draw(st.one_of(money("0", "800"),
                              st.integers(0, 8_000_000).map(lambda i: Decimal(i).scaleb(-4))))
        line = FeeLine(str(n + 1), item.med_list_codg, cnt, pric, None, "0")
        out.append(split_row(line, item, in_scope=draw(st.booleans())))
    return out


@st.composite
def year_to_date(draw: st.DrawFn) -> YearToDate:
    return YearToDate(
        # plenty of persons at or near a deductible or a cap, where the rules meet
        dedc_used=draw(st.one_of(st.just(Decimal("0.00")), money("0", "2500"),
                                 st.sampled_from(["100", "550", "1300", "1800"]).map(Decimal))),
        hifp_paid=draw(st.one_of(st.just(Decimal("0.00")), money("0", "21000"),
                                 money("4800", "5000"), money("19500", "20000"))),
        hifob_paid=draw(st.one_of(st.just(Decimal("0.00")), money("0", "400"))),
        hifmi_paid=draw(st.one_of(st.just(Decimal("0.00")), money("0", "1000"))),
        cvlserv_paid=draw(st.one_of(st.just(Decimal("0.00")), money("0", "300"))),
        maf_paid=draw(st.one_of(st.just(Decimal("0.00")), money("0", "11000"))),
        hifmi_base_used=draw(st.one_of(st.just(Decimal("0.00")), money("0", "60000"))),
    )


@st.composite
def facts(draw: st.DrawFn, profile: Profile) -> SettlementFacts:
    return SettlementFacts(
        setl_date=draw(st.one_of(st.dates(dt.date(2021, 1, 1), dt.date(2026, 12, 31)),
                                 st.dates(dt.date(2021, 1, 1), dt.date(2022, 12, 31)))),
        insutype=draw(st.sampled_from(profile.insutypes)),
        psn_type=draw(st.sampled_from(["1101", "1201", "1501"])),
        retired=draw(st.booleans()),
        cvlserv_flag=draw(st.sampled_from(["0", "1"])),
        maf_eligible=draw(st.booleans()),
        tier=draw(st.sampled_from(TIERS)),
        med_type=draw(st.sampled_from(MED_TYPES)),
        acct_used_flag=draw(st.booleans()),
        balc=draw(st.one_of(st.just(Decimal("0.00")), money("0", "3000"))),
        registration_payment_due=draw(st.booleans()),
        ytd=draw(year_to_date()),
    )


@st.composite
def settlements(draw: st.DrawFn) -> tuple[Profile, list[RowSplit], SettlementFacts]:
    profile = draw(st.sampled_from(PROFILES))
    return profile, draw(rows()), draw(facts(profile))


def _total(values: Sequence[Decimal]) -> Decimal:
    return sum(values, Decimal("0.00"))


def assert_invariants(d: Decomposition, rows: Sequence[RowSplit], facts: SettlementFacts,
                      params: Parameters) -> None:
    """Every invariant of the reference's "Settlement arithmetic" and of DESIGN.md."""
    # the totals are the sums of the rows
    assert d.medfee_sumamt == _total([r.det_item_fee_sumamt for r in rows])
    assert d.fulamt_ownpay_amt == _total([r.fulamt_ownpay_amt for r in rows])
    assert d.overlmt_selfpay == _total([r.overlmt_amt for r in rows])
    assert d.preselfpay_amt == _total([r.preselfpay_amt for r in rows])
    assert d.inscp_scp_amt == _total([r.inscp_scp_amt for r in rows])
    assert d.inscp_scp_amt == (d.medfee_sumamt - d.fulamt_ownpay_amt - d.overlmt_selfpay
                               - d.preselfpay_amt)
    # funds, person's part, account, cash
    assert d.fund_pay_sumamt == (d.hifp_pay + d.cvlserv_pay + d.hifes_pay + d.hifmi_pay
                                 + d.hifob_pay + d.maf_pay + d.oth_pay)
    assert d.psn_part_amt == d.medfee_sumamt - d.fund_pay_sumamt - d.hosp_part_amt
    assert d.psn_part_amt == d.acct_pay + d.psn_cash_pay
    assert d.fund_pay_sumamt <= d.inscp_scp_amt  # funds pay only in-scope money
    for name in (*MONEY_FIELDS, "balc"):
        value = getattr(d, name)
        assert value >= 0, name
        assert value == value.quantize(CENT), f"{name} = {value} is not whole cents"
    assert d.acct_pay <= max(facts.balc, Decimal(0))
    if not facts.acct_used_flag:
        assert d.acct_pay == 0
    assert d.balc == facts.balc - d.acct_pay
    # setldetail rows
    assert sum((r.fund_payamt for r in d.fund_rows), Decimal(0)) == (
        d.fund_pay_sumamt + d.acct_pay + d.hosp_part_amt)
    assert all(r.fund_payamt > 0 and r.inscp_scp_amt == d.inscp_scp_amt for r in d.fund_rows)
    assert len({r.fund_pay_type for r in d.fund_rows}) == len(d.fund_rows)
    # counters move by exactly the settled amounts and never pass a deductible or cap
    deltas = d.counter_deltas
    assert set(deltas) == set(COUNTERS)
    assert deltas["dedc_used"] == d.act_pay_dedc
    assert (deltas["hifp_paid"], deltas["hifob_paid"], deltas["hifmi_paid"],
            deltas["cvlserv_paid"], deltas["maf_paid"]) == (
        d.hifp_pay, d.hifob_pay, d.hifmi_pay, d.cvlserv_pay, d.maf_pay)
    assert all(v >= 0 for v in deltas.values())
    rates = params.rates(facts.insutype, facts.tier, facts.retired)
    before, after = facts.ytd, facts.ytd.plus(deltas)
    assert after.dedc_used <= max(before.dedc_used, rates.pool.deductible)
    limits: list[tuple[str, Any]] = [("hifp_paid", rates.pool)]
    limits += [(n, f) for n, f in (("hifob_paid", rates.large_amount),
                                   ("hifmi_paid", rates.serious_illness),
                                   ("cvlserv_paid", rates.civil_servant),
                                   ("maf_paid", rates.assistance)) if f is not None]
    for name, fund in limits:
        if fund.annual_cap is not None:
            assert getattr(after, name) <= max(getattr(before, name), fund.annual_cap), name
    for name in ("hifob_paid", "hifmi_paid", "cvlserv_paid", "maf_paid"):
        fund = dict(limits).get(name)
        if fund is None or facts.med_type not in fund.med_types:
            assert deltas[name] == 0, f"{name} moved though its fund does not apply"
    if facts.cvlserv_flag != "1":
        assert d.cvlserv_pay == 0
    if not facts.maf_eligible:
        assert d.maf_pay == 0
