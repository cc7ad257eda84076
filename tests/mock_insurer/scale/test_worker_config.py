"""The worker factory's configuration (an environment variable the CLI sets) and the CLI's
refusal of several processes over SQLite. Fast: no server, no PostgreSQL."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardsettle.cli.insurer import insurer as insurer_cli
from mock_insurer.gateway import Insurer, InsurerConfig
from mock_insurer.gateway.worker import (
    CONFIG_ENV,
    WorkerConfigError,
    WorkerSpec,
    create_app,
    decode_config,
    encode_config,
    refmsgid_start,
)
from mock_insurer.transactions import Settings
from tests.mock_insurer.gateway import dataset


def test_the_config_survives_the_trip_through_the_environment() -> None:
    config = InsurerConfig(
        db_url="postgresql://u@127.0.0.1/db", population=Path("p.jsonl"), policy="beijing",
        auth="tif", settings=Settings(mode="tolerant", require_signin=False,
                                      amounts_check="warn"),
        admin_token="s3cret", area="500000", durability="normal", fresh=True, processes=3,
        host_names=("insurer.local",))
    decoded, spec = decode_config(encode_config(
        config, WorkerSpec(business_date=date(2026, 3, 2), announce=True, listen="http://x")))
    assert (decoded.db_url, decoded.auth, decoded.settings, decoded.admin_token, decoded.area,
            decoded.durability) == (config.db_url, "tif", config.settings, "s3cret", "500000",
                                    "normal")
    # a worker never loads files nor drops the ledger: the parent did that once
    assert decoded.population is None and decoded.fresh is False
    assert decoded.refmsgid_start == refmsgid_start(os.getpid())
    assert decoded.processes == 3  # /admin/settings says it: scenarios and drills refuse it
    assert decoded.host_names == ("insurer.local",)  # the admin API's Host check in each worker
    assert spec == WorkerSpec(business_date=date(2026, 3, 2), announce=True, listen="http://x")


def test_workers_draw_refmsgids_from_different_blocks() -> None:
    assert refmsgid_start(4242) != refmsgid_start(4243)
    assert refmsgid_start(12_345) < 10**10  # fits the 10-digit sequence


@pytest.mark.parametrize("text, where", [
    ("not json", "not JSON"), ("[]", "JSON object"), ("{}", "db_url"),
    ('{"db_url": "sqlite://", "settings": {"speed": 1}}', "speed"),
    ('{"db_url": "sqlite://", "business_date": "2-3-2026"}', "business_date"),
    ('{"db_url": "sqlite://", "processes": 0}', "processes"),
])
def test_a_bad_worker_config_says_what_is_wrong(text: str, where: str) -> None:
    with pytest.raises(WorkerConfigError, match=where):
        decode_config(text)


def test_create_app_without_the_variable_says_how_to_start_workers() -> None:
    with pytest.raises(WorkerConfigError, match="--workers"):
        create_app({})


def test_create_app_opens_the_ledger_without_loading_and_announces(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = dataset.write(tmp_path)
    url = f"sqlite:///{tmp_path}/ledger.db"
    loaded = Insurer.open(InsurerConfig(db_url=url, population=paths["population"],
                                        catalogue=paths["catalogue"],
                                        institutions=paths["institutions"], fresh=True))
    counts = loaded.counts()
    loaded.close()
    env = {CONFIG_ENV: encode_config(InsurerConfig(db_url=url), WorkerSpec(
        business_date=date(2026, 3, 2), announce=True, listen="http://127.0.0.1:9"))}
    app = create_app(env)
    try:
        assert app.counts() == counts  # the same data, not loaded twice
        assert app.clock.now().date() == date(2026, 3, 2)
    finally:
        app.close()
    line = capsys.readouterr().out
    assert f"worker pid {os.getpid()}:" in line and "http://127.0.0.1:9" in line
    assert "business time 2026-03-02" in line


def test_several_workers_over_sqlite_are_refused_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(insurer_cli, [
        "serve", "--workers", "2", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "PostgreSQL" in result.output and "one writer" in result.output
    assert not (tmp_path / "insurer.db").exists()  # refused before touching anything


@pytest.mark.parametrize("fresh", [[], ["--fresh"]])
def test_a_postgresql_server_that_cannot_be_reached_is_one_line(tmp_path: Path,
                                                                fresh: list[str]) -> None:
    """No traceback: the URL (without its password), the driver's reason and what to check."""
    import socket

    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = CliRunner().invoke(insurer_cli, [
        "serve", "--data-dir", str(tmp_path), *fresh,
        "--db", f"postgresql://postgres:secret@127.0.0.1:{port}/cardsettle"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert f"cannot open the ledger postgresql://postgres:***@127.0.0.1:{port}/cardsettle" in lines[0]
    assert "Connection refused" in lines[0] and "is the PostgreSQL server running" in lines[0]
    assert "secret" not in result.output


def test_a_port_in_use_is_one_line_before_anything_is_loaded(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(insurer_cli, [
            "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: cannot listen on 127.0.0.1:{port}: "
                                     "Address already in use")
    assert not (tmp_path / "data").exists()  # nothing generated, no ledger
