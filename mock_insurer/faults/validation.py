"""The fault plan's error, and the small checks every part of a plan is read with.

Each check raises :class:`FaultPlanError` naming the field it looked at; the readers of the
plan, the faults and the effects add where that field sits (``faults[2] (id 'x'):
match.probability``), so the user gets one line that says what is wrong and where.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

from mock_insurer.errors import InsurerError

__all__ = [
    "FaultPlanError",
    "as_mapping",
    "check_keys",
    "check_number",
    "check_whole",
    "choice_field",
    "fail",
    "number_field",
    "text_field",
    "type_name",
    "yaml_bool_hint",
]


class FaultPlanError(InsurerError):
    """A fault plan that cannot be used; the message names the fault and the field.

    ``str(error)`` reads e.g. ``fault plan: faults[2] (id 'lose-2207'): match.probability:
    must be a number from 0 to 1, got 1.5``. The parts are kept as attributes for the admin
    API (``fault_index``, ``fault_id``, ``field``, ``problem``).
    """

    def __init__(
        self,
        problem: str,
        *,
        field: str | None = None,
        fault_index: int | None = None,
        fault_id: str | None = None,
    ) -> None:
        self.problem = problem
        self.field = field
        self.fault_index = fault_index
        self.fault_id = fault_id
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.fault_index is not None:
            fault = f"faults[{self.fault_index}]"
            if self.fault_id is not None:
                fault += f" (id {self.fault_id!r})"
            where.append(fault)
        elif self.fault_id is not None:
            where.append(f"fault {self.fault_id!r}")
        if self.field:
            where.append(self.field)
        return "fault plan: " + "".join(part + ": " for part in where) + self.problem

    def located(
        self,
        *,
        prefix: str | None = None,
        fault_index: int | None = None,
        fault_id: str | None = None,
    ) -> FaultPlanError:
        """The same problem with more of its location filled in (``prefix`` goes before
        the field: ``located(prefix="match")`` turns ``probability`` into
        ``match.probability``)."""
        name = self.field
        if prefix:
            name = f"{prefix}.{name}" if name else prefix
        return FaultPlanError(
            self.problem,
            field=name,
            fault_index=self.fault_index if fault_index is None else fault_index,
            fault_id=self.fault_id if fault_id is None else fault_id,
        )


def fail(field_name: str, problem: str, value: Any = dataclasses.MISSING) -> FaultPlanError:
    """The error for ``field_name`` (``value``, when given, is quoted in the message)."""
    if value is not dataclasses.MISSING:
        problem = f"{problem}, got {value!r}"
    return FaultPlanError(problem, field=field_name)


def check_number(
    name: str,
    value: float,
    *,
    low: float | None = None,
    high: float | None = None,
    positive: bool = False,
) -> None:
    """Check a number: finite, at least ``low``, at most ``high``, above 0 if ``positive``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(name, "must be a finite number", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise fail(name, "must be a finite number", value)
    if positive and value <= 0:
        raise fail(name, "must be greater than 0", value)
    if low is not None and value < low:
        raise fail(name, f"must be at least {low:g}", value)
    if high is not None and value > high:
        raise fail(name, f"must be at most {high:g}", value)


def check_whole(name: str, value: Any, low: int, high: int, what: str = "") -> None:
    """Check a whole number from ``low`` to ``high`` (``what`` names the unit: "seconds")."""
    unit = f" of {what}" if what else ""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise fail(name, f"must be a whole number{unit}, at least {low} and at most {high}",
                   value)


def as_mapping(value: Any, name: str) -> Mapping[str, Any]:
    """``value`` if it is a mapping."""
    if not isinstance(value, Mapping):
        raise fail(name, f"must be a mapping (key: value), not {type_name(value)}")
    return value


def check_keys(data: Mapping[str, Any], allowed: Sequence[str], name: str) -> None:
    """Refuse keys not in ``allowed`` (a typo would otherwise silently widen a fault)."""
    for key in data:
        if key not in allowed:
            where = f"{name}.{key}" if name else str(key)
            raise fail(where, f"unknown field (expected one of: {', '.join(allowed)})")


def type_name(value: Any) -> str:
    """How to call the type of ``value`` in a message."""
    if isinstance(value, Mapping):
        return "a mapping"
    names = {list: "a list", str: "a text", bool: "true/false", int: "a number", float: "a number"}
    return names.get(type(value), "nothing" if value is None else type(value).__name__)


def yaml_bool_hint(value: Any) -> str:
    """A hint for a value YAML turned into true/false (``off``, ``no``, ...), else ``""``."""
    if isinstance(value, bool):
        return " (quote it: YAML reads yes/no/on/off/true/false unquoted as true or false)"
    return ""


def number_field(
    data: Mapping[str, Any], key: str, *, required: bool = False, whole: bool = False
) -> Any:
    """``data[key]`` if it is a number (a whole one if ``whole``), ``None`` if absent."""
    value = data.get(key)
    if value is None:
        if required:
            raise fail(key, "is required")
        return None
    kinds: tuple[type, ...] = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise fail(key, "must be a whole number" if whole else "must be a number", value)
    return value


def text_field(data: Mapping[str, Any], key: str) -> str | None:
    """``data[key]`` if it is a text, ``None`` if absent."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise fail(key, "must be a text", value)
    return value


def choice_field(
    data: Mapping[str, Any], key: str, choices: Sequence[str], default: str | None
) -> Any:
    """``data[key]`` (or ``default``) if it is one of ``choices``."""
    value = data.get(key, default)
    if value is None:
        raise fail(key, f"is required (one of: {', '.join(choices)})")
    if value not in choices:
        raise fail(key, f"must be one of: {', '.join(choices)}", value)
    return value
