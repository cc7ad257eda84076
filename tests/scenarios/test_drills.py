"""Failure drills: the library runs against the reference HIS and its debriefs show nothing
lost; against a HIS that settles twice after a lost answer the debrief shows the loss to the
yuan; a drill on an insurer alone (a HIS without the driver API) is debriefed from the
insurer's record; a bad drill file names the field."""

from __future__ import annotations

import importlib
import json
import os
import re
import socket
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardsettle.cli import main
from scenarios.data import prepare_data
from scenarios.drills.debrief import Debrief, debrief, outcome_of
from scenarios.drills.library import DRILLS, drill_path, library_drills
from scenarios.drills.loading import load_drill, parse_drill
from scenarios.drills.report import write_debrief
from scenarios.drills.runner import Clocks, DrillAborted, DrillRun, compile_drill, run_drill
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
from tests.one_line import one_error_line
from tests.scenarios.test_page import unmarked

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
    messages = [m for m in run.messages if m["status"] != "tombstone"]  # reversal markers
    assert sum(p["messages"] for p in found.phases) == len(messages) > 0
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
    # a rehearsal on one machine says where its console is and the token it asks for
    console_line = re.search(r"console: (http://127\.0\.0\.1:\d+)/console · 管理口令 admin "
                             r"token: ([0-9a-f]{32})", done.output)
    assert console_line is not None, done.output
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


@pytest.fixture(scope="module")
def lost_answers(tmp_path_factory: pytest.TempPathFactory) -> tuple[DrillRun, Debrief, Path]:
    directory = tmp_path_factory.mktemp("lost-answers")
    run = run_drill(load_drill(drill_path("lost-answers") or ""), directory, CLOCKS,
                    accelerate=FAST)
    found = debrief(run)
    write_debrief(found, directory)
    return run, found, directory


def test_lost_answers_loses_the_answer_of_a_refund(
        lost_answers: tuple[DrillRun, Debrief, Path]) -> None:
    """The drill promises refunds committed with their answers lost: patients of the first
    phase come back for a refund while the refund fault is on."""
    run, found, _ = lost_answers
    lost = [m for m in run.messages if m["infno"] == "2208"
            and (m.get("fault") or {}).get("id") == "lose-refund"]
    assert lost and all(m["infcode"] == 0 for m in lost)  # committed, answer lost
    assert {"2207", "2208"} <= {entry["infno"] for entry in found.lost_answers}
    assert all(entry["found"] == "5203" for entry in found.lost_answers)  # the reference HIS
    assert found.clean


def test_settled_counts_the_settlements_whose_answer_was_lost(
        lost_answers: tuple[DrillRun, Debrief, Path]) -> None:
    """As on the console: a lost answer still counts as settled (the money moved)."""
    _, found, directory = lost_answers
    phase = found.phases[1]
    answered = phase["by_infno"]["2207"].get("ok", 0)
    assert phase["answer_lost"] > 0
    assert phase["settled"] == answered + phase["answer_lost"]
    assert phase["settled"] == sum(1 for e in found.lost_answers if e["infno"] == "2207"
                                   ) + answered
    page = unmarked((directory / "debrief.html").read_text("utf-8"))
    assert f"结算 {phase['settled']} settlements (其中应答丢失 {phase['answer_lost']} answer lost)" \
        in page
    assert "已查询得知 found by a 5203 query" in page and "退费 refund (2208)" in page


def test_dayend_unbalanced_does_not_balance_until_corrected(tmp_path: Path) -> None:
    """The query service still fails when day-end starts: the first 3201 does not balance,
    the HIS corrects its ledger from the details and the second one does."""
    done = CliRunner().invoke(main, ["drill", "run", "dayend-unbalanced", "--accelerate",
                                     str(FAST), "--report", str(tmp_path)])
    assert done.exit_code == 0, done.output
    shown = json.loads((tmp_path / "debrief.json").read_text("utf-8"))
    day = shown["day_end"]
    assert day["unbalanced_3201"] >= 1 and day["balanced"] is True
    assert day["his"][0]["corrections"] >= 1
    assert "日终 day-end 对平 balanced (3201 未对平 not balanced 1 · 更正 corrections 1)" \
        in " ".join(done.output.split())
    assert "对总账 (3201) 未对平 1 次" in (tmp_path / "debrief.html").read_text("utf-8")


