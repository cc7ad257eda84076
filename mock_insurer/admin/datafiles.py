"""Loading data files through the admin API, and resetting the ledger.

A load replaces one kind of reference data (``institutions``, ``population``, ``catalogue``)
with a JSONL file, given as the request body or as a path on the insurer's machine, using the
same loaders as the insurer's start (:mod:`mock_insurer.gateway.loading`); then the service's
in-memory copies are refreshed (the institutions it serves, the catalogue and policy it
prices with). Before anything is written the file is read once to find what the loaders
would stumble on (an empty file, a device instead of a file, a record nested too deep); the
loaders refuse every other bad record — a duplicate key included — with its line, and write
nothing then.

A reset empties every business table and puts each personal account and year-to-date counter
back to its opening value: the current value minus the sum of its recorded movements (every
movement is an appended entry, so this is the value the population file loaded). Reference
data stays as loaded unless ``keep_reference`` is false, which reloads the files the insurer
was started with.
"""

from __future__ import annotations

import codecs
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy.exc import DataError, IntegrityError

from mock_insurer.admin.errors import Unprocessable
from mock_insurer.admin.views import nesting_depth
from mock_insurer.gateway.loading import (
    DataFileError,
    load_catalogue,
    load_institutions,
    load_population,
)
from mock_insurer.gateway.reference import build_reference
from mock_insurer.ledger import load_json, queries
from mock_insurer.wire.errors import WireEncodeError
from mock_insurer.wire.jsonio import dumps

if TYPE_CHECKING:
    from mock_insurer.gateway.app import Insurer

__all__ = ["BUSINESS_TABLES", "KINDS", "DataFiles"]

KINDS = ("institutions", "population", "catalogue")
"""What can be loaded, in the order a full reload loads them."""

BUSINESS_TABLES = ("deductions", "payment_items", "declarations", "withdrawn_declarations",
                   "payments",
                   "fee_details", "visits", "settlements", "messages", "signins", "files",
                   "sequences", "account_entries", "cum_entries", "cum", "accounts")
"""Tables a reset empties (in an order the foreign keys allow); accounts and counters are
then restored to their opening values."""


class DataFiles:
    """Loads and resets for one insurer; one at a time (a lock serializes them)."""

    def __init__(self, insurer: Insurer) -> None:
        self.insurer = insurer
        self._lock = threading.Lock()

    # -- loading ----------------------------------------------------------------------------
    def load_path(self, kind: str, path: Path, shown: str | None = None) -> dict[str, Any]:
        """Load ``kind`` from a file on this machine; ``shown`` is how errors name it."""
        with self._lock:
            return self._load(kind, path, shown or str(path))

    def load_bytes(self, kind: str, content: bytes) -> dict[str, Any]:
        """Load ``kind`` from JSONL bytes (a request body); errors name it ``body``."""
        with tempfile.TemporaryDirectory(prefix="cardsettle-admin-") as directory:
            path = Path(directory) / f"{kind}.jsonl"
            path.write_bytes(content)
            with self._lock:
                return self._load(kind, path, "body")

    def _load(self, kind: str, path: Path, shown: str) -> dict[str, Any]:
        _scan(path, shown)
        ledger = self.insurer.ledger
        try:
            if kind == "institutions":
                counts: dict[str, int] = {"institutions": load_institutions(ledger, path)}
            elif kind == "population":
                counts = {"persons": load_population(ledger, path)}
            else:
                counts = load_catalogue(ledger, path)
        except DataFileError as exc:
            message = str(exc).replace(str(path), shown)
            raise Unprocessable(message, where=_where(message, shown)) from None
        except (IntegrityError, DataError) as exc:
            raise Unprocessable(f"{shown}: the ledger refused the records ({exc.orig})",
                                where=shown) from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # the loaders read fields they do not check; the scan catches the known shapes
            raise Unprocessable(f"{shown}: a record has an unexpected shape "
                                f"({type(exc).__name__}: {exc})", where=shown) from None
        self._refresh(kind)
        return {"kind": kind, "source": shown, "loaded": counts}

    def _refresh(self, kind: str) -> None:
        service = self.insurer.service
        if kind == "institutions":
            service.reload_institutions()
        elif kind == "catalogue":
            service.set_reference(build_reference(self.insurer.ledger,
                                                  self.insurer.config.policy))

    # -- reset ------------------------------------------------------------------------------
    def reset(self, *, keep_reference: bool = True) -> dict[str, Any]:
        """Empty the business tables and restore accounts and counters (see the module)."""
        with self._lock:
            with self.insurer.ledger.write() as tx:
                emptied = {name: tx.count(name) for name in BUSINESS_TABLES}
                accounts = queries.opening_balances(tx)
                counters = queries.opening_counters(tx)
                tx.delete_all(BUSINESS_TABLES)
                tx.insert_many("accounts", accounts)
                tx.insert_many("cum", counters)
            reloaded: dict[str, Any] = {}
            if not keep_reference:
                config = self.insurer.config
                sources = {"institutions": config.institutions,
                           "population": config.population, "catalogue": config.catalogue}
                for kind in KINDS:
                    source = sources[kind]
                    if source is not None:
                        reloaded[kind] = self._load(kind, Path(source), str(source))["loaded"]
        return {"emptied": emptied, "restored": {"accounts": len(accounts),
                                                 "counters": len(counters)},
                "reloaded": reloaded}


