"""What a trainer sees when a drill cannot start, and between two groups of trainees (the
trainer audit: H1, H2, M1, M2, L5, M6): every mistake that can be found before the drill starts
is one line, exit 2, before the drill's banner — the insurer not reset, the console not told,
nothing left in the report folder but the files the message points to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cardsettle.cli import main
from scenarios.data import ScenarioData, prepare_data
from scenarios.drills.library import drill_path
from scenarios.drills.loading import load_drill, parse_drill
from scenarios.drills.runner import compile_drill, run_drill
from scenarios.errors import HarnessError, ScenarioFileError
from scenarios.harness import Harness, open_harness
from scenarios.insurer_admin import InsurerAdmin
from scenarios.library import library_path
from scenarios.loading import load_scenario
from tests.one_line import one_error_line
from tests.scenarios.test_drills import CLOCKS, FAST

DRILL = "signin-invalidated"  # 15 minutes: under a second at ×1000
BANNER = "演练 drill:"


@dataclass
class Staff:
    """An insurer and a reference HIS (served over HTTP) as the staff's, set up for DRILL."""

    harness: Harness
    data: ScenarioData
    token: str

    def args(self, *more: str, token: str | None = None) -> list[str]:
        return ["--insurer-url", self.harness.insurer_url, "--admin-token", token or self.token,
                "--his-url", self.harness.his_url, "--reset-insurer", "--accelerate", str(FAST),
                *more]

    @property
    def admin(self) -> InsurerAdmin:
        return self.harness.admin

    def settlements(self) -> int:
        return len(self.harness.his.ledger().body.get("settlements") or [])


@pytest.fixture
def staff(tmp_path: Path) -> Iterator[Staff]:
    drill = load_drill(drill_path(DRILL) or "")
    scenario = compile_drill(drill, datetime.now().replace(microsecond=0))
    data = prepare_data(scenario, tmp_path / "staff" / "data")
    with open_harness(scenario, data, tmp_path / "staff", wall=datetime.now) as harness:
        yield Staff(harness, data, str(harness.admin.token))


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["drill", "run", *args])


def _untouched(staff: Staff) -> tuple[int, dict[str, object]]:
    """What a drill that did not start must leave as it was: the insurer's messages (a reset
    empties them) and what its console shows."""
    return staff.admin.last_message_id(), staff.admin.drill()


def _drill_file(tmp_path: Path, phases: str, name: str = "d.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"drill: mine\ntitle: 我的演练 / mine\nday_end: false\nphases:\n{phases}",
                    "utf-8")
    return path


# -- H1: the second group ----------------------------------------------------------------------

def test_a_his_holding_an_earlier_groups_settlements_is_refused_before_the_drill(
        staff: Staff, tmp_path: Path) -> None:
    """Group 1 runs; group 2 against the same HIS database is refused up front (the debrief
    would match group 1's rows with group 2's), saying how to start the HIS afresh."""
    first = _run(DRILL, *staff.args("--report", str(tmp_path / "group-1")))
    assert first.exit_code == 0, first.output
    held = staff.settlements()
    assert held > 0
    before = _untouched(staff)
    report = tmp_path / "group-2"
    second = _run(DRILL, *staff.args("--report", str(report)))
    assert second.exit_code == 2
    said = one_error_line(second)
    assert BANNER not in second.output
    assert f"the HIS at {staff.harness.his_url} already holds {held} settlement row(s)" in said
    assert "restart it with a fresh database" in said
    assert (f"`cardsettle his serve --insurer-url {staff.harness.insurer_url} --port "
            f"{staff.harness.his_url.rsplit(':', 1)[1]} --catalogue ") in said
    assert f"--institution {staff.data.code} --db <a new file>`" in said
    assert "Between two groups of trainees" in said
    assert _untouched(staff) == before  # not reset, the console still shows group 1's drill
    assert staff.admin.drill()["state"] == "finished"
    kept = sorted(p.name for p in report.rglob("*") if p.is_file())
    assert kept == sorted([staff.data.catalogue_file.name, staff.data.institutions_file.name])
    for name in kept:  # the files the command line names are there
        assert str(report / "data" / name) in said


