"""Policy profiles: which parameters a profile must hold, loading them, and the snapshot in force
on a day (:class:`Parameters`, typed in :mod:`mock_insurer.policy.rates`).

A profile is one YAML file (``profiles/<name>.yaml``; ``docs/policy.md`` explains every key).
Numbers a regulator can change live only there, each dated, with unit and source
(:mod:`mock_insurer.policy.dated`). This module knows the *names and kinds* of the parameters
(the formulas in :mod:`mock_insurer.policy.decomposition` use them) and checks every file
against them, so a typo, a ratio of 70 instead of 0.70, a date given twice, a tier in no tier
group or a fund code outside the national table (:mod:`mock_insurer.policy.codes`) is refused
when the file is loaded, with the file, the parameter and what is wrong in the message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from mock_insurer.policy.codes import FUND_PAY_TYPES, INSTITUTION_TIERS, INSUTYPES
from mock_insurer.policy.dated import STATUSES, Kind, Leaf, Node, Split, listed, parse_node, resolve
from mock_insurer.policy.documents import read_yaml
from mock_insurer.policy.errors import ParameterNotInForce, ProfileError
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
from mock_insurer.policy.payers import (
    PAYER_BASES,
    PAYER_COUNTERS,
    PAYER_ELIGIBILITY,
    PAYER_WIRE_FIELDS,
    Fund,
    Payer,
)
from mock_insurer.policy.rates import (
    AccountRates,
    CheckParameters,
    Parameters,
    PoolRates,
    Rates,
    ShareRates,
)

__all__ = [
    "ACCOUNT_MAY_PAY",
    "PAYER_BASES",
    "PAYER_COUNTERS",
    "PAYER_ELIGIBILITY",
    "PAYER_WIRE_FIELDS",
    "AccountRates",
    "Bracket",
    "CheckParameters",
    "Fund",
    "Parameters",
    "Payer",
    "PoolRates",
    "Profile",
    "Rates",
    "ShareRates",
    "available_profiles",
    "load_profile",
    "profile_document",
]

#: What the personal account may pay (parameter ``account.may_pay``): the person's whole part,
#: only the in-scope part left after the funds, or nothing.
ACCOUNT_MAY_PAY = ("psn_part", "inscp_selfpay", "none")

# -- what a profile must hold ------------------------------------------------------------------
_SECTIONS: dict[str, tuple[bool, dict[str, Kind]]] = {
    # section: (required, {parameter: kind})
    "pool": (True, {"deductible": money, "ratio": ratio, "annual_cap": money_or_none,
                    "registration_payment": money}),
    "account": (False, {"may_pay": choice(ACCOUNT_MAY_PAY)}),
    "large_amount": (False, {"med_types": codes, "share": ratio,
                             "annual_cap": money_or_none}),
}
#: A payer section's dated parameters: always ``med_types`` and ``annual_cap``; exactly one of
#: ``share`` / ``brackets``; at most one of ``threshold`` / ``deductible`` (same meaning).
_PAYER_KINDS: dict[str, Kind] = {"med_types": codes, "annual_cap": money_or_none,
                                 "share": ratio, "brackets": scale, "threshold": money,
                                 "deductible": money}
_PAYER_REQUIRED = ("med_types", "annual_cap")
_PAYER_META = ("name_en", "wire_field", "eligibility", "base")
_PAYER_META_CHOICES: dict[str, tuple[str, ...]] = {
    "wire_field": PAYER_WIRE_FIELDS, "eligibility": PAYER_ELIGIBILITY, "base": PAYER_BASES}
_CHECKS: dict[str, Kind] = {"supply_window_days": whole_days,
                            "supply_tolerance_days": days}
_FUND_KEYS = ("fund_pay_type", "fund_name")
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Section:
    fund: Fund
    params: Mapping[str, Node]
    meta: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Scheme:
    insutype: str
    name: str
    sections: Mapping[str, _Section]
    chain: tuple[str, ...] = ()  # the payer sections, in the order they pay


class Profile:
    """A region's policy: parameters with effective dates. :meth:`at` gives the snapshot in
    force on a business day (cached per day). ``path`` is the file it was read from, resolved
    (None for a packaged profile or one built from a mapping)."""

    def __init__(self, name: str, source: str, description: str,
                 tier_groups: Mapping[str, str], checks: Mapping[str, Node],
                 schemes: Mapping[str, _Scheme], hospital_fund: Fund, *,
                 path: Path | None = None) -> None:
        self.name = name
        self.source = source
        self.description = description
        self.tier_groups = dict(tier_groups)
        self.path = path
        self._checks = dict(checks)
        self._schemes = dict(schemes)
        self._hospital_fund = hospital_fund
        self._cache: dict[dt.date, Parameters] = {}

    def __repr__(self) -> str:
        return f"Profile({self.name!r}, source={self.source!r})"

    @property
    def label(self) -> str:
        """How the insurer names the profile it runs with: the profile's ``name``, and the
        resolved file for a profile given as a file (``tianjin (/data/tianjin.yaml)``)."""
        return self.name if self.path is None else f"{self.name} ({self.path})"

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

    def in_force_from(self) -> dt.date:
        """The first day on which every parameter of the profile has a value."""
        return max(leaf.first_day for leaf in self.leaves())

    def not_in_force_on(self, day: dt.date) -> list[Leaf]:
        """The parameters that have no value yet on ``day`` (their first date is later)."""
        return [leaf for leaf in self.leaves() if leaf.first_day > day]

    def at(self, day: dt.date) -> Parameters:
        """The parameters in force on ``day`` (a business date, not the wall clock).

        Raises :class:`ParameterNotInForce` when ``day`` is before the first date of a line-check
        parameter (every 2204 needs them). A scheme parameter not yet in force matters only to
        the rates that use it: :meth:`Parameters.rates` raises for those (the scheme, and the
        tier group or status of a split parameter), the others are served."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        checks = CheckParameters(
            supply_window_days=_typed(resolve(self._checks["supply_window_days"], day,
                                              tier_group="", status=""), int),
            supply_tolerance_days=_typed(resolve(self._checks["supply_tolerance_days"], day,
                                                 tier_group="", status=""), Decimal),
        )
        rates: dict[tuple[str, str, str], Rates | ParameterNotInForce] = {}
        for scheme in self._schemes.values():
            for group in sorted(set(self.tier_groups.values())):
                for status in STATUSES:
                    try:
                        found: Rates | ParameterNotInForce = _rates(scheme, day, group, status)
                    except ParameterNotInForce as exc:
                        found = exc.with_traceback(None)
                    rates[(scheme.insutype, group, status)] = found
        snapshot = Parameters(self.name, day, checks, self._hospital_fund,
                              dict(self.tier_groups), rates)
        self._cache[day] = snapshot
        return snapshot

    @classmethod
    def from_mapping(cls, data: Any, *, source: str, path: Path | None = None) -> Profile:
        """Build from a parsed YAML document; ``source`` names the file in error messages.

        Checks everything a settlement will rely on (docs/policy.md "Profiles"): the keys of
        every section, every parameter's kind and dates, that ``tier_groups`` puts each
        institution tier in exactly one group, that schemes are keyed by national insutype
        codes, and that every fund has a national fund_pay_type code of its own within its
        scheme. Raises :class:`ProfileError`, one line naming the file and the key."""
        if not isinstance(data, Mapping):
            raise ProfileError(f"{source}: expected a mapping at the top level")
        _only(data, {"name", "description", "tier_groups", "checks", "schemes",
                     "hospital_fund"}, "", source,
              required=("name", "tier_groups", "checks", "schemes", "hospital_fund"))
        name = _text(data, "name", "", source)
        tier_groups = _tier_groups(data.get("tier_groups"), source)
        groups = tuple(dict.fromkeys(tier_groups.values()))
        checks_raw = _mapping(data, "checks", "", source)
        _only(checks_raw, set(_CHECKS), "checks", source, required=_CHECKS)
        checks = {key: parse_node(checks_raw[key], f"checks.{key}", kind, (), source,
                                 splittable=False)
                  for key, kind in _CHECKS.items()}
        hospital_fund = _fund(_mapping(data, "hospital_fund", "", source), "hospital_fund",
                              source)
        schemes_raw = _mapping(data, "schemes", "", source)
        if not schemes_raw:
            raise ProfileError(f"{source}: schemes: expected at least one insurance type")
        schemes = {}
        for insutype, raw in schemes_raw.items():
            scheme = _scheme(_insutype(insutype, source), raw, groups, source)
            _distinct_funds(scheme, hospital_fund, source)
            schemes[scheme.insutype] = scheme
        return cls(name, source, str(data.get("description", "")).strip(), tier_groups, checks,
                   schemes, hospital_fund, path=path)


