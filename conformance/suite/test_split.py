"""SPLIT: the bill and what the patient paid equal the insurer's settlement; the settled total
equals the uploaded details."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.plugin import Cert

SCENARIOS = ("refunds", "lost-answer-2207", "identity-edge-cases")
BILL_SCENARIOS = (*SCENARIOS, "multi-payer")  # several payers' bills are bills too
TOTAL_REFUSALS = {"medfee_mismatch", "det_amount_mismatch", "amounts_mismatch"}


def _bill_problems(cert: Cert, charged: bool) -> list[dict[str, Any]]:
    bad = []
    for name in BILL_SCENARIOS:
        check = cert.run(name).check("bills_match")
        for item in check.evidence if check is not None else []:
            keys = [k for k in item.get("differ", {}) if k.startswith("charged.") == charged]
            if keys:
                bad.append({"scenario": name, **item,
                            "differ": {k: item["differ"][k] for k in keys}})
    return bad


@pytest.mark.requirement("SPLIT-001")
def test_bills_show_the_insurers_amounts(cert: Cert) -> None:
    bad = _bill_problems(cert, charged=False)
    if bad:
        cert.fail(f"{len(bad)} bill(s) show amounts other than the insurer's settlement", bad)


@pytest.mark.requirement("SPLIT-002")
def test_the_patient_pays_what_the_insurer_settled(cert: Cert) -> None:
    bad = _bill_problems(cert, charged=True)
    if bad:
        cert.fail(f"{len(bad)} bill(s) charged the patient other than psn_cash_pay / acct_pay",
                  bad)


@pytest.mark.requirement("SPLIT-003")
def test_settled_totals_equal_the_uploaded_details(cert: Cert) -> None:
    bad = [{"scenario": name, "msgid": m["msgid"], "infno": m["infno"],
            "rejection_code": m["rejection_code"], "err_msg": m["err_msg"]}
           for name in (*SCENARIOS, "refused-items", "fractional-quantities")
           for m in cert.run(name).messages if m["rejection_code"] in TOTAL_REFUSALS]
    if bad:
        cert.fail(f"the insurer refused {len(bad)} message(s) whose totals differ from the "
                  "uploaded details", bad)
