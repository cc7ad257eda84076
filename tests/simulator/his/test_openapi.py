"""docs/his-driver-api.openapi.yaml is a valid OpenAPI 3.1 document, names every route the
driver API serves, and describes what the reference HIS really answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import openapi_spec_validator
import pytest
import yaml

from simulator.his.api import driver_app
from simulator.his.operations import (
    DayEndInput,
    IdentifyInput,
    RefundInput,
    RegisterInput,
    SettleInput,
)
from tests.mock_insurer.gateway import dataset
from tests.simulator.his.rig import AMOXI, CONSULT, START, Rig

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "his-driver-api.openapi.yaml"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return dict(yaml.safe_load(DOCUMENT.read_text(encoding="utf-8")))


def conforms(document: dict[str, Any], schema: str, body: Any) -> None:
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": document["components"]})
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    openapi_spec_validator.validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_route_is_documented(document: dict[str, Any], rig: Rig) -> None:
    served = {(route.path, method.lower()) for route in driver_app(rig.his).routes
              for method in (route.methods or ()) if method != "HEAD"}  # type: ignore[attr-defined]
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method in ("get", "post")}
    assert served == documented


def test_the_answers_conform_to_the_document(document: dict[str, Any], rig: Rig) -> None:
    conforms(document, "Info", rig.driver.info().body)
    person = dataset.PERSONS[1]
    identified = rig.driver.identify(IdentifyInput("02", person["certno"]))
    conforms(document, "IdentifyOk", identified.body)
    registered = rig.driver.register(RegisterInput(identified["patient"]["patient_id"], "A03",
                                                   "D0007"))
    conforms(document, "VisitOk", registered.body)
    visit_id = registered["visit"]["visit_id"]
    charged = rig.charge(visit_id, [(CONSULT, "1"), (AMOXI, "2")])
    conforms(document, "ChargeOk", charged.body)
    conforms(document, "EstimateOk", rig.driver.pre_settle(visit_id, SettleInput()).body)
    conforms(document, "BillOk", rig.settle(visit_id).body)
    conforms(document, "RefundOk", rig.driver.refund(visit_id, RefundInput(items=(AMOXI,))).body)
    conforms(document, "BillsOk", rig.driver.bill(visit_id).body)
    conforms(document, "LedgerOk", rig.driver.ledger().body)
    conforms(document, "DayEndOk", rig.driver.day_end(DayEndInput(START.date())).body)
    conforms(document, "RefundOk", rig.driver.refund(visit_id, RefundInput()).body)
    conforms(document, "Refused", rig.driver.refund(visit_id, RefundInput()).body)
    conforms(document, "Refused", rig.driver.identify(IdentifyInput("02", "1" * 18)).body)
