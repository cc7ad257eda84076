"""Policy profiles: which parameters a profile must hold, loading them, and the snapshot in force
on a day (:class:`Parameters`).

A profile is one YAML file (``profiles/<name>.yaml``; ``docs/policy.md`` explains every key).
Numbers a regulator can change live only there, each dated, with unit and source
(:mod:`mock_insurer.policy.dated`). This module knows the *names and kinds* of the parameters
(the formulas in :mod:`mock_insurer.policy.decomposition` use them) and checks every file
against them, so a typo or a ratio of 70 instead of 0.70 is refused when the file is loaded,
with the file, the parameter and what is wrong in the message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml

from mock_insurer.policy.dated import STATUSES, Kind, Leaf, Node, Split, parse_node, resolve
from mock_insurer.policy.errors import ProfileError, SchemeNotConfigured
from mock_insurer.policy.kinds import (
    Bracket,
    choice,
    codes,
    days,
    money,
    money_or_none,
    ratio,
    scale,
    whole_days,
)

__all__ = [
    "ACCOUNT_MAY_PAY",
    "AccountRates",
    "Bracket",
    "CheckParameters",
    "Fund",
    "Parameters",
    "PoolRates",
    "Profile",
    "Rates",
    "SeriousIllnessRates",
    "ShareRates",
    "available_profiles",
    "load_profile",
    "profile_document",
]

#: What the personal account may pay (parameter ``account.may_pay``): the person's whole part,
#: only the in-scope part left after the funds, or nothing.
ACCOUNT_MAY_PAY = ("psn_part", "inscp_selfpay", "none")


# -- the typed values --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Fund:
    """A fund's code in the national table (基金支付类型, fact sheet §4.1) and its name."""

    fund_pay_type: str
    name: str


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
    """A fund that pays ``share`` of a base (large-amount, civil-servant, medical assistance)
    for the medical types in ``med_types``, up to ``annual_cap`` a year (None = no cap)."""

    fund: Fund
    med_types: frozenset[str]
    share: Decimal
    annual_cap: Decimal | None


@dataclass(frozen=True, slots=True)
class SeriousIllnessRates:
    """Serious-illness / catastrophic insurance (大病保险): marginal ``brackets`` on the year's
    accumulated in-scope self-pay above ``threshold`` (yuan/year)."""

    fund: Fund
    med_types: frozenset[str]
    threshold: Decimal
    brackets: tuple[Bracket, ...]
    annual_cap: Decimal | None


@dataclass(frozen=True, slots=True)
class AccountRates:
    """The personal account (个人账户): its fund code and what it may pay (``ACCOUNT_MAY_PAY``)."""

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
    serious_illness: SeriousIllnessRates | None
    civil_servant: ShareRates | None
    assistance: ShareRates | None


@dataclass(frozen=True, slots=True)
class CheckParameters:
    """Parameters of the per-line checks: the over-supply window (days, inclusive of the
    settlement day) and how many days over the window's length a person may hold."""

    supply_window_days: int
    supply_tolerance_days: Decimal


@dataclass(frozen=True, slots=True)
class Parameters:
    """Every parameter of a profile in force on ``day`` (a snapshot; see :meth:`Profile.at`)."""

    profile: str
    day: dt.date
    checks: CheckParameters
    hospital_fund: Fund
    tier_groups: Mapping[str, str]          # institution tier -> tier group
    scheme_rates: Mapping[tuple[str, str, str], Rates] = field(repr=False)

    def covers(self, insutype: str) -> bool:
        """True when the profile has rules for this insurance type."""
        return any(key[0] == insutype for key in self.scheme_rates)

    def rates(self, insutype: str, tier: str, retired: bool) -> Rates:
        """The rates for a person of ``insutype`` at an institution of ``tier``
        ("community"|"1"|"2"|"3"), retired or not. Raises :class:`SchemeNotConfigured` for an
        insurance type the profile does not cover (ask :meth:`covers` first)."""
        if not self.covers(insutype):
            raise SchemeNotConfigured(
                f"policy profile {self.profile} has no rules for insurance type {insutype} "
                f"(it covers {', '.join(sorted({k[0] for k in self.scheme_rates}))})"
            )
        group = self.tier_groups.get(tier)
        if group is None:
            raise ValueError(f"unknown institution tier {tier!r} "
                             f"(expected one of {sorted(self.tier_groups)})")
        return self.scheme_rates[(insutype, group, "retired" if retired else "in_service")]


# -- what a profile must hold ------------------------------------------------------------------
_SECTIONS: dict[str, tuple[bool, dict[str, Kind]]] = {
    # section: (required, {parameter: kind})
    "pool": (True, {"deductible": money, "ratio": ratio, "annual_cap": money_or_none,
                    "registration_payment": money}),
    "account": (False, {"may_pay": choice(ACCOUNT_MAY_PAY)}),
    "large_amount": (False, {"med_types": codes, "share": ratio,
                             "annual_cap": money_or_none}),
    "serious_illness": (False, {"med_types": codes, "threshold": money, "brackets": scale,
                                "annual_cap": money_or_none}),
    "civil_servant": (False, {"med_types": codes, "share": ratio,
                              "annual_cap": money_or_none}),
    "assistance": (False, {"med_types": codes, "share": ratio,
                           "annual_cap": money_or_none}),
}
_CHECKS: dict[str, Kind] = {"supply_window_days": whole_days,
                            "supply_tolerance_days": days}
