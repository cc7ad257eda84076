"""The driver API has no authentication, so it refuses what a web page in a browser on the
HIS's machine could send (security review, finding 2): a request addressed to a DNS name of
the page's own (DNS rebinding) and a cross-origin POST (CSRF). The harness's own clients
(requests, HttpHisDriver) name the host they connect to and send no Origin, and pass."""

from __future__ import annotations

import json

import pytest
import requests

from mock_insurer.server import start_in_thread
from simulator.his.api import driver_app
from tests.mock_insurer.gateway import dataset
from tests.simulator.his.rig import Rig

PERSON = dataset.PERSONS[0]
IDENTIFY = {"cert_type": "02", "cert_no": PERSON["certno"]}


def refused(answer: requests.Response, field: str) -> None:
    assert answer.status_code == 403, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("forbidden", field)
    assert error["message"]


def test_a_rebound_dns_name_cannot_identify_a_patient(rig: Rig) -> None:
    """The review's reproduction: Host: attacker.example, a text/plain POST to identify."""
    answer = requests.post(f"{rig.his_server.url}/his/v1/identify", data=json.dumps(IDENTIFY),
                           timeout=10, headers={"Host": "attacker.example",
                                                "Content-Type": "text/plain"})
    refused(answer, "(header.Host)")
    assert PERSON["certno"] not in answer.text
    assert rig.his.store.messages() == []  # nothing went to the insurer


@pytest.mark.parametrize("path", ["info", "ledger", "receivables"])
def test_a_rebound_dns_name_cannot_read(rig: Rig, path: str) -> None:
    answer = requests.get(f"{rig.his_server.url}/his/v1/{path}", timeout=10,
                          headers={"Host": f"evil.example.com:{rig.his_server.port}"})
    refused(answer, "(header.Host)")


@pytest.mark.parametrize("origin", ["http://evil.example.com", "null", "http://127.0.0.1:1"])
def test_a_foreign_origin_cannot_post(rig: Rig, origin: str) -> None:
    answer = requests.post(f"{rig.his_server.url}/his/v1/identify", json=IDENTIFY, timeout=10,
                           headers={"Origin": origin, "Content-Type": "text/plain"})
    refused(answer, "(header.Origin)")
    assert rig.his.store.messages() == []


def test_a_cross_site_fetch_without_origin_is_refused(rig: Rig) -> None:
    answer = requests.post(f"{rig.his_server.url}/his/v1/day-end", json={"date": "2026-03-02"},
                           timeout=10, headers={"Sec-Fetch-Site": "cross-site"})
    refused(answer, "(header.Sec-Fetch-Site)")


@pytest.mark.parametrize("headers", [
    {},
    {"Origin": "http://127.0.0.1:{port}"},
    {"Host": "localhost:{port}", "Origin": "http://localhost:{port}"},
    {"Host": "[::1]:{port}"},
])
def test_own_and_originless_requests_pass(rig: Rig, headers: dict[str, str]) -> None:
    sent = {name: value.format(port=rig.his_server.port) for name, value in headers.items()}
    answer = requests.post(f"{rig.his_server.url}/his/v1/identify", json=IDENTIFY, timeout=10,
                           headers=sent)
    assert answer.status_code == 200, answer.text
    assert answer.json()["ok"] is True
    assert requests.get(f"{rig.his_server.url}/his/v1/info", timeout=10,
                        headers=sent).status_code == 200


def test_the_python_driver_passes(rig: Rig) -> None:
    assert rig.patient(1)  # HttpHisDriver: identify over HTTP


def test_names_the_his_was_told_to_listen_on_pass(rig: Rig) -> None:
    with start_in_thread(driver_app(rig.his, hosts=("his.lan",))) as server:
        url = f"{server.url}/his/v1/info"
        assert requests.get(url, timeout=10, headers={"Host": f"his.lan:{server.port}"}
                            ).status_code == 200
        refused(requests.get(url, timeout=10, headers={"Host": "other.lan"}), "(header.Host)")
