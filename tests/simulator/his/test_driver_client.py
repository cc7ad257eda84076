"""The HTTP driver client against a vendor's HIS that answers badly: every answer it cannot
use is a DriverError saying which request, what is wrong (the field, not a KeyError later) and
what came back; a refusal read as a success, or a slow HIS waited on forever, never happens."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from simulator.his.driver import HttpHisDriver, answer_problem, leave_out_empty
from simulator.his.errors import DriverError, DriverInputError, UnknownRecord
from simulator.his.operations import (
    ChargeInput,
    ChargeItem,
    IdentifyInput,
    RefundInput,
    RegisterInput,
    SettleInput,
)

ANSWER: dict[str, Any] = {}


class Vendor(BaseHTTPRequestHandler):
    """Answers every request with ``ANSWER``: ``status``, ``body`` (bytes), ``type``,
    ``sleep`` (seconds before answering)."""

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(ANSWER.get("sleep", 0))
        body = ANSWER["body"]
        self.send_response(ANSWER.get("status", 200))
        self.send_header("Content-Type", ANSWER.get("type", "application/json"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def his() -> Iterator[HttpHisDriver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Vendor)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    driver = HttpHisDriver(f"http://127.0.0.1:{server.server_port}", timeout=1.0)
    try:
        yield driver
    finally:
        driver.close()
        server.shutdown()
        server.server_close()


def answers(body: Any, status: int = 200, kind: str = "application/json",
            sleep: float = 0) -> None:
    ANSWER.clear()
    ANSWER.update(status=status, type=kind, sleep=sleep,
                  body=body if isinstance(body, bytes) else json.dumps(body).encode())


def identify(his: HttpHisDriver) -> Any:
    return his.identify(IdentifyInput("02", "110105195503030020"))


PATIENT = {"patient_id": "17", "psn_no": "1100", "psn_name": "王秀英", "certno": "1101"}


@pytest.mark.parametrize(("body", "status", "kind", "said"), [
    (b'{"ok": true, "patient": {', 200, "application/json",
     "HTTP 200 is not a driver-API answer: the answer is not JSON (application/json)"),
    (b"<html>login</html>", 200, "text/html",
     "HTTP 200 is not a driver-API answer: the answer is not JSON (text/html)"),
    (b"Internal Server Error", 500, "text/plain",
     "HTTP 500 is not a driver-API answer: the answer is not JSON (text/plain)"),
    ({"detail": "boom"}, 500, "application/json",
     "HTTP 500 is not a driver-API answer: the HIS failed"),
    ([1, 2], 200, "application/json", "the answer is a JSON array, not an object with ok"),
    ({"patient": PATIENT}, 200, "application/json", "the answer has no ok"),
    ({"ok": True, "insurance": [], "balc": "0.00"}, 200, "application/json",
     "(patient is missing; docs/his-driver-api.openapi.yaml)"),
    ({"ok": True, "patient": {**PATIENT, "patient_id": 17}, "insurance": []}, 200,
     "application/json", "(patient.patient_id must be a string, got number 17;"),
    ({"ok": "yes", "patient": PATIENT, "insurance": []}, 200, "application/json",
     "(ok must be true or false, got string 'yes';"),
    ({"ok": False, "message": "卡已挂失"}, 200, "application/json",
     "(a refusal (ok false) must carry refusal as an object, got null;"),
    ({"ok": False, "refusal": {"code": 7, "message": "x"}}, 200, "application/json",
     "(refusal.code must be a string, got number;"),
])
def test_an_answer_the_harness_cannot_use_is_a_driver_error_saying_why(
        his: HttpHisDriver, body: Any, status: int, kind: str, said: str) -> None:
    answers(body, status, kind)
    with pytest.raises(DriverError) as error:
        identify(his)
    text = str(error.value)
    assert text.startswith(f"POST {his.base_url}/his/v1/identify: "), text
    assert said in text, text


def test_a_refusal_with_ok_as_text_is_not_read_as_a_settlement(his: HttpHisDriver) -> None:
    """``"ok": "false"`` is truthy in Python: it used to be read as a success."""
    answers({"ok": "false", "refusal": {"code": "insurer_refused", "message": "x",
                                        "source": "insurer"}})
    with pytest.raises(DriverError, match="ok must be true or false, got string 'false'"):
        his.settle("MZ1", SettleInput())


@pytest.mark.parametrize(("call", "body", "said"), [
    (lambda his: his.register(RegisterInput("17", "A03", "D1")), {"ok": True, "visit": {}},
     "visit.visit_id is missing"),
    (lambda his: his.settle("MZ1", SettleInput()), {"ok": True, "bill": None},
     "bill is null"),
    (lambda his: his.settle("MZ1", SettleInput()),
     {"ok": True, "bill": {"setl_id": "4", "amounts": "12.00", "charged": {}}},
     "bill.amounts must be an object, got string '12.00'"),
    (lambda his: his.ledger(), {"ok": True, "settlements": {"setl_id": "4"}},
     "settlements must be an array, got object"),
    (lambda his: his.charge("MZ1", ChargeInput(())),
     {"ok": True, "lines": [], "visit": {}, "warnings": "R-QTY-001"},
     "warnings must be an array, got string"),
])
def test_each_operation_names_the_field_it_needs(his: HttpHisDriver, call: Any, body: Any,
                                                 said: str) -> None:
    answers(body)
    with pytest.raises(DriverError, match="the answer does not follow the driver API") as error:
        call(his)
    assert said in str(error.value)


def test_a_slow_his_is_a_driver_error_after_the_timeout(his: HttpHisDriver) -> None:
    answers({"ok": True, "patient": PATIENT, "insurance": []}, sleep=3)
    started = time.monotonic()
    with pytest.raises(DriverError, match=r"the HIS did not answer within 1 s"):
        identify(his)
    assert time.monotonic() - started < 2.5


def test_good_answers_and_refusals_pass(his: HttpHisDriver) -> None:
    answers({"ok": True, "patient": PATIENT, "insurance": [], "balc": "0.00", "x_extra": 1})
    assert identify(his)["patient"]["patient_id"] == "17"
    answers({"ok": False, "refusal": {"code": "insurer_refused", "message": "卡已挂失",
                                      "source": "insurer"}})
    refused = identify(his)
    assert not refused.ok and refused.refusal is not None
    assert refused.refusal.message == "卡已挂失"
    assert answer_problem("bill", {"ok": True, "bill": None, "bills": []}) == ""


def test_a_422_names_the_request_and_the_body_sent(his: HttpHisDriver) -> None:
    """A HIS that validates to its own reading of the contract answers 422: the error (the
    certification's evidence) says what was sent, not only the HIS's complaint."""
    answers({"error": {"code": "bad_input", "field": "insutype", "message": "is required"}},
            status=422)
    with pytest.raises(DriverInputError) as error:
        his.register(RegisterInput("17", "A03", "D1", dept_name="内科"))
    assert error.value.field == "insutype"
    assert str(error.value) == (
        'insutype: is required (HTTP 422 to POST /his/v1/visits with the body '
        '{"patient_id":"17","dept_code":"A03","doctor_code":"D1","dept_name":"内科",'
        '"med_type":"11"})')
    answers({"error": {"code": "not_found", "field": "visit_id", "message": "no visit"}},
            status=404)
    with pytest.raises(UnknownRecord, match=r"no visit \(HTTP 404 to POST "
                                            r"/his/v1/visits/MZ%201/refund with the body \{\}\)"):
        his.refund("MZ 1", RefundInput())


def test_a_4xx_of_another_shape_names_the_request_and_the_body_sent(his: HttpHisDriver) -> None:
    """A Node.js validator's own error shape is no driver-API answer: the error still says what
    the harness sent."""
    answers({"statusCode": 422, "message": "body/items must be array"}, status=422)
    with pytest.raises(DriverError) as error:
        his.refund("MZ1", RefundInput(acct_used=False))
    text = str(error.value)
    assert text.startswith(f"POST {his.base_url}/his/v1/visits/MZ1/refund: HTTP 422 is not a "
                           "driver-API answer"), text
    assert text.endswith(' (to POST /his/v1/visits/MZ1/refund with the body '
                         '{"acct_used":false})'), text


def test_a_long_body_is_quoted_cut(his: HttpHisDriver) -> None:
    answers({"error": {"code": "bad_input", "field": "items", "message": "too many"}},
            status=422)
    items = tuple(ChargeItem(f"YP{n:06d}", Decimal(1)) for n in range(200))
    with pytest.raises(DriverInputError) as error:
        his.charge("MZ1", ChargeInput(items, ("J06.900",)))
    text = str(error.value)
    body = json.dumps(leave_out_empty(ChargeInput(items, ("J06.900",)).to_json()),
                      separators=(",", ":"))
    assert body[:500] + f"… ({len(body)} characters))" in text
    assert len(text) < 700


def test_a_get_says_it_sent_no_body(his: HttpHisDriver) -> None:
    answers({"error": {"code": "bad_input", "field": "date", "message": "not a date"}},
            status=422)
    with pytest.raises(DriverInputError, match=r"\(HTTP 422 to GET /his/v1/ledger \(no body\)\)"):
        his.ledger()