def test_ctrl_c_clears_the_faults_and_marks_the_drill_aborted(tmp_path: Path) -> None:
    scenario = load_scenario(library_path("refunds") or "")
    data = prepare_data(scenario, tmp_path / "data")
    with open_harness(scenario, data, tmp_path / "servers", wall=datetime.now) as staff:
        token = staff.admin.session.headers["Authorization"].removeprefix("Bearer ")
        drill = parse_drill(
            "drill: stop\ntitle: 中止 / stopped\nday_end: false\nphases:\n"
            " - {name: normal, minutes: 5}\n"
            " - {name: down, minutes: 5, faults: [{id: down, effect: refuse}]}\n"
            " - {name: back, minutes: 5}\n")
        plans = []

        def press_ctrl_c(n: int, _phase: object) -> None:
            if n == 1:
                plans.append(staff.admin.session.get(staff.insurer_url + "/admin/faults").json())
                raise KeyboardInterrupt

        with pytest.raises(DrillAborted) as stopped:
            run_drill(drill, tmp_path / "drill", CLOCKS, accelerate=FAST,
                      insurer_url=staff.insurer_url, admin_token=token,
                      institution=staff.fixmedins_code, on_phase=press_ctrl_c)
        assert [f["id"] for f in plans[0]["plan"]["faults"]] == ["down"]  # effect: refuse
        after = staff.admin.session.get(staff.insurer_url + "/admin/faults").json()
        assert after["plan"]["faults"] == []
        shown = staff.admin.drill()  # what the console shows
        assert shown["state"] == "aborted" and shown["current"] == 1
    assert stopped.value.phase == 1 and "in phase 2/3 down" in str(stopped.value)


def test_ctrl_c_on_the_terminal_says_where_the_drill_stopped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    command = importlib.import_module("cardsettle.cli.drill")  # the package's `drill` is the group
    drill = load_drill(drill_path("outage-at-peak") or "")

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise DrillAborted(drill, 1, 12.5)

    monkeypatch.setattr(command, "run_drill", interrupted)
    result = CliRunner().invoke(main, ["drill", "run", "outage-at-peak", "--report",
                                       str(tmp_path)])
    assert result.exit_code == 130
    said = " ".join(result.output.split())
    assert "演练中止 drill interrupted" in said
    assert "阶段 phase 2/3: 中心宕机 / the insurer is down" in said
    assert "故障已清除 the insurer's faults are cleared" in said
    assert "Traceback" not in result.output and "Aborted!" not in result.output
    assert not (tmp_path / "debrief.html").exists()


def test_effect_may_be_just_its_kind_as_in_the_fault_plan() -> None:
    drill = parse_drill("drill: x\ntitle: t\nphases:\n"
                        " - {name: a, minutes: 5, faults: [{id: down, effect: refuse}]}\n")
    assert drill.phases[0].faults[0]["effect"] == "refuse"
    with pytest.raises(ScenarioFileError) as caught:
        parse_drill("drill: x\ntitle: t\nphases:\n"
                    " - {name: a, minutes: 5, faults: [{effect: explode}]}\n", source="d.yaml")
    assert caught.value.where.startswith("phases[0].faults"), str(caught.value)


