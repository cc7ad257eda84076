"""Scenario authoring as a vendor's QA meets it: what the checks say when a HIS is wrong (which
visit, which settlement, which bill), and what `scenario check` / `scenario run` say when the
file or an option is wrong (one line, exit 2, nothing left behind)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from cardsettle.cli import main
from scenarios.errors import HarnessError, ScenarioFileError
from scenarios.library import library_path
from scenarios.loading import MAX_VISITS, load_scenario, parse_scenario
from scenarios.records import CheckResult, RunResult
from scenarios.report import render
from scenarios.runner import require_fresh_his, run_scenario
from simulator.his.operations import Outcome
from simulator.his.variants import VARIANTS

HEAD = 'scenario: x\ntitle: t\ndate: "2026-03-02"\n'
ONE = "visits:\n - {id: a, at: '08:05', person: {}}\n"


def _checks(result: RunResult) -> dict[str, CheckResult]:
    return {check.name: check for check in result.checks}


def _run(scenario: str, variant: str, directory: Path) -> RunResult:
    path = library_path(scenario) or Path(scenario)
    return run_scenario(load_scenario(path), directory, his_class=VARIANTS[variant].his_class)


# -- the checks ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def forget_lost(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """lost-answer-2207 against a HIS that tells the cashier "failed" when the answer is lost."""
    return _run("lost-answer-2207", "forget-lost", tmp_path_factory.mktemp("forget-lost"))


def test_told_failed_but_settled_at_the_insurer_fails_exactly_once(forget_lost: RunResult) -> None:
    check = _checks(forget_lost)["exactly_once"]
    assert not check.passed
    assert "told were not settled" in check.summary and "settled twice" not in check.summary
    first = next(item for item in check.evidence if item["visit"] == "am-0001")
    assert first["outcome at the window"] == "refused"
    assert first["refusal"] == "settlement_failed" and first["step"] == "settle"
    assert first["settlements in effect at the insurer"] == ["400000000001"]
    told_failed = [v.id for v in forget_lost.visits if v.outcome == "refused"]
    assert sorted(item["visit"] for item in check.evidence) == sorted(told_failed)


def test_ledger_differences_name_the_visit(forget_lost: RunResult) -> None:
    evidence = _checks(forget_lost)["ledgers_agree"].evidence
    assert evidence and all(item["visit"] for item in evidence)
    assert {"visit": "am-0001", "setl_id": "400000000001"}.items() <= evidence[0].items()


def test_an_outcome_count_names_the_visits_that_ended_otherwise(forget_lost: RunResult) -> None:
    (item,) = _checks(forget_lost)["outcomes"].evidence
    assert item["outcome"] == "settled"
    refused = {v.id: "refused" for v in forget_lost.visits if v.outcome == "refused"}
    assert item["other outcomes"] == refused


def test_the_printed_evidence_shows_the_unbalanced_group(forget_lost: RunResult) -> None:
    (day,) = _checks(forget_lost)["day_end_balanced"].evidence
    keys = list(day)
    assert keys.index("unbalanced groups") < keys.index("balanced groups")
    assert day["unbalanced groups"] and all(
        g["final"]["stmt_rslt"] != "0" for g in day["unbalanced groups"])
    console = Console(record=True, width=3000)
    render(forget_lost, console)
    line = next(text for text in console.export_text().splitlines()
                if '"unbalanced groups"' in text)
    assert "中心多" in line  # the unbalanced group's reason is on the screen, not cut away


def test_every_bill_and_refund_slip_is_compared(tmp_path: Path) -> None:
    result = _run("refunds", "bill-ignores-account", tmp_path)
    check = _checks(result)["bills_match"]
    shown = {(item["visit"], item["kind"]) for item in check.evidence}
    assert {("whole-account", "bill"), ("whole-account", "refund slip"),
            ("partial-one", "bill"), ("partial-one", "refund slip"),
            ("partial-one", "bill after the refund")} <= shown
    zh, _, en = check.summary.partition(" / ")  # "中文 / English"
    assert zh.startswith(f"{len(check.evidence)} 张票据或退费单")
    assert en.startswith(f"{len(check.evidence)} bill(s) or refund slip(s) differ")
    visit = next(v for v in result.visits if v.id == "whole-account")
    assert [p["kind"] for p in visit.printed] == ["bill", "refund slip"]


MY_LOST = HEAD.replace("2026-03-02", "2026-03-03") + """\
seed: 41
his: {timeout: 1.0}
visits:
  - {id: first, at: "08:00", person: {balance: positive},
     items: [{item: {category: A}}, {item: {category: B}, qty: 2}]}
  - {id: cash-one, at: "08:05", person: {}, acct_used: false}
timeline:
  - at: "08:00"
    faults:
      - {id: lose-first, match: {infno: "2207", first: 1}, effect: {kind: lose_answer, how: reset}}
  - {at: "09:30", faults: []}
