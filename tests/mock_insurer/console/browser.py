"""Fixtures of the console's browser tests: one insurer on SQLite (the browser is what is
tested there, not the ledger) and a page of headless Debian chromium (Playwright). A test
module takes them with ``from .browser import insurer, page``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page

from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import START
from tests.support.browser import chromium_page

from .conftest import TOKEN

__all__ = ["insurer", "page"]


@pytest.fixture
def insurer(tmp_path: Path) -> Iterator[Insurer]:
    """One insurer on SQLite (the browser is what is tested here, not the ledger)."""
    paths = dataset.write(tmp_path)
    made = Insurer.open(InsurerConfig(
        db_url=f"sqlite:///{tmp_path}/ledger.db", population=paths["population"],
        catalogue=paths["catalogue"], institutions=paths["institutions"], admin_token=TOKEN,
        wall=FixedClock(START, timedelta(milliseconds=10)), fresh=True))
    yield made
    made.close()


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium_page() as opened:
        yield opened
