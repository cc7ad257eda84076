"""Fixtures for the insurer's end-to-end tests: a fresh insurer over a temp ledger, served on
127.0.0.1 by the real server runner, and a client SDK configured for the tier-3 hospital."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mock_insurer.client import InsurerClient
from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.server import RunningServer, start_in_thread
from mock_insurer.transactions import Settings
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.driver import Window

START = datetime(2026, 3, 2, 8, 0, 0)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every insurer test runs on both ledgers: SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    server = request.getfixturevalue("postgres")
    return str(server.new_database())


@pytest.fixture
def make_insurer(tmp_path: Path, backend_url: str) -> Iterator[Callable[..., Insurer]]:
    opened: list[Insurer] = []

    def make(db_url: str | None = None, **settings: Any) -> Insurer:
        paths = dataset.write(tmp_path)
        auth = settings.pop("auth", "none")
        config = InsurerConfig(
            db_url=db_url or backend_url, population=paths["population"],
            catalogue=paths["catalogue"], institutions=paths["institutions"], auth=auth,
            settings=Settings(**settings), admin_token="secret",
            wall=FixedClock(START, timedelta(milliseconds=10)), fresh=True)
        insurer = Insurer.open(config)
        opened.append(insurer)
        return insurer

    yield make
    for insurer in opened:
        insurer.close()


@pytest.fixture
def insurer(make_insurer: Callable[..., Insurer]) -> Insurer:
    return make_insurer()


@pytest.fixture
def server(insurer: Insurer) -> Iterator[RunningServer]:
    with start_in_thread(insurer) as running:
        yield running


@pytest.fixture
def serve(make_insurer: Callable[..., Insurer]) -> Iterator[Callable[..., tuple[Insurer, str]]]:
    """Start insurers of given settings on 127.0.0.1 (``serve(mode="tolerant")`` -> the
    insurer and its URL); all stopped after the test."""
    running: list[RunningServer] = []

    def start(**settings: Any) -> tuple[Insurer, str]:
        insurer = make_insurer(**settings)
        server = start_in_thread(insurer)
        running.append(server)
        return insurer, server.url

    yield start
    for server in running:
        server.stop()


def make_client(url: str, code: str = dataset.HOSPITAL, *, start: datetime = START,
                **options: Any) -> InsurerClient:
    """A client whose msgids start at ``start`` (two clients of one institution must not
    share a start, or their msgids collide and the insurer replays)."""
    options.setdefault("timeout", 5.0)
    return InsurerClient(url, fixmedins_code=code, fixmedins_name="测试医院",
                         mdtrtarea_admvs="110105", insuplc_admdvs="110000", opter="C01",
                         opter_name="王收费", clock=FixedClock(start, timedelta(seconds=1)),
                         **options)


@pytest.fixture
def client(server: RunningServer) -> Iterator[InsurerClient]:
    sdk = make_client(server.url)
    sdk.sign_in(opter_no="C01", mac="00-1A-2B-3C-4D-5E", ip="127.0.0.1")
    yield sdk
    sdk.close()


@pytest.fixture
def window(client: InsurerClient) -> Window:
    return Window(client)


@pytest.fixture
def server_client(server: RunningServer) -> Iterator[InsurerClient]:
    """A client that has not signed in."""
    sdk = make_client(server.url)
    yield sdk
    sdk.close()
