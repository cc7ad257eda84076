"""Policy profiles: dated parameters with unit and source, and clear errors for bad files."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_insurer.errors import InsurerError
from mock_insurer.policy import (
    ParameterNotInForce,
    ProfileError,
    SchemeNotConfigured,
    available_profiles,
    load_profile,
)
from mock_insurer.policy.parameters import profile_document

BEIJING = load_profile("beijing")


def test_beijing_is_packaged() -> None:
    assert "beijing" in available_profiles()
    assert BEIJING.insutypes == ("310", "390")


def test_every_beijing_parameter_has_a_description_a_unit_and_a_source() -> None:
    leaves = BEIJING.leaves()
    assert len(leaves) > 25
    for leaf in leaves:
        assert leaf.description and leaf.unit and leaf.reference, leaf.path
        assert leaf.values[0][0] <= dt.date(2021, 1, 1), leaf.path


@pytest.mark.parametrize(("tier", "retired", "deductible", "ratio"), [
    ("community", False, "1800", "0.90"), ("1", True, "1300", "0.90"),
    ("2", False, "1800", "0.70"), ("3", True, "1300", "0.85"),
])
def test_beijing_employee_rates(tier: str, retired: bool, deductible: str, ratio: str) -> None:
    pool = BEIJING.at(dt.date(2024, 5, 1)).rates("310", tier, retired).pool
    assert (pool.deductible, pool.ratio) == (Decimal(deductible), Decimal(ratio))
    assert pool.registration_payment == Decimal("2")


@pytest.mark.parametrize(("tier", "deductible", "ratio"), [
    ("community", "100", "0.55"), ("1", "100", "0.55"), ("2", "550", "0.50"),
    ("3", "550", "0.50"),
])
def test_beijing_resident_rates(tier: str, deductible: str, ratio: str) -> None:
    rates = BEIJING.at(dt.date(2024, 5, 1)).rates("390", tier, False)
    assert (rates.pool.deductible, rates.pool.ratio) == (Decimal(deductible), Decimal(ratio))
    assert rates.pool.annual_cap == Decimal("5000")
    assert rates.pool.registration_payment == 0
    assert rates.account is None


def test_the_employee_cap_ends_on_1_january_2023() -> None:
    def cap(day: dt.date) -> Decimal | None:
        return BEIJING.at(day).rates("310", "3", False).pool.annual_cap

    assert cap(dt.date(2022, 12, 31)) == Decimal("20000")
    assert cap(dt.date(2023, 1, 1)) is None
    assert cap(dt.date(2026, 6, 1)) is None


def test_serious_illness_is_data_and_off_for_outpatient_by_default() -> None:
    serious = BEIJING.at(dt.date(2025, 1, 1)).rates("390", "3", False).serious_illness
    assert serious is not None
    assert serious.med_types == frozenset()
    assert serious.threshold == Decimal("30404")
    assert [(b.above, b.rate) for b in serious.brackets] == [
        (Decimal(0), Decimal("0.6")), (Decimal("50000"), Decimal("0.7"))]


def test_snapshots_are_cached_per_day() -> None:
    assert BEIJING.at(dt.date(2024, 1, 1)) is BEIJING.at(dt.date(2024, 1, 1))


def test_a_day_before_the_first_value_is_an_error_not_a_default() -> None:
    with pytest.raises(ParameterNotInForce, match=r"has no value on 2019-12-31.*2020-01-01"):
        BEIJING.at(dt.date(2019, 12, 31))


def test_an_insutype_without_rules_is_reported() -> None:
    params = BEIJING.at(dt.date(2024, 1, 1))
    assert params.covers("310") and not params.covers("340")
    with pytest.raises(SchemeNotConfigured, match=r"340.*310, 390"):
        params.rates("340", "3", False)


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"unknown policy profile 'shanghai'.*beijing"):
        load_profile("shanghai")


def test_a_profile_file_by_path(tmp_path: Path) -> None:
    data, _ = profile_document("beijing")
    data["name"] = "beijing-copy"
    data["schemes"]["310"]["pool"]["deductible"]["in_service"]["values"][
        dt.date(2026, 1, 1)] = 2000
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    profile = load_profile(str(path))
    assert profile.name == "beijing-copy"
    pool = profile.at(dt.date(2026, 1, 1)).rates("310", "3", False).pool
    assert pool.deductible == Decimal("2000")
    assert profile.at(dt.date(2025, 12, 31)).rates("310", "3", False).pool.deductible == 1800


def _broken(change: Any) -> dict[str, Any]:
    data, _ = profile_document("beijing")
    data = copy.deepcopy(data)
    change(data)
    return data


def _pool(data: dict[str, Any]) -> dict[str, Any]:
    pool: dict[str, Any] = data["schemes"]["310"]["pool"]
    return pool


BAD_PROFILES = [
    (lambda d: _pool(d)["ratio"]["primary"]["values"].update({dt.date(2024, 1, 1): 90}),
     "schemes.310.pool.ratio.primary: value from 2024-01-01: 90 is outside 0..1"),
    (lambda d: _pool(d)["deductible"]["in_service"].pop("reference"),
     "schemes.310.pool.deductible.in_service: 'reference' is missing"),
    (lambda d: _pool(d)["deductible"]["in_service"].pop("unit"),
     "schemes.310.pool.deductible.in_service: 'unit' is missing"),
    (lambda d: _pool(d)["deductible"]["in_service"]["values"].update({"2024-13-01": 1}),
     "'2024-13-01' in values is not a real date (month must be in 1..12)"),
    (lambda d: _pool(d)["deductible"]["in_service"].update(values={}),
     "'values' must map dates"),
    (lambda d: _pool(d)["deductible"].pop("retired"),
     "schemes.310.pool.deductible: expected 'values'"),
    (lambda d: _pool(d)["ratio"].update(tertiary=_pool(d)["ratio"]["primary"]),
     "schemes.310.pool.ratio: expected 'values'"),
    (lambda d: _pool(d).pop("annual_cap"), "schemes.310.pool.annual_cap: missing"),
    (lambda d: _pool(d).update(anual_cap={}), "schemes.310.pool.anual_cap: unknown key"),
    (lambda d: _pool(d)["deductible"]["in_service"]["values"].update({dt.date(2024, 1, 1):
                                                                     "12.345"}),
     "12.345 has more than two decimal places"),
    (lambda d: _pool(d)["annual_cap"]["values"].update({dt.date(2024, 1, 1): -1}),
     "-1 is negative"),
    (lambda d: d["schemes"]["390"]["serious_illness"]["brackets"]["values"].update(
        {dt.date(2024, 1, 1): [{"above": 100, "rate": 0.6}]}),
     "the first bracket must start at above: 0"),
    (lambda d: d["schemes"]["310"]["account"]["may_pay"]["values"].update(
        {dt.date(2024, 1, 1): "everything"}), "'everything' is not one of psn_part"),
    (lambda d: d["checks"]["supply_window_days"]["values"].update({dt.date(2024, 1, 1): 0}),
     "checks.supply_window_days: value from 2024-01-01: 0 is not a whole number of days"),
    (lambda d: d["schemes"]["310"].pop("pool"), "schemes.310.pool: missing"),
    (lambda d: d.pop("tier_groups"), "tier_groups: missing"),
    (lambda d: d.update(tier_groups=[]), "tier_groups: expected a mapping"),
    (lambda d: d["tier_groups"].update(other=["3"]), "tier 3 is in two groups"),
    (lambda d: d["schemes"]["310"]["pool"].pop("fund_pay_type"),
     "schemes.310.pool.fund_pay_type: missing"),
]


@pytest.mark.parametrize(("change", "message"), BAD_PROFILES)
def test_a_bad_profile_names_file_parameter_and_what_is_wrong(
    tmp_path: Path, change: Any, message: str,
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(_broken(change), allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        load_profile(str(path))
    text = str(err.value)
    assert text.startswith(str(path) + ": "), text
    assert message in text, text
    assert isinstance(err.value, InsurerError)
    assert "\n" not in text


def test_bad_yaml_and_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(str(path))
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(str(tmp_path / "missing.yaml"))
    path.write_text("- just a list\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="expected a mapping at the top level"):
        load_profile(str(path))
