"""The documents the insurer serves: the transactions' JSON Schemas and the admin API's
OpenAPI description."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from starlette.testclient import TestClient

from mock_insurer.admin import admin_app, openapi, schemas_app
from mock_insurer.admin.documents import SCHEMA_DIR
from mock_insurer.gateway import Insurer


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The documents do not depend on the ledger: SQLite only."""
    return f"sqlite:///{tmp_path}/l.db"

def test_the_index_lists_every_schema_file(client: TestClient) -> None:
    index = client.get("/schemas/").json()["schemas"]
    names = {entry["name"] for entry in index}
    assert names == {path.name.removesuffix(".json") for path in SCHEMA_DIR.glob("*.json")}
    assert {"2207.input", "2207.output", "envelope.request"} <= names
    entry = next(e for e in index if e["name"] == "2207.input")
    assert entry["url"] == "/schemas/2207.input.json"
    assert entry["id"] == "urn:cardsettle:schema:2207.input"


def test_every_listed_schema_is_served_as_it_is_kept(client: TestClient) -> None:
    for entry in client.get("/schemas/").json()["schemas"]:
        answer = client.get(entry["url"])
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/schema+json")
        assert answer.content == (SCHEMA_DIR / f"{entry['name']}.json").read_bytes()
        Draft202012Validator.check_schema(json.loads(answer.content))


@pytest.mark.parametrize("path", ["/schemas/9999.input.json", "/schemas/..%2Fcatalog.py.json",
                                  "/schemas/catalog.py", "/schemas/.json", "/schemas/x"])
def test_an_unknown_schema_is_a_json_404(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_the_openapi_description_is_served_as_kept(client: TestClient) -> None:
    answer = client.get("/admin/openapi.json")
    assert answer.status_code == 200
    assert answer.json() == openapi()


def test_the_description_names_every_route(client: TestClient) -> None:
    """Every operation the description lists answers something other than 404/405 for its
    method (so the description and the routes cannot drift apart)."""
    for path, item in openapi()["paths"].items():
        concrete = (path.replace("{psn_no}", "x").replace("{code}", "x")
                    .replace("{med_list_codg}", "x").replace("{id}", "1")
                    .replace("{mdtrt_id}", "x").replace("{setl_id}", "x")
                    .replace("{name}", "2207.input"))
        for method in item:
            answer = client.request(method.upper(), concrete, json={})
            allowed = answer.status_code != 405 and not (
                answer.status_code == 404 and answer.json()["error"]["where"] == "path")
            assert allowed, (method, path, answer.text)


def test_every_route_is_described(insurer: Insurer) -> None:
    described = {(path, method.upper()) for path, item in openapi()["paths"].items()
                 for method in item}
    served = set()
    for route in admin_app(insurer).app.routes:
        served |= {("/admin" + route.path, method) for method in route.methods - {"HEAD"}}
    for route in schemas_app().routes:
        served |= {("/schemas" + route.path, method) for method in route.methods - {"HEAD"}}
    assert served == described


def test_the_admin_index_lists_every_operation(insurer: Insurer) -> None:
    index = TestClient(insurer).get("/admin/")  # public, like the description
    assert index.status_code == 200
    body = index.json()
    assert body["openapi"] == "/admin/openapi.json"
    listed = {(op["method"], op["path"]) for op in body["operations"]}
    assert ("GET", "/admin/messages") in listed and ("PUT", "/admin/faults") in listed
    assert all(op["summary"] for op in body["operations"])
