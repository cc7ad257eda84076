"""The typed parameters in force on one day: :class:`Parameters` (what :meth:`Profile.at
<mock_insurer.policy.parameters.Profile.at>` gives) and the :class:`Rates` of one person's
scheme, tier group and status. Money is yuan (Decimal); caps are per calendar year.

A parameter not yet in force matters only to what uses it: the snapshot of a day holds the
line-check parameters (every 2204 needs them), and for each insurance type, tier group and
status either its rates or why they are not in force; :meth:`Parameters.rates` raises
:class:`ParameterNotInForce` for the latter only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from mock_insurer.policy.errors import ParameterNotInForce, SchemeNotConfigured, TierNotConfigured
from mock_insurer.policy.payers import Fund, Payer

__all__ = [
    "AccountRates",
    "CheckParameters",
    "Parameters",
    "PoolRates",
    "Rates",
    "ShareRates",
]


@dataclass(frozen=True, slots=True)
class PoolRates:
    """The pooled fund (统筹基金): yuan per calendar year unless said otherwise."""

    fund: Fund
    deductible: Decimal            # 起付线
    ratio: Decimal                 # share paid above the deductible
    annual_cap: Decimal | None     # 封顶线 on the fund's payments; None = no cap
    registration_payment: Decimal  # fixed payment per outpatient registration (yuan)


@dataclass(frozen=True, slots=True)
class ShareRates:
    """A fund that pays ``share`` of a base (the large-amount fund) for the medical types in ``med_types``, up to ``annual_cap`` a year (None = no cap)."""

    fund: Fund
    med_types: frozenset[str]
    share: Decimal
    annual_cap: Decimal | None


@dataclass(frozen=True, slots=True)
class AccountRates:
    """The personal account (个人账户): its fund code and what it may pay
    (:data:`~mock_insurer.policy.parameters.ACCOUNT_MAY_PAY`)."""

    fund: Fund
    may_pay: str


@dataclass(frozen=True, slots=True)
class Rates:
    """Everything the split needs for one person's scheme, tier group and status on one day."""

    insutype: str
    scheme_name: str
    tier_group: str
    status: str
    pool: PoolRates
    account: AccountRates | None
    large_amount: ShareRates | None
    payers: tuple[Payer, ...] = ()  # the chain after basic insurance, in order

    def payer(self, payer_id: str) -> Payer | None:
        """The payer of the chain with this id, if the scheme has it."""
        return next((p for p in self.payers if p.id == payer_id), None)

    @property
    def serious_illness(self) -> Payer | None:
        return self.payer("serious_illness")

    @property
    def civil_servant(self) -> Payer | None:
        return self.payer("civil_servant")

    @property
    def assistance(self) -> Payer | None:
        return self.payer("assistance")


@dataclass(frozen=True, slots=True)
class CheckParameters:
    """Parameters of the per-line checks: the over-supply window (days, inclusive of the
    settlement day) and how many days over the window's length a person may hold."""

    supply_window_days: int
    supply_tolerance_days: Decimal


@dataclass(frozen=True, slots=True)
class Parameters:
    """Every parameter of a profile in force on ``day`` (a snapshot; see :meth:`Profile.at`).

    ``scheme_rates`` holds, per (insutype, tier group, status), the rates or — when one of
    the parameters they need has no value on ``day`` — the :class:`ParameterNotInForce` that
    :meth:`rates` raises for them."""

    profile: str
    day: dt.date
    checks: CheckParameters
    hospital_fund: Fund
    tier_groups: Mapping[str, str]          # institution tier -> tier group
    scheme_rates: Mapping[tuple[str, str, str], Rates | ParameterNotInForce] = field(repr=False)
    insutypes: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "insutypes", frozenset(key[0] for key in self.scheme_rates))

    def covers(self, insutype: str) -> bool:
        """True when the profile has rules for this insurance type."""
        return insutype in self.insutypes

    def rates(self, insutype: str, tier: str, retired: bool) -> Rates:
        """The rates for a person of ``insutype`` at an institution of ``tier``
        ("community"|"1"|"2"|"3"), retired or not.

        Raises :class:`SchemeNotConfigured` for an insurance type the profile does not cover
        (ask :meth:`covers` first), :class:`TierNotConfigured` for a tier in no tier group, and
        :class:`ParameterNotInForce` when a parameter these rates need has no value on
        :attr:`day` — each a :class:`~mock_insurer.policy.errors.PolicyError` whose message
        names the profile and what is missing."""
        if not self.covers(insutype):
            raise SchemeNotConfigured(
                f"policy profile {self.profile} has no rules for insurance type {insutype} "
                f"(it covers {', '.join(sorted(self.insutypes))})"
            )
        group = self.tier_groups.get(tier)
        if group is None:
            raise TierNotConfigured(
                f"policy profile {self.profile} has no tier group for institution tier {tier!r} "
                f"(its tier_groups hold {', '.join(self.tier_groups)})")
        found = self.scheme_rates[(insutype, group, "retired" if retired else "in_service")]
        if isinstance(found, ParameterNotInForce):
            raise ParameterNotInForce(*found.args)
        return found
