"""`cardsettle policy cases`: an analyst runs the worked cases of their own region against their
own profile, without editing the repository, and tells a wrong amount (exit 1) from a case or
profile that cannot run (exit 2)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

from cardsettle.cli import main
from mock_insurer.policy.worked_cases import packaged_cases

BEIJING = (resources.files("mock_insurer.policy") / "profiles" / "beijing.yaml").read_text(
    encoding="utf-8")
RETIREE = next(p for p in packaged_cases() if p.stem == "retiree_community").read_text(
    encoding="utf-8")
TITLE = "A retiree at a community health centre, with the registration payment and a 丙类 item"


@pytest.fixture
def region(tmp_path: Path) -> Path:
    """A region's own profile (beijing's numbers under another name) and a case naming it."""
    (tmp_path / "region.yaml").write_text(BEIJING.replace("name: beijing", "name: myregion"),
                                          encoding="utf-8")
    (tmp_path / "good.yaml").write_text(RETIREE.replace("profile: beijing",
                                                        "profile: region.yaml"),
                                        encoding="utf-8")
    (tmp_path / "wrong.yaml").write_text(RETIREE.replace("balc: 11.04", "balc: 11.05"),
                                         encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(RETIREE.replace("tier: community", "tier: '4'"),
                                          encoding="utf-8")
    return tmp_path


def _run(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["policy", "cases", *args])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception,
                                                                     SystemExit), result.output
    return result.exit_code, result.output.strip().splitlines()


def test_cases_that_hold_print_ok_with_the_profile_and_exit_0(region: Path) -> None:
    code, lines = _run(str(region / "good.yaml"))
    assert code == 0, lines
    assert lines == [
        f"ok      {region / 'good.yaml'}: {TITLE} (1 settlement; profile myregion "
        f"({region / 'region.yaml'}))",
        "1 case file: 1 held, 0 failed, 0 could not run"]


def test_a_wrong_amount_is_printed_and_exits_1(region: Path) -> None:
    code, lines = _run(str(region / "good.yaml"), str(region / "wrong.yaml"))
    assert code == 1, lines
    assert ("FAILED  wrong.yaml: first settlement of the visit: setlinfo.balc: expected 11.05, "
            "got 11.04") in lines
    assert lines[-1] == "2 case files: 1 held, 1 failed, 0 could not run"


def test_a_case_that_cannot_run_names_it_and_exits_2(region: Path) -> None:
    code, lines = _run(str(region / "wrong.yaml"), str(region / "broken.yaml"))
    assert code == 2, lines
    assert (f"ERROR   {region / 'broken.yaml'}: first settlement of the visit: facts.tier: '4' "
            "is not an institution tier (community, 1, 2, 3)") in lines
    assert lines[-1] == "2 case files: 0 held, 1 failed, 1 could not run"


def test_policy_runs_every_case_with_the_profile_given(region: Path) -> None:
    (region / "theirs.yaml").write_text(RETIREE, encoding="utf-8")  # names beijing
    code, lines = _run("--policy", str(region / "region.yaml"), str(region / "theirs.yaml"))
    assert code == 0, lines
    assert lines[0].endswith(f"(1 settlement; profile myregion ({region / 'region.yaml'}))")
    code, lines = _run("--policy", "hebei", str(region / "good.yaml"))
    assert code == 1  # a retiree's deductible is 800 in hebei: met by the 1250 counted
    assert ("FAILED  good.yaml: first settlement of the visit: setlinfo.act_pay_dedc: expected "
            "50.00, got 0.00") in lines


def test_a_refused_profile_is_one_line_and_exits_2(region: Path) -> None:
    (region / "bad-region.yaml").write_text(
        BEIJING.replace('  primary: [community, "1"]', "  primary: [community]"),
        encoding="utf-8")
    code, lines = _run("--policy", str(region / "bad-region.yaml"), str(region / "good.yaml"))
    assert code == 2
    assert lines == [f"Error: {region / 'bad-region.yaml'}: tier_groups: tier 1 is in no group "
                     "(every institution tier — community, 1, 2, 3 — must be in exactly one "
                     "group, or every settlement at it fails)"]
