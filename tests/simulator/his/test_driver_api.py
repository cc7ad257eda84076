"""The driver API's edges: every bad input is a 4xx JSON error naming the field, nothing is
sent to the insurer, and the Python client raises it as a DriverInputError."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from simulator.his.errors import DriverInputError, UnknownRecord
from simulator.his.operations import (
    ChargeInput,
    ChargeItem,
    Outcome,
    RegisterInput,
    SettleInput,
)
from tests.simulator.his.rig import CONSULT, Rig


def post(rig: Rig, path: str, body: Any) -> requests.Response:
    data = body if isinstance(body, bytes) else None
    return requests.post(f"{rig.his_server.url}/his/v1/{path}", data=data,
                         json=None if data is not None else body, timeout=10)


def error_of(response: requests.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["field"], error["message"]


@pytest.mark.parametrize(("body", "status", "field"), [
    (b"{not json", 400, "(body)"),
    ([1, 2], 422, "(body)"),
    ({"cert_no": "110105198001010016"}, 422, "cert_type"),
    ({"cert_type": "04", "cert_no": "1"}, 422, "cert_type"),
    ({"cert_type": "02"}, 422, "cert_no"),
    ({"cert_type": "03", "cert_no": "A00000001"}, 422, "card_sn"),
    ({"cert_type": "02", "cert_no": 110105198001010016}, 422, "cert_no"),
])
def test_bad_identify_input(rig: Rig, body: Any, status: int, field: str) -> None:
    assert error_of(post(rig, "identify", body))[:2] == (status, field)
    assert rig.his.store.messages() == []


def test_bad_visit_input_names_the_field(rig: Rig) -> None:
    assert error_of(post(rig, "visits", {"patient_id": "77", "dept_code": "A03",
                                         "doctor_code": "D1"}))[:2] == (404, "patient_id")
    patient = rig.patient(1)
    assert error_of(post(rig, "visits", {"patient_id": patient, "doctor_code": "D1"}))[:2] \
        == (422, "dept_code")
    visit_id = rig.driver.register(RegisterInput(patient, "A03", "D1"))["visit"]["visit_id"]
    cases = [
        ({"items": []}, "items"),
        ({"items": [{"code": CONSULT, "qty": "1"}]}, "diagnoses"),
        ({"items": [{"code": "NOPE", "qty": "1"}], "diagnoses": ["J06.900"]}, "items[0].code"),
        ({"items": [{"code": CONSULT, "qty": 1}, {"code": CONSULT, "qty": "-1"}],
          "diagnoses": ["J06.900"]}, "items[1].qty"),
        ({"items": [{"code": CONSULT, "qty": "0.12345"}], "diagnoses": ["J06.900"]},
         "items[0].qty"),
        ({"items": [{"code": CONSULT, "qty": True}], "diagnoses": ["J06.900"]}, "items[0].qty"),
        ({"items": [{"code": CONSULT, "qty": "1", "days": "x"}], "diagnoses": ["J06.900"]},
         "items[0].days"),
        ({"items": [{"code": CONSULT, "qty": "1"}], "diagnoses": ["Z99.999"]}, "diagnoses[0]"),
        ({"items": [{"code": CONSULT, "qty": "1"}], "diagnoses": "J06.900"}, "diagnoses"),
    ]
    for body, field in cases:
        status, found, message = error_of(post(rig, f"visits/{visit_id}/charges", body))
        assert (status, found) == (422, field), (body, message)
    assert error_of(post(rig, "visits/MZ0/charges", {"items": [{"code": CONSULT, "qty": 1}],
                                                    "diagnoses": ["J06.900"]}))[:2] \
        == (404, "visit_id")
    assert error_of(post(rig, f"visits/{visit_id}/settle", {"acct_used": "yes"}))[:2] \
        == (422, "acct_used")
    assert error_of(post(rig, f"visits/{visit_id}/refund", {"items": []}))[:2] \
        == (422, "items")
    assert [m["infno"] for m in rig.his.store.messages()] == ["9001", "1101", "2201"]


def test_bad_day_end_and_ledger_input(rig: Rig) -> None:
    assert error_of(post(rig, "day-end", {"date": "2026-02-30"}))[:2] == (422, "date")
    assert error_of(post(rig, "day-end", {"date": "20260302"}))[:2] == (422, "date")
    response = requests.get(f"{rig.his_server.url}/his/v1/ledger?date=yesterday", timeout=10)
    assert error_of(response)[:2] == (422, "date")
    missing = requests.get(f"{rig.his_server.url}/his/v2/info", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_a_body_past_the_limit_is_413_without_reading_it_all(rig: Rig) -> None:
    from simulator.his.api import MAX_BODY_BYTES

    response = post(rig, "identify", b"{" + b" " * MAX_BODY_BYTES + b"}")
    assert response.status_code == 413
    assert response.json()["error"] == {"code": "too_large", "field": "(body)",
                                        "message": "larger than 1024 KiB: a driver-API "
                                                   "request is a few KiB"}


@pytest.mark.parametrize("step", ["pre-settle", "settle", "refund", "cancel"])
def test_a_null_body_is_not_an_empty_one(rig: Rig, step: str) -> None:
    """No body means the defaults (an empty refund body refunds every item); ``null`` is not
    an object and is refused, not read as "no body"."""
    assert error_of(post(rig, f"visits/MZ1/{step}", b"null"))[:2] == (422, "(body)")


@pytest.mark.parametrize("body", [[], 123, "text"])
def test_collecting_payments_takes_nothing_or_an_operator(rig: Rig, body: Any) -> None:
    assert error_of(post(rig, "payments/collect", body))[:2] == (422, "(body)")


def test_the_python_client_raises_input_errors_and_returns_refusals(rig: Rig) -> None:
    with pytest.raises(UnknownRecord) as unknown:
        rig.driver.settle("MZ404", SettleInput())
    assert unknown.value.field == "visit_id"
    with pytest.raises(DriverInputError) as bad:
        rig.driver.charge("MZ404", ChargeInput(()))
    assert bad.value.field == "items"
    visit_id = rig.visit(1, [(CONSULT, "1")])
    assert rig.settle(visit_id).ok
    again = rig.driver.charge(visit_id, ChargeInput((ChargeItem(CONSULT, Decimal(1)),)))
    assert isinstance(again, Outcome) and not again.ok  # a settled visit takes no charges
    assert again.refusal is not None and again.refusal.code == "visit_state"
    assert again.refusal.source == "his"


def test_a_patient_id_sent_as_a_number_is_refused_naming_the_field(rig: Rig) -> None:
    """The OpenAPI says ``patient_id`` is a string (the id identify answered): a number is a
    422 naming the field — not converted, not a 500 — and nothing goes to the insurer."""
    patient = rig.patient(1)
    assert patient.isdigit()
    response = post(rig, "visits", {"patient_id": int(patient), "dept_code": "A03",
                                    "doctor_code": "D1"})
    status, field, message = error_of(response)
    assert (status, field) == (422, "patient_id")
    assert message == f'must be a string (the patient_id identify answered, e.g. "17"), got ' \
                      f"number {int(patient)}"
    assert response.json()["error"]["code"] == "bad_input"
    for wrong in (True, [patient], {"id": patient}):
        assert error_of(post(rig, "visits", {"patient_id": wrong, "dept_code": "A03",
                                             "doctor_code": "D1"}))[:2] == (422, "patient_id")
    assert "2201" not in [m["infno"] for m in rig.his.store.messages()]


@pytest.mark.parametrize("patient_id", ["１", "²", "9" * 30, "-1", " 1"])
def test_a_patient_id_this_his_never_gave_is_404_not_a_crash(rig: Rig, patient_id: str) -> None:
    """Full-width or superscript digits and numbers past the database's range are ids this
    HIS never gave: 404 naming the field (they used to be a 500, or patient 1)."""
    rig.patient(1)
    response = post(rig, "visits", {"patient_id": patient_id, "dept_code": "A03",
                                    "doctor_code": "D1"})
    assert error_of(response)[:2] == (404, "patient_id"), response.text
    assert "2201" not in [m["infno"] for m in rig.his.store.messages()]
