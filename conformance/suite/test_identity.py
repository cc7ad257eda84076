"""ID: identity exactly as the insurer holds it, for every edge case of the generator."""

from __future__ import annotations

import pytest

from conformance.plugin import Cert

GROUPS = {
    "ID-001": ("lowercase-x", "fullwidth-digits", "typed-spaces", "fullwidth-card"),
    "ID-002": ("gbk-name", "middle-dot", "long-name", "compound-surname", "gbk-name-card",
               "middle-dot-ecert"),
    "ID-004": ("twin-a", "twin-b", "replaced-card"),
}


def _settled(cert: Cert, visits: tuple[str, ...]) -> None:
    run = cert.run("identity-edge-cases")
    bad = [{"visit": v.id, "edge_cases": v.edge_cases, "certificate": v.certificate,
            "outcome": v.outcome, "refusal": v.refusal}
           for v in run.result.visits if v.id in visits and v.outcome != "settled"]
    if bad:
        cert.fail(f"{len(bad)} patient(s) with an identity edge case were not settled", bad)
    cert.note({"visits": list(visits)})


@pytest.mark.requirement("ID-001")
def test_typed_certificates_are_normalised(cert: Cert) -> None:
    """ID-001 is about 1101: each typed certificate identifies its patient. What happens after
    (2201 carrying the typed number instead of the insurer's) is ID-003's, so a HIS that
    normalises for 1101 only is not told to normalise."""
    run = cert.run("identity-edge-cases")
    bad = []
    for visit in run.result.visits:
        if visit.id not in GROUPS["ID-001"]:
            continue
        tried = [step for step in visit.steps if step.step == "identify"]
        if not any(step.ok for step in tried):
            refused = next((step.refusal for step in reversed(tried) if step.refusal), None)
            bad.append({"visit": visit.id, "edge_cases": visit.edge_cases,
                        "certificate": visit.certificate, "step": "identify (1101)",
                        "refusal": refused or visit.refusal})
    if bad:
        cert.fail(f"{len(bad)} patient(s) whose typed certificate did not identify them (1101)",
                  bad)
    cert.note({"visits": list(GROUPS["ID-001"])})


@pytest.mark.requirement("ID-002")
def test_names_are_kept_exactly(cert: Cert) -> None:
    _settled(cert, GROUPS["ID-002"])


@pytest.mark.requirement("ID-004")
def test_twins_and_replaced_cards(cert: Cert) -> None:
    _settled(cert, GROUPS["ID-004"])


@pytest.mark.requirement("ID-003")
def test_registration_carries_the_insurers_identity(cert: Cert) -> None:
    run = cert.run("identity-edge-cases")
    bad = []
    for message in run.messages:
        if message["infno"] != "2201":
            continue
        data = (((message.get("request") or {}).get("content") or {}).get("input") or {}).get(
            "data") or {}
        person = run.persons.get(str(data.get("psn_no")))
        if person is None:
            bad.append({"msgid": message["msgid"], "problem": "unknown psn_no"})
            continue
        if data.get("mdtrt_cert_type") == "02" and data.get("mdtrt_cert_no") != person["certno"]:
            bad.append({"msgid": message["msgid"], "psn_no": person["psn_no"],
                        "sent": data.get("mdtrt_cert_no"), "held": person["certno"]})
        if message["rejection_code"] in ("identity_mismatch", "psn_no_mismatch"):
            bad.append({"msgid": message["msgid"], "rejection_code": message["rejection_code"],
                        "err_msg": message["err_msg"]})
    if bad:
        cert.fail(f"{len(bad)} registration(s) did not carry the identity the insurer returned",
                  bad)
