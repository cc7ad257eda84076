"""Failure drills: the library runs against the reference HIS and its debriefs show nothing
lost; against a HIS that settles twice after a lost answer the debrief shows the loss to the
yuan; a drill on an insurer alone (a HIS without the driver API) is debriefed from the
insurer's record; a bad drill file names the field."""

from __future__ import annotations

import json
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardsettle.cli import main
from scenarios.data import prepare_data
from scenarios.drills.debrief import debrief
from scenarios.drills.library import DRILLS, drill_path, library_drills
from scenarios.drills.loading import load_drill, parse_drill
from scenarios.drills.report import write_debrief
from scenarios.drills.runner import Clocks, run_drill
from scenarios.errors import ScenarioFileError
from scenarios.harness import open_harness
from scenarios.library import library_path
from scenarios.loading import load_scenario
from simulator.his.operations import (
    ChargeInput,
    ChargeItem,
    IdentifyInput,
    RegisterInput,
    SettleInput,
)
from simulator.his.variants import VARIANTS

CLOCKS = Clocks(datetime.now, time.monotonic, time.sleep, time.time)
FAST = 1000.0  # a 25-minute drill in 1.5 s


def test_the_library_loads() -> None:
    drills = library_drills()
    assert {d.id for d in drills} >= {"outage-at-peak", "slow-insurer", "lost-answers",
                                      "signin-invalidated", "dayend-unbalanced"}
    assert len(drills) == len(list(DRILLS.glob("*.yaml")))


@pytest.mark.parametrize(("body", "where"), [
    ("drill: x\ntitle: t\nphases: []\n", "phases"),
    ("drill: x\ntitle: t\nphases:\n - {name: a, minutes: -1}\n", "phases[0].minutes"),
    ("drill: x\ntitle: t\nphases:\n - {name: a, minutes: 5, faults: [{effect: {kind: explode}}]}\n",
     "phases[0].faults"),
    ("drill: x\ntitle: t\nphases:\n - {name: a, minutes: 5, patients: {count: 3, windoes: 2}}\n",
     "phases[0].patients"),
])
def test_a_bad_drill_names_the_field(body: str, where: str) -> None:
    with pytest.raises(ScenarioFileError) as caught:
        parse_drill(body, source="d.yaml")
    assert caught.value.where.startswith(where), str(caught.value)


@pytest.mark.parametrize("name", sorted(p.stem for p in DRILLS.glob("*.yaml")))
def test_library_drill_against_the_reference_his_loses_nothing(name: str, tmp_path: Path) -> None:
    drill = load_drill(drill_path(name) or "")
    run = run_drill(drill, tmp_path, CLOCKS, accelerate=FAST)
    found = debrief(run)
    assert found.clean, found.to_json()
    assert found.money_at_risk["total"] == "0.00"
    assert found.compared_with_his and found.day_end["balanced"] is True
    assert [p["name"] for p in found.phases] == [p.name for p in drill.phases]
    assert sum(p["messages"] for p in found.phases) == len(run.messages) > 0
    page = write_debrief(found, tmp_path)
    assert "nothing lost" in page.read_text("utf-8")
    assert json.loads((tmp_path / "debrief.json").read_text("utf-8"))["clean"] is True


def test_a_his_that_settles_twice_shows_the_loss_to_the_yuan(tmp_path: Path) -> None:
    drill = load_drill(drill_path("lost-answers") or "")
    run = run_drill(drill, tmp_path, CLOCKS, accelerate=FAST,
                    his_class=VARIANTS["blind-resend"].his_class)
    found = debrief(run)
    assert not found.clean and found.doubles
    extra = sum((Decimal(str(row["medfee_sumamt"])) for d in found.doubles
                 for row in d["settlements"][1:]), Decimal("0"))
    assert Decimal(found.money_at_risk["settled_twice"]) == extra > 0
    assert Decimal(found.money_at_risk["total"]) >= extra
    page = write_debrief(found, tmp_path).read_text("utf-8")
    assert found.money_at_risk["total"] in page and "PROBLEMS FOUND" in page