def test_the_drill_seed_draws_the_faults_of_a_phase_without_its_own() -> None:
    drill = parse_drill("drill: x\ntitle: t\nseed: 7\nphases:\n - {name: a, minutes: 5}\n"
                        " - {name: b, minutes: 5, seed: 2}\n")
    assert [phase.seed for phase in drill.phases] == [7, 2]
    events = compile_drill(drill, datetime(2026, 11, 24, 9)).timeline
    assert [event.seed for event in events[:2]] == [7, 2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(("args", "said"), [
    (["lost-answer"], "Error: no drill named 'lost-answer' (see `cardsettle drill list`); "
                      "did you mean lost-answers?"),
    (["nofile.yaml"], "Error: nofile.yaml: no such file"),
    (["signin-invalidated", "--insurer-url", "127.0.0.1:18731"],
     "Error: --insurer-url 127.0.0.1:18731: not a URL; give a URL like http://127.0.0.1:8080"),
    (["signin-invalidated", "--his-url", "localhost"],
     "Error: --his-url localhost: not a URL; give a URL like http://127.0.0.1:8080"),
    (["signin-invalidated", "--accelerate", "0"],
     "Error: Invalid value for '--accelerate': 0.0 is not in the range 0.01<=x<=1000.0. "
     "(see --help)"),
])
def test_a_bad_run_is_one_line_and_exit_2(args: list[str], said: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["drill", "run", *args, "--report", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert result.output.strip() == said
    assert not (tmp_path / "r").exists()


def test_a_drill_with_patients_on_an_insurer_alone_is_refused_before_it_starts(tmp_path: Path) -> None:
    """Every library drill injects patients: with --insurer-url and no --his-url the user gets
    one line saying what to add — no drill header first, no report, the insurer not asked."""
    url = f"http://127.0.0.1:{_free_port()}"
    result = CliRunner().invoke(main, ["drill", "run", "outage-at-peak", "--insurer-url", url,
                                       "--report", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert result.output.strip() == ("Error: this drill injects patients: give the HIS's driver "
                                     "API (--his-url), or run it without --insurer-url (embedded)")
    assert not (tmp_path / "r").exists()


def test_an_insurer_that_does_not_answer_is_named(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    result = CliRunner().invoke(main, ["drill", "run", "signin-invalidated", "--insurer-url",
                                       url, "--his-url", f"http://127.0.0.1:{_free_port()}",
                                       "--report", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert result.output.strip() == (f"Error: --insurer-url: the insurer does not answer at "
                                     f"{url} (is `cardsettle insurer serve` running there?)")


def test_a_directory_named_like_a_library_drill_does_not_hide_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "signin-invalidated").mkdir()
    (tmp_path / "mine").mkdir()
    done = CliRunner().invoke(main, ["drill", "run", "signin-invalidated", "--accelerate",
                                     str(FAST), "--report", str(tmp_path / "r")])
    assert done.exit_code == 0, done.output
    assert "班中签到失效" in done.output and (tmp_path / "r" / "debrief.html").exists()
    mine = CliRunner().invoke(main, ["drill", "run", "mine"])
    assert mine.exit_code == 2
    assert mine.output.strip() == ("Error: mine is a directory, not a drill file: name a drill "
                                   "file (mine/NAME.yaml) or a library drill (see `cardsettle "
                                   "drill list`)")


@pytest.mark.parametrize(("message", "outcome"), [
    ({"infno": "1101", "infcode": -1, "rejection_code": "card_invalid"}, "refused"),
    ({"infno": "2207", "infcode": -1, "rejection_code": "fund_refused"}, "refused"),
    ({"infno": "5203", "infcode": -1, "rejection_code": "settlement_not_found"}, "other_refused"),
    ({"infno": "2207", "infcode": -1, "rejection_code": "msgid_reversed"}, "other_refused"),
    ({"infno": "2601", "infcode": -1, "rejection_code": "too_late"}, "other_refused"),
    ({"infno": "2207", "infcode": 0, "status": "answered",
      "fault": {"effect": "lose_answer"}}, "failed"),
    ({"infno": "2207", "infcode": None, "status": "faulted", "fault": {"effect": "refuse"}},
     "failed"),
])
def test_only_refusals_a_cashier_sees_count_as_refused(message: dict[str, object],
                                                       outcome: str) -> None:
    """slow-insurer: a 5203 that finds nothing, or the late answer to a reversed 2207, is not
    a refused patient."""
    assert outcome_of({"status": "answered", **message}) == outcome


def test_every_library_fault_has_a_name_the_console_shows() -> None:
    for found in library_drills():
        for phase in found.phases:
            for fault in phase.faults:
                name = str(fault.get("name") or "")
                assert "/" in name and name.isascii() is False, (found.id, fault)



@pytest.mark.parametrize(("institution", "said"), [
    ("H000", "--institution H000: not an institution code (fixmedins_code: H and 11 digits, "
             "e.g. H11010700001)"),
    ("H99999999999", "--institution H99999999999: not an institution of the drill's data (its "
                     "institutions: H11011200001, H11011200002, H11010100001, H11010700001, "
                     "H11010100002, H11010100003)"),
    ("H11011200001", "--institution H11011200001: the drill's HIS is institution H11010700001 "
                     "(the one whose messages the debrief counts): leave --institution out, or "
                     "give H11010700001"),
])
def test_an_institution_whose_messages_the_debrief_would_not_see_is_refused(
        institution: str, said: str, tmp_path: Path) -> None:
    """Before: exit 0 and an empty debrief (totals {}, a wrong money at risk). Now one line
    naming the option, before the drill's header, nothing written."""
    result = CliRunner().invoke(main, ["drill", "run", "dayend-unbalanced", "--institution",
                                       institution, "--accelerate", "1000",
                                       "--report", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert one_error_line(result) == f"Error: {said}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_report_folder_that_cannot_be_created_is_named_before_the_drill_starts() -> None:
    result = CliRunner().invoke(main, ["drill", "run", "signin-invalidated", "--report",
                                       "/proc/x"])
    assert result.exit_code == 2
    assert one_error_line(result) == ("Error: --report /proc/x: cannot write there (No such file "
                                      "or directory)")


def test_a_named_pipe_where_the_debrief_goes_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "debrief.json")
    result = CliRunner().invoke(main, ["drill", "run", "signin-invalidated", "--accelerate",
                                       "1000", "--report", str(tmp_path)])
    assert result.exit_code == 2
    assert one_error_line(result) == (f"Error: --report {tmp_path}: {tmp_path / 'debrief.json'} "
                                      "is not a regular file")
    assert [p.name for p in tmp_path.iterdir()] == ["debrief.json"]


@pytest.mark.parametrize(("phase", "said"), [
    ("{name: a, minutes: 5, faults: [{id: lose, match: {infno: '2270'}, effect: refuse}]}",
     "phases[0].faults: faults[0] (id 'lose'): match.infno: unknown transaction '2270', so the "
     "fault would never fire (the insurer serves: 9001, 9002, 1101, 2201, "),
    ("{name: a, minutes: 1e12}",
     "phases[0].minutes: '1e12' is not of type 'number' (YAML reads 1e12 as text, not a number: "
     "write it with a decimal point, 1.0e+12, or in full)"),
])
def test_drill_check_says_where_and_what(phase: str, said: str, tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(f"drill: x\ntitle: t\nphases:\n - {phase}\n", "utf-8")
    result = CliRunner().invoke(main, ["drill", "check", str(path)])
    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"Error: {path}: {said}")
