"""Institutions and the catalogue: shapes, uniqueness, restrictions, and the item mapping (对码)
with its configured shares of unmapped and wrong mappings."""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mock_insurer.money import parse_decimal
from simulator import divisions
from simulator.catalogue import (
    NO_PRICE_CAP,
    build_items,
    iter_catalogue,
    iter_mappings,
    write_catalogue,
)
from simulator.diagnoses import diagnosis_codes, load_diagnoses
from simulator.errors import DataFileError, InvalidArgumentError
from simulator.institutions import (
    TIERS,
    generate_institutions,
    load_institutions,
    write_institutions,
)

CODE_SHAPES = {
    "western": r"X[A-Z]\d{2}[A-Z]{2}[A-Z]\d{3}[A-Z]\d{3}\d{4}\d{5}",
    "patent": r"Z[A-Z]\d{2}[A-Z]{2}[A-Z]\d{4}\d{4}\d{5}",
    "herbal": r"T\d{9}",
    "service": r"00\d{13}",
    "material": r"C\d{19}",
}


# -- institutions ------------------------------------------------------------------------------

def test_default_institutions() -> None:
    institutions = generate_institutions()
    assert 4 <= len(institutions) <= 10
    assert [i["tier"] for i in institutions[:4]] == list(TIERS)
    assert institutions == generate_institutions()


@pytest.mark.parametrize(("count", "admdvs"), [(1, "110000"), (60, "110000"), (25, "310000"), (7, "440300")])
def test_institution_codes_names_and_places(count: int, admdvs: str) -> None:
    institutions = generate_institutions(count, 3, admdvs=admdvs)
    assert len(institutions) == count
    assert len({i["fixmedins_code"] for i in institutions}) == count
    assert len({i["fixmedins_name"] for i in institutions}) == count
    for inst in institutions:
        assert re.fullmatch(r"H\d{11}", inst["fixmedins_code"])
        assert inst["fixmedins_code"][1:7] == inst["admdvs"]
        assert inst["admdvs"] in divisions.counties_under(admdvs)
        assert inst["blacklisted"] is False
        assert len(inst["credentials"]["token"]) == 32
    if count >= 4:
        assert set(Counter(i["tier"] for i in institutions)) == set(TIERS)