def test_a_drill_on_the_insurer_alone_is_debriefed_from_its_record(tmp_path: Path) -> None:
    """Staff drilling a HIS without the driver API: the drill only drives the insurer; the
    visits here stand for what the cashiers do at their windows."""
    scenario = load_scenario(library_path("refunds") or "")
    data = prepare_data(scenario, tmp_path / "data")
    with open_harness(scenario, data, tmp_path / "servers", wall=datetime.now) as staff:
        token = staff.admin.session.headers["Authorization"].removeprefix("Bearer ")
        drill = parse_drill(
            "drill: staff\ntitle: 人工演练 / staff at the windows\nday_end: false\nphases:\n"
            " - {name: normal, minutes: 5}\n"
            " - {name: down, minutes: 5, faults: [{id: down, effect: {kind: refuse}}]}\n"
            " - {name: back, minutes: 5}\n")

        def cashiers(n: int, _phase: object) -> None:
            person = data.persons[n]
            card = person["cards"][-1]
            his = staff.his
            who = his.identify(IdentifyInput("03", card["card_no"], card_sn=card["card_sn"]))
            if not who.ok:
                return
            visit = his.register(RegisterInput(str(who["patient"]["patient_id"]), "A03", "D1"))
            code = data.mappings[0]["medins_list_codg"]
            visit_id = str(visit["visit"]["visit_id"])
            his.charge(visit_id, ChargeInput((ChargeItem(code, Decimal(1)),), ("J06.900",)))
            his.settle(visit_id, SettleInput())

        run = run_drill(drill, tmp_path / "drill", CLOCKS, accelerate=FAST,
                        insurer_url=staff.insurer_url, admin_token=token,
                        institution=staff.fixmedins_code, on_phase=cashiers)
        shown = staff.admin.drill()  # what the console shows
        assert shown["drill"] == "staff" and shown["state"] == "finished"
        assert [p["name"] for p in shown["phases"]] == ["normal", "down", "back"]
        assert shown["phases"][0]["start"].endswith("+00:00")
    found = debrief(run)
    assert not found.compared_with_his and run.his_ledger is None
    assert [p["settled"] for p in found.phases] == [1, 0, 1]
    assert found.phases[1]["failed"] > 0 and found.phases[1]["ok"] == 0
    assert found.recovery[0]["seconds_to_first_settlement"] is not None
    assert "insurer record only" in write_debrief(found, tmp_path / "drill").read_text("utf-8")


def test_the_command(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["drill", "list"])
    assert listed.exit_code == 0 and "outage-at-peak" in listed.output
    done = runner.invoke(main, ["drill", "run", "signin-invalidated", "--accelerate", "1000",
                                "--report", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert "nothing lost" in done.output and (tmp_path / "debrief.html").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text("drill: x\ntitle: t\nphases:\n - {name: a}\n", "utf-8")
    checked = runner.invoke(main, ["drill", "check", str(bad)])
    assert checked.exit_code == 2 and "phases[0]" in checked.output


def test_a_seed_outside_0_to_2_63_is_refused_by_drill_check(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("drill: x\ntitle: t\nseed: 99999999999999999999999\n"
                    "phases:\n - {name: a, minutes: 5}\n", "utf-8")
    for command in ("check", "run"):
        result = CliRunner().invoke(main, ["drill", command, str(path)])
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1, (command, result.output)
        assert "seed: 99999999999999999999999 is greater than the maximum" in lines[0]
    assert [p.name for p in tmp_path.iterdir()] == ["d.yaml"]


def test_reset_insurer_without_an_insurer_url_is_refused(tmp_path: Path) -> None:
    """--reset-insurer names the insurer at --insurer-url: alone it would be ignored."""
    result = CliRunner().invoke(main, ["drill", "run", "outage-at-peak", "--reset-insurer",
                                       "--report", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert result.output.strip() == ("Error: --reset-insurer resets the insurer at "
                                     "--insurer-url: give --insurer-url (the embedded insurer "
                                     "starts empty anyway)")
    assert not (tmp_path / "r").exists()
