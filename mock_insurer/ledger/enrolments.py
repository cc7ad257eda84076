"""Enrolments: which persons a supplementary payer of eligibility ``enrolment`` covers (the
veterans' second compensation, a commercial insurer through the one-stop platform).

One row per person and payer id (table ``enrolments``); a person with no row is enrolled with
nothing. Flags the national interface carries (``cvlserv_flag``, medical assistance) are not
enrolments. docs/policy.md "Several payers (one-stop settlement)".
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert

from mock_insurer.ledger import schema as s
from mock_insurer.ledger.store import LedgerTx

__all__ = ["enrolments_of", "set_enrolments"]


def enrolments_of(tx: LedgerTx, psn_no: str) -> frozenset[str]:
    """The payer ids ``psn_no`` is enrolled with (empty when none)."""
    return tx.enrolments(psn_no)


def set_enrolments(tx: LedgerTx, psn_no: str, payers: Iterable[str]) -> None:
    """Replace the enrolments of ``psn_no`` by ``payers`` (ids; duplicates are one)."""
    table = s.TABLES["enrolments"]
    tx.conn.execute(delete(table).where(table.c.psn_no == psn_no))
    wanted = sorted(set(payers))
    if wanted:
        tx.conn.execute(insert(table), [{"psn_no": psn_no, "payer": p} for p in wanted])
