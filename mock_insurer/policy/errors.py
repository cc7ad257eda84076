"""Errors of the policy engine: bad profile files, bad catalogue records, bad worked cases.

Refusing a fee line is an *outcome* (:class:`mock_insurer.policy.checks.LineCheck`), never an
exception. These exceptions are for bad data given to the engine; each message says which file
(or record) and which parameter (or field) is wrong, and what is wrong with it, in one line.
"""

from __future__ import annotations

from mock_insurer.errors import InsurerError

__all__ = [
    "CaseFileError",
    "CatalogueRecordError",
    "ParameterNotInForce",
    "PolicyError",
    "ProfileError",
    "SchemeNotConfigured",
    "TierNotConfigured",
]


class PolicyError(InsurerError):
    """Root of the policy engine's errors."""


class ProfileError(PolicyError):
    """A policy profile file is missing, does not parse, or a parameter in it is wrong."""


class ParameterNotInForce(PolicyError):
    """A parameter has no value on the asked day (the day is before its first dated value)."""


class CatalogueRecordError(PolicyError):
    """A catalogue ``item`` record lacks a field or holds a value the engine cannot use."""


class SchemeNotConfigured(PolicyError):
    """The profile has no rules for an insurance type (``insutype``).

    A handler should ask :meth:`Parameters.covers` first and refuse the message; reaching this
    exception means it did not."""


class TierNotConfigured(PolicyError):
    """An institution tier that no tier group of the profile holds. Loading a profile refuses
    ``tier_groups`` that leave out a tier, so reaching this means a tier outside
    :data:`~mock_insurer.policy.codes.INSTITUTION_TIERS`."""


class CaseFileError(PolicyError):
    """A worked-case file does not have the shape described in ``cases/README.md``."""
