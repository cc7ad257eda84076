"""OUT: exactly once under lost answers, slow answers, outages, invalidated sign-ins and a
flapping link."""

from __future__ import annotations

import pytest

from conformance.plugin import Cert

INVARIANTS = ("answers", "no_orphans", "exactly_once", "ledgers_agree", "bills_match",
              "day_end_balanced")


@pytest.mark.requirement("OUT-001")
def test_lost_settlement_answers(cert: Cert) -> None:
    cert.require(cert.run("lost-answer-2207"), *INVARIANTS, "nothing_unresolved", "outcomes")


@pytest.mark.requirement("OUT-002")
def test_slow_insurer(cert: Cert) -> None:
    cert.require(cert.run("insurer-slow"), *INVARIANTS, "nothing_unresolved")


@pytest.mark.requirement("OUT-004")
def test_insurer_down(cert: Cert) -> None:
    cert.require(cert.run("insurer-down"), *INVARIANTS, "outcomes")


@pytest.mark.requirement("OUT-005")
def test_signin_invalidated(cert: Cert) -> None:
    cert.require(cert.run("signin-invalidated"), *INVARIANTS, "outcomes")


@pytest.mark.requirement("OUT-006")
def test_lost_refund_answers(cert: Cert) -> None:
    cert.require(cert.run("lost-answer-2208"), *INVARIANTS, "nothing_unresolved", "outcomes")


@pytest.mark.requirement("OUT-007")
def test_flapping_link(cert: Cert) -> None:
    cert.require(cert.run("flapping"), *INVARIANTS, "nothing_unresolved")
