"""Identity at the window: what the cashier types is normalised before it is sent, and the
identity the insurer answers is carried on exactly (the insurer's strict mode refuses anything
else — that is the data-consistency failure the harness exists to find)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from simulator.catalogue import write_catalogue
from simulator.his.cashier import normalise_certificate, normalise_name
from simulator.his.operations import IdentifyInput, RegisterInput
from simulator.institutions import generate_institutions
from simulator.population import iter_persons
from tests.mock_insurer.gateway import dataset
from tests.simulator.his.rig import Rig

CERTNO_X = dataset.PERSONS[1]["certno"]  # 11010519550303002X, 王秀英


def sent(rig: Rig, infno: str) -> list[dict[str, Any]]:
    """The ``input.data`` of every ``infno`` message the insurer received, in order."""
    with rig.insurer.ledger.read() as tx:
        rows = [m for m in tx.messages(limit=10_000) if m["infno"] == infno]
    return [orjson.loads(m["request"])["input"]["data"] for m in rows]


def test_normalising_typed_text() -> None:
    assert normalise_certificate("02", " １１０１０５１９５５０３０３００２x ") == CERTNO_X
    assert normalise_certificate("02", "110105 19550303 002x") == CERTNO_X
    assert normalise_certificate("03", " ａ00000001\u3000") == "A00000001"
    assert normalise_certificate("01", " 110000ecAbc ") == "110000ecAbc"
    assert normalise_name("\u3000阿卜杜·热合曼  ") == "阿卜杜·热合曼"
    assert normalise_name(" 𠮷野 ") == "𠮷野"


@pytest.mark.parametrize("typed", [
    "11010519550303002x",
    "１１０１０５１９５５０３０３００２X",
    "  11010519550303002X ",
    "\u3000１１０１０５１９５５０３０３００２x",
])
def test_a_typed_id_number_is_sent_as_the_insurer_holds_it(rig: Rig, typed: str) -> None:
    outcome = rig.driver.identify(IdentifyInput("02", typed, psn_name=" 王秀英 "))
    assert outcome.ok, outcome.body
    patient = outcome["patient"]
    assert patient["certno"] == CERTNO_X and patient["psn_name"] == "王秀英"
    (query,) = sent(rig, "1101")
    assert query["mdtrt_cert_no"] == CERTNO_X and query["psn_name"] == "王秀英"
    registered = rig.driver.register(RegisterInput(patient["patient_id"], "A03", "D0007"))
    assert registered.ok, registered.body
    (registration,) = sent(rig, "2201")
    assert registration["mdtrt_cert_no"] == CERTNO_X
    assert registration["psn_no"] == dataset.PERSONS[1]["psn_no"]


def test_the_identity_answered_is_kept_exactly(rig: Rig) -> None:
    person = dataset.PERSONS[7]  # 欧阳明, a replaced card
    outcome = rig.driver.identify(IdentifyInput("03", person["cards"][-1]["card_no"].lower(),
                                                card_sn=person["cards"][-1]["card_sn"]))
    assert outcome.ok, outcome.body
    patient = outcome["patient"]
    for key in ("psn_no", "psn_name", "certno", "gend", "brdy"):
        assert patient[key] == person[key]
    assert outcome["balc"] == person["balc"]
    assert [row["insutype"] for row in outcome["insurance"]] == ["310"]


EDGE_RATES = {"certno_lowercase_x": 0.15, "fullwidth_digits": 0.12, "typed_spaces": 0.12,
              "name_middle_dot": 0.08, "name_outside_gbk": 0.08, "name_long": 0.05,
              "compound_surname": 0.05, "replaced_card": 0.1}


def _generated(directory: Path) -> tuple[dict[str, Path], list[dict[str, Any]], str]:
    persons = list(iter_persons(300, seed=3, edge_rates=EDGE_RATES))
    institutions = generate_institutions(4, seed=3)
    paths = {"population": directory / "persons.jsonl",
             "institutions": directory / "institutions.jsonl",
             "catalogue": directory / "catalogue.jsonl"}
    paths["population"].write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in persons))
    paths["institutions"].write_bytes(b"".join(orjson.dumps(i) + b"\n" for i in institutions))
    write_catalogue(paths["catalogue"], seed=3, institutions=institutions)
    return paths, persons, institutions[3]["fixmedins_code"]


def test_every_typed_identity_of_the_generator_is_identified_and_registered(
        make_rig: Callable[..., Rig], tmp_path: Path) -> None:
    paths, persons, institution = _generated(tmp_path)
    rig = make_rig(data=paths, institution=institution)
    usable = [p for p in persons if p["edge_cases"] and not p["deceased"]
              and not p["blacklisted"] and p["insuinfo"][0]["psn_insu_stas"] == "1"]
    labels: set[str] = set()
    for person in usable:
        if set(person["edge_cases"]) <= labels:
            continue  # one person per new label keeps the test quick
        labels.update(person["edge_cases"])
        typed = person["typed"]
        by_id = rig.driver.identify(IdentifyInput("02", typed["certno"],
                                                  psn_name=typed["psn_name"]))
        assert by_id.ok, (person["edge_cases"], by_id.body)
        assert by_id["patient"]["certno"] == person["certno"]
        assert by_id["patient"]["psn_name"] == person["psn_name"]
        card = person["cards"][-1]
        by_card = rig.driver.identify(IdentifyInput("03", typed["card_no"],
                                                    card_sn=card["card_sn"]))
        assert by_card.ok and by_card["patient"]["psn_no"] == person["psn_no"]
        registered = rig.driver.register(RegisterInput(by_card["patient"]["patient_id"],
                                                       "A03", "D0007"))
        assert registered.ok, (person["edge_cases"], registered.body)
    assert set(EDGE_RATES) <= labels
