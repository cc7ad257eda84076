"""The situations of the out-of-area mutants (``local-insuplc``, ``dayend-one-group``) for
tests/conformance/test_mutants.py: a patient insured in Hebei is added to the rig's insurer
(the dataset's persons are all local) and treated next to a local one."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from mock_insurer.gateway.loading import load_population
from simulator.his.operations import DayEndInput, IdentifyInput, RegisterInput
from tests.mock_insurer.gateway import dataset
from tests.simulator.his.rig import CONSULT, START, Rig

__all__ = ["HEBEI", "OUT_OF_AREA_SITUATIONS"]

Problems = set[str]
HEBEI = "130100"


def _with_a_hebei_patient(rig: Rig) -> dict[str, Any]:
    """Replace the insurer's persons with the dataset's plus person 1's twin insured in Hebei."""
    base = dataset.PERSONS[0]
    twin = {**base, "psn_no": "1300000000000000" + "0901", "certno": "130100198001010901",
            "insuplc_admdvs": HEBEI, "insuinfo": [dict(base["insuinfo"][0])],
            "cards": [{"card_no": "B00000901", "card_sn": "130100D1560000000000000000000901",
                       "status": "active", "issued": "2020-01-01"}],
            "ec_token": "130100ec" + "0" * 25 + "901"}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "persons.jsonl"
        path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in [*dataset.PERSONS, twin]))
        load_population(rig.insurer.ledger, path)
    return twin


def _messages(rig: Rig, infno: str) -> list[dict[str, Any]]:
    with rig.insurer.ledger.read() as tx:
        return [dict(m) for m in tx.messages(limit=10_000) if m["infno"] == infno]


def _treat(rig: Rig, person: dict[str, Any]) -> tuple[bool, str]:
    """Identify by card, register, charge a consultation, settle: (settled, refusal code)."""
    card = person["cards"][-1]
    identified = rig.driver.identify(IdentifyInput("03", card["card_no"],
                                                   card_sn=card["card_sn"]))
    assert identified.ok, identified.body
    registered = rig.driver.register(RegisterInput(
        str(identified["patient"]["patient_id"]), "A03", "D0007", dept_name="内科",
        doctor_name="李医生"))
    if not registered.ok:
        refusal = registered.refusal
        codes = [m["rejection_code"] for m in _messages(rig, "2201")
                 if refusal is not None and m["msgid"] == refusal.msgid]
        return False, str(codes[0] if codes else "")
    visit_id = str(registered["visit"]["visit_id"])
    assert rig.charge(visit_id, [(CONSULT, "1")]).ok
    return bool(rig.settle(visit_id, acct_used=True).ok), ""


def an_out_of_area_patient(rig: Rig) -> Problems:
    """A patient insured in Hebei registers at the Beijing hospital (ID-005)."""
    problems: Problems = set()
    twin = _with_a_hebei_patient(rig)
    settled, code = _treat(rig, twin)
    if not settled:
        problems.add(f"registration refused: {code}")
    sent = {str(orjson.loads(bytes(m["request"])).get("insuplc_admdvs"))
            for m in _messages(rig, "2201")}
    if sent and HEBEI not in sent:
        problems.add("the hospital's pool sent as the insured place")
    return problems


def local_and_out_of_area_settled(rig: Rig) -> Problems:
    """A local and a Hebei patient settle; day-end (DAY-005)."""
    problems: Problems = set()
    twin = _with_a_hebei_patient(rig)
    assert _treat(rig, dataset.PERSONS[0]) == (True, "")
    assert _treat(rig, twin) == (True, "")
    day_end = rig.driver.day_end(DayEndInput(START.date()))
    assert day_end.ok, day_end.body
    if not day_end["balanced"]:
        problems.add("day-end unbalanced")
    if HEBEI not in {g["setl_optins"] for g in day_end["groups"]}:
        problems.add("out-of-area settlements lumped")
    return problems


OUT_OF_AREA_SITUATIONS: dict[str, tuple[Callable[[Rig], Problems], Problems]] = {
    "local-insuplc": (an_out_of_area_patient, {"registration refused: insuplc_mismatch",
                                               "the hospital's pool sent as the insured place"}),
    "dayend-one-group": (local_and_out_of_area_settled, {"day-end unbalanced",
                                                         "out-of-area settlements lumped"}),
}
