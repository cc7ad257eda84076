"""--from-month: a month run's level, refusal rates and lags taken into the model."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from simulator.finance.claims import profile_factor
from simulator.finance.month_input import apply_month
from simulator.finance.params import CashflowParams, ParamsError, params_from_data, read_params_data
from tests.simulator.finance.conftest import month_file_data


def _apply(tmp_path: Path, data: Any) -> tuple[CashflowParams, dict[str, Any]]:
    path = tmp_path / "month.json"
    path.write_bytes(orjson.dumps(data))
    params_data, where = read_params_data(None)
    return apply_month(params_data, params_from_data(params_data, where), path, where)


def test_mapping(tmp_path: Path, defaults: CashflowParams) -> None:
    params, sources = _apply(tmp_path, month_file_data())
    weight = sum(profile_factor(defaults, date(2026, 3, day)) for day in range(1, 32))
    assert params.daily_level == (Decimal("3100000") / weight).quantize(Decimal("0.01"))
    assert params.refusal_rates["insurance_rules"] == Decimal("0.006774")  # 21,000 / 3,100,000
    assert params.refusal_rates["pricing"] == Decimal("0.003226")
    assert params.refusal_rates["medical_admin"] == 0
    assert (params.declaration_day, params.declaration_months_after) == (15, 1)
    assert (params.review_days, params.payment_lag_days) == (20, 15)
    assert sources["period"] == "2026-03" and sources["kept_from_params"] == []
    # the defaults' base is the default hospital's: the month's level over its year stands in
    year = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    expected = params.daily_level * sum(profile_factor(defaults, day) for day in year)
    assert params.advance.base_amount == expected.quantize(Decimal("0.01"))
    assert params.advance.ratio == defaults.advance.ratio
    assert "advance.base_amount" in sources["taken"]


def test_a_base_from_the_params_file_is_kept(tmp_path: Path, defaults: CashflowParams) -> None:
    path = tmp_path / "month.json"
    path.write_bytes(orjson.dumps(month_file_data()))
    params_data, where = read_params_data(None)
    params_data["advance"]["base_amount"] = {"value": "12345678.00"}
    params, sources = apply_month(params_data, params_from_data(params_data, where), path, where)
    assert params.advance.base_amount == Decimal("12345678.00")
    assert "advance.base_amount" not in sources["taken"]


def test_unpaid_month_keeps_the_params_lag(tmp_path: Path, defaults: CashflowParams) -> None:
    params, sources = _apply(tmp_path, month_file_data(paid_date=None))
    assert params.review_days == 20 and params.payment_lag_days == defaults.payment_lag_days
    assert sources["kept_from_params"] == ["settlement.payment_lag_days"]


@pytest.mark.parametrize(("changes", "field"), [
    ({"period": "March"}, "period"),
    ({"daily": []}, "daily"),
    ({"daily": [{"date": "2026-04-01", "claimed": "1"}]}, "daily[0].date"),
    ({"daily": [{"date": "2026-03-01", "claimed": "x"}]}, "daily[0].claimed"),
    ({"daily": [{"date": "2026-03-01"}]}, "daily[0].claimed"),
    ({"claimed": None}, "claimed"),
    ({"deducted": "4000000.00"}, "deducted"),
    ({"deductions_by_category": {"bribery": "31000.00"}}, "deductions_by_category.bribery"),
    ({"deductions_by_category": {"pricing": "1.00"}}, "deductions_by_category"),
    ({"declared_on": "2026-03-20"}, "declared_on"),
    ({"declared_on": "15/04/2026"}, "declared_on"),
    ({"reviewed_on": "2026-04-01"}, "reviewed_on"),
    ({"paid_date": "2026-05-01"}, "paid_date"),
])
def test_bad_month_file_names_the_field(tmp_path: Path, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ParamsError) as caught:
        _apply(tmp_path, month_file_data(**changes))
    assert f"month.json: {field}:" in str(caught.value)


def test_missing_field_and_not_json(tmp_path: Path) -> None:
    data = month_file_data()
    del data["declared_on"]
    with pytest.raises(ParamsError, match="declared_on: missing"):
        _apply(tmp_path, data)
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    params_data, where = read_params_data(None)
    with pytest.raises(ParamsError, match="not valid JSON"):
        apply_month(params_data, params_from_data(params_data, where), path, where)
