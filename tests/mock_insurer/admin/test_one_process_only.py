"""On an insurer served by several processes, a change that lives in one process — a fault
plan, the business clock, the console's drill, a reset or a data load (the reference data each
process keeps in memory) — is refused with 409 in words, instead of a 200 that only the
process that answered heeds (ops audit F2). Reading stays allowed."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.mock_insurer.admin.conftest import AUTH, make_insurer

CHANGES = [
    ("PUT", "/admin/faults", {"faults": []}, "a fault plan"),
    ("DELETE", "/admin/faults", None, "a fault plan"),
    ("POST", "/admin/faults/down/start", None, "a fault plan"),
    ("POST", "/admin/faults/down/stop", None, "a fault plan"),
    ("PUT", "/admin/clock", {"business_date": "2026-03-03"}, "a move of the business clock"),
    ("POST", "/admin/reset", {}, "a reset"),
    ("POST", "/admin/population", {"path": "/nonexistent"}, "a load of the population"),
    ("POST", "/admin/catalogue", {"path": "/nonexistent"}, "a load of the catalogue"),
    ("POST", "/admin/institutions", {"path": "/nonexistent"}, "a load of the institutions"),
    ("PUT", "/admin/drill", {"drill": None}, "the drill shown on the console"),
    ("DELETE", "/admin/drill", None, "the drill shown on the console"),
]


@pytest.mark.parametrize(("method", "path", "body", "what"), CHANGES,
                         ids=[f"{m} {p}" for m, p, _, _ in CHANGES])
def test_a_per_process_change_is_refused_on_several_processes(
        tmp_path: Path, method: str, path: str, body: object, what: str) -> None:
    insurer = make_insurer(tmp_path)
    try:
        insurer.config = dataclasses.replace(insurer.config, processes=2)
        client = TestClient(insurer, headers=AUTH)
        before = client.get("/admin/clock").json()
        answer = client.request(method, path, json=body)
        assert answer.status_code == 409, answer.text
        error = answer.json()["error"]
        assert (error["code"], error["where"]) == ("one_process_only", "processes")
        assert error["message"].startswith(
            f"this insurer runs 2 processes (--workers 2), and {what}")
        assert f"(pid {os.getpid()})" in error["message"]
        assert "restart the insurer with --workers 1" in error["message"]
        assert client.get("/admin/clock").json() == before  # nothing changed
        for reading in ("/admin/faults", "/admin/clock", "/admin/settings", "/admin/drill"):
            assert client.get(reading).status_code == 200, reading
    finally:
        insurer.close()


def test_one_process_changes_as_before(tmp_path: Path) -> None:
    insurer = make_insurer(tmp_path)
    try:
        client = TestClient(insurer, headers=AUTH)
        assert insurer.config.processes == 1
        assert client.put("/admin/clock", json={"business_date": "2026-03-03"}).status_code == 200
        assert client.put("/admin/faults", json={"faults": []}).status_code == 200
    finally:
        insurer.close()
