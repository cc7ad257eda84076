"""Dated parameters: the generic part of a policy profile (after OpenFisca's parameter files).

A *parameter* in a profile YAML file is a mapping with four keys::

    deductible:
      description: 门诊起付线 — what the person pays first each calendar year
      unit: yuan/year
      reference: 京医保发〔2022〕28号 (or a list of sources)
      values:
        2020-01-01: 1800
        2023-01-01: 1800

``values`` maps the first day a value holds (inclusive) to the value; a value holds until the
next date. ``null`` is a value (e.g. "no annual cap"). Asking for a day before the first date
is an error (:class:`ParameterNotInForce`), never a silent default.

A parameter may instead be *split*: a mapping whose keys are exactly the profile's tier groups
(e.g. ``primary``/``secondary``) or exactly the employment statuses (``in_service``/
``retired``), each child being a parameter or a further split. The shape of the data says what
a number depends on; resolving needs the person's tier group and status.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mock_insurer.policy.errors import ParameterNotInForce, ProfileError

__all__ = [
    "STATUSES",
    "Leaf",
    "Node",
    "Split",
    "as_date",
    "listed",
    "parse_node",
    "resolve",
]

#: Employment statuses a parameter may be split by (退休 / 在职).
STATUSES = ("in_service", "retired")

_LEAF_KEYS = {"description", "unit", "reference", "values"}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: A kind turns one raw YAML value into a typed value, or raises ValueError saying what is wrong.
Kind = Callable[[Any], object]


@dataclass(frozen=True, slots=True)
class Leaf:
    """One dated parameter. ``values`` are (first day, value) pairs sorted by day."""

    path: str
    description: str
    unit: str
    reference: tuple[str, ...]
    values: tuple[tuple[dt.date, object], ...]
    source: str

    @property
    def first_day(self) -> dt.date:
        """The first day the parameter has a value (it is not in force before)."""
        return self.values[0][0]

    def at(self, day: dt.date) -> object:
        """The value in force on ``day`` (the last dated value whose date is <= day)."""
        found: object = _MISSING
        for start, value in self.values:
            if start > day:
                break
            found = value
        if found is _MISSING:
            raise ParameterNotInForce(
                f"{self.source}: parameter {self.path} has no value on {day.isoformat()}; "
                f"its first value holds from {self.values[0][0].isoformat()}"
            )
        return found


@dataclass(frozen=True, slots=True)
class Split:
    """A parameter that differs by ``dimension`` ("tier_group" or "status")."""

    path: str
    dimension: str
    children: Mapping[str, Node]


Node = Leaf | Split

_MISSING = object()


def parse_node(raw: Any, path: str, kind: Kind, tier_groups: tuple[str, ...],
               source: str, *, splittable: bool = True) -> Node:
    """Parse and validate one parameter (or split) of a profile; errors name file and path.

    ``splittable=False`` for parameters that cannot depend on the person (the line checks)."""
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{source}: parameter {path}: expected a mapping with description, "
                           f"unit, reference and values; got {raw!r}")
    if "values" in raw:
        return _parse_leaf(raw, path, kind, source)
    keys = {str(k) for k in raw}
    if not splittable:
        raise ProfileError(f"{source}: parameter {path}: expected 'values' (a dated "
                           f"parameter; this one cannot be split); got keys {sorted(keys)}")
    if keys and keys == set(tier_groups):
        dimension = "tier_group"
    elif keys == set(STATUSES):
        dimension = "status"
    else:
        raise ProfileError(
            f"{source}: parameter {path}: expected 'values' (a dated parameter) or a split by "
            f"tier group ({', '.join(tier_groups)}) or by status ({', '.join(STATUSES)}); "
            f"got keys {sorted(keys)}"
        )
    children = {
        str(key): parse_node(child, f"{path}.{key}", kind, tier_groups, source)
        for key, child in raw.items()
    }
    return Split(path, dimension, children)


def resolve(node: Node, day: dt.date, *, tier_group: str, status: str) -> object:
    """The value of a parameter on ``day`` for a person in ``tier_group`` with ``status``."""
    while isinstance(node, Split):
        node = node.children[tier_group if node.dimension == "tier_group" else status]
    return node.at(day)


def _parse_leaf(raw: Mapping[Any, Any], path: str, kind: Kind, source: str) -> Leaf:
    def fail(what: str) -> ProfileError:
        return ProfileError(f"{source}: parameter {path}: {what}")

    unknown = {str(k) for k in raw} - _LEAF_KEYS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)} (allowed: {sorted(_LEAF_KEYS)})")
    missing = [key for key in ("description", "unit")
               if not isinstance(raw.get(key), str) or not raw[key].strip()]
    given = raw.get("reference")
    reference: Any = [given] if isinstance(given, str) else given
    if (not isinstance(reference, list) or not reference
            or not all(isinstance(r, str) and r.strip() for r in reference)):
        missing.append("reference")
    if missing:
        named = listed([f"'{key}'" for key in missing])
        hint = (" (say where the number comes from, or that it is a modelling choice)"
                if "reference" in missing else "")
        raise fail(f"{named} {'is' if len(missing) == 1 else 'are'} missing or empty{hint}")
    values = raw["values"]
    if not isinstance(values, Mapping) or not values:
        raise fail("'values' must map dates (YYYY-MM-DD) to values and hold at least one")
    dated: list[tuple[dt.date, object]] = []
    for key, value in values.items():
        try:
            start = as_date(key)
        except ValueError as exc:
            raise fail(f"'{key}' in values is not a real date ({exc})") from None
        if start is None:
            raise fail(f"'{key}' in values is not a date YYYY-MM-DD")
        if any(start == earlier for earlier, _ in dated):
            raise fail(f"values: {start.isoformat()} is given twice (one date, one value)")
        try:
            dated.append((start, kind(value)))
        except ValueError as exc:
            raise fail(f"value from {start.isoformat()}: {exc}") from None
    dated.sort(key=lambda pair: pair[0])
    return Leaf(path, raw["description"].strip(), raw["unit"].strip(),
                tuple(r.strip() for r in reference), tuple(dated), source)


def listed(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: words as a message names them."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def as_date(key: object) -> dt.date | None:
    """The day a ``values`` key names: text ``YYYY-MM-DD`` (how
    :func:`~mock_insurer.policy.documents.read_yaml` leaves a date) or a date. None when it is not written as a date; ValueError when it is written as
    one but is no real day (``2025-02-30``, ``2025-13-01``)."""
    if isinstance(key, dt.datetime):
        return None
    if isinstance(key, dt.date):
        return key
    if isinstance(key, str) and _DATE.fullmatch(key.strip()):
        return dt.date.fromisoformat(key.strip())
    return None
