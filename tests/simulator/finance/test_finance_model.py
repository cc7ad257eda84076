"""The day-by-day model: its invariants, both regimes, refusals, reproducibility, dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.finance.model import REGIMES, YearRun, run_year
from simulator.finance.params import CATEGORIES, CashflowParams, load_params
from simulator.finance.summary import csv_records, monthly_losses, run_data, summarize

ZERO = Decimal("0.00")


def _check_invariants(run: YearRun) -> None:
    for row in run.days:
        assert row.received + row.lost + row.outstanding == row.advanced, row.day
        assert row.outstanding >= 0 and row.received >= 0 and row.lost >= 0
        for value in (row.claimed, row.advanced, row.received, row.lost, row.outstanding):
            assert value == value.quantize(Decimal("0.01"))
        for regime in REGIMES:
            assert row.exposure[regime] == row.outstanding - row.advance_held[regime]


def test_received_lost_outstanding_add_up_every_day(default_run: YearRun) -> None:
    assert len(default_run.days) == 365
    _check_invariants(default_run)
    last = default_run.days[-1]
    assert last.advanced == sum((row.claimed for row in default_run.days), ZERO)
    assert last.received > 0 and last.lost > 0 and last.outstanding > 0


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    year=st.sampled_from([2024, 2026, 2028]),
    review=st.integers(0, 60),
    lag=st.integers(0, 60),
    day=st.integers(1, 31),
    rate=st.decimals("0", "0.2", places=4),
    ratio=st.decimals("0", "0.5", places=4),
)
def test_invariants_hold_for_any_params(seed: int, year: int, review: int, lag: int, day: int, rate: Decimal,
                                        ratio: Decimal) -> None:
    params = load_params(overrides={
        "settlement": {"review_days": review, "payment_lag_days": lag, "declaration_day": day},
        "refusal_rates": dict.fromkeys(CATEGORIES, str(rate)),
        "advance": {"ratio": str(ratio)},
    })
    run = run_year(params, year, seed)
    assert len(run.days) == (366 if year % 4 == 0 else 365)
    _check_invariants(run)
    for row in run.days:
        assert row.exposure["advance_payment"] <= row.exposure["post_payment"]
    summary = summarize(run)
    lost = sum((Decimal(v) for v in summary["flows"]["lost_by_category"].values()), ZERO)
    assert lost == Decimal(summary["flows"]["lost"])


def test_advance_lowers_exposure_and_its_cost(default_run: YearRun, defaults: CashflowParams) -> None:
    assert defaults.advance.ratio > 0
    amount = defaults.advance.amount
    for row in default_run.days:
        assert row.exposure["advance_payment"] <= row.exposure["post_payment"]
        held = row.advance_held["advance_payment"]
        assert held == amount  # recouped with the first payment of 2027, as the mock insurer does
        assert row.advance_held["post_payment"] == ZERO
    regimes = summarize(default_run)["regimes"]
    post, advance = regimes["post_payment"], regimes["advance_payment"]
    assert Decimal(advance["mean_exposure"]) < Decimal(post["mean_exposure"])
    assert Decimal(advance["cost_of_financing"]) < Decimal(post["cost_of_financing"])
    assert Decimal(advance["peak_exposure"]) <= Decimal(post["peak_exposure"])
    assert advance["advance_received"] == advance["advance_held_at_year_end"] == str(amount)
    assert advance["advance_recouped"] == "0.00"


def test_zero_refusal_rate_loses_nothing() -> None:
    params = load_params(overrides={"refusal_rates": dict.fromkeys(CATEGORIES, 0)})
    run = run_year(params, 2026, 4)
    assert all(row.lost == ZERO and not row.lost_today for row in run.days)
    summary = summarize(run)
    assert summary["flows"]["lost"] == "0.00"
    paid = [m for m in run.months if m.paid_on.year == 2026]
    assert summary["flows"]["received"] == str(sum((m.claimed for m in paid), ZERO))


def test_same_seed_same_output_other_seed_other_days(defaults: CashflowParams) -> None:
    a, b, c = run_year(defaults, 2026, 7), run_year(defaults, 2026, 7), run_year(defaults, 2026, 8)
    assert run_data(a) == run_data(b)
    assert [row.claimed for row in a.days] != [row.claimed for row in c.days]


def test_months_move_on_the_configured_days(default_run: YearRun, defaults: CashflowParams) -> None:
    january = default_run.months[0]
    assert (defaults.declaration_day, defaults.review_days, defaults.payment_lag_days) == (10, 20, 10)
    assert january.period == "2026-01"
    assert january.declared_on == date(2026, 2, 10)
    assert january.reviewed_on == date(2026, 3, 2)
    assert january.paid_on == date(2026, 3, 12)
    assert january.claimed == sum((row.claimed for row in default_run.days if row.day.month == 1), ZERO)
    assert january.accepted == january.claimed - january.deducted
    for category in CATEGORIES:
        expected = (january.claimed * defaults.refusal_rates[category]).quantize(Decimal("0.01"))
        assert january.deductions[category] == expected
    by_day = {row.day: row for row in default_run.days}
    assert by_day[date(2026, 3, 12)].received - by_day[date(2026, 3, 11)].received == january.accepted
    assert by_day[date(2026, 3, 2)].lost_today == {c: v for c, v in january.deductions.items() if v}
    december = default_run.months[-1]
    assert december.declared_on == date(2027, 1, 10)  # outside the year: still outstanding
    assert default_run.days[-1].outstanding >= december.claimed


def test_weekends_are_quieter_and_money_is_cents(default_run: YearRun) -> None:
    weekdays = [row.claimed for row in default_run.days if row.day.weekday() < 5]
    sundays = [row.claimed for row in default_run.days if row.day.weekday() == 6]
    assert sum(sundays, ZERO) / len(sundays) < sum(weekdays, ZERO) / len(weekdays) / 2


def test_summary_figures(default_run: YearRun) -> None:
    summary = summarize(default_run)
    flows = summary["flows"]
    assert 20 < float(flows["dso_days"]) < 90  # about 30 days in the month + 40 to payment
    assert 40 < float(flows["days_to_payment"]) < 70
    post = summary["regimes"]["post_payment"]
    peak = max(row.outstanding for row in default_run.days)
    assert post["peak_exposure"] == str(peak)
    assert next(r.day for r in default_run.days if r.outstanding == peak).isoformat() == post["peak_exposure_date"]
    assert sum(Decimal(v) for m in monthly_losses(default_run).values() for v in m.values()) == Decimal(flows["lost"])


def test_cost_of_financing_is_exposure_times_rate() -> None:
    free = load_params(overrides={"finance": {"cost_of_money": 0}})
    assert summarize(run_year(free, 2026, 1))["regimes"]["post_payment"]["cost_of_financing"] == "0.00"
    params = load_params(overrides={"finance": {"cost_of_money": "0.0365"}, "advance": {"ratio": 0}})
    run = run_year(params, 2026, 1)
    expected = sum((max(row.outstanding, ZERO) for row in run.days), ZERO) * Decimal("0.0365") / 365
    regimes = summarize(run)["regimes"]
    assert regimes["post_payment"]["cost_of_financing"] == str(expected.quantize(Decimal("0.01")))
    assert regimes["advance_payment"] == {**regimes["post_payment"], "advance_received": "0.00",
                                          "advance_recouped": "0.00"}


def test_advance_kept_into_next_year() -> None:
    params = load_params(overrides={"advance": {"recouped_on": None, "paid_on": "04-01"}})
    run = run_year(params, 2026, 1)
    held = {row.day: row.advance_held["advance_payment"] for row in run.days}
    assert held[date(2026, 3, 31)] == ZERO and held[date(2026, 4, 1)] == params.advance.amount
    assert held[date(2026, 12, 31)] == params.advance.amount
    assert summarize(run)["regimes"]["advance_payment"]["advance_recouped"] == "0.00"


def test_csv_records_one_per_day(default_run: YearRun) -> None:
    records = csv_records(default_run)
    assert len(records) == 365 and records[0]["date"] == "2026-01-01"
    assert records[-1]["advanced"] == str(default_run.days[-1].advanced)
