"""The insurer's durable ledger (SQLAlchemy Core over SQLite or PostgreSQL)."""

from mock_insurer.ledger.engine import LedgerConfigError, make_engine
from mock_insurer.ledger.records import FeeRow, Institution, Person, Settlement, SignIn, Visit
from mock_insurer.ledger.store import DuplicateMessage, Ledger, LedgerTx, dump_json, load_json

__all__ = [
    "DuplicateMessage",
    "FeeRow",
    "Institution",
    "Ledger",
    "LedgerConfigError",
    "LedgerTx",
    "Person",
    "Settlement",
    "SignIn",
    "Visit",
    "dump_json",
    "load_json",
    "make_engine",
]
