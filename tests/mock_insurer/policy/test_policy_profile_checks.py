"""What loading a region's own profile refuses, and how a parameter starting later is served
(the policy audit: a profile that loads must settle correctly, and one that cannot must be
refused at load in one line naming the file and the key)."""

from __future__ import annotations

import copy
import datetime as dt
import re
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_insurer.policy import (
    ParameterNotInForce,
    Profile,
    ProfileError,
    TierNotConfigured,
    load_profile,
)
from mock_insurer.policy.codes import FUND_PAY_TYPES, INSUTYPES
from mock_insurer.policy.parameters import profile_document

BEIJING_TEXT = (resources.files("mock_insurer.policy") / "profiles" / "beijing.yaml").read_text(
    encoding="utf-8")
RATIO_PRIMARY = "          values:\n            2020-01-01: 0.90\n"
CAP_VALUES = "          2020-01-01: 20000\n          2023-01-01: null\n"


def _edited(tmp_path: Path, *changes: tuple[str, str]) -> Path:
    text = BEIJING_TEXT
    for old, new in changes:
        assert text.count(old) >= 1, old
        text = text.replace(old, new, 1)
    path = tmp_path / "region.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _refusal(path: Path) -> str:
    with pytest.raises(ProfileError) as refused:
        load_profile(str(path))
    text = str(refused.value)
    assert text.startswith(f"{path}: ") and "\n" not in text, text
    return text.removeprefix(f"{path}: ")


# -- 1. a key given twice --------------------------------------------------------------------
@pytest.mark.parametrize(("change", "where", "key"), [
    ((RATIO_PRIMARY, "          values: {2020-01-01: 0.90, 2020-01-01: 0.95}\n"),
     "schemes.310.pool.ratio.primary.values", "2020-01-01"),
    ((CAP_VALUES, CAP_VALUES + "          2023-01-01: 99999\n"),
     "schemes.310.pool.annual_cap.values", "2023-01-01"),
    ((RATIO_PRIMARY, '          values:\n            2020-01-01: 0.90\n'
                     '            "2020-01-01": 1\n'),
     "schemes.310.pool.ratio.primary.values", "2020-01-01"),
    (('  secondary: ["2", "3"]', '  primary: ["2", "3"]'), "tier_groups", "primary"),
])
def test_a_key_given_twice_is_refused_not_silently_the_last(
        tmp_path: Path, change: tuple[str, str], where: str, key: str) -> None:
    path = _edited(tmp_path, change)
    message = _refusal(path)
    found = re.fullmatch(rf"{re.escape(where)}: key {key} is given "
                         r"(?:twice on line (\d+)|on lines (\d+) and (\d+)); YAML would "
                         r"silently keep only the last one, so remove the one that is wrong",
                         message)
    assert found, message
    lines = path.read_text(encoding="utf-8").splitlines()
    named = [int(n) for n in found.groups() if n]
    assert sum(lines[n - 1].count(key) for n in named) == 2  # the lines a person goes to


