"""The admin API against its own OpenAPI description, with schemathesis: no 5xx for anything
the description allows or any near miss of it, and every answer conforms to the description.

Checks: status codes, content types and bodies as described; schema-violating requests
refused (4xx); the token not ignored. Not ``positive_data_acceptance``: a request can match
the description and still be refused 422 for what a schema cannot say (a fault plan whose
window ends before it starts, a path to a file that does not exist, 30 February).
Seeded (``derandomize``) so that a run is repeatable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openapi_spec_validator
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks

from mock_insurer.admin import openapi

from .conftest import TOKEN, make_insurer, write_settled_visit


@pytest.fixture
def admin_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The description as the insurer serves it, bound to that insurer (with one settled
    visit, so that the detail endpoints have something to find)."""
    insurer = make_insurer(Path(tmp_path_factory.mktemp("schemathesis")))
    write_settled_visit(insurer)
    yield schemathesis.openapi.from_asgi("/admin/openapi.json", insurer)
    insurer.close()


schema = schemathesis.pytest.from_fixture("admin_schema")

CHECKS = [schemathesis.checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_schema_conformance,
          checks.negative_data_rejection, checks.ignored_auth, checks.unsupported_method]


def _with_token(case: Any) -> None:
    """Put the real token where the case carries a well-formed bearer header; a case that
    leaves the header out or garbles it (a negative case) goes as generated and must be
    answered 401."""
    headers = dict(case.headers or {})
    value = headers.get("Authorization")
    if isinstance(value, str) and value.startswith("Bearer "):
        headers["Authorization"] = f"Bearer {TOKEN}"
    case.headers = headers


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_admin_api_conforms(case: Any) -> None:
    _with_token(case)
    response = case.call_and_validate(checks=CHECKS)
    assert response.status_code < 500


def test_description_is_valid_openapi_3_1() -> None:
    document = openapi()
    assert document["openapi"].startswith("3.1")
    openapi_spec_validator.validate(document)
