"""DECL: declaration and repayment — the hospital's side after the window (issue 9).

One short month is run against the HIS under certification (scenarios.month): two working
days of visits with day-end, then, after the last day-end, one settlement whose answer is lost
and can be neither queried nor reversed (the HIS's month no longer balances with the
insurer's). The HIS is asked to declare (DECL-001: it must refuse, naming the group and the
difference, and the insurer must have no declaration); the day is reconciled again; the HIS
declares (DECL-002: exactly the uploaded totals); the insurer reviews and pays; the HIS
collects the payment (DECL-003: every item matched, receivables balanced, reasons kept).

A HIS without the optional operations (declare, collect_payments, receivables) fails these
requirements with "not supported" — a finding, not an error of the harness.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from conformance.plugin import Cert
from conformance.target import Target
from scenarios.month import MonthPlan, MonthSession
from simulator.his.operations import DayEndInput, Outcome

PLAN = MonthPlan(period="2026-03", days=2, visits_per_day=10, seed=1, population=400,
                 plant_unbalanced=True)


@dataclass
class DeclRun:
    """What the month showed, step by step."""

    first: Outcome
    declared_first: list[dict[str, Any]]
    month_checks: list[dict[str, Any]]
    second: Outcome | None = None
    declaration: dict[str, Any] = field(default_factory=dict)
    payment: dict[str, Any] = field(default_factory=dict)
    collected: Outcome | None = None
    receivables: Outcome | None = None
    problem: str = ""


def _month_run(target: Target) -> DeclRun:
    directory = target.workdir / "decl-month"
    with MonthSession(PLAN, directory, insurer_url=target.insurer_url,
                      admin_token=target.admin_token, his_url=target.his_url,
                      his_command=target.his_command, his_class=target.his_class) as session:
        driver, harness = session.driver, session.harness
        driver.window_days()
        first = driver.declare()
        code = harness.fixmedins_code
        listed = session.portal.call("GET", "/admin/declarations", params={
            "fixmedins_code": code, "period": PLAN.period}).get("declarations") or []
        first_day = f"{PLAN.period}-01"
        checks = [m for m in harness.admin.messages(fixmedins_code=code)
                  if m.get("infno") == "3201"
                  and ((m.get("request") or {}).get("content") or {}).get("input", {})
                  .get("data", {}).get("stmt_begndate") == first_day]
        run = DeclRun(first, listed, checks)
        if (first.refusal is not None and first.refusal.code == "not_supported"):
            run.problem = first.refusal.message
            return run
        harness.his.day_end(DayEndInput(session.days[-1]))
        run.second = driver.declare()
        if not driver.run.declaration and listed:
            driver.run.declaration = dict(listed[0])  # declared the first time, unchecked
        if not driver.run.declaration:
            run.problem = f"the month could not be declared: {run.second.body}"
            return run
        driver.review_and_pay()
        run.collected = driver.collect()
        run.receivables = harness.his.receivables(PLAN.period)
        run.declaration = driver.run.declaration
        run.payment = driver.run.payment
        return run


@pytest.fixture(scope="session")
def decl_run(cert_target: Target) -> Iterator[DeclRun]:
    yield _month_run(cert_target)


def _supported(cert: Cert, run: DeclRun) -> None:
    if run.problem and run.first.refusal is not None \
            and run.first.refusal.code == "not_supported":
        cert.fail(f"not supported: {run.problem}", [run.first.to_json()])


@pytest.mark.requirement("DECL-001")
def test_an_unbalanced_month_is_checked_and_not_declared(cert: Cert, decl_run: DeclRun) -> None:
    _supported(cert, decl_run)
    first = decl_run.first
    cert.note({"declare": first.to_json()})
    if decl_run.declared_first:
        cert.fail("the HIS declared a month that does not balance with the insurer",
                  [{"declaration": {k: d.get(k) for k in ("dcla_id", "declared", "uploaded",
                                                          "mismatch")}}
                   for d in decl_run.declared_first])
    if not decl_run.month_checks:
        cert.fail("no 3201 over the month (stmt_begndate the 1st) before declaring",
                  [first.to_json()])
    text = first.refusal.message if first.refusal is not None else ""
    if first.ok or not any(word in text for word in ("insutype", "310", "390")):
        cert.fail("the refusal to declare does not name the unbalanced group and difference",
                  [first.to_json()])


@pytest.mark.requirement("DECL-002")
def test_the_declaration_is_exactly_the_uploaded_totals(cert: Cert, decl_run: DeclRun) -> None:
    _supported(cert, decl_run)
    if decl_run.problem:
        cert.fail(decl_run.problem)
    declaration = decl_run.declaration
    evidence = {k: declaration.get(k) for k in ("dcla_id", "declared", "uploaded", "mismatch")}
    cert.note(evidence)
    if declaration.get("mismatch") or declaration.get("declared") != declaration.get("uploaded"):
        cert.fail("the declared totals differ from the uploaded ones", [evidence])


@pytest.mark.requirement("DECL-003")
def test_every_payment_item_is_matched_to_its_settlement(cert: Cert, decl_run: DeclRun) -> None:
    _supported(cert, decl_run)
    if decl_run.problem or decl_run.collected is None or decl_run.receivables is None:
        cert.fail(decl_run.problem or "no payment was collected")
    collected, shown = decl_run.collected, decl_run.receivables
    if not collected.ok or not shown.ok:
        cert.fail("collect_payments or receivables was refused",
                  [collected.to_json(), shown.to_json()])
    items = decl_run.payment.get("items") or []
    rows = {r["setl_id"]: r for r in shown.get("receivables") or []}
    bad = []
    for item in items:
        row = rows.get(item["setl_id"])
        if row is None:
            if not any(u.get("setl_id") == item["setl_id"]
                       for u in collected.get("unmatched") or []):
                bad.append({"item": item, "problem": "neither matched nor reported"})
            continue
        if Decimal(row["paid"]) != Decimal(item["paid"]) \
                or Decimal(row["deducted"]) != Decimal(item["deducted"]):
            bad.append({"item": item, "receivable": row, "problem": "booked amounts differ"})
    for row in rows.values():
        total = Decimal(row["paid"]) + Decimal(row["deducted"]) + Decimal(row["outstanding"])
        if total != Decimal(row["claimed"]):
            bad.append({"receivable": row, "problem": "paid + deducted + outstanding ≠ claimed"})
    kept = {d.get("ded_id"): d for d in shown.get("deductions") or []}
    for ded in decl_run.declaration.get("deductions") or []:
        if not ded.get("setl_id"):
            continue
        mine = kept.get(ded["ded_id"])
        if mine is None or (mine.get("reason"), mine.get("category")) != (
                ded.get("reason"), ded.get("category")):
            bad.append({"deduction": ded, "problem": "reason or category not kept"})
    cert.note({"payment items": len(items), "receivables": len(rows),
               "deductions": len(decl_run.declaration.get("deductions") or [])})
    if bad:
        cert.fail(f"{len(bad)} payment item(s) or receivable(s) do not match", bad[:20])
