"""The review over the ledger without HTTP: the same seed gives the same review, and the rule
source is a function the office takes (swapped here for a fixed finding)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from mock_insurer.policy.catalogue import CatalogueEntry
from mock_insurer.policy.history import ChargedRow, Finding
from mock_insurer.review import ReviewOffice, default_config, review_claims, review_rng
from mock_insurer.review.store import period_data

from .conftest import HOSPITAL, MRI, Month
from .test_review_flow import uploaded_of


def test_same_seed_same_review_on_the_ledgers_claims(month: Month) -> None:
    with month.insurer.ledger.read() as tx:
        data = period_data(tx, HOSPITAL, "2026-03")
    assert [c.setl_id for c in data.claims] == [
        month.settled[k]["setl_id"] for k in ("a", "b", "d")]
    assert data.uploaded.setl_cnt == 5
    reviews = [review_claims(data.claims, [], default_config(),
                             rng=review_rng(seed, HOSPITAL, "2026-03"),
                             sampling_rate=Decimal("0.5")) for seed in (3, 3)]
    assert reviews[0] == reviews[1]


def test_the_rule_source_is_swappable(month: Month) -> None:
    seen: list[ChargedRow] = []

    def one_mri_too_many(rows: Sequence[ChargedRow],
                         items: Mapping[str, CatalogueEntry]) -> list[Finding]:
        seen.extend(rows)
        row = next(r for r in rows if r.med_list_codg == MRI
                   and r.setl_id == month.settled["d"]["setl_id"])
        return [Finding("R-FRQ-001", row.setl_id, row.mdtrt_id, row.feedetl_sn,
                        row.inscp_scp_amt, "磁共振平扫 超频次")]

    office = ReviewOffice(month.insurer.ledger, today=lambda: date(2026, 4, 1),
                          catalogue=lambda: month.insurer.service.reference.catalogue,
                          rules=one_mri_too_many)
    declared = uploaded_of(month)
    from mock_insurer.review.compute import Totals

    made, created = office.declare(HOSPITAL, "2026-03", Totals(
        Decimal(declared["medfee_sumamt"]), Decimal(declared["fund_pay_sumamt"]),
        Decimal(declared["acct_pay"]), declared["setl_cnt"]))
    assert created
    review = office.review(made["dcla_id"], seed=0)
    frq = [d for d in review["deductions"] if d["rule_id"] == "R-FRQ-001"]
    d = month.settled["d"]
    assert len(frq) == 1 and frq[0]["category"] == "insurance_rules"
    # the MRI is 3000 of the visit's 3000 in scope: the whole fund payment is refused
    assert frq[0]["amount"] == f"{Decimal(str(d['fund_pay_sumamt'])):.2f}"
    assert {r.day for r in seen} == {date(2026, 3, 2)}  # fee_ocur_time of the driver's rows
    assert month.settled["c"]["setl_id"] not in {r.setl_id for r in seen}