# -- H2: a HIS of another institution ----------------------------------------------------------

@pytest.fixture
def other_his(tmp_path: Path) -> Iterator[Harness]:
    """A HIS (and its insurer) set up for the scenario `refunds`, another institution."""
    scenario = load_scenario(library_path("refunds") or "")
    data = prepare_data(scenario, tmp_path / "other" / "data")
    with open_harness(scenario, data, tmp_path / "other", wall=datetime.now) as harness:
        yield harness


def test_a_his_of_another_institution_is_told_how_to_serve_the_drill(
        other_his: Harness, tmp_path: Path) -> None:
    token = other_his.admin.token
    before = other_his.admin.last_message_id(), other_his.admin.drill()
    report = tmp_path / "r"
    result = _run(DRILL, "--insurer-url", other_his.insurer_url, "--admin-token", str(token),
                  "--his-url", other_his.his_url, "--reset-insurer", "--report", str(report))
    assert result.exit_code == 2
    said = one_error_line(result)
    assert BANNER not in result.output
    drill = load_drill(drill_path(DRILL) or "")
    code = prepare_data(compile_drill(drill, datetime.now()), tmp_path / "mine").code
    assert (f"Error: the HIS at {other_his.his_url} is institution {other_his.fixmedins_code}, "
            f"but drill {DRILL} is for {code}: serve the HIS as {code}") in said
    assert "--his-command" not in said and "scenario" not in said
    assert f"--institution {code} --db <a new file>`" in said
    # the files it names are there after the failure (and nothing else it wrote)
    named = [word.strip("`,;") for word in said.split() if word.endswith((".jsonl", ".jsonl,"))]
    assert named and all(Path(path).is_file() for path in named), said
    assert {Path(path).name for path in named} == {
        p.name for p in report.rglob("*") if p.is_file()}
    assert (other_his.admin.last_message_id(), other_his.admin.drill()) == before


def test_a_scenario_against_a_his_of_another_institution_keeps_its_own_words(
        other_his: Harness, tmp_path: Path) -> None:
    """scenario run offers --his-command (it has it) and names the data files by name: a
    failed run removes its report's data/, an embedded run writes them there."""
    token = other_his.admin.token
    result = CliRunner().invoke(main, [
        "scenario", "run", "rule-check", "--insurer-url", other_his.insurer_url,
        "--admin-token", str(token), "--his-url", other_his.his_url,
        "--report", str(tmp_path / "s")])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert f"is institution {other_his.fixmedins_code}, but scenario rule-check is for" in said
    assert "or give the HIS as a command (--his-command)" in said
    assert "`cardsettle scenario run rule-check`" in said
    assert "drill" not in said


# -- M1: what drill check catches, and drill run before it starts ------------------------------

NO_ONE = " - {name: a, minutes: 5, patients: {count: 3, windows: 2, persons: {insured_in: '99'}}}\n"


def test_drill_check_plans_the_patients_and_names_the_drill_files_path(tmp_path: Path) -> None:
    path = _drill_file(tmp_path, " - {name: ok, minutes: 5, patients: 2}\n" + NO_ONE)
    result = CliRunner().invoke(main, ["drill", "check", str(path)])
    assert result.exit_code == 2
    said = one_error_line(result)
    assert said == (f"Error: {path}: phases[1].patients.persons: no person matches "
                    "{'insured_in': '99'}")
    assert [p.name for p in tmp_path.iterdir()] == ["d.yaml"]
    fine = _drill_file(tmp_path, " - {name: ok, minutes: 5, patients: {count: 4}}\n", "ok.yaml")
    checked = CliRunner().invoke(main, ["drill", "check", str(fine)])
    assert checked.exit_code == 0, checked.output
    assert f"{fine}: ok — mine: 1 phases, 5 min, 4 patients planned" in checked.output


