"""REF and DAY: refunds, and day-end reconciliation."""

from __future__ import annotations

import pytest

from conformance.plugin import Cert


def _refunds_ended(cert: Cert, then: str, outcome: str, slip: str, problem: str,
                   *checks: str) -> None:
    """Every visit of the refunds scenario that did ``then`` ended ``outcome`` with its
    ``slip`` (the refund slip, or the new bill) printed, and the scenario's ``checks`` held
    for those visits (a partial refund's problem is REF-002's, not REF-001's)."""
    run = cert.run("refunds")
    bad = [{"visit": v.id, "outcome": v.outcome, slip: getattr(v, slip), "refusal": v.refusal}
           for v in run.result.visits if v.then == then
           and (v.outcome != outcome or not getattr(v, slip))]
    if bad:
        cert.fail(f"{len(bad)} {problem}", bad)
    cert.require(run, *checks, visits={v.id for v in run.result.visits if v.then == then})


@pytest.mark.requirement("REF-001")
def test_whole_refunds(cert: Cert) -> None:
    _refunds_ended(cert, "refund", "refunded", "refund",
                   "whole refund(s) did not end refunded with a refund slip",
                   "bills_match", "ledgers_agree", "exactly_once")


@pytest.mark.requirement("REF-002")
def test_partial_refunds_settle_the_rest(cert: Cert) -> None:
    _refunds_ended(cert, "partial_refund", "partly_refunded", "bill",
                   "partial refund(s) left the kept items without a new bill",
                   "no_orphans", "bills_match", "ledgers_agree")


@pytest.mark.requirement("DAY-001")
def test_day_end_balances(cert: Cert) -> None:
    for name in ("refunds", "lost-answer-2207", "identity-edge-cases"):
        cert.require(cert.run(name), "day_end_balanced")


@pytest.mark.requirement("DAY-002")
def test_a_planted_mismatch_is_found_and_corrected(cert: Cert) -> None:
    cert.require(cert.run("day-end-mismatch"), "day_end_corrections", "day_end_balanced",
                 "ledgers_agree")


@pytest.mark.requirement("DAY-003")
def test_the_ledgers_agree_row_by_row(cert: Cert) -> None:
    for name in ("refunds", "lost-answer-2207", "day-end-mismatch"):
        cert.require(cert.run(name), "ledgers_agree")


@pytest.mark.requirement("DAY-004")
def test_each_day_reconciles_across_new_year(cert: Cert) -> None:
    cert.require(cert.run("new-year-rules"), "day_end_balanced", "visits", "ledgers_agree")