def load_profile(name_or_path: str) -> Profile:
    """Load a packaged profile by name (``"beijing"``) or a profile file by path.

    Raises :class:`ProfileError` for an unknown name, an unreadable file, bad YAML (a key
    given twice included), or a wrong parameter; the message names the file, the parameter and
    what is wrong."""
    text, source, path = _profile_text(name_or_path)
    return Profile.from_mapping(read_yaml(text, source, ProfileError), source=source, path=path)


def profile_document(name_or_path: str) -> tuple[Any, str]:
    """The parsed YAML of a profile (by packaged name or path; dates left as text) and the
    name to show for it."""
    text, source, _path = _profile_text(name_or_path)
    return read_yaml(text, source, ProfileError), source


def _profile_text(name_or_path: str) -> tuple[str, str, Path | None]:
    """A profile's text, the name error messages give it, and its resolved file (None when
    packaged)."""
    if name_or_path in available_profiles():
        resource = resources.files("mock_insurer.policy") / "profiles" / f"{name_or_path}.yaml"
        return resource.read_text(encoding="utf-8"), f"profiles/{name_or_path}.yaml", None
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        raise ProfileError(f"unknown policy profile {name_or_path!r} (packaged profiles: "
                           f"{', '.join(available_profiles())}; or give a YAML file path)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read the policy profile: {exc}") from None
    return text, str(path), path.resolve()


