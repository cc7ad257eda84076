"""The params file: merged over the defaults, every number checked, errors naming the field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from simulator.finance.params import CATEGORIES, ParamsError, default_data, load_params


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_have_a_reference_for_every_number() -> None:
    params = load_params()
    assert params.daily_level == Decimal("300000.00")
    assert params.advance.amount == (params.advance.base_amount * params.advance.ratio).quantize(Decimal("0.01"))
    data = default_data()
    for section in ("claims", "settlement", "refusal_rates", "advance", "finance"):
        for key, leaf in data[section].items():
            assert isinstance(leaf, dict) and leaf.get("reference"), f"{section}.{key} has no reference"
    assert set(params.refusal_rates) == set(CATEGORIES)


def test_a_file_changes_only_what_it_gives(tmp_path: Path) -> None:
    path = _write(tmp_path, "claims:\n  daily_level: 120000\n  weekday_profile: {sat: 0}\n"
                            "refusal_rates:\n  pricing: {value: 0.01, reference: our 2025 notices}\n")
    params = load_params(path)
    defaults = load_params()
    assert params.daily_level == Decimal("120000.00")
    assert params.weekday_profile[5] == 0 and params.weekday_profile[:5] == defaults.weekday_profile[:5]
    assert params.refusal_rates["pricing"] == Decimal("0.01")
    assert params.references["refusal_rates.pricing"] == "our 2025 notices"
    assert params.refusal_rates["personal"] == defaults.refusal_rates["personal"]
    assert params.review_days == defaults.review_days


@pytest.mark.parametrize(("text", "field"), [
    ("advance:\n  ratio: 1.5\n", "advance.ratio"),
    ("advance:\n  ratio: lots\n", "advance.ratio"),
    ("claims:\n  daily_level: -5\n", "claims.daily_level"),
    ("claims:\n  weekday_profile: {funday: 1}\n", "claims.weekday_profile"),
    ("claims:\n  dailylevel: 5\n", "claims.dailylevel"),
    ("settlement:\n  review_days: 2.5\n", "settlement.review_days"),
    ("settlement:\n  declaration_day: 32\n", "settlement.declaration_day"),
    ("refusal_rates:\n  bribery: 0.1\n", "refusal_rates.bribery"),
    ("advance:\n  paid_on: \"13-01\"\n", "advance.paid_on"),
    ("advance:\n  paid_on: \"06-01\"\n  recouped_on: \"05-01\"\n", "advance.recouped_on"),
    ("finance:\n  cost_of_money: [1]\n", "finance.cost_of_money"),
    ("finanse:\n  cost_of_money: 0.1\n", "finanse"),
])
def test_bad_value_names_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ParamsError) as caught:
        load_params(path)
    message = str(caught.value)
    assert str(path) in message and f"{field}:" in message and "\n" not in message


def test_unreadable_or_not_yaml(tmp_path: Path) -> None:
    with pytest.raises(ParamsError, match="cannot read params"):
        load_params(tmp_path / "missing.yaml")
    with pytest.raises(ParamsError, match="not valid YAML at line"):
        load_params(_write(tmp_path, "claims: [\n"))
    with pytest.raises(ParamsError, match="expected a mapping"):
        load_params(_write(tmp_path, "- 1\n"))