def _where(message: str, shown: str) -> str:
    """``file:line`` from a loader's message (``<file>:<line>: ...``), else the file."""
    head = message[len(shown):] if message.startswith(shown) else ""
    if head.startswith(":"):
        number = head[1:].split(":", 1)[0]
        if number.isdigit():
            return f"{shown}:{number}"
    return shown


# -- the scan before loading ---------------------------------------------------------------

MAX_RECORD_DEPTH = 16
"""Deepest nesting of lists and objects accepted in a data record (the generator's are 3)."""


def _scan(path: Path, shown: str) -> None:
    """Refuse what the loaders would not catch, or would catch only after writing."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise Unprocessable(f"{shown}: cannot read ({exc.strerror or exc})", where=shown) from None
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # /dev/zero would never end
        handle.close()
        raise Unprocessable(f"{shown}: cannot read (not a regular file)", where=shown)
    records = 0
    with handle:
        for number, line in _lines(handle, shown):
            if not line.strip():
                continue
            where = f"{shown}:{number}"
            try:
                record = load_json(line)
            except (ValueError, RecursionError) as exc:
                raise Unprocessable(f"{where}: not valid JSON ({exc})", where=where) from None
            if not isinstance(record, dict):
                raise Unprocessable(f"{where}: expected a JSON object", where=where)
            if nesting_depth(record) > MAX_RECORD_DEPTH:
                raise Unprocessable(f"{where}: nested more than {MAX_RECORD_DEPTH} levels deep",
                                    where=where)
            try:
                dumps(record)
            except WireEncodeError as exc:  # e.g. an integer beyond 64 bits
                raise Unprocessable(f"{where}: a value cannot be stored ({exc})",
                                    where=where) from None
            records += 1
    if records == 0:
        raise Unprocessable(f"{shown}: no records in the file", where=shown)


def _lines(handle: BinaryIO, shown: str) -> Iterator[tuple[int, bytes]]:
    """The numbered lines of an open file; a read that fails (a device, a vanished disk) is
    refused naming the file."""
    number = 0
    while True:
        try:
            line = handle.readline()
        except OSError as exc:
            raise Unprocessable(f"{shown}: cannot read ({exc.strerror or exc})",
                                where=shown) from None
        if not line:
            return
        number += 1
        if number == 1 and line.startswith(codecs.BOM_UTF8):  # as the loaders: Windows editors
            line = line[len(codecs.BOM_UTF8):]
        yield number, line
