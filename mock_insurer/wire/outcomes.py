"""Outcomes of reading the wire, as values (never exceptions).

A :class:`Deviation` is something a client did that the specification does not allow (or
does not say), recorded so the conformance report can name it; whether it was also refused
depends on the mode (see docs/wire.md). A :class:`FieldProblem` is a business field that
cannot be used; it carries the ``FSI-`` text a cashier reads.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Deviation", "FieldProblem"]


@dataclass(frozen=True, slots=True)
class Deviation:
    """A departure from the specification.

    ``code`` is stable (tests and reports key on it; the list is in docs/wire.md),
    ``field`` names where (``"msgid"``, ``"input.feedetail[2].cnt"``, ``"body"``), ``detail``
    says what was seen, in English, for the record."""

    code: str
    field: str
    detail: str


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """A business field that cannot be used: stable ``code``, ``field`` path, and the
    ``err_msg`` to answer with (``FSI-<text>[<path>]``)."""

    code: str
    field: str
    err_msg: str
