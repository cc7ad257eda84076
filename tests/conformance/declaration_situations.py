"""The situation of the declaration mutant (``declares-without-check``) for
tests/conformance/test_mutants.py: one settlement, then one whose answer is lost and can be
neither queried nor reversed (the HIS's month no longer balances with the insurer's), and the
HIS is asked to declare the month at the insurer's portal (the rig's admin API)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from simulator.his.operations import DeclareInput
from tests.simulator.his.rig import CONSULT, Rig

__all__ = ["DECLARATION_SITUATIONS", "an_unbalanced_month"]

Problems = set[str]


def an_unbalanced_month(rig: Rig) -> Problems:
    problems: Problems = set()
    rig.his.desk.config = dataclasses.replace(
        rig.his.config, portal_url=rig.insurer_server.url, portal_token="secret")
    first = rig.visit(1, [(CONSULT, "1")])
    assert rig.settle(first).ok
    rig.faults({"id": "lost", "match": {"infno": "2207", "first": 1},
                "effect": {"kind": "lose_answer", "how": "close"}},
               {"id": "no-query", "match": {"infno": "5203"}, "effect": {"kind": "refuse"}},
               {"id": "no-reversal", "match": {"infno": "2601"}, "effect": {"kind": "refuse"}})
    lost = rig.visit(2, [(CONSULT, "1")])
    assert not rig.settle(lost).ok
    rig.faults()
    outcome = rig.driver.declare(DeclareInput("2026-03"))
    refusal = outcome.refusal
    if refusal is None or refusal.code != "month_unbalanced":  # went on to the portal
        problems.add("not stopped at the unbalanced month")
    with rig.insurer.ledger.read() as tx:
        if not [m for m in tx.messages(limit=10_000) if m["infno"] == "3201"]:
            problems.add("no 3201 before declaring")
    return problems


DECLARATION_SITUATIONS: dict[str, tuple[Callable[[Rig], Problems], Problems]] = {
    "declares-without-check": (an_unbalanced_month, {"not stopped at the unbalanced month",
                                                     "no 3201 before declaring"}),
}
