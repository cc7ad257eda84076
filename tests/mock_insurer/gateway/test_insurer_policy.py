"""The insurer with a region's own policy profile (`cardsettle insurer serve --policy FILE`):
a refused profile or data file refuses the start before anything is dropped or written
(`--fresh` included); the banner and /admin/settings name the profile; a profile not in force
on the business date is said at start; and a settlement the profile cannot price is a refusal
with a clear err_msg, never an HTTP 500."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import update
from starlette.testclient import TestClient

from cardsettle.cli.insurer import insurer as insurer_cli
from mock_insurer.client.errors import InsurerRefusal
from mock_insurer.errors import InsurerError
from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.ledger import Ledger
from mock_insurer.ledger.schema import institutions
from mock_insurer.policy.parameters import profile_document
from mock_insurer.server import start_in_thread
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import START, make_client
from tests.mock_insurer.gateway.driver import Window

CONSULTATION = ("001102000010000", "1")  # 甲类 诊查费 30.00


def _region(directory: Path, name: str = "myregion", **later: str) -> Path:
    """beijing's profile under another name, with the parameters named in ``later``
    (dotted path -> first date) starting on that date instead."""
    data, _ = profile_document("beijing")
    data = copy.deepcopy(data)
    data["name"] = name
    for dotted, day in later.items():
        node = data
        for key in dotted.split("."):
            node = node[key]
        node["values"] = {day: next(iter(node["values"].values()))}
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _broken_profile(directory: Path) -> Path:
    path = directory / "broken.yaml"
    path.write_text(_region(directory).read_text(encoding="utf-8").replace(
        "- community\n  - '1'\n", "- community\n", 1), encoding="utf-8")
    return path


def _config(tmp_path: Path, db_url: str, *, policy: str = "beijing",
            **overrides: Any) -> InsurerConfig:
    paths = dataset.write(tmp_path)
    files = {"population": paths["population"], "catalogue": paths["catalogue"],
             "institutions": paths["institutions"], **overrides}
    return InsurerConfig(db_url=db_url, policy=policy, admin_token="secret",
                         wall=FixedClock(START, timedelta(milliseconds=10)), fresh=True,
                         **files)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Any]:
    """Start an insurer over a SQLite ledger with a given policy; yields ``start(policy)`` ->
    (insurer, a signed-in Window at the tier-3 hospital)."""
    running: list[Any] = []

    def start(policy: str) -> tuple[Insurer, Window]:
        insurer = Insurer.open(_config(tmp_path, f"sqlite:///{tmp_path}/ledger.db",
                                       policy=policy))
        server = start_in_thread(insurer)
        client = make_client(server.url)
        running.append((insurer, server, client))
        client.sign_in(opter_no="C01", mac="m", ip="127.0.0.1")
        return insurer, Window(client)

    yield start
    for insurer, server, client in running:
        client.close()
        server.stop()
        insurer.close()


# -- item 3: nothing is dropped or written before every input is checked ----------------------
def _ledger_with_a_settlement(tmp_path: Path, db_url: str) -> str:
    insurer = Insurer.open(_config(tmp_path, db_url))
    try:
        with start_in_thread(insurer) as running:
            client = make_client(running.url)
            client.sign_in(opter_no="C01", mac="m", ip="127.0.0.1")
            answer = Window(client).visit(1, [CONSULTATION])
            client.close()
    finally:
        insurer.close()
    assert answer.ok, answer.err_msg
    return str(answer.output["setlinfo"]["setl_id"])


def _settlement_is_there(db_url: str, setl_id: str) -> bool:
    ledger = Ledger(db_url)
    try:
        with ledger.read() as tx:
            return tx.settlement(setl_id) is not None
    finally:
        ledger.dispose()


def test_serve_fresh_with_a_refused_profile_keeps_the_ledger_and_writes_nothing(
        tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/ledger.db"
    setl_id = _ledger_with_a_settlement(tmp_path, db_url)
    broken = _broken_profile(tmp_path)
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(insurer_cli, [
        "serve", "--port", "0", "--db", db_url, "--data-dir", str(data_dir), "--fresh",
        "--policy", str(broken)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {broken}: tier_groups: tier 1 is in no group (every institution tier — "
        "community, 1, 2, 3 — must be in exactly one group, or every settlement at it fails)"]
    assert _settlement_is_there(db_url, setl_id)  # --fresh dropped nothing
    assert not data_dir.exists()  # no default population, catalogue or institutions written


def test_a_fresh_start_with_a_refused_data_file_keeps_the_ledger(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/ledger.db"
    setl_id = _ledger_with_a_settlement(tmp_path, db_url)
    twice = tmp_path / "twice.jsonl"
    twice.write_bytes(b"".join(orjson.dumps(p) + b"\n"
                               for p in [*dataset.PERSONS, dataset.PERSONS[0]]))
    with pytest.raises(InsurerError) as refused:
        Insurer.open(_config(tmp_path, db_url, population=twice))
    assert str(refused.value) == (f"{twice}:{len(dataset.PERSONS) + 1}: duplicate psn_no "
                                  f"{dataset.PERSONS[0]['psn_no']} (first on line 1)")
    assert _settlement_is_there(db_url, setl_id)


def test_a_given_catalogue_is_checked_against_the_default_institutions_before_fresh(
        tmp_path: Path) -> None:
    """--catalogue without --institutions: its mappings are checked against the generated
    institutions before --fresh drops anything; the generated files go again."""
    db_url = f"sqlite:///{tmp_path}/ledger.db"
    setl_id = _ledger_with_a_settlement(tmp_path, db_url)
    (tmp_path / "own").mkdir()
    paths = dataset.write(tmp_path / "own")  # maps the test's own institutions only
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(insurer_cli, [
        "serve", "--port", "0", "--db", db_url, "--data-dir", str(data_dir), "--fresh",
        "--catalogue", str(paths["catalogue"])])
    assert result.exit_code == 1
    assert str(paths["catalogue"]) in result.output and "fixmedins_code" in result.output
    assert _settlement_is_there(db_url, setl_id)
    assert not data_dir.exists()


def test_own_institutions_get_a_catalogue_of_their_own(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Insurer] = []
    cli_module = sys.modules["cardsettle.cli.insurer"]
    monkeypatch.setattr(cli_module, "run", lambda app, **_: started.append(app))
    (tmp_path / "own").mkdir()
    paths = dataset.write(tmp_path / "own")
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(insurer_cli, [
        "serve", "--port", "0", "--data-dir", str(data_dir), "--fresh",
        "--institutions", str(paths["institutions"])])
    for app in started:
        app.close()
    assert result.exit_code == 0, result.output
    own = paths["institutions"].stem
    assert sorted(p.name for p in data_dir.glob("*.jsonl")) == [
        f"catalogue-1-for-{own}.jsonl", "persons-1-1000.jsonl"]  # no default institutions


@pytest.mark.parametrize(("args", "says"), [
    (["--seed", "-1"], "--seed"),
    (["--persons", "999999999999"], "--persons"),
    (["--data-dir", "/proc/x"], "--data-dir /proc/x: cannot write there"),
])
def test_serve_options_out_of_range_name_the_option(tmp_path: Path, args: list[str],
                                                     says: str) -> None:
    result = CliRunner().invoke(insurer_cli, [
        "serve", "--port", "0", "--db", f"sqlite:///{tmp_path}/ledger.db", *args])
    assert result.exit_code != 0 and says in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- items 8 and 10: the banner names the profile and says when it is not in force ------------
def _serve_banner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: str,
                  business_date: str) -> list[str]:
    started: list[Insurer] = []
    cli_module = sys.modules["cardsettle.cli.insurer"]  # the package's name is the group's
    monkeypatch.setattr(cli_module, "run", lambda app, **_: started.append(app))
    paths = dataset.write(tmp_path)
    result = CliRunner().invoke(insurer_cli, [
        "serve", "--port", "0", "--data-dir", str(tmp_path / "data"), "--fresh",
        "--policy", policy, "--business-date", business_date,
        "--population", str(paths["population"]), "--catalogue", str(paths["catalogue"]),
        "--institutions", str(paths["institutions"])])
    for app in started:
        app.close()
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_the_banner_names_the_profile_file_and_a_parameter_not_yet_in_force(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _region(tmp_path, **{"schemes.310.pool.ratio.secondary.retired": "2026-06-01"})
    monkeypatch.chdir(tmp_path)
    lines = _serve_banner(tmp_path, monkeypatch, "myregion.yaml", "2026-03-02")
    assert f"  policy   myregion ({tmp_path / 'myregion.yaml'})" in lines
    assert ("  note     on the business date 2026-03-02 the policy profile has no value yet for "
            "schemes.310.pool.ratio.secondary.retired (from 2026-06-01); it is in force in full "
            "from 2026-06-01, and until then what needs them is refused (policy_not_in_force)"
            ) in lines


def test_the_banner_says_when_no_parameter_is_in_force(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _serve_banner(tmp_path, monkeypatch, "beijing", "2019-12-01")
    assert "  policy   beijing" in lines
    assert ("  note     the policy profile has no parameters in force on the business date "
            "2019-12-01: its first values hold from 2020-01-01, all from 2020-01-01; until then "
            "2204-2207 are refused (policy_not_in_force)") in lines


def test_the_banner_has_no_note_when_every_parameter_is_in_force(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = _serve_banner(tmp_path, monkeypatch, "beijing", "2026-03-02")
    assert "  policy   beijing" in lines
    assert not any(line.startswith("  note") for line in lines)


def test_admin_settings_names_the_profile_and_its_resolved_file(tmp_path: Path) -> None:
    path = _region(tmp_path)
    insurer = Insurer.open(_config(tmp_path, f"sqlite:///{tmp_path}/ledger.db",
                                   policy=str(path)))
    try:
        settings = TestClient(insurer, headers={"Authorization": "Bearer secret"}).get(
            "/admin/settings").json()
    finally:
        insurer.close()
    assert settings["policy"] == f"myregion ({path.resolve()})"


# -- items 4 and 8: what the profile cannot price is a refusal, never a 500 -------------------
def test_a_split_branch_not_yet_in_force_refuses_only_the_settlements_that_need_it(
        tmp_path: Path, served: Any) -> None:
    path = _region(tmp_path, **{"schemes.310.pool.ratio.secondary.retired": "2026-06-01"})
    _insurer, window = served(str(path))
    in_service = window.visit(1, [CONSULTATION])  # 张伟, 310 in service, tier 3
    assert in_service.ok, in_service.err_msg
    mdtrt_id = window.register(2)  # 王秀英, 310 retired
    window.diagnose(2, mdtrt_id)
    uploaded = window.upload([window.row(2, mdtrt_id, *CONSULTATION)])
    assert uploaded.ok, uploaded.err_msg  # the line checks are in force
    with pytest.raises(InsurerRefusal) as refused:
        window.pre_settle(2, mdtrt_id, Decimal("30.00"))
    assert refused.value.err_msg == ("FSI-业务日期2026-03-02没有生效的医保政策参数，请核对结算日期"
                                     "[inf_time]")


def test_an_institution_tier_in_no_tier_group_is_refused_in_words_not_a_500(
        tmp_path: Path, served: Any) -> None:
    insurer, window = served("beijing")
    with insurer.ledger.engine.begin() as conn:  # a tier no loader lets in: a ledger edited by hand
        conn.execute(update(institutions).where(
            institutions.c.fixmedins_code == dataset.HOSPITAL).values(tier="4"))
    insurer.service.reload_institutions()
    mdtrt_id = window.register(1)
    window.diagnose(1, mdtrt_id)
    assert window.upload([window.row(1, mdtrt_id, *CONSULTATION)]).ok
    with pytest.raises(InsurerRefusal) as refused:  # an answer with infcode -1, not a 500
        window.pre_settle(1, mdtrt_id, Decimal("30.00"))
    assert refused.value.err_msg == (
        "FSI-医保政策参数不能用于本次结算，请联系医保经办机构核对政策配置：policy profile beijing has "
        "no tier group for institution tier '4' (its tier_groups hold community, 1, 2, 3)[data]")
