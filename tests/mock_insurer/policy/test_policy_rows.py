"""The per-row split of a 2204 line (fact sheet §4.2)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_insurer.money import CENT
from mock_insurer.policy import CatalogueEntry, FeeLine, split_row
from tests.mock_insurer.policy.strategies import items, money


def _item(lv: str = "02", prop: str = "0.05", cap: str = "999999.00") -> CatalogueEntry:
    return CatalogueEntry("X1", "盐酸米诺环素胶囊", lv, "09", Decimal(cap), Decimal(prop), "0",
                          None, None, (), None, None, None)


def _line(cnt: str, pric: str) -> FeeLine:
    return FeeLine("1", "X1", Decimal(cnt), Decimal(pric), None, "0")


def test_the_hebei_row_rounds_first_self_pay_half_up() -> None:
    row = split_row(_line("1", "4.52"), _item())
    assert (row.det_item_fee_sumamt, row.preselfpay_amt, row.inscp_scp_amt) == (
        Decimal("4.52"), Decimal("0.23"), Decimal("4.29"))
    assert row.fulamt_ownpay_amt == row.overlmt_amt == 0
    assert row.selfpay_prop == Decimal("0.05")


def test_det_is_count_times_price_rounded_to_the_cent() -> None:
    assert split_row(_line("9", "3.5"), _item("01", "0")).det_item_fee_sumamt == Decimal("31.50")
    # 16,6 prices: 3 × 0.333335 = 1.000005 -> 1.00 (half-up at the cent)
    assert split_row(_line("3", "0.333335"), _item("01", "0")).det_item_fee_sumamt == \
        Decimal("1.00")
    assert split_row(_line("1", "0.005"), _item("01", "0")).det_item_fee_sumamt == Decimal("0.01")


def test_class_c_is_full_self_pay_and_reports_ratio_one() -> None:
    row = split_row(_line("2", "18.80"), _item("03", "1"))
    assert row.fulamt_ownpay_amt == Decimal("37.60")
    assert row.inscp_scp_amt == row.preselfpay_amt == 0
    assert row.selfpay_prop == 1
    assert "丙类" in row.memo


def test_out_of_scope_is_full_self_pay_with_the_reason_in_memo() -> None:
    row = split_row(_line("1", "45.60"), _item(), in_scope=False, memo="限适应症")
    assert row.fulamt_ownpay_amt == Decimal("45.60") and row.inscp_scp_amt == 0
    assert row.memo == "限适应症"


def test_a_price_above_the_cap_is_over_limit_self_pay() -> None:
    row = split_row(_line("3", "25.00"), _item("02", "0.10", "20.00"))
    assert row.overlmt_amt == Decimal("15.00")
    assert row.preselfpay_amt == Decimal("6.00")
    assert row.inscp_scp_amt == Decimal("54.00")
    assert "超限价" in row.memo
    # no cap: 999999 means none
    assert split_row(_line("1", "5000"), _item(cap="999999.00")).overlmt_amt == 0


@settings(max_examples=300, deadline=None)
@given(items(), st.integers(1, 10_000).map(lambda i: Decimal(i).scaleb(-2)),
       money("0", "2000"), st.booleans())
def test_every_row_adds_up_and_is_never_negative(
    item: CatalogueEntry, cnt: Decimal, pric: Decimal, in_scope: bool,
) -> None:
    row = split_row(FeeLine("1", item.med_list_codg, cnt, pric, None, "0"), item,
                    in_scope=in_scope)
    parts = (row.fulamt_ownpay_amt, row.overlmt_amt, row.preselfpay_amt, row.inscp_scp_amt)
    assert sum(parts) == row.det_item_fee_sumamt == (cnt * pric).quantize(CENT, ROUND_HALF_UP)
    assert all(p >= 0 and p == p.quantize(CENT) for p in parts)
    if item.chrgitm_lv == "03" or not in_scope:
        assert row.inscp_scp_amt == 0 and row.selfpay_prop == 1
    else:
        assert row.fulamt_ownpay_amt == 0


def test_the_price_cap_note_shows_the_price_as_sent() -> None:
    row = split_row(_line("1", "10.005"), _item(cap="10.00"))
    assert row.overlmt_amt == Decimal("0.01")  # 10.005 - 10.00, half-up at the cent
    assert "单价10.005超过限价10.00" in row.memo