def test_bad_institution_arguments(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        generate_institutions(0)
    with pytest.raises(InvalidArgumentError, match="999999"):
        generate_institutions(3, admdvs="999999")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"fixmedins_code": "X1"}\n', encoding="utf-8")
    with pytest.raises(DataFileError, match=r"bad\.jsonl:1"):
        load_institutions(bad)
    bad.write_text("not json\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"bad\.jsonl:1"):
        load_institutions(bad)
    with pytest.raises(DataFileError, match="cannot read"):
        load_institutions(tmp_path / "missing.jsonl")
    bad.write_text('{"fixmedins_code": "H11010500001"}\n\n{"fixmedins_code": "H11010500001"}\n',
                   encoding="utf-8")
    with pytest.raises(DataFileError, match=r"bad\.jsonl:3: duplicate fixmedins_code "
                                            r"H11010500001 \(first on line 1\)"):
        load_institutions(bad)


# -- items ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def items() -> list[dict[str, Any]]:
    return build_items(1)


def test_items_shapes_and_sizes(items: list[dict[str, Any]]) -> None:
    assert 200 <= len(items) <= 500
    assert len({i["med_list_codg"] for i in items}) == len(items)
    assert set(Counter(i["list_type"] for i in items)) == set(CODE_SHAPES)
    for item in items:
        assert re.fullmatch(CODE_SHAPES[item["list_type"]], item["med_list_codg"]), item
        price = parse_decimal(item["pric"])
        assert price > 0 and item["pric"] == f"{price:.2f}"
        cap = item["pric_uplmt_amt"]
        assert cap == NO_PRICE_CAP or cap == item["pric"]
        selfpay = {"01": "0.0000", "03": "1.0000"}.get(item["chrgitm_lv"])
        if selfpay:
            assert item["selfpay_prop"] == selfpay
        else:
            assert 0 < parse_decimal(item["selfpay_prop"]) < 1
        assert set(item["indications"]) <= diagnosis_codes()
        restricted = bool(item["indications"]) or any(item[k] is not None for k in ("gend_limit", "age_min", "age_max"))
        assert item["lmt_used_flag"] == ("1" if restricted else "0")
    types = {i["med_list_name"]: i["med_chrgitm_type"] for i in items}
    assert types["挂号费"] == "13" and types["普通门诊诊察费"] == "02"
    assert {i["med_chrgitm_type"] for i in items if i["list_type"] == "western"} == {"09"}
    assert any(i["indications"] for i in items) and any(i["gend_limit"] == "1" for i in items)
    assert any(i["gend_limit"] == "2" for i in items) and any(i["age_max"] is not None for i in items)
    assert any(i["max_cnt_per_rx"] for i in items) and any(i["max_days_per_rx"] for i in items)


def test_diagnoses() -> None:
    diagnoses = load_diagnoses()
    assert 50 <= len(diagnoses) <= 80
    assert len({d["diag_code"] for d in diagnoses}) == len(diagnoses)
    assert {"diag_code": "J06.900", "diag_name": "急性上呼吸道感染", "kind": "diagnosis"} in diagnoses


# -- mappings ----------------------------------------------------------------------------------

def test_mappings_at_their_rates(items: list[dict[str, Any]]) -> None:
    institutions = generate_institutions(30, 4)
    rates = {"unmapped_rate": 0.1, "wrong_rate": 0.15, "over_cap_rate": 0.3}
    mappings = list(iter_mappings(items, institutions, 4, **rates))
    assert len(mappings) == len(items) * len(institutions)
    by_code = {i["med_list_codg"]: i for i in items}
    pairs = {(m["fixmedins_code"], m["intended_med_list_codg"]) for m in mappings}
    assert len(pairs) == len(mappings)  # one per (institution, item)
    for inst in institutions:
        own = [m["medins_list_codg"] for m in mappings if m["fixmedins_code"] == inst["fixmedins_code"]]
        assert len(set(own)) == len(own)
    over, capped = 0, 0
    for m in mappings:
        item = by_code[m["intended_med_list_codg"]]
        if m["mapping"] == "ok":
            assert m["med_list_codg"] == item["med_list_codg"]
        elif m["mapping"] == "unmapped":
            assert m["med_list_codg"] is None
        else:
            assert m["med_list_codg"] != item["med_list_codg"]
            assert by_code[m["med_list_codg"]]["list_type"] == item["list_type"]
        if item["pric_uplmt_amt"] != NO_PRICE_CAP:
            capped += 1
            over += parse_decimal(m["hosp_pric"]) > parse_decimal(item["pric_uplmt_amt"])
        else:
            assert m["hosp_pric"] == item["pric"]
    n = len(mappings)
    shares = Counter(m["mapping"] for m in mappings)
    for kind, rate in (("unmapped", 0.1), ("wrong", 0.15)):
        assert abs(shares[kind] / n - rate) < 5 * math.sqrt(rate * (1 - rate) / n), kind
    assert abs(over / capped - 0.3) < 5 * math.sqrt(0.21 / capped)


def test_catalogue_file_order_and_default_institutions(tmp_path: Path) -> None:
    counts = write_catalogue(tmp_path / "c.jsonl", 7)
    records = list(iter_catalogue(7))
    kinds = [r["kind"] for r in records]
    assert kinds == sorted(kinds, key=["item", "diagnosis", "mapping"].index)
    assert counts == dict(Counter(kinds))
    default_codes = {i["fixmedins_code"] for i in generate_institutions(seed=7)}
    assert {r["fixmedins_code"] for r in records if r["kind"] == "mapping"} == default_codes
    institutions = write_institutions(tmp_path / "i.jsonl", 3, 99)
    chosen = list(iter_catalogue(7, load_institutions(tmp_path / "i.jsonl")))
    assert {r["fixmedins_code"] for r in chosen if r["kind"] == "mapping"} == {i["fixmedins_code"] for i in institutions}


@pytest.mark.parametrize(
    "rates",
    [{"unmapped_rate": -0.1}, {"wrong_rate": 1.5}, {"over_cap_rate": 2.0}, {"unmapped_rate": 0.6, "wrong_rate": 0.6}],
)
def test_bad_mapping_rates(rates: dict[str, float]) -> None:
    with pytest.raises(InvalidArgumentError):
        list(iter_catalogue(1, **rates))
