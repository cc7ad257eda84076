"""`--fresh` never empties a ledger another insurer is serving (a second insurer started with
--fresh on the same database, on another port, would wipe the first one's settlements under
it): it is refused, nothing is dropped, and once the first insurer has stopped it works."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.ledger.claim import LedgerInUse
from mock_insurer.server import start_in_thread
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import START, make_client
from tests.mock_insurer.gateway.driver import Window


def _config(db_url: str, tmp_path: Path, *, fresh: bool) -> InsurerConfig:
    paths = dataset.write(tmp_path)
    return InsurerConfig(db_url=db_url, population=paths["population"] if fresh else None,
                         catalogue=paths["catalogue"] if fresh else None,
                         institutions=paths["institutions"] if fresh else None,
                         wall=FixedClock(START, timedelta(milliseconds=10)), fresh=fresh)


def test_fresh_is_refused_while_another_insurer_serves_the_ledger(
        backend_url: str, tmp_path: Path) -> None:
    first = Insurer.open(_config(backend_url, tmp_path, fresh=True))
    try:
        with start_in_thread(first) as running:
            client = make_client(running.url)
            client.sign_in(opter_no="C01", mac="m", ip="127.0.0.1")
            setl_id = Window(client).visit(1, [("001102000010000", "1")]).output[
                "setlinfo"]["setl_id"]
            client.close()
            with pytest.raises(LedgerInUse) as refused:
                Insurer.open(_config(backend_url, tmp_path, fresh=True))
            assert "--fresh" in str(refused.value) and "nothing was dropped" in str(refused.value)
            with first.ledger.read() as tx:
                assert tx.settlement(setl_id) is not None  # still there
            second = Insurer.open(_config(backend_url, tmp_path, fresh=False))  # continuing
            second.close()
    finally:
        first.close()
    again = Insurer.open(_config(backend_url, tmp_path, fresh=True))  # the first has stopped
    try:
        with again.ledger.read() as tx:
            assert tx.settlement(setl_id) is None
    finally:
        again.close()
