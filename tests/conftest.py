"""Fixtures shared by every test package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import TempPostgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[TempPostgres]:
    """A PostgreSQL server for the whole session (installed and started when needed)."""
    server = TempPostgres()
    server.start()
    try:
        yield server
    finally:
        server.stop()
