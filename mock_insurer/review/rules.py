"""Where the review's rule findings come from: the library's ``enforced: review`` rules
(same item twice a day, mutually exclusive services, frequency limits) applied by
:func:`mock_insurer.policy.history.review_findings` to the period's charged rows.

A :data:`RuleSource` is a plain function so that a caller (or a test) can swap it. The review
passes the period's rows after the persons' earlier rows within :func:`lookback_days` before the
period (what 3101/3102 would have read from the ledger), and keeps only the findings on the
period's own rows: a frequency limit that straddles the month boundary is deducted in the month
of the later charge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from mock_insurer.policy.catalogue import CatalogueEntry
from mock_insurer.policy.history import ChargedRow, Finding, review_findings
from mock_insurer.policy.rules import Rule, default_rules

__all__ = ["ChargedRow", "Finding", "RuleSource", "library_findings", "lookback_days"]

RuleSource = Callable[[Sequence[ChargedRow], Mapping[str, CatalogueEntry]], Sequence[Finding]]
"""Charged rows (in upload order) and the catalogue → the rows' rule findings."""


def library_findings(rows: Sequence[ChargedRow],
                     items: Mapping[str, CatalogueEntry]) -> Sequence[Finding]:
    """The default rule source: the packaged rule library's review rules over ``rows``."""
    return review_findings(rows, items, default_rules())


def lookback_days(rules: Sequence[Rule] | None = None) -> int:
    """How many days before a period the review rules can reach back: the longest frequency
    window (``days``, which counts the charge's own day) less one; 0 without one."""
    windows = [limit.days for rule in (default_rules() if rules is None else rules)
               if rule.enforced == "review" for limit in rule.limits]
    return max((days - 1 for days in windows), default=0)
