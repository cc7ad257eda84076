"""RULE: the insurer's rule check (3101 事前 when orders are saved, 3102 事中 before settling) —
asked, its warnings shown, and a severe one not settled past without a recorded override
(issue 10; fact sheet §3 "3101 / 3102"; docs/policy.md "Rule check (3101/3102)")."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.plugin import Cert
from conformance.target import ScenarioRun

SCENARIO = "rule-check"
SEVERE_RULE = "R-QTY-001"


def _input(message: dict[str, Any]) -> dict[str, Any]:
    content = (message.get("request") or {}).get("content")
    found = content.get("input") if isinstance(content, dict) else None
    return found if isinstance(found, dict) else {}


def _mdtrt_ids(message: dict[str, Any]) -> set[str]:
    """The insurer's visit ids (``mdtrt_id``) a message is about."""
    body = _input(message)
    infno = str(message.get("infno"))
    if infno in ("3101", "3102"):
        data = body.get("data") or {}
        return {str(e.get("mdtrt_id")) for p in data.get("patient_dtos") or []
                for e in p.get("fsi_encounter_dtos") or [] if e.get("mdtrt_id")}
    if infno == "2204":
        return {str(row.get("mdtrt_id")) for row in body.get("feedetail") or []
                if row.get("mdtrt_id")}
    mdtrt_id = (body.get("data") or {}).get("mdtrt_id")
    return {str(mdtrt_id)} if mdtrt_id else set()


def _answered(message: dict[str, Any]) -> bool:
    return str(message.get("infcode")) == "0"


def _visit_messages(run: ScenarioRun, visit_id: str) -> list[dict[str, Any]]:
    """The insurer's messages about one scenario visit (by the mdtrt_id of its 2201 answer)."""
    visit = run.visit(visit_id)
    mine = [m for m in run.messages if m.get("psn_no") == visit.psn_no]
    ids = {str(((m.get("answer") or {}).get("content") or {}).get("output", {})
               .get("data", {}).get("mdtrt_id") or "")
           for m in mine if m.get("infno") == "2201" and _answered(m)} - {""}
    return [m for m in run.messages if _mdtrt_ids(m) & ids]


@pytest.mark.requirement("RULE-001")
def test_orders_are_checked_when_saved_and_before_settling(cert: Cert) -> None:
    run = cert.run(SCENARIO)
    order = run.messages
    settled = [(n, m) for n, m in enumerate(order)
               if m.get("infno") == "2207" and _answered(m)]
    if not settled:
        cert.fail("no settlement (2207) was answered in the rule-check scenario: nothing to "
                  "judge", [{"scenario": SCENARIO, "outcomes": run.result.outcome_counts()}])
    bad = []
    for index, settlement in settled:
        visit = _mdtrt_ids(settlement)
        before = [m for m in order[:index] if _mdtrt_ids(m) & visit]
        first_upload = next((n for n, m in enumerate(before) if m.get("infno") == "2204"), None)
        checked = [n for n, m in enumerate(before) if m.get("infno") == "3101"]
        missing = []
        if not before or not any(m.get("infno") == "3102" for m in before):
            missing.append("no 3102 before the 2207")
        if first_upload is not None and not any(n < first_upload for n in checked):
            missing.append("no 3101 before the first 2204")
        if missing:
            bad.append({"scenario": SCENARIO, "mdtrt_id": sorted(visit),
                        "msgid": settlement.get("msgid"), "missing": missing,
                        "sent": [m.get("infno") for m in before]})
    if bad:
        cert.fail(f"{len(bad)} settled visit(s) without the rule check (3101 when orders are "
                  "saved, 3102 before settling)", bad)
    cert.note({"settled_visits": len(settled)})


@pytest.mark.requirement("RULE-002")
def test_the_cashier_sees_the_rules_the_insurer_answered(cert: Cert) -> None:
    run = cert.run(SCENARIO)
    bad = [{"scenario": SCENARIO, "visit": v.id, "failures": [
                f for f in v.failures if f.startswith("warnings")]}
           for v in run.result.visits
           if "warnings" in v.expect and any(f.startswith("warnings") for f in v.failures)]
    answered = [m for m in run.messages if m.get("infno") in ("3101", "3102") and any(
        row.get("rule_id") == SEVERE_RULE for row in
        (((m.get("answer") or {}).get("content") or {}).get("output") or {}).get("result") or [])]
    if bad:
        cert.fail(f"{len(bad)} visit(s) whose cashier was not shown the rule the insurer "
                  f"answered ({SEVERE_RULE})", bad)
    cert.note({"rule_checks_naming_the_rule": len(answered)})


@pytest.mark.requirement("RULE-003")
def test_a_severe_warning_is_not_settled_past_without_an_override(cert: Cert) -> None:
    run = cert.run(SCENARIO)
    bad: list[dict[str, Any]] = []
    ignored = run.visit("ignored")
    sent = [m.get("infno") for m in _visit_messages(run, "ignored")]
    if ignored.outcome != "refused" or (ignored.refusal or {}).get("source") != "his" \
            or "2207" in sent:
        bad.append({"visit": "ignored", "expected": "refused by the HIS, no 2207",
                    "outcome": ignored.outcome, "refusal": ignored.refusal, "sent": sent})
    overridden = run.visit("overridden")
    refusal = overridden.refusal or {}
    same_rule = (SEVERE_RULE in str(refusal.get("message", ""))
                 or refusal.get("rejection_code") == "over_quantity")
    if overridden.outcome != "refused" or refusal.get("source") != "insurer" or not same_rule:
        bad.append({"visit": "overridden", "expected": f"the insurer refuses {SEVERE_RULE}",
                    "outcome": overridden.outcome, "refusal": refusal})
    if bad:
        cert.fail(f"{len(bad)} visit(s) with a severe warning not handled as required", bad)
    cert.require(run, "no_orphans", "exactly_once")
