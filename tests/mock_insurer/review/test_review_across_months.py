"""A frequency limit that straddles two months: April's review sees the persons' March rows as
history (what 3101/3102 would have read) and deducts only April's row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from mock_insurer.policy.catalogue import CatalogueEntry
from mock_insurer.policy.history import ChargedRow, Finding
from mock_insurer.review import ReviewOffice
from mock_insurer.review.compute import Totals
from mock_insurer.review.rules import lookback_days

from .conftest import HOSPITAL, MRI, Month


def test_the_longest_frequency_window_sets_the_lookback() -> None:
    assert lookback_days() == 89  # R-FRQ-001: once in 90 days, the charge's own day included


def _april_mri(month: Month) -> dict[str, str]:
    """Person 1 has an MRI again on 1 April (they had one on 2 March)."""
    with month.window_on("2026-04-01", 30) as window:
        mdtrt_id = window.register(1)
        window.diagnose(1, mdtrt_id)
        row = window.row(1, mdtrt_id, MRI, "1", fee_ocur_time="2026-04-01 09:00:00")
        window.upload([row])
        info = window.settle(1, mdtrt_id, Decimal(str(row["det_item_fee_sumamt"])))
        return dict(info.output["setlinfo"])


def test_a_frequency_window_across_the_month_boundary_is_deducted_in_the_later_month(
        month: Month) -> None:
    april = _april_mri(month)
    seen: list[ChargedRow] = []

    def every_second_mri(rows: Sequence[ChargedRow],
                         items: Mapping[str, CatalogueEntry]) -> list[Finding]:
        """Flags every MRI of a person after their first in ``rows`` — and, to prove the
        review keeps only its own period's, the first one too."""
        seen.extend(rows)
        mris = [r for r in rows if r.med_list_codg == MRI and r.psn_no == april["psn_no"]]
        return [Finding("R-FRQ-001", r.setl_id, r.mdtrt_id, r.feedetl_sn, r.inscp_scp_amt,
                        "磁共振平扫 超频次") for r in mris]

    office = ReviewOffice(month.insurer.ledger, today=lambda: date(2026, 5, 4),
                          catalogue=lambda: month.insurer.service.reference.catalogue,
                          rules=every_second_mri)
    fund, acct = Decimal(str(april["fund_pay_sumamt"])), Decimal(str(april["acct_pay"]))
    made, _created = office.declare(HOSPITAL, "2026-04", Totals(
        Decimal(str(april["medfee_sumamt"])), fund, acct, 1))
    review = office.review(made["dcla_id"], seed=0)

    march_mri = month.settled["a"]["setl_id"]
    assert march_mri in {r.setl_id for r in seen}, "March's rows are the history"
    assert {r.day for r in seen} == {date(2026, 3, 2), date(2026, 4, 1)}
    flagged = [d for d in review["deductions"] if d["rule_id"] == "R-FRQ-001"]
    assert [d["setl_id"] for d in flagged] == [april["setl_id"]]
    assert flagged[0]["amount"] == f"{fund:.2f}"  # the MRI is the visit's whole in-scope part
