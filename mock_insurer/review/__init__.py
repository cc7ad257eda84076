"""After the window: the institution's monthly declaration (申报), the insurer's review of the
period's settlements (审核 → 拒付: rule and sampled deductions, each with a reason category and
the ordering department and doctor), the payment (回款) of the accepted amount after a lag, and
advance payment (预付). Served by the admin API (:mod:`mock_insurer.admin.review`); guide
``docs/review.md``; decision ``docs/adr/0016-review-and-payment.md``.
"""

from mock_insurer.review.compute import (
    Claim,
    Deduction,
    Ordering,
    Outcome,
    Totals,
    mismatch,
    review_claims,
    review_rng,
)
from mock_insurer.review.config import ReviewConfig, default_config, load_config
from mock_insurer.review.errors import (
    ReviewConfigError,
    ReviewConflict,
    ReviewError,
    ReviewInputError,
    ReviewNotFound,
)
from mock_insurer.review.rules import RuleSource, library_findings
from mock_insurer.review.service import ReviewOffice

__all__ = [
    "Claim",
    "Deduction",
    "Ordering",
    "Outcome",
    "ReviewConfig",
    "ReviewConfigError",
    "ReviewConflict",
    "ReviewError",
    "ReviewInputError",
    "ReviewNotFound",
    "ReviewOffice",
    "RuleSource",
    "Totals",
    "default_config",
    "library_findings",
    "load_config",
    "mismatch",
    "review_claims",
    "review_rng",
]
