"""Where the review's rule findings come from: the library's ``enforced: review`` rules
(same item twice a day, mutually exclusive services, frequency limits) applied by
:func:`mock_insurer.policy.history.review_findings` to the period's charged rows.

A :data:`RuleSource` is a plain function so that a caller (or a test) can swap it.
Limitation: only the period's own rows are looked at, so a frequency window or a same-day
pair that straddles the month boundary is judged on this month's rows alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from mock_insurer.policy.catalogue import CatalogueEntry
from mock_insurer.policy.history import ChargedRow, Finding, review_findings
from mock_insurer.policy.rules import default_rules

__all__ = ["ChargedRow", "Finding", "RuleSource", "library_findings"]

RuleSource = Callable[[Sequence[ChargedRow], Mapping[str, CatalogueEntry]], Sequence[Finding]]
"""Charged rows (in upload order) and the catalogue → the rows' rule findings."""


def library_findings(rows: Sequence[ChargedRow],
                     items: Mapping[str, CatalogueEntry]) -> Sequence[Finding]:
    """The default rule source: the packaged rule library's review rules over ``rows``."""
    return review_findings(rows, items, default_rules())
