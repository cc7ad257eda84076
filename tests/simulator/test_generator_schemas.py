"""Every record validates against its JSON Schema (Draft 2020-12), kept in simulator/schemas."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from simulator.catalogue import CATALOGUE_FIELDS, iter_catalogue, write_catalogue
from simulator.institutions import generate_institutions
from simulator.persons import PERSON_FIELDS
from simulator.population import write_population
from simulator.schemas import SCHEMA_KINDS, load_schema


def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(kind), format_checker=FormatChecker())


@pytest.mark.parametrize("kind", sorted(SCHEMA_KINDS))
def test_schemas_are_valid_draft_2020_12(kind: str) -> None:
    schema = load_schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def _assert_valid(kind: str, records: list[dict[str, Any]]) -> None:
    validator = _validator(kind)
    for record in records:
        errors = sorted(validator.iter_errors(record), key=str)
        assert not errors, (errors[0].message, list(errors[0].absolute_path), record)


def test_persons_validate(high_rate_persons: list[dict[str, Any]], default_persons: list[dict[str, Any]]) -> None:
    _assert_valid("person", high_rate_persons[:2500] + default_persons[:1000])
    assert list(high_rate_persons[0]) == list(PERSON_FIELDS)


def test_the_json_lines_are_canonical(tmp_path: Path) -> None:
    """Each line is exactly what orjson writes for the record (valid JSON, no escaping needed,
    keys in contract order): the templates that render persons cannot drift from JSON."""
    path = tmp_path / "p.jsonl"
    write_population(path, 3_000, 13, workers=1, edge_rates={"name_outside_gbk": 0.2, "typed_spaces": 0.2, "fullwidth_digits": 0.2})
    for line in path.read_bytes().splitlines(keepends=True):
        assert orjson.dumps(orjson.loads(line), option=orjson.OPT_APPEND_NEWLINE) == line


def test_institutions_validate() -> None:
    for seed in (1, 2, 3):
        _assert_valid("institution", generate_institutions(40, seed))
    _assert_valid("institution", generate_institutions(5, 1, admdvs="650000"))


def test_catalogue_records_validate() -> None:
    records = list(iter_catalogue(5, unmapped_rate=0.2, wrong_rate=0.2, over_cap_rate=0.5))
    for kind in ("item", "diagnosis", "mapping"):
        _assert_valid(kind, [r for r in records if r["kind"] == kind])


def test_csv_holds_the_same_records(tmp_path: Path) -> None:
    write_population(tmp_path / "p.jsonl", 300, 6, workers=1)
    write_population(tmp_path / "p.csv", 300, 6, fmt="csv", workers=1)
    records = [orjson.loads(line) for line in (tmp_path / "p.jsonl").read_bytes().splitlines()]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "p.csv").read_text(encoding="utf-8"), newline="")))
    assert len(rows) == len(records)
    for row, record in zip(rows, records, strict=True):
        assert list(row) == list(PERSON_FIELDS)
        for field, value in record.items():
            if isinstance(value, (list, dict)):
                assert orjson.loads(row[field]) == value
            elif isinstance(value, bool):
                assert row[field] == ("true" if value else "false")
            else:
                assert row[field] == ("" if value is None else str(value))
    write_catalogue(tmp_path / "c.csv", 6, fmt="csv")
    catalogue_rows = list(csv.DictReader(io.StringIO((tmp_path / "c.csv").read_text(encoding="utf-8"), newline="")))
    assert list(catalogue_rows[0]) == list(CATALOGUE_FIELDS)
    assert {r["kind"] for r in catalogue_rows} == {"item", "diagnosis", "mapping"}
