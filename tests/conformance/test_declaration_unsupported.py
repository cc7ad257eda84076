"""The DECL group against a HIS that has none of the optional after-the-window operations:
each requirement fails with "not supported" — a finding about the HIS, not an error of the
harness (conformance/suite/test_declaration.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import plugin
from conformance.suite import test_declaration as decl
from conformance.target import Target, profile
from simulator.his.app import ReferenceHis
from simulator.his.driver import not_supported
from simulator.his.operations import DeclareInput, Outcome


class NoFinanceHis(ReferenceHis):
    """The reference HIS without declaration, payments and receivables."""

    def declare(self, request: DeclareInput) -> Outcome:
        return not_supported("declare")

    def collect_payments(self) -> Outcome:
        return not_supported("collect_payments")

    def receivables(self, period: str | None = None) -> Outcome:
        return not_supported("receivables")


def test_a_his_without_the_operations_fails_decl_with_not_supported(tmp_path: Path) -> None:
    target = Target(tmp_path, profile=profile("default"), his_class=NoFinanceHis)
    run = decl._month_run(target)
    assert run.first.refusal is not None and run.first.refusal.code == "not_supported"
    for check in (decl.test_an_unbalanced_month_is_checked_and_not_declared,
                  decl.test_the_declaration_is_exactly_the_uploaded_totals,
                  decl.test_every_payment_item_is_matched_to_its_settlement):
        cert = plugin.Cert(target, plugin.TestRecord(check.__name__, check.__name__, ()))
        with pytest.raises(AssertionError, match="not supported"):
            check(cert, run)
