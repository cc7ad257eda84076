"""Documents the insurer serves as they are: the transactions' JSON Schemas and the admin
API's OpenAPI description.

``GET /schemas/`` lists the JSON Schema files of :mod:`mock_insurer.schemas` (Draft 2020-12,
one per transaction and direction, plus the envelopes) and ``GET /schemas/<name>.json`` serves
one, byte for byte. These are public (a HIS vendor reads them), so they need no admin token.
``GET /admin/openapi.json`` serves ``openapi.yaml`` beside this module as JSON (OpenAPI 3.1),
and ``GET /admin/`` an index of the operations it describes.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import yaml
from starlette.responses import Response
from starlette.routing import Route

import mock_insurer
from mock_insurer.admin.errors import NotFound
from mock_insurer.admin.web import AdminCall, Op, routes

__all__ = ["OPENAPI_FILE", "SCHEMA_DIR", "openapi", "openapi_ops", "schema_names",
           "schemas_routes"]

SCHEMA_DIR = Path(mock_insurer.__file__).resolve().parent / "schemas"
OPENAPI_FILE = Path(__file__).resolve().parent / "openapi.yaml"
SCHEMA_MEDIA_TYPE = "application/schema+json"

_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]*")


@functools.cache
def openapi() -> dict[str, Any]:
    """The admin API's OpenAPI description (read once from ``openapi.yaml``)."""
    data = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "openapi.yaml must hold a mapping"
    return data


def schema_names() -> list[str]:
    """Names of the served schemas (``2207.input``, ``envelope.request``, ...), sorted."""
    return sorted(path.name[: -len(".json")] for path in SCHEMA_DIR.glob("*.json"))


def _schema_entry(name: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "url": f"/schemas/{name}.json"}
    try:
        document = json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return entry
    if isinstance(document, dict):
        for key, field in (("$id", "id"), ("title", "title")):
            if isinstance(document.get(key), str):
                entry[field] = document[key]
    return entry


def _index(call: AdminCall) -> dict[str, Any]:
    return {"schemas": [_schema_entry(name) for name in schema_names()]}


def _document(call: AdminCall) -> Response:
    name = str(call.path.get("name", ""))
    if not _NAME.fullmatch(name) or name not in schema_names():
        raise NotFound(f"no schema {name[:100]!r}; GET /schemas/ lists them", where="path.name")
    content = (SCHEMA_DIR / f"{name}.json").read_bytes()
    return Response(content, media_type=SCHEMA_MEDIA_TYPE)


def _openapi(call: AdminCall) -> dict[str, Any]:
    return openapi()


def _admin_index(call: AdminCall) -> dict[str, Any]:
    """What the CLI points people at (``/admin/``): where the description is, and every
    operation with its summary."""
    operations = [
        {"method": method.upper(), "path": path, "summary": operation.get("summary", "")}
        for path, item in openapi()["paths"].items() for method, operation in item.items()]
    return {"title": openapi()["info"]["title"], "openapi": "/admin/openapi.json",
            "guide": "docs/admin-api.md", "schemas": "/schemas/", "operations": operations}


def openapi_ops() -> list[Op]:
    """``GET /openapi.json`` and the index ``GET /`` under the ``/admin`` mount (public)."""
    return [Op("GET", "/openapi.json", _openapi), Op("GET", "/", _admin_index)]


def schemas_routes() -> list[Route]:
    """The routes under the ``/schemas`` mount."""
    return routes([Op("GET", "/", _index), Op("GET", "/{name}.json", _document)])
