"""The mock insurer's policy engine: pure functions over Decimal money (yuan).

Policy is data, formulas are code. A *profile* (``profiles/<name>.yaml``) holds every number a
regulator can change, each dated, with unit and source; :meth:`Profile.at` gives the
:class:`Parameters` in force on a business day. The handlers call, per 2204 line,
:func:`check_line` (refusals, scope) and :func:`split_row` (the 2204 result row), and per
settlement :func:`decompose` (2206/2207 setlinfo + setldetail + counter deltas);
:meth:`Decomposition.negated` is the 2208 cancellation. ``docs/policy.md`` explains it all.
"""

from mock_insurer.policy.catalogue import CatalogueEntry
from mock_insurer.policy.checks import REFUSAL_CODES, LineCheck, PersonFacts, check_line
from mock_insurer.policy.decomposition import (
    COUNTERS,
    MONEY_FIELDS,
    Decomposition,
    FundRow,
    SettlementFacts,
    YearToDate,
    decompose,
)
from mock_insurer.policy.errors import (
    CaseFileError,
    CatalogueRecordError,
    ParameterNotInForce,
    PolicyError,
    ProfileError,
    SchemeNotConfigured,
    TierNotConfigured,
)
from mock_insurer.policy.parameters import (
    Parameters,
    Profile,
    Rates,
    available_profiles,
    load_profile,
)
from mock_insurer.policy.rows import FeeLine, RowSplit, split_row

__all__ = [
    "COUNTERS",
    "MONEY_FIELDS",
    "REFUSAL_CODES",
    "CaseFileError",
    "CatalogueEntry",
    "CatalogueRecordError",
    "Decomposition",
    "FeeLine",
    "FundRow",
    "LineCheck",
    "ParameterNotInForce",
    "Parameters",
    "PersonFacts",
    "PolicyError",
    "Profile",
    "ProfileError",
    "Rates",
    "RowSplit",
    "SchemeNotConfigured",
    "SettlementFacts",
    "TierNotConfigured",
    "YearToDate",
    "available_profiles",
    "check_line",
    "decompose",
    "load_profile",
    "split_row",
]
