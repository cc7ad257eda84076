"""The ledger's database goes away under a running insurer (PostgreSQL stopped, connections
cut): every answer says so as JSON with a 503 — the national interface an envelope that tells
the HIS to send the same msgid again, the admin API its JSON error, /health the ledger's
state — never a plain-text 500; and when the database is back the insurer goes on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import requests

from mock_insurer.client import InsurerClient
from mock_insurer.client.errors import GatewayError
from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.server import start_in_thread
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import START, make_client
from tests.mock_insurer.gateway.driver import Window
from tests.support.postgres import TempPostgres

pytestmark = pytest.mark.postgres


@contextmanager
def database_down(postgres: TempPostgres, db_url: str) -> Iterator[None]:
    """No connection to the ledger's database is possible; those open are cut."""
    name = db_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.base_url + "/postgres", autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s", (name,))
        try:
            yield
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def test_a_database_outage_is_a_json_503_and_the_insurer_recovers(
        postgres: TempPostgres, tmp_path: Path) -> None:
    db_url = postgres.new_database()
    paths = dataset.write(tmp_path)
    insurer = Insurer.open(InsurerConfig(
        db_url=db_url, population=paths["population"], catalogue=paths["catalogue"],
        institutions=paths["institutions"], admin_token="secret",
        wall=FixedClock(START, timedelta(milliseconds=10)), fresh=True))
    with start_in_thread(insurer) as running:
        client: InsurerClient = make_client(running.url)
        client.sign_in(opter_no="C01", mac="m", ip="127.0.0.1")
        window = Window(client)
        window.visit(1, [("001102000010000", "1")])
        admin = {"Authorization": "Bearer secret"}
        with database_down(postgres, db_url):
            with pytest.raises(GatewayError) as cut:
                window.register(2)
            assert cut.value.status == 503 and cut.value.effect == "unknown"
            envelope = json.loads(cut.value.body)
            assert envelope["infcode"] == -1 and "同一报文ID" in envelope["err_msg"]
            listed = requests.get(f"{running.url}/admin/settlements", headers=admin, timeout=10)
            assert listed.status_code == 503
            assert listed.json()["error"]["code"] == "ledger_unavailable"
            assert "secret" not in listed.text
            health = requests.get(f"{running.url}/health", timeout=10)
            assert health.status_code == 503 and health.json()["status"] == "ledger_unavailable"
        assert requests.get(f"{running.url}/health", timeout=10).status_code == 200
        assert window.visit(2, [("001102000010000", "1")]).output["setlinfo"]["setl_id"]
        client.close()
    insurer.close()