"""


def test_a_visit_settled_twice_is_counted_once(tmp_path: Path) -> None:
    scenario = parse_scenario(MY_LOST, source=tmp_path / "my.yaml")
    result = run_scenario(scenario, tmp_path / "out",
                          his_class=VARIANTS["blind-resend"].his_class)
    check = _checks(result)["exactly_once"]
    assert check.summary == "1 个就诊在医保中心重复结算 / 1 visit(s) settled twice at the insurer"
    (item,) = check.evidence
    assert item["visit"] == "first" and len(item["settlements"]) == 2


def test_a_his_holding_an_earlier_runs_settlements_is_refused() -> None:
    class Ledger:
        def ledger(self) -> Outcome:
            return Outcome(True, {"ok": True, "settlements": [
                {"setl_id": "400000000001", "setl_date": "2026-03-02", "status": "settled"}]})

    harness: Any = SimpleNamespace(his=Ledger(), his_url="http://127.0.0.1:9000")
    with pytest.raises(HarnessError, match=r"already holds 1 settlement row\(s\) of 2026-03-02 "
                                           r"from an earlier run: restart it with a fresh "
                                           r"database"):
        require_fresh_his(harness)


# -- the file --------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "where", "says"), [
    ("seed: 7\nseed: 8\n" + ONE, "", "line 5: duplicate key 'seed' (first on line 4)"),
    ("", "(top level)", "a scenario needs `visits` or `arrivals`"),
    ("visits:\n - {id: a, at: '08:05', person: {}, items: [{item: {category: A}, qty: two}]}\n",
     "visits[0].items[0].qty", "a number above 0 or 'over_limit' is expected"),
    (ONE + "timeline:\n - {at: '09:10', faults: [{effect: {kind: refuse}}]}\n"
     " - {at: '09:00', faults: []}\n",
     "timeline[1].at", "2026-03-02 09:00:00 is before timeline[0] at 2026-03-02 09:10:00"),
    ("visits:\n - {id: a, at: '08:05', person: {}, expect: {refusal: card_lots}}\n",
     "visits[0].expect.refusal", "did you mean card_lost?"),
    (ONE + "expect:\n - refusals: {card_lots: 1}\n", "expect[0].refusals.card_lots",
     "did you mean card_lost?"),
    ("arrivals:\n - {from: '08:00', to: '09:00', count: 3, mix: {settle: 0.8, refund: 0.5}}\n",
     "arrivals[0].mix", "the shares add up to 1.3"),
    ("visits:\n - {id: a, at: '2026-03-01 08:20', person: {}}\n", "visits[0].at",
     "before the scenario's date 2026-03-02"),
    ("arrivals:\n" + " - {from: '08:00', to: '09:00', count: 20000}\n" * 2, "arrivals",
     f"40,000 visits in all (0 visits + 40,000 arrivals); a scenario holds at most "
     f"{MAX_VISITS:,}"),
])
def test_a_file_mistake_says_what_and_where(body: str, where: str, says: str) -> None:
    with pytest.raises(ScenarioFileError) as caught:
        parse_scenario(HEAD + body, source="s.yaml")
    assert caught.value.where == where, str(caught.value)
    assert says in str(caught.value)


def test_a_vendor_refusal_code_is_written_his_prefixed() -> None:
    loaded = parse_scenario(HEAD + "visits:\n - {id: a, at: '08:05', person: {}, "
                                   "expect: {refusal: 'his:card_blocked'}}\n"
                                   "expect:\n - refusals: {settlement_failed: 0}\n")
    assert loaded.visits[0].expect["refusal"] == "card_blocked"


# -- the command line ------------------------------------------------------------------------

def test_bad_options_exit_2_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    (tmp_path / "adir.yaml").mkdir()
    for args, says in (
        (["run", "refunds", "--bogus"], "No such option '--bogus'"),
        (["run", "refunds", "--timeout", "abc"], "'abc' is not a valid float range"),
        (["run", "refunds", "--report", str(tmp_path / "afile")], "is a file"),
        (["check", str(tmp_path / "adir.yaml")], "is a directory"),
        (["run", str(tmp_path / "adir.yaml")], "is a directory, not a scenario file"),
        (["run", "refunds", "--his-variant", "bad-reversal"],
         "--his-variant: no HIS variant 'bad-reversal'"),
    ):
        result = CliRunner().invoke(main, ["scenario", *args])
        assert result.exit_code == 2, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0], lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir.yaml", "afile"]


@pytest.mark.parametrize(("person", "item", "says"), [
    ("{}", "YP999999", "matches YP999999"),
    ("{}", "{name_contains: 不存在的药品}", "no item of institution"),
    ("{psn_no: '99999999999999999999'}", "{category: A}",
     "no person with psn_no 99999999999999999999 in the population"),
])
def test_check_finds_what_run_would_refuse_and_run_leaves_nothing(
        tmp_path: Path, person: str, item: str, says: str) -> None:
    file = tmp_path / "s.yaml"
    file.write_text(HEAD + "seed: 1\n"
                    f"visits:\n - {{id: a, at: '08:05', person: {person}, "
                    f"items: [{{item: {item}}}]}}\n", "utf-8")
    checked = CliRunner().invoke(main, ["scenario", "check", str(file)])
    assert checked.exit_code == 2, checked.output
    assert says in checked.output and "generate more persons" not in checked.output
    ran = CliRunner().invoke(main, ["scenario", "run", str(file), "--report",
                                    str(tmp_path / "out"), "--no-progress"])
    assert ran.exit_code == 2 and says in ran.output
    assert not (tmp_path / "out").exists()
    assert len(ran.output.strip().splitlines()) == 1 and "Traceback" not in ran.output
