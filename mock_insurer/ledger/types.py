"""Column types of the ledger: money is stored as integer cents, never as a float.

SQLite has no exact decimal type (SQLAlchemy's Numeric falls back to REAL there), so both
databases store money as BIGINT cents and the ledger hands out :class:`decimal.Decimal` yuan.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from mock_insurer.money import CENT, round_money

__all__ = ["Cents"]


class Cents(TypeDecorator[Decimal]):
    """Decimal yuan in Python, BIGINT cents in the database (exact on SQLite and PostgreSQL)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        cents = round_money(value) / CENT
        return int(cents)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) * CENT).quantize(CENT)
