"""ID and DAY for patients insured elsewhere (异地就医直接结算): the HIS sends each patient's own
insured place, and day-end keeps out-of-area settlements in their own 3201 group."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.plugin import Cert

#: The visit messages that name the person's insured place (fact sheet §2.1 insuplc_admdvs).
VISIT_INFNOS = ("2201", "2203", "2204", "2206", "2207")


def _content(message: dict[str, Any], part: str) -> dict[str, Any]:
    found: dict[str, Any] = (message.get(part) or {}).get("content") or {}
    return found


@pytest.mark.requirement("ID-005")
def test_each_patients_own_insured_place_is_sent(cert: Cert) -> None:
    run = cert.run("out-of-area")
    bad = []
    away = 0
    for message in run.messages:
        if message["infno"] not in VISIT_INFNOS:
            continue
        data = _content(message, "request").get("input") or {}
        data = data.get("data") or data.get("mdtrtinfo") or (data.get("feedetail") or [{}])[0]
        person = run.persons.get(str(message.get("psn_no") or data.get("psn_no")))
        if person is None:
            continue
        held = str(person["insuplc_admdvs"])
        away += held[:2] != "11"
        sent = _content(message, "request").get("insuplc_admdvs")
        if sent != held or message.get("rejection_code") == "insuplc_mismatch":
            bad.append({"msgid": message["msgid"], "infno": message["infno"], "sent": sent,
                        "held": held, "rejection_code": message.get("rejection_code")})
    if bad:
        cert.fail(f"{len(bad)} message(s) did not carry the patient's insured place from 1101 "
                  "(insuinfo.insuplc_admdvs)", bad)
    if not away:
        cert.fail("no message of an out-of-area patient was seen")
    cert.require(run, "visits", "outcomes")


@pytest.mark.requirement("DAY-005")
def test_out_of_area_settlements_reconcile_in_their_own_group(cert: Cert) -> None:
    run = cert.run("out-of-area")
    settled: dict[tuple[str, str, str], int] = {}
    for message in run.messages:
        if message["infno"] == "2207" and not message.get("rejection_code"):
            info = _content(message, "answer").get("output", {}).get("setlinfo") or {}
            key = (str(info.get("insutype")), str(info.get("clr_type")),
                   str(info.get("clr_optins")))
            settled[key] = settled.get(key, 0) + 1
    sent = [_content(m, "request").get("input", {}).get("data") or {}
            for m in run.messages if m["infno"] == "3201"]
    asked = {(str(d.get("insutype")), str(d.get("clr_type")), str(d.get("setl_optins")))
             for d in sent}
    missing = [{"insutype": k[0], "clr_type": k[1], "clr_optins": k[2], "settlements": n}
               for k, n in sorted(settled.items()) if k not in asked]
    if missing:
        cert.fail(f"{len(missing)} clearing group(s) of the day's settlements got no 3201 of "
                  "their own (settlements of different clearing institutions were lumped)",
                  missing)
    if len({k[2] for k in settled}) < 2:
        cert.fail("the day had no out-of-area settlement to keep apart")
    cert.note({"groups": [list(k) for k in sorted(asked)]})
    cert.require(run, "day_end_balanced", "ledgers_agree")
