"""Fixtures for the reference HIS's tests: :class:`Rig` (tests/simulator/his/rig.py) with a
real mock insurer and the reference HIS's driver API, both served on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.server import start_in_thread
from mock_insurer.transactions import Settings
from simulator.his.api import driver_app
from simulator.his.app import ReferenceHis
from simulator.his.catalogue import ItemTable
from simulator.his.config import HisConfig
from simulator.his.driver import HttpHisDriver
from tests.simulator.his.rig import HOSPITAL, START, Rig, write_dataset


@pytest.fixture
def make_rig(tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    """Build a rig; keyword options go to :class:`HisConfig` (e.g. ``timeout=0.5``). ``data``
    (paths of population, catalogue, institutions) and ``institution`` replace the dataset and
    the tier-3 hospital; ``his_class`` replaces the reference HIS (e.g. a broken variant's);
    ``insurer_auth`` is the insurer's gateway authentication (pass the HIS's ``auth`` too);
    ``items`` replaces the HIS's item table (by default the dataset's catalogue's)."""
    opened: list[Rig] = []

    def make(*, data: dict[str, Path] | None = None, institution: str = HOSPITAL,
             his_class: type[ReferenceHis] = ReferenceHis, insurer_auth: str = "none",
             items: ItemTable | None = None, **options: Any) -> Rig:
        paths = data or write_dataset(tmp_path)
        insurer = Insurer.open(InsurerConfig(
            db_url=f"sqlite:///{tmp_path}/insurer-{len(opened)}.db", population=paths["population"],
            catalogue=paths["catalogue"], institutions=paths["institutions"],
            settings=Settings(), admin_token="secret",
            wall=FixedClock(START, timedelta(milliseconds=10)), fresh=True, auth=insurer_auth))
        insurer_server = start_in_thread(insurer)
        options.setdefault("timeout", 2.0)
        his = his_class(HisConfig(
            insurer_url=insurer_server.url, fixmedins_code=institution,
            fixmedins_name="北京测试第三医院", mdtrtarea_admvs=institution[1:7],
            db_url=f"sqlite:///{tmp_path}/his-{len(opened)}.db",
            items=items or ItemTable.load(paths["catalogue"], institution),
            clock=FixedClock(START, timedelta(seconds=1)), **options))
        his_server = start_in_thread(driver_app(his))
        rig = Rig(insurer, insurer_server, his, his_server, HttpHisDriver(his_server.url))
        opened.append(rig)
        return rig

    yield make
    for rig in opened:
        rig.driver.close()
        stopping = [threading.Thread(target=server.stop)
                    for server in (rig.his_server, rig.insurer_server)]
        for thread in stopping:  # each stop waits for uvicorn's loop: stop both at once
            thread.start()
        for thread in stopping:
            thread.join()
        rig.his.close()
        rig.insurer.close()


@pytest.fixture
def rig(make_rig: Callable[..., Rig]) -> Rig:
    return make_rig()
