"""Hostile driver-API callers (security review of the reference HIS, findings 1-3, 8-10): what
one request, or many, may cost the HIS is bounded, and bad input is refused naming the field,
before anything is sent to the insurer or written."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from typing import Any

import pytest
import requests

from simulator.his.api import driver_app, shown_url
from simulator.his.insurer import MAX_CLIENTS
from simulator.his.operations import IdentifyInput, RegisterInput
from tests.mock_insurer.gateway import dataset
from tests.simulator.his.rig import CONSULT, Rig


def post(rig: Rig, path: str, body: Any) -> requests.Response:
    return requests.post(f"{rig.his_server.url}/his/v1/{path}", json=body, timeout=30)


def registered(rig: Rig) -> str:
    outcome = rig.driver.register(RegisterInput(rig.patient(1), "A03", "D0007"))
    assert outcome.ok, outcome.body
    return str(outcome["visit"]["visit_id"])


# -- findings 1 and 9: exponents in qty / days ----------------------------------------------
@pytest.mark.parametrize(("field", "value", "says"), [
    ("qty", "1e-999999999", "more than 4 decimal places"),  # was: ~5 GB and 25 s
    ("qty", "1e-1000027", "more than 4 decimal places"),
    ("qty", "1e1000000", "is too large"),  # was: 500 decimal.Overflow
    ("qty", "1E+1000000", "is too large"),
    ("qty", "1e999999999", "is too large"),
    ("qty", 1e308, "is too large"),
    ("qty", "1" + "0" * 60, "at most 40 characters"),
    ("days", "1e-999999999", "more than 2 decimal places"),
    ("days", "1e1000000", "is too large"),
    ("days", "-1e-999999999", "at least 0"),
])
def test_an_exponent_in_a_quantity_is_refused_naming_the_field(
        rig: Rig, field: str, value: Any, says: str) -> None:
    visit_id = registered(rig)
    sent = len(rig.his.store.messages())
    item: dict[str, Any] = {"code": CONSULT, "qty": "1", field: value}
    started = time.monotonic()
    response = post(rig, f"visits/{visit_id}/charges",
                    {"items": [item], "diagnoses": ["J06.900"]})
    assert time.monotonic() - started < 5
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("bad_input", f"items[0].{field}")
    assert says in error["message"]
    assert len(error["message"]) < 200
    assert len(rig.his.store.messages()) == sent  # nothing sent to the insurer
    visit = rig.driver.visit(visit_id)
    assert visit["visit"]["status"] == "registered"
    assert rig.his.store.lines(visit_id) == []  # nothing written


def test_a_zero_days_written_with_a_huge_exponent_is_a_plain_zero(rig: Rig) -> None:
    from simulator.his.operations import ChargeInput

    parsed = ChargeInput.from_json({"items": [{"code": CONSULT, "qty": "1.50",
                                               "days": "0e-999999999"}]})
    assert [(str(i.qty), format(i.days, "f")) for i in parsed.items] == [("1.50", "0")]


# -- finding 2: an operator per request --------------------------------------------------------
def _sockets() -> int:
    """Sockets open in this process (the HIS's and the insurer's ends both live here)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed meanwhile (the listing's own descriptor)
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


def test_a_new_operator_per_request_holds_no_socket_and_keeps_its_sign_in(rig: Rig) -> None:
    person = dataset.PERSONS[0]
    before = _sockets()
    for i in range(300):
        outcome = rig.driver.identify(IdentifyInput("02", person["certno"], operator=f"X{i}"))
        assert outcome.ok, outcome.body
    # was: 300 client sockets (and the insurer's 300 ends) kept open
    if os.path.isdir("/proc/self/fd"):
        assert _sockets() - before < 40
    assert rig.his.link.clients() <= MAX_CLIENTS
    # an operator whose client was dropped uses the sign-in of the day it already has
    signins = len(rig.his.store.messages(infno="9001"))
    assert signins == 300
    outcome = rig.driver.identify(IdentifyInput("02", person["certno"], operator="X0"))
    assert outcome.ok, outcome.body
    assert len(rig.his.store.messages(infno="9001")) == signins
    # and the ordinary cashier is served
    assert rig.driver.identify(IdentifyInput("02", person["certno"])).ok


# -- finding 3: a body that trickles ------------------------------------------------------------
def test_a_body_that_does_not_arrive_in_time_is_408_and_the_connection_closed(
        rig: Rig) -> None:
    from mock_insurer.server import start_in_thread

    server = start_in_thread(driver_app(rig.his, body_deadline_s=0.5))
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
            conn.sendall(b"POST /his/v1/identify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{")
            started = time.monotonic()
            answer = b""
            while chunk := conn.recv(65536):  # the server closes: recv answers b""
                answer += chunk
            waited = time.monotonic() - started
        assert waited < 5
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408")
        assert b"connection: close" in head.lower()
        assert b'"code":"body_timeout"' in body and b'"field":"(body)"' in body
        assert b"within 0.5 s (1 bytes received)" in body
        assert requests.get(f"{server.url}/his/v1/info", timeout=10).status_code == 200
        assert rig.his.store.messages() == []
    finally:
        server.stop()


# -- finding 8: unknown visit ids ---------------------------------------------------------------
def test_unknown_visit_ids_leave_no_lock_behind(rig: Rig) -> None:
    for i in range(50):
        response = post(rig, f"visits/MZ{i:04d}{'x' * 2000}/cancel", {})
        assert response.status_code == 404
        assert response.json()["error"]["field"] == "visit_id"
    assert len(rig.his.desk._locks) == 0


def test_two_calls_on_one_visit_still_run_one_at_a_time(rig: Rig) -> None:
    import threading

    desk = rig.his.desk
    order: list[str] = []
    first_in = threading.Event()

    def first() -> None:
        with desk.visit_lock("MZ1"):
            first_in.set()
            time.sleep(0.2)
            order.append("first out")

    def second() -> None:
        first_in.wait(5)
        with desk.visit_lock("MZ1"):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert order == ["first out", "second in"]
    assert len(desk._locks) == 0


# -- finding 10: credentials in the insurer's URL -----------------------------------------------
def test_info_shows_no_credentials_of_the_insurer_url(rig: Rig) -> None:
    import dataclasses

    url = rig.insurer_server.url.replace("http://", "http://gw:s3cretpw@")
    rig.his.config = dataclasses.replace(rig.his.config, insurer_url=url)
    response = requests.get(f"{rig.his_server.url}/his/v1/info", timeout=10)
    assert response.status_code == 200
    assert "s3cretpw" not in response.text and "gw:" not in response.text
    assert response.json()["insurer_url"] == rig.insurer_server.url.replace(
        "http://", "http://***@")


@pytest.mark.parametrize(("url", "shown"), [
    ("http://gw:pw@127.0.0.1:18201", "http://***@127.0.0.1:18201"),
    ("https://token@host/path?q=a@b", "https://***@host/path?q=a@b"),
    ("http://a:b@c@host:1/", "http://***@host:1/"),
    ("http://127.0.0.1:18201", "http://127.0.0.1:18201"),
    ("http://host/p@q", "http://host/p@q"),
    ("", ""),
])
def test_shown_url(url: str, shown: str) -> None:
    assert shown_url(url) == shown


def test_shown_url_ends_the_authority_at_a_query() -> None:
    assert shown_url("http://host?x=a@b") == "http://host?x=a@b"
    assert shown_url("http://u:p@host?x=a@b") == "http://***@host?x=a@b"


def test_a_client_that_leaves_mid_body_is_not_logged_as_a_failure(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    with socket.create_connection(("127.0.0.1", rig.his_server.port), timeout=10) as conn:
        conn.sendall(b"POST /his/v1/identify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        time.sleep(0.2)
    time.sleep(0.3)
    assert requests.get(f"{rig.his_server.url}/his/v1/info", timeout=10).status_code == 200
    assert not [r for r in caplog.records if r.levelno >= 40]  # no "operation failed"
