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