def test_drill_run_fails_on_the_patients_before_its_banner_and_leaves_nothing(
        tmp_path: Path) -> None:
    path = _drill_file(tmp_path, NO_ONE)
    result = _run(str(path), "--accelerate", str(FAST), "--report", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"Error: {path}: phases[0].patients.persons: ")
    assert BANNER not in result.output and not (tmp_path / "r").exists()


def test_drill_run_against_staff_does_not_reset_the_insurer_or_show_a_drill_it_cannot_plan(
        staff: Staff, tmp_path: Path) -> None:
    """Before: banner, the insurer's ledger emptied, then the error, and the console showing
    the drill finished."""
    staff.admin.set_drill({"drill": "earlier", "phases": [], "state": "finished"})
    before = _untouched(staff)
    path = _drill_file(tmp_path, NO_ONE)
    result = _run(str(path), *staff.args("--report", str(tmp_path / "r")))
    assert result.exit_code == 2
    assert "phases[0].patients.persons: no person matches" in one_error_line(result)
    assert BANNER not in result.output
    assert _untouched(staff) == before
    assert not (tmp_path / "r").exists()


def test_a_drill_that_fails_once_running_is_shown_aborted_not_finished(tmp_path: Path) -> None:
    scenario = load_scenario(library_path("refunds") or "")
    data = prepare_data(scenario, tmp_path / "data")
    with open_harness(scenario, data, tmp_path / "servers", wall=datetime.now) as staff:
        token = staff.admin.token
        drill = parse_drill("drill: broke\ntitle: t\nday_end: false\nphases:\n"
                            " - {name: a, minutes: 5}\n - {name: b, minutes: 5}\n")

        def fails(n: int, _phase: object) -> None:
            if n == 1:
                raise HarnessError("the insurer stopped answering")

        with pytest.raises(HarnessError):
            run_drill(drill, tmp_path / "drill", CLOCKS, accelerate=FAST,
                      insurer_url=staff.insurer_url, admin_token=str(token),
                      institution=staff.fixmedins_code, on_phase=fails)
        shown = staff.admin.drill()
        assert shown["drill"] == "broke" and shown["state"] == "aborted"
        assert shown["current"] == 1


# -- M2: shares and a fault's person -----------------------------------------------------------

def test_mix_shares_that_do_not_add_up_to_1_are_refused_as_in_a_scenario(tmp_path: Path) -> None:
    path = _drill_file(tmp_path, " - {name: a, minutes: 5, patients: {count: 2}}\n"
                                 " - {name: b, minutes: 5, patients: {count: 6, mix: "
                                 "{settle: 0.9, refund: 0.2}}}\n")
    for command in (["check"], ["run", "--report", str(tmp_path / "r")]):
        result = CliRunner().invoke(main, ["drill", command[0], str(path), *command[1:]])
        assert result.exit_code == 2, (command, result.output)
        assert one_error_line(result) == (
            f"Error: {path}: phases[1].patients.mix: the shares add up to 1.1; they are the "
            "parts of the group's visits and must add up to 1")
    assert not (tmp_path / "r").exists()
    with pytest.raises(ScenarioFileError) as caught:
        parse_drill("drill: x\ntitle: t\nphases:\n - {name: a, minutes: 5, patients: "
                    "{count: 2, lines: [4, 2]}}\n", source="d.yaml")
    assert caught.value.where == "phases[0].patients.lines"


LOST_CARD = ("{id: one-card, name: 一人读卡被拒 / one card refused, match: {infno: '1101', psn_no: "
             "'11000000000000009999'}, effect: refuse}")


