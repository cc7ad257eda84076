"""REJ: refused cards, persons and items — no settlement, the reason shown, nothing left open."""

from __future__ import annotations

import pytest

from conformance.plugin import Cert

SCENARIOS = ("refused-persons", "refused-items")
VISIT_INFNOS = ("1101", "2201", "2203", "2204", "2206", "2207")
"""The transactions whose refusal the cashier must be shown (not 9001 sign-in, 3101 advice or
the 2205/2202 clean-up after a refusal)."""


@pytest.mark.requirement("REJ-001")
def test_a_refused_visit_has_no_settlement_and_no_bill(cert: Cert) -> None:
    bad = []
    for name in SCENARIOS:
        run = cert.run(name)
        for visit in run.result.visits:
            if visit.expect.get("outcome") == "refused" and (visit.bill or visit.outcome != "refused"):
                bad.append({"scenario": name, "visit": visit.id, "outcome": visit.outcome,
                            "bill": visit.bill})
        cert.require(run, "exactly_once")
    if bad:
        cert.fail(f"{len(bad)} refused visit(s) ended with a settlement or a bill", bad)


@pytest.mark.requirement("REJ-002")
def test_the_cashier_sees_the_insurers_reason(cert: Cert) -> None:
    bad = []
    for name in SCENARIOS:
        run = cert.run(name)
        by_msgid = {m["msgid"]: m for m in run.messages}
        for visit in run.result.visits:
            refusal = visit.refusal or {}
            if not refusal and visit.expect.get("outcome") == "refused":
                # refused by the insurer, yet the cashier was shown no refusal at all
                said = [m for m in run.messages_of(visit.psn_no)
                        if m.get("infcode") not in (0, None) and m.get("err_msg")
                        and m.get("infno") in VISIT_INFNOS]
                if said:
                    bad.append({"scenario": name, "visit": visit.id,
                                "insurer_said": said[-1]["err_msg"],
                                "msgid": said[-1]["msgid"], "cashier_saw": None,
                                "outcome": visit.outcome})
                continue
            message = by_msgid.get(refusal.get("msgid"))
            if message is None or not message.get("err_msg"):
                continue
            reason = str(message["err_msg"]).removeprefix("FSI-").split("[")[0]
            if reason not in str(refusal.get("message", "")):
                bad.append({"scenario": name, "visit": visit.id, "insurer_said": message["err_msg"],
                            "cashier_saw": refusal.get("message")})
    if bad:
        cert.fail(f"{len(bad)} refusal(s) shown without the insurer's reason", bad)


@pytest.mark.requirement("REJ-003")
def test_nothing_is_left_open_after_a_refusal(cert: Cert) -> None:
    for name in SCENARIOS:
        cert.require(cert.run(name), "no_orphans")


@pytest.mark.requirement("REJ-004")
def test_every_real_time_refusal_is_handled(cert: Cert) -> None:
    for name in SCENARIOS:
        cert.require(cert.run(name), "visits", "outcomes", "answers")