def available_profiles() -> tuple[str, ...]:
    """Names of the profiles packaged in ``mock_insurer/policy/profiles/``."""
    folder = resources.files("mock_insurer.policy") / "profiles"
    return tuple(sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                        if p.name.endswith(".yaml")))


# -- helpers -------------------------------------------------------------------------------------
def _tier_groups(raw: Any, source: str) -> dict[str, str]:
    """Institution tier -> tier group; every tier of :data:`INSTITUTION_TIERS` in exactly one
    group (a tier left out would make every settlement at it fail)."""
    every = ", ".join(INSTITUTION_TIERS)
    if not isinstance(raw, Mapping) or not raw:
        raise ProfileError(f"{source}: tier_groups: expected a mapping group -> [tiers], "
                           f"together holding each institution tier ({every}) once")
    tier_groups: dict[str, str] = {}
    for group, tiers in raw.items():
        if not isinstance(tiers, list) or not tiers:
            raise ProfileError(f"{source}: tier_groups.{group}: expected a list of tiers")
        for tier in tiers:
            if str(tier) not in INSTITUTION_TIERS:
                raise ProfileError(f"{source}: tier_groups.{group}: {tier!r} is not an "
                                   f"institution tier (the tiers are {every})")
            if str(tier) in tier_groups:
                raise ProfileError(f"{source}: tier_groups: tier {tier} is in two groups")
            tier_groups[str(tier)] = str(group)
    left_out = [tier for tier in INSTITUTION_TIERS if tier not in tier_groups]
    if left_out:
        raise ProfileError(
            f"{source}: tier_groups: tier {listed(left_out)} {'is' if len(left_out) == 1 else 'are'}"
            f" in no group (every institution tier — {every} — must be in exactly one group, or "
            f"every settlement at {'it' if len(left_out) == 1 else 'them'} fails)")
    return tier_groups


