"""The wire's exception classes: bugs only.

Everything a client can get wrong (bad JSON, a missing field, a bad signature) is an outcome
(:class:`~mock_insurer.wire.outcomes.Deviation`, a refusal code in
:class:`~mock_insurer.wire.envelope.ParseOutcome`, a
:class:`~mock_insurer.wire.outcomes.FieldProblem`), never an exception. These classes are
raised when *our* code hands the wire something it cannot represent.
"""

from __future__ import annotations

from mock_insurer.errors import InsurerError

__all__ = ["WireEncodeError", "WireError"]


class WireError(InsurerError):
    """Root of the wire's own errors."""


class WireEncodeError(WireError):
    """A value cannot be written as JSON (a NaN Decimal, an unknown type, a lone surrogate)."""
