"""A scenario or a drill sets the insurer's business clock and fault plan, which each process
of `cardsettle insurer serve --workers N` keeps for itself: an insurer served by several
processes is refused up front, with why and what to do."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.server import start_in_thread
from scenarios.errors import HarnessError
from scenarios.insurer_admin import InsurerAdmin
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import START


@pytest.mark.parametrize("processes", [1, 2])
def test_an_insurer_of_several_processes_is_refused(tmp_path: Path, processes: int) -> None:
    paths = dataset.write(tmp_path)
    insurer = Insurer.open(InsurerConfig(
        db_url=f"sqlite:///{tmp_path}/ledger.db", population=paths["population"],
        catalogue=paths["catalogue"], institutions=paths["institutions"],
        wall=FixedClock(START, timedelta(milliseconds=10)), fresh=True, processes=processes))
    try:
        with start_in_thread(insurer) as running:
            admin = InsurerAdmin(running.url)
            assert admin.settings()["processes"] == processes
            if processes == 1:
                admin.require_one_process("a scenario")
            else:
                with pytest.raises(HarnessError) as refused:
                    admin.require_one_process("a scenario")
                assert "runs 2 processes (--workers 2)" in str(refused.value)
                assert "start it with one process" in str(refused.value)
            admin.close()
    finally:
        insurer.close()
