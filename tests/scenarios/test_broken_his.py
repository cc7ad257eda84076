"""A scenario fails, with the broken expectation and its evidence, against a HIS that breaks
it: each deliberately broken variant of the reference HIS (docs/his-variants.md) is caught by
the library scenario about its concern."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from scenarios.library import library_path
from scenarios.loading import load_scenario
from scenarios.report import render
from scenarios.runner import run_scenario
from simulator.his.variants import VARIANTS

CAUGHT = {
    # variant: (scenario, a check that must fail)
    "typed-certno": ("identity-edge-cases", "outcomes"),
    "register-typed-identity": ("identity-edge-cases", "outcomes"),
    "name-gbk": ("identity-edge-cases", "outcomes"),
    "orphan-on-refusal": ("refused-items", "no_orphans"),
    "ignores-rule-check": ("rule-check", "visits"),
    "blind-resend": ("lost-answer-2207", "exactly_once"),
    "forget-lost": ("lost-answer-2207", "ledgers_agree"),
    "no-signin-renewal": ("signin-invalidated", "outcomes"),
    "refund-drops-rest": ("refunds", "no_orphans"),
    "bill-ignores-account": ("refunds", "bills_match"),
    "dayend-no-correction": ("day-end-mismatch", "day_end_balanced"),
}


def test_every_variant_has_a_scenario_that_catches_it() -> None:
    assert set(CAUGHT) == set(VARIANTS)


@pytest.mark.parametrize("name", sorted(CAUGHT))
def test_a_broken_his_fails_with_the_evidence(name: str, tmp_path: Path) -> None:
    scenario_name, check = CAUGHT[name]
    scenario = load_scenario(library_path(scenario_name) or "")
    result = run_scenario(scenario, tmp_path, his_class=VARIANTS[name].his_class)
    assert not result.passed
    failed = {c.name: c for c in result.checks if not c.passed}
    assert check in failed, {c.name: c.summary for c in result.checks}
    assert failed[check].evidence, "a failure carries its evidence"
    console = Console(record=True, width=120)
    render(result, console)
    shown = console.export_text()
    assert "FAIL" in shown and f"{check}: evidence" in shown
