"""Every worked case in mock_insurer/policy/cases holds (amounts computed by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_insurer.policy import CaseFileError
from mock_insurer.policy.worked_cases import packaged_cases, run_case_file

CASES = packaged_cases()


def test_the_required_cases_are_there() -> None:
    names = {p.stem for p in CASES}
    assert {"hebei_sample", "employee_tier3_above_deductible", "retiree_community",
            "cap_change_2023", "resident_reaches_cap", "class_c_and_over_limit",
            "civil_servant", "no_account_balance", "registration_payment"} <= names


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_worked_case(path: Path) -> None:
    result = run_case_file(path)
    assert result.outcomes
    assert result.ok, "\n".join([result.title, *result.mismatches])


def test_a_wrong_expectation_is_reported_not_hidden(tmp_path: Path) -> None:
    text = (CASES[0].parent / "hebei_sample.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("balc: 1373.63", "balc: 1373.64"), encoding="utf-8")
    result = run_case_file(broken)
    assert not result.ok
    assert result.mismatches == (
        "broken.yaml: the sample settlement: setlinfo.balc: expected 1373.64, got 1373.63",)


@pytest.mark.parametrize(("replace", "by", "message"), [
    ("med_list_codg: XA01ABD075A002010100483, cnt", "med_list_codg: NOPE, cnt", "NOPE"),
    ("      setlinfo:", "      setlnfo:", "unknown keys ['setlnfo']"),
    ("counters_after: {dedc_used: 4.29", "counters_after: {dedc_usd: 4.29", "no field dedc_usd"),
    ("title:", "titel:", "'title' is missing"),
])
def test_a_malformed_case_says_where(tmp_path: Path, replace: str, by: str,
                                     message: str) -> None:
    text = (CASES[0].parent / "hebei_sample.yaml").read_text(encoding="utf-8")
    assert replace in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(replace, by), encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"bad\.yaml") as err:
        run_case_file(bad)
    assert message in str(err.value)


def _hebei_sample(tmp_path: Path, replace: str = "", by: str = "") -> Path:
    text = (CASES[0].parent / "hebei_sample.yaml").read_text(encoding="utf-8")
    assert replace in text
    path = tmp_path / "mine.yaml"
    path.write_text(text.replace(replace, by, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(("replace", "by", "message"), [
    ("counters_after: {dedc_used: 4.29", "counters_after: {dedc_usd: 4.29",
     "the sample settlement: counters after: no field dedc_usd"),
    ('tier: "3"', 'tier: "4"',
     "the sample settlement: facts.tier: '4' is not an institution tier (community, 1, 2, 3)"),
    ("date: 2024", "date: 2024-02-30 #", "the sample settlement: date: '2024-02-30' is not a "
                                         "real date (day is out of range for month)"),
    ("    bill:", "    bill: []\n    bill:", "settlements[0]: key bill is given on lines 25 and 26"),
])
def test_a_case_that_cannot_run_names_the_file_once_and_the_settlement(
        tmp_path: Path, replace: str, by: str, message: str) -> None:
    path = _hebei_sample(tmp_path, replace, by)
    with pytest.raises(CaseFileError) as err:
        run_case_file(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and text.count("mine.yaml") == 1, text
    assert message in text, text


def test_a_case_runs_with_the_profile_given_instead_of_its_own(tmp_path: Path) -> None:
    """`--policy`: a region's cases against its own profile without editing the cases."""
    path = tmp_path / "mine.yaml"
    path.write_text((CASES[0].parent / "retiree_community.yaml").read_text(encoding="utf-8"),
                    encoding="utf-8")
    held = run_case_file(path, "beijing")
    assert held.ok and held.profile == "beijing"
    other = run_case_file(path, "hebei")  # a retiree's deductible is 800: met by the 1250
    assert other.profile == "hebei" and not other.ok
    assert ("mine.yaml: first settlement of the visit: setlinfo.act_pay_dedc: expected 50.00, "
            "got 0.00") in other.mismatches, other.mismatches