def test_a_fault_on_a_person_not_in_the_drills_population_is_refused(tmp_path: Path) -> None:
    path = _drill_file(tmp_path, f" - {{name: a, minutes: 5, patients: 3, faults: [{LOST_CARD}]}}\n")
    for command in (["check"], ["run", "--accelerate", str(FAST), "--report",
                                str(tmp_path / "r")]):
        result = CliRunner().invoke(main, ["drill", command[0], str(path), *command[1:]])
        assert result.exit_code == 2, (command, result.output)
        said = one_error_line(result)
        assert said.startswith(f"Error: {path}: phases[0].faults[0].match.psn_no: fault "
                               "'one-card' (一人读卡被拒 / one card refused) selects person "
                               "11000000000000009999, who is not in the drill's population")
        assert "so the fault would never fire" in said
        assert BANNER not in result.output
    assert not (tmp_path / "r").exists()


def test_without_patients_a_faults_unknown_person_is_a_warning_of_drill_check(
        tmp_path: Path) -> None:
    """A drill without patients may run with --insurer-url alone, on the insurer's own
    population: drill check warns; drill run on the drill's data refuses."""
    path = _drill_file(tmp_path, f" - {{name: a, minutes: 5, faults: [{LOST_CARD}]}}\n")
    checked = CliRunner().invoke(main, ["drill", "check", str(path)])
    assert checked.exit_code == 0, checked.output
    assert checked.stderr.startswith(f"warning: {path}: phases[0].faults[0].match.psn_no: "
                                     "fault 'one-card'")
    assert "unless the drill runs with --insurer-url alone" in checked.stderr
    assert f"{path}: ok" in checked.stdout
    ran = _run(str(path), "--accelerate", str(FAST), "--report", str(tmp_path / "r"))
    assert ran.exit_code == 2 and "phases[0].faults[0].match.psn_no" in one_error_line(ran)


def test_a_fault_on_a_person_of_the_population_passes(tmp_path: Path) -> None:
    drill = load_drill(_drill_file(tmp_path, " - {name: a, minutes: 5, patients: 3}\n"))
    person = prepare_data(compile_drill(drill, datetime.now()), tmp_path / "data").persons[3]
    path = _drill_file(tmp_path, " - {name: a, minutes: 5, patients: 3, faults: [{id: one, "
                                 f"match: {{psn_no: '{person['psn_no']}'}}, effect: refuse}}]}}\n")
    checked = CliRunner().invoke(main, ["drill", "check", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "warning" not in checked.output


# -- L5: a wrong admin token -------------------------------------------------------------------

def test_a_wrong_admin_token_says_the_token_was_refused(staff: Staff, tmp_path: Path) -> None:
    before = _untouched(staff)
    result = _run(DRILL, *staff.args("--report", str(tmp_path / "r"), token="wrong"))
    assert result.exit_code == 2
    said = one_error_line(result)
    assert said == (f"Error: insurer admin API GET {staff.harness.insurer_url}/admin/settings: "
                    "HTTP 401 — the insurer refused the admin token given (wrong token): give "
                    "the token it was started with (its --admin-token or CARDSETTLE_ADMIN_TOKEN)")
    assert BANNER not in result.output and not (tmp_path / "r").exists()
    assert _untouched(staff) == before
    none = InsurerAdmin(staff.harness.insurer_url)  # no token at all: asked for one
    with pytest.raises(HarnessError, match="HTTP 401 — give the insurer's admin token"):
        none.settings()
    none.close()


# -- M6: the same report folder, group after group ---------------------------------------------

def test_a_run_over_an_earlier_debrief_says_it_replaces_it(tmp_path: Path) -> None:
    report = tmp_path / "r"
    first = _run(DRILL, "--accelerate", str(FAST), "--report", str(report))
    assert first.exit_code == 0, first.output
    assert "previous debrief" not in first.output
    started = json.loads((report / "debrief.json").read_text("utf-8"))
    second = _run(DRILL, "--accelerate", str(FAST), "--report", str(report))
    assert second.exit_code == 0, second.output
    said = " ".join(second.output.split())
    assert (f"上次复盘将被替换 the previous debrief in {report} (") in said
    assert f"is replaced at the end of this drill — to keep each group's, give --report " \
           f"{report / 'group-N'}" in said
    assert said.index(BANNER) < said.index("上次复盘将被替换")
    assert json.loads((report / "debrief.json").read_text("utf-8")) != started
