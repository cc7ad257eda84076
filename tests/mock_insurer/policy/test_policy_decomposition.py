"""Properties of the settlement split over random bills, persons, dates 2021-2026, tiers,
insurance types and counters (shared/reference/README.md, "Settlement arithmetic")."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from mock_insurer.policy import (
    COUNTERS,
    MONEY_FIELDS,
    CatalogueEntry,
    Decomposition,
    FeeLine,
    Profile,
    RowSplit,
    SchemeNotConfigured,
    SettlementFacts,
    YearToDate,
    decompose,
    split_row,
)
from tests.mock_insurer.policy.strategies import (
    ALL_FUNDS,
    BEIJING,
    assert_invariants,
    facts,
    money,
    rows,
    settlements,
)

PROPERTY = settings(max_examples=250, deadline=None)


@PROPERTY
@given(settlements())
def test_every_split_keeps_the_invariants(
    case: tuple[Profile, list[RowSplit], SettlementFacts],
) -> None:
    profile, bill, facts_ = case
    params = profile.at(facts_.setl_date)
    assert_invariants(decompose(bill, facts_, params), bill, facts_, params)


@PROPERTY
@given(settlements())
def test_cancellation_restores_every_counter_and_the_balance(
    case: tuple[Profile, list[RowSplit], SettlementFacts],
) -> None:
    profile, bill, facts_ = case
    d = decompose(bill, facts_, profile.at(facts_.setl_date))
    cancel = d.negated(balc_after=d.balc + d.acct_pay)
    ytd = facts_.ytd
    assert ytd.plus(d.counter_deltas).plus(cancel.counter_deltas) == ytd
    assert cancel.balc == facts_.balc
    for name in MONEY_FIELDS:
        assert getattr(cancel, name) == -getattr(d, name)
        assert getattr(cancel, name) <= 0
    assert sum((r.fund_payamt for r in cancel.fund_rows), Decimal(0)) == (
        cancel.fund_pay_sumamt + cancel.acct_pay + cancel.hosp_part_amt)
    assert cancel.pool_prop_selfpay == d.pool_prop_selfpay
    assert cancel.negated(balc_after=d.balc) == d
    # settling again after the cancellation gives the very same split
    again = decompose(bill, dataclasses.replace(
        facts_, ytd=ytd.plus(d.counter_deltas).plus(cancel.counter_deltas),
        balc=cancel.balc), profile.at(facts_.setl_date))
    assert again == d


@PROPERTY
@given(st.sampled_from([BEIJING, ALL_FUNDS]), rows(), rows(), st.data())
def test_two_settlements_in_a_row_never_pay_the_deductible_twice(
    profile: Profile, first: list[RowSplit], second: list[RowSplit], data: st.DataObject,
) -> None:
    facts_ = data.draw(facts(profile))
    params = profile.at(facts_.setl_date)
    a = decompose(first, facts_, params)
    later = dataclasses.replace(facts_, ytd=facts_.ytd.plus(a.counter_deltas), balc=a.balc,
                                registration_payment_due=False)
    b = decompose(second, later, params)
    assert_invariants(b, second, later, params)
    pool = params.rates(facts_.insutype, facts_.tier, facts_.retired).pool
    left = max(Decimal(0), pool.deductible - facts_.ytd.dedc_used)
    registration = Decimal(0)
    if facts_.registration_payment_due:  # paid before the deductible, not toward it
        registration = min(pool.registration_payment, a.inscp_scp_amt)
        if pool.annual_cap is not None:
            registration = min(registration, max(Decimal(0),
                                                 pool.annual_cap - facts_.ytd.hifp_paid))
    # together they pay exactly what is left of the year's deductible, never more
    paid = a.act_pay_dedc + b.act_pay_dedc
    assert paid <= left
    assert paid == min(a.inscp_scp_amt - registration + b.inscp_scp_amt, left)
    assert later.ytd.plus(b.counter_deltas).dedc_used <= max(facts_.ytd.dedc_used,
                                                             pool.deductible)


@settings(max_examples=25, deadline=None)
@given(rows(), st.data())
def test_a_profile_without_the_insutype_is_refused_clearly(
    bill: list[RowSplit], data: st.DataObject,
) -> None:
    facts_ = dataclasses.replace(data.draw(facts(BEIJING)), insutype="340")
    params = BEIJING.at(facts_.setl_date)
    assert not params.covers("340")
    with pytest.raises(SchemeNotConfigured, match="340"):
        decompose(bill, facts_, params)


def test_negative_quantities_are_a_bug_not_a_settlement() -> None:
    item = CatalogueEntry("X1", "药", "01", "09", Decimal("999999"), Decimal(0), "0", None, None,
                          (), None, None, None)
    row = split_row(FeeLine("1", "X1", Decimal(-1), Decimal("10.00"), None, "0"), item)
    facts_ = SettlementFacts(dt.date(2024, 1, 2), "310", "1101", False, "0", False, "3", "11",
                             True, Decimal("100.00"), False, YearToDate())
    with pytest.raises(ValueError, match="inconsistent"):
        decompose([row], facts_, BEIJING.at(facts_.setl_date))


def test_year_to_date_reads_the_ledgers_counter_mapping() -> None:
    ytd = YearToDate.from_mapping({"dedc_used": Decimal("10.00"), "other": Decimal(5)})
    assert ytd.dedc_used == Decimal("10.00") and ytd.hifp_paid == 0
    assert list(ytd.as_mapping()) == list(COUNTERS)


class SettleAndCancel(RuleBasedStateMachine):
    """A person settles and cancels in any order; the counters and the balance always equal
    the sum of the settlements still standing, and never pass a deductible or cap."""

    def __init__(self) -> None:
        super().__init__()
        self.standing: list[Decomposition] = []
        self.ytd = YearToDate()
        self.balc = Decimal("0.00")
        self.opening = Decimal("0.00")
        self.base: SettlementFacts | None = None

    @initialize(template=facts(ALL_FUNDS), balc=money("0", "2000"))
    def start(self, template: SettlementFacts, balc: Decimal) -> None:
        self.base = dataclasses.replace(template, ytd=YearToDate(), balc=balc)
        self.balc = self.opening = balc

    @rule(bill=rows(max_lines=4), due=st.booleans())
    def settle(self, bill: list[RowSplit], due: bool) -> None:
        assert self.base is not None
        current = dataclasses.replace(self.base, ytd=self.ytd, balc=self.balc,
                                      registration_payment_due=due)
        params = ALL_FUNDS.at(current.setl_date)
        d = decompose(bill, current, params)
        assert_invariants(d, bill, current, params)
        self.standing.append(d)
        self.ytd = self.ytd.plus(d.counter_deltas)
        self.balc = d.balc

    @rule(pick=st.integers(0, 1000))
    def cancel(self, pick: int) -> None:
        if not self.standing:
            return
        d = self.standing.pop(pick % len(self.standing))
        cancel = d.negated(balc_after=self.balc + d.acct_pay)
        self.ytd = self.ytd.plus(cancel.counter_deltas)
        self.balc = cancel.balc

    @invariant()
    def counters_are_the_standing_settlements(self) -> None:
        expected = YearToDate()
        for d in self.standing:
            expected = expected.plus(d.counter_deltas)
        assert self.ytd == expected
        assert self.balc == self.opening - sum((d.acct_pay for d in self.standing),
                                               Decimal(0))
        assert all(v >= 0 for v in self.ytd.as_mapping().values())
        assert self.balc >= 0
        if self.base is not None:
            rates = ALL_FUNDS.at(self.base.setl_date).rates(
                self.base.insutype, self.base.tier, self.base.retired)
            assert self.ytd.dedc_used <= rates.pool.deductible
            if rates.pool.annual_cap is not None:
                assert self.ytd.hifp_paid <= rates.pool.annual_cap


SettleAndCancel.TestCase.settings = settings(max_examples=60, stateful_step_count=15,
                                             deadline=None)
test_settle_and_cancel_in_any_order = SettleAndCancel.TestCase