# -- 2. funds: national codes, one code per fund of a scheme ---------------------------------
@pytest.mark.parametrize(("change", "expected"), [
    (('      fund_pay_type: "310200"', '      fund_pay_type: "310100"'),
     "schemes.310.account.fund_pay_type: 310100 is also the code of "
     "schemes.310.pool.fund_pay_type"),
    (('  fund_pay_type: "999996"', '  fund_pay_type: "310100"'),
     "schemes.310.pool.fund_pay_type: 310100 is also the code of hospital_fund.fund_pay_type"),
])
def test_two_funds_with_one_code_are_refused_naming_both(
        tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    message = _refusal(_edited(tmp_path, change))
    assert message.startswith(expected), message
    assert "setldetail rows are mislabelled" in message


def test_a_fund_code_outside_the_national_table_is_refused_naming_the_known_ones(
        tmp_path: Path) -> None:
    message = _refusal(_edited(tmp_path, ('      fund_pay_type: "310200"',
                                          '      fund_pay_type: "ABC"')))
    assert message.startswith("schemes.310.account.fund_pay_type: 'ABC' is not a "
                              "fund_pay_type of the national table"), message
    assert all(code in message for code in FUND_PAY_TYPES)


def test_every_packaged_fund_and_insutype_is_in_the_national_tables() -> None:
    assert {"310100", "310200", "330100", "320100", "610100", "610200", "999996",
            "999997", "390100", "390200", "390500"} <= set(FUND_PAY_TYPES)
    assert set(load_profile("beijing").insutypes) <= set(INSUTYPES)


# -- 4. tier groups cover every institution tier once ------------------------------------------
@pytest.mark.parametrize(("change", "expected"), [
    (('  primary: [community, "1"]', '  primary: [community]'),
     "tier_groups: tier 1 is in no group (every institution tier — community, 1, 2, 3 — must "
     "be in exactly one group"),
    (('  primary: [community, "1"]', '  primary: ["1"]'), "tier_groups: tier community is"),
    (('  secondary: ["2", "3"]', '  secondary: ["2", "3", "4"]'),
     "tier_groups.secondary: '4' is not an institution tier (the tiers are community, 1, 2, 3)"),
])
def test_tier_groups_must_hold_each_institution_tier_once(
        tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    message = _refusal(_edited(tmp_path, change))
    assert message.startswith(expected), message


def test_a_tier_in_no_group_at_settle_time_is_a_policy_error_not_a_value_error() -> None:
    params = load_profile("beijing").at(dt.date(2025, 1, 1))
    with pytest.raises(TierNotConfigured, match=r"no tier group for institution tier '4'"):
        params.rates("310", "4", False)


# -- 5. an impossible date is one line ---------------------------------------------------------
@pytest.mark.parametrize(("day", "why"), [("2020-02-30", "day is out of range for month"),
                                          ("2020-13-01", "month must be in 1..12")])
def test_an_impossible_date_is_one_line_naming_the_parameter(
        tmp_path: Path, day: str, why: str) -> None:
    message = _refusal(_edited(tmp_path, ("            2020-01-01: 1800",
                                          f"            {day}: 1800")))
    assert message == (f"parameter schemes.310.pool.deductible.in_service: '{day}' in values "
                       f"is not a real date ({why})")


# -- 7. insurance types of the national table --------------------------------------------------
@pytest.mark.parametrize("key", ['"999"', "employees"])
def test_an_unknown_insurance_type_is_refused_at_load_naming_the_known_ones(
        tmp_path: Path, key: str) -> None:
    message = _refusal(_edited(tmp_path, ('  "310":\n', f"  {key}:\n")))
    shown = key.strip('"')
    assert message.startswith(f"schemes.{shown}: '{shown}' is not an insurance type "
                              "(insutype) of the national table: 310 职工基本医疗保险;"), message
    assert "390 城乡居民基本医疗保险" in message


# -- 9. quoted numbers, dates in any order -----------------------------------------------------
def test_quoted_numbers_are_numbers_and_dates_may_come_in_any_order(tmp_path: Path) -> None:
    path = _edited(tmp_path, (RATIO_PRIMARY, '          values:\n            2020-01-01: "0.90"\n'),
                   (CAP_VALUES, "          2023-01-01: null\n          2020-01-01: \"20000\"\n"))
    profile = load_profile(str(path))
    employee = profile.at(dt.date(2022, 6, 1)).rates("310", "community", False).pool
    assert (employee.ratio, employee.annual_cap) == (Decimal("0.90"), Decimal("20000"))
    assert profile.at(dt.date(2023, 1, 1)).rates("310", "3", False).pool.annual_cap is None


# -- 10. a section's missing keys at once; the profile's name and file -------------------------
def test_a_payer_section_lists_every_missing_key_at_once() -> None:
    data, _ = profile_document("beijing")
    data = copy.deepcopy(data)
    for key in ("name_en", "wire_field", "eligibility", "base"):
        del data["schemes"]["310"]["assistance"][key]
    with pytest.raises(ProfileError, match=r"^bad\.yaml: schemes\.310\.assistance: missing "
                                           r"name_en, wire_field, eligibility and base$"):
        Profile.from_mapping(data, source="bad.yaml")


def test_a_profile_file_is_named_with_its_resolved_path(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _edited(tmp_path, ("name: beijing", "name: tianjinlike"))
    monkeypatch.chdir(tmp_path)
    assert load_profile("region.yaml").label == f"tianjinlike ({tmp_path / 'region.yaml'})"
    assert load_profile("beijing").label == "beijing"


# -- 8. a parameter not yet in force matters only to what uses it ------------------------------
def _later(change: Any) -> Profile:
    data, _ = profile_document("beijing")
    data = copy.deepcopy(data)
    change(data)
    return Profile.from_mapping(data, source="later.yaml")


def test_a_split_branch_starting_later_refuses_only_its_own_rates() -> None:
    profile = _later(lambda d: d["schemes"]["310"]["pool"]["ratio"]["secondary"]["retired"]
                     .update(values={"2026-06-01": 0.85}))
    params = profile.at(dt.date(2026, 3, 2))  # the line checks are in force: 2204 is served
    assert params.checks.supply_window_days == 30
    assert params.rates("310", "3", False).pool.ratio == Decimal("0.70")
    assert params.rates("310", "community", True).pool.ratio == Decimal("0.90")
    assert params.rates("390", "3", False).pool.ratio == Decimal("0.50")
    with pytest.raises(ParameterNotInForce, match=r"later\.yaml: parameter "
                       r"schemes\.310\.pool\.ratio\.secondary\.retired has no value on "
                       r"2026-03-02; its first value holds from 2026-06-01"):
        params.rates("310", "3", True)
    assert profile.at(dt.date(2026, 6, 1)).rates("310", "3", True).pool.ratio == Decimal("0.85")
    assert [leaf.path for leaf in profile.not_in_force_on(dt.date(2026, 3, 2))] == [
        "schemes.310.pool.ratio.secondary.retired"]
    assert profile.in_force_from() == dt.date(2026, 6, 1)


def test_line_checks_not_in_force_leave_nothing_in_force() -> None:
    profile = _later(lambda d: d["checks"]["supply_window_days"].update(
        values={"2026-06-01": 30}))
    with pytest.raises(ParameterNotInForce, match=r"checks\.supply_window_days"):
        profile.at(dt.date(2026, 3, 2))


def test_a_profile_written_out_again_loads_the_same(tmp_path: Path) -> None:
    """profile_document keeps dates as text; written back as YAML it loads unchanged."""
    data, _ = profile_document("beijing")
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    copied, packaged = load_profile(str(path)), load_profile("beijing")
    day = dt.date(2024, 5, 1)
    assert copied.at(day).rates("310", "2", True) == packaged.at(day).rates("310", "2", True)
