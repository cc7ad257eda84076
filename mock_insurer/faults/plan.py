"""The fault plan: which messages a fault selects, and what it does to them.

A plan is data (YAML, JSON, or the admin API's body)::

    seed: 7
    faults:
      - id: lose-2207
        name: 结算成功但应答丢失 / settlement committed, answer lost
        match: {infno: ["2207"], first: 1}
        effect: {kind: lose_answer, how: timeout, after_ms: 30000}

Every value here is checked when the plan is read; a bad plan raises one
:class:`FaultPlanError` naming the fault (index and id) and the field. The effects are in
:mod:`mock_insurer.faults.effect_kinds` and exported from here too. The format, with an
example of every selector and effect and what a HIS should do about each, is in
``docs/faults.md``; why the layer looks like this is in ``docs/adr/0007-fault-layer.md``.

Units: every ``*_ms`` is milliseconds of wall-clock time; ``seconds`` (clock skew) is seconds;
window times are the insurer's *business clock* (naive ``datetime``, start inclusive, end
exclusive). Nothing here is money. Bounds: ``seed`` 0 to :data:`MAX_SEED`, ``first`` 1 to
:data:`MAX_FIRST`; the effects' bounds are in :mod:`mock_insurer.faults.effect_kinds`.

Sources: DESIGN.md "Faults"; ``shared/reference/nhsa-interface-facts.md`` §5 (the ``{"code":
"999","msg":...}`` gateway answer and the Hunan ``infcode`` 0 + ``err_msg`` quirk) and §7
"Timeouts and retries" (clients give up after 2-120 s).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from mock_insurer.faults.effect_kinds import (
    DEFAULT_BUSINESS_ERR_MSG,
    DEFAULT_LOSE_ANSWER_HOLD_MS,
    DEFAULT_NOT_ENVELOPE_BODY,
    DEFAULT_SUCCESS_ERR_MSG,
    DISTRIBUTION_KINDS,
    EFFECT_KINDS,
    BusinessError,
    ClockSkew,
    Close,
    Delay,
    DelayDistribution,
    Effect,
    HttpError,
    LoseAnswer,
    Malformed,
    Refuse,
    SigninInvalidated,
    effect_from_data,
    effect_to_data,
)
from mock_insurer.faults.validation import (
    FaultPlanError,
    as_mapping,
    check_keys,
    check_number,
    check_whole,
    fail,
    type_name,
    yaml_bool_hint,
)

__all__ = [
    "DEFAULT_BUSINESS_ERR_MSG",
    "DEFAULT_LOSE_ANSWER_HOLD_MS",
    "DEFAULT_NOT_ENVELOPE_BODY",
    "DEFAULT_SUCCESS_ERR_MSG",
    "DISTRIBUTION_KINDS",
    "EFFECT_KINDS",
    "MAX_FIRST",
    "MAX_SEED",
    "BusinessError",
    "ClockSkew",
    "Close",
    "Delay",
    "DelayDistribution",
    "Effect",
    "Fault",
    "FaultPlan",
    "FaultPlanError",
    "HttpError",
    "LoseAnswer",
    "Malformed",
    "Refuse",
    "Selector",
    "SigninInvalidated",
    "Window",
]

MAX_SEED = 2**63 - 1
"""The largest plan seed (a seed is 0 to 2**63-1, a signed 64-bit value as other tools keep it)."""
MAX_FIRST = 1_000_000_000
"""The largest ``first`` of a selector (a billion hits: more than any run sends)."""

_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


# --- selectors ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of the insurer's business clock: ``start`` inclusive, ``end`` exclusive;
    either may be left open (``None``). Naive datetimes (the business clock has no zone)."""

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start is None and self.end is None:
            raise fail("", "give start, end or both")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is not None:
                raise fail(name, "must be a business-clock time without a time zone", value)
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise fail(
                "end",
                f"must be after start ({_render_time(self.start)})",
                _render_time(self.end),
            )

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` (business clock) falls in ``[start, end)``."""
        if self.start is not None and moment < self.start:
            return False
        return self.end is None or moment < self.end


@dataclass(frozen=True, slots=True)
class Selector:
    """Which messages a fault hits: every selector given must match (AND); ``None`` = any.

    ``infno``/``fixmedins_code``/``psn_no`` list the values that match (a message without
    ``psn_no`` never matches a ``psn_no`` selector). ``probability`` (0-1) is drawn per message
    that matched everything else, from the plan's seeded generator. ``first`` caps the fault to
    its first N hits (counted after every other selector, the probability draw included).
    ``window`` is on the insurer's business clock.
    """

    infno: tuple[str, ...] | None = None
    fixmedins_code: tuple[str, ...] | None = None
    psn_no: tuple[str, ...] | None = None
    probability: float | None = None
    first: int | None = None
    window: Window | None = None

    def __post_init__(self) -> None:
        for name in ("infno", "fixmedins_code", "psn_no"):
            values = getattr(self, name)
            if values is not None and not values:
                raise fail(name, "an empty list never matches; leave the selector out to match any")
        if self.probability is not None:
            check_number("probability", self.probability)
            if not 0 <= self.probability <= 1:
                raise fail("probability", "must be a number from 0 to 1", self.probability)
        if self.first is not None:
            check_whole("first", self.first, 1, MAX_FIRST)


# --- faults and the plan --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault: an id unique in its plan, a label for people, whether it is armed, the
    messages it selects and what it does to them."""

    id: str
    effect: Effect
    match: Selector = field(default_factory=Selector)
    name: str = ""
    active: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise fail("id", "must be a non-empty text", self.id)


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """An ordered list of faults (the first active fault that matches a message wins) and the
    seed of every random draw (probability selectors, delay distributions)."""

    faults: tuple[Fault, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        check_whole("seed", self.seed, 0, MAX_SEED)
        seen: dict[str, int] = {}
        for index, fault in enumerate(self.faults):
            if fault.id in seen:
                raise FaultPlanError(
                    f"duplicate id (faults[{seen[fault.id]}] has it already); ids must be unique",
                    field="id",
                    fault_index=index,
                    fault_id=fault.id,
                )
            seen[fault.id] = index

    # lookups and edits (plans are immutable; these return new plans)

    def fault(self, fault_id: str) -> Fault | None:
        """The fault with this id, or ``None``."""
        return next((f for f in self.faults if f.id == fault_id), None)

    def with_active(self, fault_id: str, active: bool) -> FaultPlan:
        """A copy with one fault armed or disarmed (unchanged if the id is unknown)."""
        return dataclasses.replace(
            self,
            faults=tuple(
                dataclasses.replace(f, active=active) if f.id == fault_id else f
                for f in self.faults
            ),
        )

    # reading

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultPlan:
        """Read a plan from plain data (parsed YAML/JSON). Raises :class:`FaultPlanError`."""
        return _parse_plan(data)

    @classmethod
    def from_yaml(cls, text: str) -> FaultPlan:
        """Read a plan from YAML text (JSON is accepted too). Raises :class:`FaultPlanError`."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise FaultPlanError(f"not valid YAML: {exc}") from exc
        if data is None:
            data = {}
        return _parse_plan(data)

    @classmethod
    def from_file(cls, path: str | Path) -> FaultPlan:
        """Read a plan from a ``.yaml``/``.yml``/``.json`` file."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise FaultPlanError(f"cannot read {file}: {exc.strerror or exc}") from exc
        if file.suffix.lower() == ".json":
            try:
                return _parse_plan(json.loads(text))
            except json.JSONDecodeError as exc:
                raise FaultPlanError(f"{file} is not valid JSON: {exc}") from exc
        return cls.from_yaml(text)

    # writing

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready) that :meth:`from_dict` reads back to an equal plan."""
        return {"seed": self.seed, "faults": [_fault_to_dict(f) for f in self.faults]}

    def to_yaml(self) -> str:
        """The plan as YAML (UTF-8 text, Chinese labels kept readable)."""
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)


# --- reading --------------------------------------------------------------------------------

_PLAN_KEYS = ("seed", "faults")
_FAULT_KEYS = ("id", "name", "active", "match", "effect")
_SELECTOR_KEYS = ("infno", "fixmedins_code", "psn_no", "probability", "first", "window")


def _parse_plan(data: Any) -> FaultPlan:
    plan = as_mapping(data, "")
    check_keys(plan, _PLAN_KEYS, "")
    seed = plan.get("seed", 0)
    check_whole("seed", seed, 0, MAX_SEED)
    raw_faults = plan.get("faults", [])
    if raw_faults is None:
        raw_faults = []
    if not isinstance(raw_faults, list):
        raise fail("faults", f"must be a list of faults, not {type_name(raw_faults)}")

    explicit = {
        str(item.get("id")) for item in raw_faults if isinstance(item, Mapping) and item.get("id")
    }
    faults: list[Fault] = []
    generated = 0
    for index, item in enumerate(raw_faults):
        fault_id = item.get("id") if isinstance(item, Mapping) else None
        given_id = None if fault_id is None else str(fault_id)
        try:
            if fault_id is None:
                generated = max(generated, index)
                while True:
                    generated += 1
                    if f"f{generated}" not in explicit:
                        break
                fault_id = f"f{generated}"
                explicit.add(fault_id)
            elif isinstance(fault_id, bool) or not isinstance(fault_id, str | int):
                raise fail("id", "must be a text" + yaml_bool_hint(fault_id), fault_id)
            faults.append(_parse_fault(item, str(fault_id)))
        except FaultPlanError as exc:
            raise exc.located(fault_index=index, fault_id=given_id) from None
    return FaultPlan(faults=tuple(faults), seed=seed)


def _parse_fault(item: Any, fault_id: str) -> Fault:
    data = as_mapping(item, "")
    check_keys(data, _FAULT_KEYS, "")
    name = data.get("name", "")
    if name is None:
        name = ""
    if not isinstance(name, str):
        raise fail("name", "must be a text", name)
    active = data.get("active", True)
    if not isinstance(active, bool):
        raise fail("active", "must be true or false", active)
    if "effect" not in data:
        raise fail("effect", "is required (what the fault does)")
    try:
        selector = _parse_selector(data.get("match"))
    except FaultPlanError as exc:
        raise exc.located(prefix="match") from None
    try:
        effect = effect_from_data(data["effect"])
    except FaultPlanError as exc:
        raise exc.located(prefix="effect") from None
    return Fault(id=fault_id, name=name, active=active, match=selector, effect=effect)


def _codes(value: Any, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    out = []
    for position, code in enumerate(items):
        if isinstance(code, bool) or not isinstance(code, str | int) or str(code).strip() == "":
            where = f"{name}[{position}]" if isinstance(value, list) else name
            problem = "must be a text (a code) or a list of them" + yaml_bool_hint(code)
            raise fail(where, problem, code)
        out.append(str(code).strip())
    return tuple(out)


def _parse_selector(value: Any) -> Selector:
    if value is None:
        return Selector()
    data = as_mapping(value, "")
    check_keys(data, _SELECTOR_KEYS, "")
    probability = data.get("probability")
    if probability is not None and (
        isinstance(probability, bool) or not isinstance(probability, int | float)
    ):
        raise fail("probability", "must be a number from 0 to 1", probability)
    first = data.get("first")
    if first is not None:
        check_whole("first", first, 1, MAX_FIRST)
    window = None
    if data.get("window") is not None:
        try:
            window = _parse_window(data["window"])
        except FaultPlanError as exc:
            raise exc.located(prefix="window") from None
    return Selector(
        infno=_codes(data.get("infno"), "infno"),
        fixmedins_code=_codes(data.get("fixmedins_code"), "fixmedins_code"),
        psn_no=_codes(data.get("psn_no"), "psn_no"),
        probability=None if probability is None else float(probability),
        first=first,
        window=window,
    )


def _parse_window(value: Any) -> Window:
    data = as_mapping(value, "")
    check_keys(data, ("start", "end"), "")
    return Window(
        start=_parse_time(data.get("start"), "start"), end=_parse_time(data.get("end"), "end")
    )


def _parse_time(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise fail(name, "must be a business-clock time without a time zone", str(value))
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)  # noqa: DTZ001 - business clock
    if isinstance(value, str):
        for fmt in _TIME_FORMATS:
            try:
                return datetime.strptime(value.strip(), fmt)  # noqa: DTZ007 - business clock
            except ValueError:
                continue
    raise fail(name, 'must be a time like "2026-03-02 08:00:00" (business clock)', value)


# --- writing --------------------------------------------------------------------------------


def _render_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _fault_to_dict(fault: Fault) -> dict[str, Any]:
    out: dict[str, Any] = {"id": fault.id}
    if fault.name:
        out["name"] = fault.name
    out["active"] = fault.active
    out["match"] = _selector_to_dict(fault.match)
    out["effect"] = effect_to_data(fault.effect)
    return out


def _selector_to_dict(selector: Selector) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("infno", "fixmedins_code", "psn_no"):
        values = getattr(selector, name)
        if values is not None:
            out[name] = list(values)
    if selector.probability is not None:
        out["probability"] = selector.probability
    if selector.first is not None:
        out["first"] = selector.first
    if selector.window is not None:
        window: dict[str, str] = {}
        if selector.window.start is not None:
            window["start"] = _render_time(selector.window.start)
        if selector.window.end is not None:
            window["end"] = _render_time(selector.window.end)
        out["window"] = window
    return out
