"""Who may use the admin API: the bearer token, or loopback only when there is none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from starlette.testclient import TestClient

from mock_insurer.admin.auth import is_loopback
from mock_insurer.gateway import Insurer
from mock_insurer.server import start_in_thread

from .conftest import make_insurer


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """Access checks do not depend on the ledger: SQLite only."""
    return f"sqlite:///{tmp_path}/l.db"

def test_a_request_without_the_token_is_refused_401(insurer: Insurer) -> None:
    answer = TestClient(insurer).get("/admin/persons")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["error"]["where"] == "header.Authorization"


@pytest.mark.parametrize("header", ["Bearer wrong", "Bearer secret2", "Basic c2VjcmV0",
                                    "secret", "Bearer "])
def test_a_wrong_token_is_refused_401(insurer: Insurer, header: str) -> None:
    answer = TestClient(insurer).get("/admin/clock", headers={"Authorization": header})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"


def test_the_right_token_passes_from_any_address(insurer: Insurer) -> None:
    client = TestClient(insurer, client=("203.0.113.9", 50000),
                        headers={"Authorization": "Bearer secret"})
    assert client.get("/admin/clock").status_code == 200


def test_a_refused_write_changes_nothing(insurer: Insurer) -> None:
    answer = TestClient(insurer).put("/admin/faults", json={"faults": [{"effect": "refuse"}]})
    assert answer.status_code == 401
    assert insurer.service.faults.plan().faults == ()


@pytest.fixture
def open_insurer(tmp_path: Path) -> Iterator[Insurer]:
    made = make_insurer(tmp_path, token=None)
    yield made
    made.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_without_a_token_loopback_is_served(open_insurer: Insurer, host: str) -> None:
    answer = TestClient(open_insurer, client=(host, 50000)).get("/admin/settings")
    assert answer.status_code == 200
    assert answer.json()["admin_auth"] == "loopback"


@pytest.mark.parametrize("host", ["10.0.0.5", "192.168.1.20", "testclient", "::2"])
def test_without_a_token_other_hosts_are_refused_403(open_insurer: Insurer, host: str) -> None:
    answer = TestClient(open_insurer, client=(host, 50000)).get("/admin/settings")
    assert answer.status_code == 403
    assert answer.json()["error"]["where"] == "client"


def test_the_openapi_description_and_schemas_are_public(insurer: Insurer) -> None:
    client = TestClient(insurer, client=("198.51.100.1", 50000))
    assert client.get("/admin/openapi.json").status_code == 200
    assert client.get("/schemas/").status_code == 200
    assert client.get("/schemas/2207.input.json").status_code == 200


def test_the_gateway_and_health_need_no_admin_token(insurer: Insurer) -> None:
    assert TestClient(insurer).get("/health").status_code == 200


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1")
    assert not is_loopback(None) and not is_loopback("") and not is_loopback("localhost")


def test_over_a_real_socket_loopback_is_served_without_a_token(open_insurer: Insurer) -> None:
    with start_in_thread(open_insurer) as server:
        answer = requests.get(f"{server.url}/admin/clock", timeout=10)
        assert answer.status_code == 200
        assert answer.json()["business_date"] == "2026-03-02"
        assert requests.post(f"{server.url}/admin/reset", timeout=10).status_code == 200
