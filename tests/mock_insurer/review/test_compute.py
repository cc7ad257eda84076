"""The review's arithmetic by property: whatever the claims, findings, sample and excess,
per settlement 0 ≤ deducted ≤ the fund's share, a fee row deducted once, Σ deductions =
deducted, accepted = claimed − deducted, and the same seed gives the same review. Plus the
review data's validation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_insurer.money import ZERO
from mock_insurer.review import (
    Claim,
    Ordering,
    ReviewConfigError,
    ReviewConflict,
    default_config,
    load_config,
    mismatch,
    review_claims,
    review_rng,
)
from mock_insurer.review.compute import Totals
from mock_insurer.review.config import config_from_mapping

CONFIG = default_config()


@dataclass(frozen=True)
class FakeFinding:
    rule_id: str
    setl_id: str
    mdtrt_id: str
    feedetl_sn: str
    amount: Decimal
    vola_cont: str


money = st.decimals(min_value=0, max_value=5000, places=2)


@st.composite
def claims_and_findings(draw: Any) -> tuple[list[Claim], list[FakeFinding]]:
    count = draw(st.integers(min_value=0, max_value=12))
    claims = []
    findings = []
    for n in range(count):
        fund, acct, inscp = draw(money), draw(money), draw(money)
        reviewable = draw(st.booleans()) or n % 3 != 0
        sign = Decimal(1) if reviewable else Decimal(-1)
        claim = Claim(f"S{n}", f"M{n}", f"P{n % 3}", "2026-03-02", sign * fund, sign * acct,
                      inscp, Ordering("01", "内科", "D1", "李"),
                      {"1": Ordering("02", "外科", "D2", "王")}, reviewable)
        claims.append(claim)
        for sn in draw(st.lists(st.sampled_from(["1", "2"]), max_size=3)):
            findings.append(FakeFinding(draw(st.sampled_from(["R-DUP-001", "R-X"])),
                                        claim.setl_id, claim.mdtrt_id, sn, draw(money), ""))
    return claims, findings


def test_a_row_broken_by_two_rules_is_deducted_once_and_never_the_account() -> None:
    """Finance audit: a 7.00 consultation row deducted under R-DUP-001 and R-EXC-001 (14.00
    against a fund share of 7.00); a settlement of fund 2.00 + account 18.00 deducted 3.00."""
    claim = Claim("S1", "M1", "P1", "2026-03-02", Decimal("7.00"), Decimal("0.00"),
                  Decimal("7.00"), Ordering("01", "内科", "D1", "李"))
    twice = [FakeFinding(rule, "S1", "M1", "0002", Decimal("7.00"), "")
             for rule in ("R-EXC-001", "R-DUP-001")]
    outcome = review_claims([claim], twice, CONFIG, rng=review_rng(1, "H1", "2026-03"),
                            sampling_rate=Decimal(0))
    assert [(d.rule_id, d.amount) for d in outcome.deductions] == [("R-DUP-001", Decimal("7.00"))]
    mixed = Claim("S2", "M2", "P2", "2026-03-02", Decimal("2.00"), Decimal("18.00"),
                  Decimal("20.00"), Ordering("01", "内科", "D1", "李"))
    rows = [FakeFinding("R-DUP-001", "S2", "M2", sn, Decimal("20.00"), "") for sn in ("1", "2")]
    outcome = review_claims([mixed], rows, CONFIG, rng=review_rng(1, "H1", "2026-03"),
                            sampling_rate=Decimal(1))
    assert outcome.deducted == Decimal("2.00")  # the fund's share, not the account's 18.00
    assert outcome.accepted == Decimal("18.00")


@given(data=claims_and_findings(), seed=st.integers(min_value=0, max_value=10**6),
       rate=st.decimals(min_value=0, max_value=1, places=2),
       excess=st.decimals(min_value=0, max_value=1000, places=2))
@settings(max_examples=150, deadline=None)
def test_review_invariants(data: tuple[list[Claim], list[FakeFinding]], seed: int,
                           rate: Decimal, excess: Decimal) -> None:
    claims, findings = data
    outcome = review_claims(claims, findings, CONFIG, rng=review_rng(seed, "H1", "2026-03"),
                            sampling_rate=rate, excess=excess)
    assert outcome.claimed == sum((c.claimed for c in claims), ZERO) + excess
    for claim in claims:
        taken = outcome.deducted_of(claim.setl_id)
        assert ZERO <= taken <= max(claim.fund_pay_sumamt, ZERO)  # never the account's part
        rows = [d.feedetl_sn for d in outcome.deductions
                if d.setl_id == claim.setl_id and d.rule_id is not None]
        assert len(rows) == len(set(rows))  # a row broken by two rules is deducted once
        if not claim.reviewable:
            assert taken == ZERO
    assert all(d.amount > 0 for d in outcome.deductions)
    assert outcome.deducted == sum((d.amount for d in outcome.deductions), ZERO)
    assert outcome.accepted == outcome.claimed - outcome.deducted
    assert outcome.deducted_of("") == excess
    again = review_claims(claims, list(reversed(findings)), CONFIG,
                          rng=review_rng(seed, "H1", "2026-03"), sampling_rate=rate,
                          excess=excess)
    assert again == outcome


def test_rule_amount_is_the_funds_share_and_charged_to_the_row() -> None:
    claim = Claim("S1", "M1", "P1", "2026-03-02", Decimal("60.00"), Decimal("20.00"),
                  Decimal("90.00"), Ordering("01", "内科", "D1", "李"),
                  {"7": Ordering("05", "检验科", "D9", "赵")})
    finding = FakeFinding("R-FRQ-001", "S1", "M1", "7", Decimal("30.00"), "超频次")
    outcome = review_claims([claim], [finding], CONFIG, rng=review_rng(0, "H", "2026-03"),
                            sampling_rate=ZERO)
    (deduction,) = outcome.deductions
    assert deduction.amount == Decimal("20.00")  # 30 × 60 / 90
    assert (deduction.dept_code, deduction.dr_name) == ("05", "赵")
    assert deduction.category == "insurance_rules"
    assert deduction.reason == "超频次收费：超频次"
    unknown_row = replace(finding, feedetl_sn="8")
    other = review_claims([claim], [unknown_row], CONFIG, rng=review_rng(0, "H", "2026-03"),
                          sampling_rate=ZERO).deductions[0]
    assert (other.dept_code, other.dr_code) == ("01", "D1")  # the visit's


def test_sampling_every_settlement_with_one_certain_finding() -> None:
    raw = yaml.safe_load(_embedded())
    raw["sampled_reasons"] = [{**raw["sampled_reasons"][0], "probability": "1",
                               "share": "0.50"}]
    config = config_from_mapping(raw)
    claims = [Claim(f"S{n}", f"M{n}", "P", "2026-03-02", Decimal("10.01"), Decimal("5.00"),
                    Decimal("20.00")) for n in range(4)]
    outcome = review_claims(claims, [], config, rng=review_rng(1, "H", "2026-03"),
                            sampling_rate=Decimal(1))
    assert [d.amount for d in outcome.deductions] == [Decimal("5.01")] * 4  # half up
    assert {d.category for d in outcome.deductions} == {"medical_admin"}


def test_different_seeds_sample_differently() -> None:
    claims = [Claim(f"S{n}", f"M{n}", "P", "2026-03-02", Decimal("100.00"), ZERO,
                    Decimal("100.00")) for n in range(200)]
    picked = [
        [d.setl_id for d in review_claims(claims, [], CONFIG, rng=review_rng(seed, "H", "P"),
                                          sampling_rate=Decimal("0.2")).deductions]
        for seed in (1, 2)]
    assert picked[0] != picked[1]
    assert 5 < len(picked[0]) < 60


def test_mismatch_names_each_field() -> None:
    a = Totals(Decimal("1.00"), Decimal("2.00"), Decimal("3.00"), 4)
    assert mismatch(a, a) == []
    b = replace(a, acct_pay=Decimal("3.10"), setl_cnt=5)
    assert mismatch(a, b) == [{"field": "acct_pay", "declared": "3.00", "uploaded": "3.10"},
                              {"field": "setl_cnt", "declared": 4, "uploaded": 5}]


def _embedded() -> str:
    from importlib import resources

    return resources.files("mock_insurer.review").joinpath("review.yaml").read_text("utf-8")


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("payment_lag_days"), "payment_lag_days: missing"),
    (lambda d: d["sampling_rate"]["values"].update({"2024-01-01": "1.5"}), "sampling_rate"),
    (lambda d: d["sampled_reasons"][0].update(category="weather"), "sampled_reasons[0].category"),
    (lambda d: d["sampled_reasons"][0].update(probability="0.99"), "add up to more than 1"),
    (lambda d: d["sampled_reasons"][1].pop("reference"), "sampled_reasons[1].reference"),
    (lambda d: d["payment_lag_days"].pop("reference"), "reference"),
    (lambda d: d.update(surprise=1), "unknown keys"),
])
def test_a_bad_review_file_is_one_clear_error(tmp_path: Path, change: Any,
                                              message: str) -> None:
    data = yaml.safe_load(_embedded())
    change(data)
    path = tmp_path / "review.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ReviewConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(path)


def test_the_embedded_review_data_loads() -> None:
    from datetime import date

    assert CONFIG.lag_days(date(2026, 4, 1)) == 30
    assert CONFIG.sampling_rate(date(2026, 4, 1)) == Decimal("0.05")
    for rule_id in ("R-DUP-001", "R-EXC-001", "R-PRC-001"):
        assert CONFIG.rule_reason(rule_id).category == "pricing"
    assert CONFIG.rule_reason("R-FRQ-001").category == "insurance_rules"
    with pytest.raises(ReviewConflict, match=r"not in force on 2019-12-31: .*no value on 2019"):
        CONFIG.lag_days(date(2019, 12, 31))