def _insutype(key: object, source: str) -> str:
    """A scheme's key: an insurance type code of the national table."""
    insutype = str(key)
    if insutype not in INSUTYPES:
        known = "; ".join(f"{code} {name}" for code, name in INSUTYPES.items())
        raise ProfileError(f"{source}: schemes.{insutype}: {insutype!r} is not an insurance "
                           f"type (insutype) of the national table: {known}")
    return insutype


def _distinct_funds(scheme: _Scheme, hospital_fund: Fund, source: str) -> None:
    """Each fund a scheme's settlement can name in setldetail has its own fund_pay_type (two
    funds with one code would give rows no HIS can tell apart)."""
    seen = {hospital_fund.fund_pay_type: "hospital_fund"}
    for section, body in scheme.sections.items():
        here = f"schemes.{scheme.insutype}.{section}"
        other = seen.get(body.fund.fund_pay_type)
        if other is not None:
            raise ProfileError(
                f"{source}: {here}.fund_pay_type: {body.fund.fund_pay_type} is also the code of "
                f"{other}.fund_pay_type; each fund of a scheme needs a code of its own, or its "
                f"setldetail rows are mislabelled")
        seen[body.fund.fund_pay_type] = here


def _scheme(insutype: str, raw: Any, groups: tuple[str, ...], source: str) -> _Scheme:
    where = f"schemes.{insutype}"
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{source}: {where}: expected a mapping")
    _only(raw, {"name", "payer_chain", *_SECTIONS, *PAYER_COUNTERS}, where, source,
          required=("name", *(s for s, (required, _) in _SECTIONS.items() if required)))
    sections = {}
    for section, (_required, kinds) in _SECTIONS.items():
        if section not in raw:
            continue
        here = f"{where}.{section}"
        body = _mapping(raw, section, where, source)
        _only(body, {*_FUND_KEYS, *kinds}, here, source, required=(*_FUND_KEYS, *kinds))
        params = {key: parse_node(body[key], f"{here}.{key}", kind, groups, source)
                  for key, kind in kinds.items()}
        sections[section] = _Section(_fund(body, here, source), params)
    present = [key for key in raw if str(key) in PAYER_COUNTERS]
    for payer_id in present:
        sections[str(payer_id)] = _payer_section(str(payer_id), raw, where, groups, source)
    chain = _chain(raw, [str(p) for p in present], where, source)
    return _Scheme(insutype, _text(raw, "name", where, source), sections, chain)


def _payer_section(payer_id: str, raw: Mapping[str, Any], where: str, groups: tuple[str, ...],
                   source: str) -> _Section:
    here = f"{where}.{payer_id}"
    body = _mapping(raw, payer_id, where, source)
    _only(body, {*_FUND_KEYS, *_PAYER_META, *_PAYER_KINDS}, here, source,
          required=(*_FUND_KEYS, *_PAYER_META, *_PAYER_REQUIRED))
    if ("share" in body) == ("brackets" in body):
        raise ProfileError(f"{source}: {here}: give exactly one of 'share' and 'brackets'")
    if "threshold" in body and "deductible" in body:
        raise ProfileError(f"{source}: {here}: give at most one of 'threshold' and "
                           f"'deductible' (they mean the same)")
    if ("threshold" in body or "deductible" in body) and PAYER_COUNTERS[payer_id][1] is None:
        raise ProfileError(f"{source}: {here}: this payer keeps no base counter, so it cannot "
                           f"have a threshold or deductible")
    meta = {key: _text(body, key, here, source) for key in _PAYER_META}
    for key, options in _PAYER_META_CHOICES.items():
        if meta[key] not in options:
            raise ProfileError(f"{source}: {here}.{key}: {meta[key]!r} is not one of "
                               f"{', '.join(options)}")
    params = {key: parse_node(body[key], f"{here}.{key}", kind, groups, source)
              for key, kind in _PAYER_KINDS.items() if key in body}
    return _Section(_fund(body, here, source), params, meta)