_FUND_KEYS = ("fund_pay_type", "fund_name")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Section:
    fund: Fund
    params: Mapping[str, Node]


@dataclass(frozen=True, slots=True)
class _Scheme:
    insutype: str
    name: str
    sections: Mapping[str, _Section]


class Profile:
    """A region's policy: parameters with effective dates. :meth:`at` gives the snapshot in
    force on a business day (cached per day)."""

    def __init__(self, name: str, source: str, description: str,
                 tier_groups: Mapping[str, str], checks: Mapping[str, Node],
                 schemes: Mapping[str, _Scheme], hospital_fund: Fund) -> None:
        self.name = name
        self.source = source
        self.description = description
        self.tier_groups = dict(tier_groups)
        self._checks = dict(checks)
        self._schemes = dict(schemes)
        self._hospital_fund = hospital_fund
        self._cache: dict[dt.date, Parameters] = {}

    def __repr__(self) -> str:
        return f"Profile({self.name!r}, source={self.source!r})"

    @property
    def insutypes(self) -> tuple[str, ...]:
        """The insurance types the profile has rules for."""
        return tuple(self._schemes)

    def leaves(self) -> list[Leaf]:
        """Every dated parameter of the profile (splits expanded), in file order."""
        nodes: list[Node] = list(self._checks.values())
        for scheme in self._schemes.values():
            for section in scheme.sections.values():
                nodes.extend(section.params.values())
        found: list[Leaf] = []
        while nodes:
            node = nodes.pop(0)
            if isinstance(node, Split):
                nodes[:0] = list(node.children.values())
            else:
                found.append(node)
        return found

    def at(self, day: dt.date) -> Parameters:
        """The parameters in force on ``day`` (a business date, not the wall clock).

        Raises :class:`ParameterNotInForce` when ``day`` is before a parameter's first date."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        checks = CheckParameters(
            supply_window_days=_typed(resolve(self._checks["supply_window_days"], day,
                                              tier_group="", status=""), int),
            supply_tolerance_days=_typed(resolve(self._checks["supply_tolerance_days"], day,
                                                 tier_group="", status=""), Decimal),
        )
        rates = {}
        for scheme in self._schemes.values():
            for group in sorted(set(self.tier_groups.values())):
                for status in STATUSES:
                    rates[(scheme.insutype, group, status)] = _rates(scheme, day, group, status)
        snapshot = Parameters(self.name, day, checks, self._hospital_fund,
                              dict(self.tier_groups), rates)
        self._cache[day] = snapshot
        return snapshot

    @classmethod
    def from_mapping(cls, data: Any, *, source: str) -> Profile:
        """Build from a parsed YAML document; ``source`` names the file in error messages."""
        if not isinstance(data, Mapping):
            raise ProfileError(f"{source}: expected a mapping at the top level")
        _only(data, {"name", "description", "tier_groups", "checks", "schemes",
                     "hospital_fund"}, "", source)
        name = _text(data, "name", "", source)
        groups_raw = data.get("tier_groups")
        if not isinstance(groups_raw, Mapping) or not groups_raw:
            raise ProfileError(f"{source}: tier_groups: expected a mapping group -> [tiers]")
        tier_groups: dict[str, str] = {}
        for group, tiers in groups_raw.items():
            if not isinstance(tiers, list) or not tiers:
                raise ProfileError(f"{source}: tier_groups.{group}: expected a list of tiers")
            for tier in tiers:
                if str(tier) in tier_groups:
                    raise ProfileError(f"{source}: tier_groups: tier {tier} is in two groups")
                tier_groups[str(tier)] = str(group)
        groups = tuple(dict.fromkeys(tier_groups.values()))
        checks_raw = _mapping(data, "checks", "", source)
        _only(checks_raw, set(_CHECKS), "checks", source, required=True)
        checks = {key: parse_node(checks_raw[key], f"checks.{key}", kind, (), source,
                                 splittable=False)
                  for key, kind in _CHECKS.items()}
        schemes_raw = _mapping(data, "schemes", "", source)
        if not schemes_raw:
            raise ProfileError(f"{source}: schemes: expected at least one insurance type")
        schemes = {str(insutype): _scheme(str(insutype), raw, groups, source)
                   for insutype, raw in schemes_raw.items()}
        return cls(name, source, str(data.get("description", "")).strip(), tier_groups, checks,
                   schemes, _fund(_mapping(data, "hospital_fund", "", source), "hospital_fund",
                                  source))


def load_profile(name_or_path: str) -> Profile:
    """Load a packaged profile by name (``"beijing"``) or a profile file by path.

    Raises :class:`ProfileError` for an unknown name, an unreadable file, bad YAML, or a wrong
    parameter; the message names the file, the parameter and what is wrong."""
    data, source = profile_document(name_or_path)
    return Profile.from_mapping(data, source=source)


def profile_document(name_or_path: str) -> tuple[Any, str]:
    """The parsed YAML of a profile (by packaged name or path) and the name to show for it."""
    if name_or_path in available_profiles():
        resource = resources.files("mock_insurer.policy") / "profiles" / f"{name_or_path}.yaml"
        text = resource.read_text(encoding="utf-8")
        source = f"profiles/{name_or_path}.yaml"
    else:
        path = Path(name_or_path)
        if not path.suffix and not path.exists():
            raise ProfileError(f"unknown policy profile {name_or_path!r} (packaged profiles: "
                               f"{', '.join(available_profiles())}; or give a YAML file path)")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(f"{path}: cannot read the policy profile: {exc}") from None
        source = str(path)
    try:
        return yaml.safe_load(text), source
    except yaml.YAMLError as exc:
        raise ProfileError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from None


def available_profiles() -> tuple[str, ...]:
    """Names of the profiles packaged in ``mock_insurer/policy/profiles/``."""
    folder = resources.files("mock_insurer.policy") / "profiles"
    return tuple(sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                        if p.name.endswith(".yaml")))


# -- helpers -------------------------------------------------------------------------------------
def _scheme(insutype: str, raw: Any, groups: tuple[str, ...], source: str) -> _Scheme:
    where = f"schemes.{insutype}"
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{source}: {where}: expected a mapping")
    _only(raw, {"name", *_SECTIONS}, where, source)
    sections = {}
    for section, (required, kinds) in _SECTIONS.items():
        if section not in raw:
            if required:
                raise ProfileError(f"{source}: {where}.{section}: missing")
            continue
        here = f"{where}.{section}"
        body = _mapping(raw, section, where, source)
        _only(body, {*_FUND_KEYS, *kinds}, here, source, required=True)
        params = {key: parse_node(body[key], f"{here}.{key}", kind, groups, source)
                  for key, kind in kinds.items()}
        sections[section] = _Section(_fund(body, here, source), params)
    return _Scheme(insutype, _text(raw, "name", where, source), sections)


def _rates(scheme: _Scheme, day: dt.date, group: str, status: str) -> Rates:
    def value(section: str, key: str) -> object:
        return resolve(scheme.sections[section].params[key], day, tier_group=group,
                       status=status)

    def fund(section: str) -> Fund:
        return scheme.sections[section].fund

    def cap(section: str) -> Decimal | None:
        raw = value(section, "annual_cap")
        return None if raw is None else _typed(raw, Decimal)

    def share_fund(section: str) -> ShareRates | None:
        if section not in scheme.sections:
            return None
        return ShareRates(fund(section), _typed(value(section, "med_types"), frozenset),
                          _typed(value(section, "share"), Decimal), cap(section))

    serious = None
    if "serious_illness" in scheme.sections:
        serious = SeriousIllnessRates(
            fund("serious_illness"),
            _typed(value("serious_illness", "med_types"), frozenset),
            _typed(value("serious_illness", "threshold"), Decimal),
            _typed(value("serious_illness", "brackets"), tuple),
            cap("serious_illness"),
        )
    account = None
    if "account" in scheme.sections:
        account = AccountRates(fund("account"), _typed(value("account", "may_pay"), str))
    return Rates(
        insutype=scheme.insutype,
        scheme_name=scheme.name,
        tier_group=group,
        status=status,
        pool=PoolRates(fund("pool"), _typed(value("pool", "deductible"), Decimal),
                       _typed(value("pool", "ratio"), Decimal), cap("pool"),
                       _typed(value("pool", "registration_payment"), Decimal)),
        account=account,
        large_amount=share_fund("large_amount"),
        serious_illness=serious,
        civil_servant=share_fund("civil_servant"),
        assistance=share_fund("assistance"),
    )


def _typed(value: object, kind: type[_T]) -> _T:
    if not isinstance(value, kind):  # the kinds above guarantee it; a bug otherwise
        raise TypeError(f"expected {kind.__name__}, got {value!r}")
    return value


def _fund(body: Mapping[str, Any], where: str, source: str) -> Fund:
    return Fund(_text(body, "fund_pay_type", where, source), _text(body, "fund_name", where,
                                                                    source))


def _text(body: Mapping[str, Any], key: str, where: str, source: str) -> str:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise ProfileError(f"{source}: {_join(where, key)}: missing or not text")
    return str(value).strip()


def _mapping(body: Mapping[str, Any], key: str, where: str, source: str) -> Mapping[str, Any]:
    value = body.get(key)
    if not isinstance(value, Mapping):
        raise ProfileError(f"{source}: {_join(where, key)}: missing or not a mapping")
    return value


def _only(body: Mapping[Any, Any], allowed: set[str], where: str, source: str, *,
          required: bool = False) -> None:
    keys = {str(k) for k in body}
    unknown = keys - allowed
    if unknown:
        raise ProfileError(f"{source}: {_join(where, sorted(unknown)[0])}: unknown key "
                           f"(allowed here: {', '.join(sorted(allowed))})")
    missing = allowed - keys if required else set()
    if missing:
        raise ProfileError(f"{source}: {_join(where, sorted(missing)[0])}: missing")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key

