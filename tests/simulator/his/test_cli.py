"""``cardsettle his serve``: its configuration from options, one-line errors, and a real
process serving the driver API in front of a real insurer."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from cardsettle.cli.his import build_config, his
from mock_insurer.client import TifAuth
from simulator.his.errors import HisConfigError
from simulator.institutions import generate_institutions
from tests.simulator.his.rig import HOSPITAL, Rig, write_dataset


def test_options_make_the_configuration(tmp_path: Path) -> None:
    paths = write_dataset(tmp_path)
    config = build_config(insurer_url="http://127.0.0.1:8080/", institution=HOSPITAL,
                          catalogue=paths["catalogue"], institutions=paths["institutions"],
                          db=None, data_dir=tmp_path / "data", timeout=3.0, auth="tif",
                          portal_url="http://127.0.0.1:8080/", portal_token="s3cret")
    assert config.fixmedins_name == "北京测试第三医院" and config.mdtrtarea_admvs == "110105"
    assert (config.portal_url, config.portal_token) == ("http://127.0.0.1:8080", "s3cret")
    assert config.insurer_url == "http://127.0.0.1:8080"
    assert config.auth == TifAuth("paas03", "token03")
    assert config.db_url == f"sqlite:///{tmp_path / 'data' / f'his-{HOSPITAL}.db'}"
    assert len(config.items.items) == 8


def test_the_portal_token_defaults_to_the_hospitals_own_portal_credential(
        tmp_path: Path) -> None:
    """Not the insurer's admin token: the credential that opens the portal for this hospital
    only (docs/admin-api.md, "The settlement portal")."""
    paths = write_dataset(tmp_path)
    config = build_config(insurer_url="http://127.0.0.1:8080", institution=HOSPITAL,
                          catalogue=paths["catalogue"], institutions=paths["institutions"],
                          db=None, data_dir=tmp_path / "data", timeout=3.0, auth="none",
                          portal_url="http://127.0.0.1:8080")
    assert config.portal_token == "portal-of-the-third-hospital"
    default = build_config(insurer_url="http://127.0.0.1:8080", institution=None,
                           catalogue=None, institutions=None, db=None, data_dir=tmp_path,
                           timeout=10.0, auth="none")
    assert default.portal_token == generate_institutions(6, seed=1)[0]["credentials"]["portal"]


def test_business_date_starts_the_his_clock_on_the_insurers_day(tmp_path: Path) -> None:
    """Finance audit: a HIS on the wall clock stamped March's fees 2026-11-25 while the insurer
    was on 2026-03-03, and the review refused them as charged on another day."""
    paths = write_dataset(tmp_path)
    config = build_config(insurer_url="http://127.0.0.1:8080", institution=HOSPITAL,
                          catalogue=paths["catalogue"], institutions=paths["institutions"],
                          db=None, data_dir=tmp_path / "data", timeout=3.0, auth="none",
                          business_date=date(2026, 3, 3))
    first, later = config.clock(), config.clock()
    assert first.date() == date(2026, 3, 3) and later >= first  # time of day runs on


def test_without_files_the_insurers_default_data_is_used(tmp_path: Path) -> None:
    config = build_config(insurer_url="http://127.0.0.1:8080", institution=None,
                          catalogue=None, institutions=None, db=None, data_dir=tmp_path,
                          timeout=10.0, auth="none")
    first = generate_institutions(6, seed=1)[0]
    assert config.fixmedins_code == first["fixmedins_code"]
    assert config.fixmedins_name == first["fixmedins_name"]
    assert (tmp_path / "catalogue-1.jsonl").exists()


@pytest.mark.parametrize(("args", "says"), [
    (["--insurer-url", "ftp://x"], "--insurer-url must be http(s)://HOST:PORT"),
    (["--insurer-url", "http://127.0.0.1:1", "--institution", "H99999999999"],
     "no item mapping for institution H99999999999"),
    (["--insurer-url", "http://127.0.0.1:1", "--auth", "tif", "--catalogue", "{catalogue}",
      "--institution", HOSPITAL], "--auth tif needs --paasid and --token"),
    (["--port", "x"], "Invalid value for '--port'"),
    (["--insurer-url", "http://127.0.0.1:1", "--portal-url", "127.0.0.1:8080"],
     "--portal-url must be http(s)://HOST:PORT"),
    (["--insurer-url", "http://127.0.0.1:99999"], "--insurer-url must be http(s)://HOST:PORT"),
])
def test_bad_options_are_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    paths = write_dataset(tmp_path)
    args = [a.format(catalogue=paths["catalogue"]) for a in args]
    result = CliRunner().invoke(his, ["serve", "--data-dir", str(tmp_path), *args])
    assert result.exit_code == 1, result.output
    assert says in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(("db", "says"), [
    ("{tmp}/garbage.db", "file is not a database"),
    ("{tmp}", "unable to open database file"),
    ("postgresql://his:secret@127.0.0.1:{port}/his", "Connection refused"),
])
def test_a_database_that_cannot_be_opened_is_one_line(tmp_path: Path, db: str,
                                                       says: str) -> None:
    """Not a database, a directory, a server that is not there: one line naming --db and the
    driver's reason (the password masked), never a traceback."""
    paths = write_dataset(tmp_path)
    (tmp_path / "garbage.db").write_bytes(b"\x00\xff not sqlite " * 100)
    db = db.format(tmp=tmp_path, port=_free_port())
    result = CliRunner().invoke(his, [
        "serve", "--data-dir", str(tmp_path), "--insurer-url", "http://127.0.0.1:1",
        "--catalogue", str(paths["catalogue"]), "--institution", HOSPITAL, "--db", db])
    assert result.exit_code == 1, result.output
    assert "--db: cannot open the HIS's database" in result.output and says in result.output
    assert len(result.output.strip().splitlines()) == 1 and "secret" not in result.output


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(his, ["serve", "--data-dir", str(tmp_path / "d"),
                                          "--insurer-url", "http://127.0.0.1:1",
                                          "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.output
    assert not (tmp_path / "d").exists()


def test_build_config_refuses_an_unusable_database(tmp_path: Path) -> None:
    paths = write_dataset(tmp_path)
    config = build_config(insurer_url="http://h:1", institution=HOSPITAL,
                          catalogue=paths["catalogue"], institutions=None,
                          db=str(tmp_path / "missing" / "his.db"), data_dir=tmp_path,
                          timeout=1.0, auth="none")
    from simulator.his.app import ReferenceHis

    with pytest.raises(HisConfigError, match="directory does not exist"):
        ReferenceHis(config)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_his_serve_serves_the_driver_api(rig: Rig, tmp_path: Path) -> None:
    paths = write_dataset(tmp_path)
    port = _free_port()
    command = [sys.executable, "-c", "from cardsettle.cli.his import his; his()", "serve",
               "--insurer-url", rig.insurer_server.url, "--port", str(port),
               "--catalogue", str(paths["catalogue"]), "--institutions",
               str(paths["institutions"]), "--institution", HOSPITAL,
               "--data-dir", str(tmp_path / "data")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                info = requests.get(f"http://127.0.0.1:{port}/his/v1/info", timeout=1).json()
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert info["ok"] and info["institution"]["fixmedins_code"] == HOSPITAL
        person = {"cert_type": "02", "cert_no": "110105198001010016 "}
        identified = requests.post(f"http://127.0.0.1:{port}/his/v1/identify", json=person,
                                   timeout=10).json()
        assert identified["ok"] and identified["patient"]["psn_name"] == "张伟"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