def _chain(raw: Mapping[str, Any], present: list[str], where: str,
           source: str) -> tuple[str, ...]:
    """The payers in the order they pay: ``payer_chain`` when given (it must name every payer
    section exactly once), else the order of the sections in the file."""
    if "payer_chain" not in raw:
        return tuple(present)
    chain = raw["payer_chain"]
    if not isinstance(chain, list) or not all(isinstance(p, str) for p in chain):
        raise ProfileError(f"{source}: {where}.payer_chain: expected a list of payer ids")
    if sorted(chain) != sorted(present) or len(set(chain)) != len(chain):
        raise ProfileError(f"{source}: {where}.payer_chain: must name each payer section of "
                           f"the scheme once (sections: {', '.join(present) or 'none'}; "
                           f"chain: {', '.join(chain) or 'empty'})")
    return tuple(chain)


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

    def payer(payer_id: str) -> Payer:
        section = scheme.sections[payer_id]
        params = section.params
        if "brackets" in params:
            brackets = _typed(value(payer_id, "brackets"), tuple)
        else:
            brackets = (Bracket(Decimal(0), _typed(value(payer_id, "share"), Decimal)),)
        threshold = Decimal(0)
        for key in ("threshold", "deductible"):
            if key in params:
                threshold = _typed(value(payer_id, key), Decimal)
        paid_counter, base_counter = PAYER_COUNTERS[payer_id]
        return Payer(
            id=payer_id, fund=section.fund, name_en=section.meta["name_en"],
            wire_field=section.meta["wire_field"], eligibility=section.meta["eligibility"],
            base=section.meta["base"],
            med_types=_typed(value(payer_id, "med_types"), frozenset), threshold=threshold,
            brackets=brackets, annual_cap=cap(payer_id), paid_counter=paid_counter,
            base_counter=base_counter)

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
        payers=tuple(payer(payer_id) for payer_id in scheme.chain),
    )


def _typed(value: object, kind: type[_T]) -> _T:
    if not isinstance(value, kind):  # the kinds above guarantee it; a bug otherwise
        raise TypeError(f"expected {kind.__name__}, got {value!r}")
    return value


def _fund(body: Mapping[str, Any], where: str, source: str) -> Fund:
    """A section's fund: a fund_pay_type of the national table, and a name."""
    code = _text(body, "fund_pay_type", where, source)
    if code not in FUND_PAY_TYPES:
        raise ProfileError(f"{source}: {_join(where, 'fund_pay_type')}: {code!r} is not a "
                           f"fund_pay_type of the national table (known: "
                           f"{', '.join(FUND_PAY_TYPES)}; names in docs/policy.md)")
    return Fund(code, _text(body, "fund_name", where, source))


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
          required: Collection[str] = ()) -> None:
    """Refuse a key not in ``allowed`` (the first, with the keys allowed) and any key of
    ``required`` that is missing (all of them at once)."""
    keys = {str(k) for k in body}
    unknown = keys - allowed
    if unknown:
        raise ProfileError(f"{source}: {_join(where, sorted(unknown)[0])}: unknown key "
                           f"(allowed here: {', '.join(sorted(allowed))})")
    missing = [key for key in required if key not in keys]
    if len(missing) == 1:
        raise ProfileError(f"{source}: {_join(where, missing[0])}: missing")
    if missing:
        raise ProfileError(f"{source}: {where or 'the profile'}: missing {listed(missing)}")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key

