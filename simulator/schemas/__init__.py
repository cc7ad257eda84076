"""JSON Schemas (Draft 2020-12) of every record kind the generator writes, kept in the repository
as the contract with the files' readers (the mock insurer loads them)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import orjson

__all__ = ["SCHEMA_KINDS", "load_schema"]

#: Record kind -> schema file.
SCHEMA_KINDS: dict[str, str] = {
    "person": "person.schema.json",
    "institution": "institution.schema.json",
    "item": "catalogue_item.schema.json",
    "diagnosis": "diagnosis.schema.json",
    "mapping": "mapping.schema.json",
}


@cache
def _load(kind: str) -> bytes:
    return resources.files(__name__).joinpath(SCHEMA_KINDS[kind]).read_bytes()


def load_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a record kind (``person``, ``institution``, ``item``, ``diagnosis``,
    ``mapping``), as a fresh dict."""
    schema: dict[str, Any] = orjson.loads(_load(kind))
    return schema
