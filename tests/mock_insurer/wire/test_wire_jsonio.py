"""JSON in and out: amounts keep their places, parsing is Decimal-exact, bad input is refused."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_insurer.money import round_money
from mock_insurer.wire.errors import WireEncodeError
from mock_insurer.wire.jsonio import dumps, loads


def test_money_and_ratios_are_numbers_with_their_own_places() -> None:
    body = dumps({"medfee_sumamt": Decimal("4.50"), "selfpay_prop": Decimal("0.0500"),
                  "hifp_pay": Decimal("0.00"), "cnt": 2})
    assert body == b'{"medfee_sumamt":4.50,"selfpay_prop":0.0500,"hifp_pay":0.00,"cnt":2}'


def test_negative_zero_is_written_without_sign() -> None:
    assert dumps([-Decimal("0.00"), Decimal("-25.10")]) == b"[0.00,-25.10]"


def test_exponent_decimals_are_written_fixed_point() -> None:
    assert dumps([Decimal("1E+2"), Decimal("0E-2")]) == b"[100,0.00]"


def test_times_are_written_in_the_interface_format() -> None:
    body = dumps({"setl_time": datetime(2021, 11, 29, 18, 9, 52), "brdy": date(1990, 1, 2)})
    assert body == b'{"setl_time":"2021-11-29 18:09:52","brdy":"1990-01-02"}'


def test_chinese_text_is_raw_utf8() -> None:
    assert dumps({"psn_name": "张三"}) == '{"psn_name":"张三"}'.encode()


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), object()])
def test_unwritable_values_are_a_bug(bad: object) -> None:
    with pytest.raises(WireEncodeError):
        dumps({"x": bad})


def test_numbers_are_read_exactly_from_their_text() -> None:
    value = loads(b'{"a": 99999999999999.99, "b": 4.52, "c": 3, "d": 1e2}')
    assert value == {"a": Decimal("99999999999999.99"), "b": Decimal("4.52"), "c": 3,
                     "d": Decimal("1E+2")}
    assert isinstance(value["c"], int)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_non_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        loads(text)


def test_lone_surrogates_are_refused_but_pairs_are_fine() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads(b'{"a": "\\ud800"}')
    assert loads(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(UnicodeDecodeError):
        loads(b'{"a": "\xff"}')


money = st.decimals(min_value=Decimal("-99999999999999.99"), max_value=Decimal("99999999999999.99"),
                    places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(money, max_size=5))
def test_money_round_trips_exactly(amounts: list[Decimal]) -> None:
    quantized = [round_money(a) for a in amounts]
    back = loads(dumps(quantized))
    assert back == quantized
    assert all(str(b) == str(q) or q.is_zero() for b, q in zip(back, quantized, strict=True))
