"""Reading catalogue item records (the generator's JSONL "item" format)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from mock_insurer.policy import CatalogueEntry, CatalogueRecordError


def _record(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "item", "med_list_codg": "XJ01CAA040A001010100568",
        "med_list_name": "阿莫西林胶囊", "list_type": "western", "chrgitm_lv": "02",
        "med_chrgitm_type": "09", "spec": "0.25g*24粒", "unit": "盒", "pric": "12.50",
        "pric_uplmt_amt": "15.00", "selfpay_prop": "0.1000", "max_cnt_per_rx": "20",
        "max_days_per_rx": 7, "indications": ["J15", "J18"], "gend_limit": None,
        "age_min": None, "age_max": 80, "lmt_used_flag": "1", "bas_medn_flag": "1",
        "hi_nego_drug_flag": "0", "chld_medc_flag": "0", "list_sp_item_flag": "0",
    }
    record.update(changes)
    return record


def test_a_generator_record_becomes_an_entry() -> None:
    entry = CatalogueEntry.from_record(_record())
    assert entry.pric_uplmt_amt == Decimal("15.00") and entry.has_price_cap
    assert entry.selfpay_prop == Decimal("0.1000")
    assert entry.max_cnt_per_rx == 20 and entry.max_days_per_rx == 7
    assert entry.indications == ("J15", "J18")
    assert entry.age_min is None and entry.age_max == 80
    assert entry.level_name == "乙类"


def test_999999_means_no_price_cap_and_nulls_mean_no_limits() -> None:
    entry = CatalogueEntry.from_record(_record(
        pric_uplmt_amt="999999.00", max_cnt_per_rx=None, max_days_per_rx=None, indications=[],
        age_max=None))
    assert not entry.has_price_cap
    assert entry.max_cnt_per_rx is None and entry.max_days_per_rx is None
    assert entry.indications == ()


@pytest.mark.parametrize(("changes", "field"), [
    ({"chrgitm_lv": "04"}, "chrgitm_lv"),
    ({"selfpay_prop": "1.5"}, "selfpay_prop"),
    ({"pric_uplmt_amt": "-1"}, "pric_uplmt_amt"),
    ({"pric_uplmt_amt": "abc"}, "pric_uplmt_amt"),
    ({"med_list_name": None}, "med_list_name"),
    ({"gend_limit": "3"}, "gend_limit"),
    ({"age_min": "1.5"}, "age_min"),
    ({"indications": "J15"}, "indications"),
])
def test_a_bad_record_names_the_item_and_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(CatalogueRecordError) as err:
        CatalogueEntry.from_record(_record(**changes))
    assert "XJ01CAA040A001010100568" in str(err.value)
    assert f"field {field}" in str(err.value)
