"""What the engine needs of one national catalogue item (医保目录), read from a catalogue record.

A catalogue file (``cardsettle generate catalogue``) is JSONL; each ``"kind": "item"`` record
carries money as strings with two places (``"12.50"``), ratios as strings with four
(``"0.0500"``). The national interface writes ``pric_uplmt_amt`` 999999 for "no price cap"
(fact sheet §3, 2204 output); :attr:`CatalogueEntry.has_price_cap` tells the two apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mock_insurer.money import MoneyParseError, parse_decimal
from mock_insurer.policy.errors import CatalogueRecordError

__all__ = ["CHRGITM_LEVELS", "NO_PRICE_CAP", "CatalogueEntry"]

#: 收费项目等级 (fact sheet §4.1): 甲类 fully in scope, 乙类 with a first self-pay share,
#: 丙类 outside the scheme (full self-pay).
CHRGITM_LEVELS = {"01": "甲类", "02": "乙类", "03": "丙类"}

#: The interface's value of ``pric_uplmt_amt`` meaning "no price cap" (yuan).
NO_PRICE_CAP = Decimal("999999")

_GENDERS = {"1", "2"}


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """One catalogue item as the engine sees it. Money in yuan, ratios as fractions of 1.

    ``indications`` lists the diagnosis codes (or code prefixes, e.g. ``"J06"``) for which an
    indication-limited item is in scope; empty means unrestricted. ``age_min``/``age_max`` are
    inclusive whole years; ``gend_limit`` is ``"1"`` (male only), ``"2"`` (female only) or None.
    """

    med_list_codg: str
    med_list_name: str
    chrgitm_lv: str
    med_chrgitm_type: str
    pric_uplmt_amt: Decimal
    selfpay_prop: Decimal
    lmt_used_flag: str
    max_cnt_per_rx: Decimal | None
    max_days_per_rx: Decimal | None
    indications: tuple[str, ...]
    gend_limit: str | None
    age_min: int | None
    age_max: int | None

    @property
    def has_price_cap(self) -> bool:
        """True when ``pric_uplmt_amt`` is a real cap (below the interface's 999999)."""
        return self.pric_uplmt_amt < NO_PRICE_CAP

    @property
    def level_name(self) -> str:
        """甲类 / 乙类 / 丙类."""
        return CHRGITM_LEVELS[self.chrgitm_lv]

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> CatalogueEntry:
        """Build from a catalogue JSONL ``item`` record (extra keys are ignored).

        Raises :class:`CatalogueRecordError` naming the item and the field when a field is
        missing or unusable (a negative price cap, a self-pay share above 1, an unknown level).
        """
        code = str(rec.get("med_list_codg") or "?")
        reader = _Reader(rec, code)
        lv = reader.text("chrgitm_lv")
        if lv not in CHRGITM_LEVELS:
            raise reader.error("chrgitm_lv", f"{lv!r} is not 01 (甲类), 02 (乙类) or 03 (丙类)")
        selfpay_prop = reader.decimal("selfpay_prop")
        if not Decimal(0) <= selfpay_prop <= Decimal(1):
            raise reader.error("selfpay_prop", f"{selfpay_prop} is outside 0..1")
        gend_limit = reader.optional_text("gend_limit")
        if gend_limit is not None and gend_limit not in _GENDERS:
            raise reader.error("gend_limit", f"{gend_limit!r} is not null, '1' or '2'")
        indications = rec.get("indications") or []
        if not isinstance(indications, list | tuple) or not all(
            isinstance(c, str) for c in indications
        ):
            raise reader.error("indications", "expected a list of diagnosis codes")
        return cls(
            med_list_codg=reader.text("med_list_codg"),
            med_list_name=reader.text("med_list_name"),
            chrgitm_lv=lv,
            med_chrgitm_type=reader.text("med_chrgitm_type"),
            pric_uplmt_amt=reader.decimal("pric_uplmt_amt"),
            selfpay_prop=selfpay_prop,
            lmt_used_flag=reader.optional_text("lmt_used_flag") or "0",
            max_cnt_per_rx=reader.optional_decimal("max_cnt_per_rx"),
            max_days_per_rx=reader.optional_decimal("max_days_per_rx"),
            indications=tuple(c.strip() for c in indications if c.strip()),
            gend_limit=gend_limit,
            age_min=reader.optional_int("age_min"),
            age_max=reader.optional_int("age_max"),
        )


class _Reader:
    """Reads typed fields of one record; every error names the item and the field."""

    def __init__(self, rec: Mapping[str, Any], code: str) -> None:
        self.rec = rec
        self.code = code

    def error(self, key: str, what: str) -> CatalogueRecordError:
        return CatalogueRecordError(f"catalogue item {self.code}: field {key}: {what}")

    def text(self, key: str) -> str:
        value = self.optional_text(key)
        if value is None:
            raise self.error(key, "missing")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.rec.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.error(key, f"expected text, got {value!r}")
        return str(value)

    def decimal(self, key: str) -> Decimal:
        value = self.optional_decimal(key)
        if value is None:
            raise self.error(key, "missing")
        return value

    def optional_decimal(self, key: str) -> Decimal | None:
        value = self.rec.get(key)
        if value is None or value == "":
            return None
        try:
            number = parse_decimal(value)
        except MoneyParseError as exc:
            raise self.error(key, str(exc)) from None
        if number < 0:
            raise self.error(key, f"{number} is negative")
        return number

    def optional_int(self, key: str) -> int | None:
        number = self.optional_decimal(key)
        if number is None:
            return None
        if number != number.to_integral_value():
            raise self.error(key, f"{number} is not a whole number")
        return int(number)
