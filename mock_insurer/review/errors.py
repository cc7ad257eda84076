"""The review package's errors: one root under :class:`~mock_insurer.errors.InsurerError`.

The admin API (:mod:`mock_insurer.admin.review`) turns each into its HTTP status: a bad field
422, an unknown id 404, a conflict or a step not yet allowed 409. ``field`` names what is wrong
(``period``, ``declared.acct_pay``) so that a user can fix it.
"""

from __future__ import annotations

from mock_insurer.errors import InsurerError

__all__ = [
    "ReviewConfigError",
    "ReviewConflict",
    "ReviewError",
    "ReviewInputError",
    "ReviewNotFound",
]


class ReviewError(InsurerError):
    """Something about a declaration, review or payment that cannot be done as asked."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ReviewConfigError(ReviewError):
    """``review.yaml`` (or a file given instead) is missing, does not parse, or is wrong."""


class ReviewInputError(ReviewError):
    """A request value that cannot be used (unknown institution, bad period, bad amount)."""


class ReviewNotFound(ReviewError):
    """No declaration with that id."""


class ReviewConflict(ReviewError):
    """A conflict with what is recorded (a period declared with other totals, an advance set
    with other terms) or a step not yet allowed (paying before the due date)."""
