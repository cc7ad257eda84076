"""What the harness sends a HIS: every optional field with no value is left out of the body —
never ``null`` or ``""`` — so a HIS that validates its requests to
docs/his-driver-api.openapi.yaml answers them. The bodies are taken from the wire (the bytes
``requests`` sent) while the reference HIS answers them, so the reference HIS is shown to take
bodies without those fields too."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import requests

from simulator.his.driver import leave_out_empty
from simulator.his.operations import (
    ChargeInput,
    ChargeItem,
    DayEndInput,
    DeclareInput,
    IdentifyInput,
    RefundInput,
    RegisterInput,
    SettleInput,
    VisitInput,
)
from tests.mock_insurer.gateway import dataset
from tests.simulator.his.rig import AMOXI, CONSULT, START, Rig
from tests.simulator.his.test_openapi import document  # noqa: F401  (a fixture)


def request_schema(openapi: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    """The request body's schema of the document's operation ``method path`` (``None``: the
    operation takes no body), with the document's components beside it for its ``$ref``s."""
    for template, item in openapi["paths"].items():
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
        if re.fullmatch(pattern, path) and method.lower() in item:
            body = item[method.lower()].get("requestBody")
            if body is None:
                return None
            schema = body["content"]["application/json"]["schema"]
            return {**schema, "components": openapi["components"]}
    raise AssertionError(f"{method} {path} is not in the document")


def empty_values(value: Any, where: str = "") -> list[str]:
    """The paths of every null or "" in ``value``."""
    if value is None or value == "":
        return [where or "(body)"]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in empty_values(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [p for n, item in enumerate(value) for p in empty_values(item, f"{where}[{n}]")]
    return []


@pytest.fixture
def sent(rig: Rig) -> Iterator[list[tuple[str, str, Any]]]:
    """Every request the rig's driver sends: method, path and the JSON body as sent on the
    wire (``None``: no body)."""
    bodies: list[tuple[str, str, Any]] = []

    def record(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        request = response.request
        raw = request.body
        body = None if raw is None else json.loads(raw if isinstance(raw, bytes)
                                                   else str(raw).encode())
        bodies.append((str(request.method), urlsplit(request.url).path, body))

    rig.driver.session.hooks["response"].append(record)
    yield bodies


def test_leave_out_empty() -> None:
    assert leave_out_empty({"items": None, "acct_used": None, "operator": ""}) == {}
    assert leave_out_empty({"items": [{"code": "X", "qty": "1", "days": None}],
                            "diagnoses": [], "override": {"by": "C1", "reason": ""}}) \
        == {"items": [{"code": "X", "qty": "1"}], "diagnoses": [], "override": {"by": "C1"}}
    assert leave_out_empty({"acct_used": False, "qty": 0, "items": []}) \
        == {"acct_used": False, "qty": 0, "items": []}  # a value, not "no value"


def test_every_body_leaves_out_what_has_no_value_and_follows_the_document(
        rig: Rig, sent: list[tuple[str, str, Any]],
        document: dict[str, Any]) -> None:  # noqa: F811
    driver = rig.driver
    person = dataset.PERSONS[1]
    identified = driver.identify(IdentifyInput("02", person["certno"]))
    assert identified.ok, identified.body
    patient_id = identified["patient"]["patient_id"]
    registered = driver.register(RegisterInput(patient_id, "A03", "D0007"))
    assert registered.ok, registered.body
    visit_id = registered["visit"]["visit_id"]
    charged = driver.charge(visit_id, ChargeInput(
        (ChargeItem(CONSULT, Decimal(1)), ChargeItem(AMOXI, Decimal(2))), ("J06.900",)))
    assert charged.ok, charged.body
    assert driver.pre_settle(visit_id, SettleInput()).ok
    assert driver.settle(visit_id, SettleInput()).ok
    partial = driver.refund(visit_id, RefundInput((AMOXI,)))
    assert partial.ok and partial["bill"] is not None, partial.body
    whole = driver.refund(visit_id, RefundInput())
    assert whole.ok and whole["bill"] is None, whole.body
    other = driver.register(RegisterInput(patient_id, "A03", "D0007"))
    assert other.ok, other.body
    assert driver.cancel(other["visit"]["visit_id"], VisitInput()).ok
    assert driver.day_end(DayEndInput(START.date())).ok
    driver.declare(DeclareInput("2026-03"))  # optional: answered, ok or not
    driver.collect_payments()
    assert rig.orphans() == []  # the whole refund left nothing open at the insurer

    posts = {path.rsplit("/", 1)[-1]: body for method, path, body in sent if method == "POST"}
    assert posts["identify"] == {"cert_type": "02", "cert_no": person["certno"]}
    assert posts["visits"] == {"patient_id": patient_id, "dept_code": "A03",
                               "doctor_code": "D0007", "med_type": "11"}
    assert posts["charges"] == {"items": [{"code": CONSULT, "qty": "1"},
                                          {"code": AMOXI, "qty": "2"}],
                                "diagnoses": ["J06.900"]}
    assert posts["settle"] == posts["pre-settle"] == {"acct_used": True}
    refunds = [body for method, path, body in sent if path.endswith("/refund")]
    assert refunds == [{"items": [AMOXI]}, {}]
    assert posts["cancel"] == {}
    assert posts["day-end"] == {"date": START.date().isoformat()}
    assert posts["declarations"] == {"period": "2026-03", "force": False}

    for method, path, body in sent:
        if method == "GET":
            assert body is None, (path, body)
            continue
        assert isinstance(body, dict), (path, body)
        assert empty_values(body) == [], (path, body)
        schema = request_schema(document, method, path)
        if schema is None:
            continue
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(body))
        assert not errors, (path, body, [e.message for e in errors])


def test_what_was_left_out_is_read_as_its_default(rig: Rig) -> None:
    """A register without insutype takes the patient's main scheme, a refund without
    acct_used the original's."""
    person = dataset.PERSONS[0]
    visit_id = rig.visit(1, [(CONSULT, "1"), (AMOXI, "2")])
    visit = rig.driver.visit(visit_id)["visit"]
    assert visit["insutype"] == person["insuinfo"][0]["insutype"]
    assert rig.settle(visit_id, acct_used=False).ok
    again = rig.driver.refund(visit_id, RefundInput((AMOXI,)))
    assert again.ok, again.body
    assert again["bill"]["charged"]["account"] == "0.00"
