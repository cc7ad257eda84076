"""SPLIT-004/005: several payers share one bill (one-stop settlement). The multi-payer scenario
settles a veteran, a person with a commercial insurer, a civil servant and a low-income person
and refunds one of them; the HIS's bills must show each payer as the insurer answered, and the
refund must unwind every payer (docs/policy.md "Several payers")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from conformance.plugin import Cert
from conformance.target import ScenarioRun

SCENARIO = "multi-payer"


def _money(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else 0)).quantize(Decimal("0.01"))


def _answers(run: ScenarioRun) -> dict[str, dict[str, Any]]:
    """The insurer's successful 2207/2208 answers by the setl_id they made: the infno, the
    setl_id a 2208 cancelled, and the payers {fund_pay_type: fund_payamt}."""
    found: dict[str, dict[str, Any]] = {}
    for message in run.messages:
        if message.get("infno") not in ("2207", "2208") or message.get("infcode") != 0:
            continue
        answer = (message.get("answer") or {}).get("content")
        request = (message.get("request") or {}).get("content")
        output = answer.get("output") if isinstance(answer, dict) else None
        if not isinstance(output, dict):
            continue
        data = ((request or {}).get("input") or {}).get("data") or {}
        setl_id = str((output.get("setlinfo") or {}).get("setl_id"))
        found[setl_id] = {"infno": message["infno"], "msgid": message.get("msgid"),
                          "cancels": str(data.get("setl_id") or ""),
                          "payers": {str(r["fund_pay_type"]): _money(r.get("fund_payamt"))
                                     for r in output.get("setldetail") or []}}
    return found


def _shown(bill: dict[str, Any]) -> dict[str, Decimal]:
    return {str(p.get("fund_pay_type")): _money(p.get("amount"))
            for p in bill.get("payers") or []}


@pytest.mark.requirement("SPLIT-004")
def test_the_bill_shows_each_payer_as_the_insurer_answered(cert: Cert) -> None:
    run = cert.run(SCENARIO)
    answers = _answers(run)
    bad: list[dict[str, Any]] = []
    seen = 0
    for visit in run.result.visits:
        for slip in (visit.bill, visit.refund):
            if not slip or str(slip.get("setl_id")) not in answers:
                continue
            answered = answers[str(slip["setl_id"])]
            seen += len(answered["payers"])
            if _shown(slip) != answered["payers"]:
                bad.append({"visit": visit.id, "bill_no": slip.get("bill_no"),
                            "kind": slip.get("kind"), "msgid": answered["msgid"],
                            "insurer": {k: str(v) for k, v in answered["payers"].items()},
                            "bill": {k: str(v) for k, v in _shown(slip).items()}})
    if bad:
        cert.fail(f"{len(bad)} bill(s) do not show each payer as the insurer answered", bad)
    if not seen:
        cert.fail("no settlement of the scenario had a payer to show", [])
    cert.require(run, "visits")  # the bills' other amounts: SPLIT-001/002 judge them


@pytest.mark.requirement("SPLIT-005")
def test_a_refund_unwinds_every_payer(cert: Cert) -> None:
    run = cert.run(SCENARIO)
    answers = _answers(run)
    bad: list[dict[str, Any]] = []
    refunds = 0
    for visit in run.result.visits:
        slip = visit.refund
        if visit.then != "refund":
            continue
        answered = answers.get(str((slip or {}).get("setl_id")))
        if not slip or answered is None or answered["infno"] != "2208":
            bad.append({"visit": visit.id, "problem": "no refund slip from a 2208 answer",
                        "outcome": visit.outcome})
            continue
        refunds += 1
        settled = answers.get(answered["cancels"], {}).get("payers", {})
        shown = _shown(slip)
        codes = sorted(set(settled) | set(shown))
        left = {code: settled.get(code, Decimal(0)) + shown.get(code, Decimal(0))
                for code in codes}
        if any(left.values()) or not settled:
            bad.append({"visit": visit.id, "bill_no": slip.get("bill_no"),
                        "settled": {k: str(v) for k, v in settled.items()},
                        "refund_slip": {k: str(v) for k, v in shown.items()},
                        "left_per_payer": {k: str(v) for k, v in left.items() if v}})
    if bad:
        cert.fail(f"{len(bad)} refund(s) do not unwind every payer on the refund slip", bad)
    if not refunds:
        cert.fail("the scenario made no refund to judge", [])
    cert.require(run, "ledgers_agree", "day_end_balanced")
