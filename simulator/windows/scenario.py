"""Scenarios of the window model: the YAML format, its defaults, and the checked form.

A scenario file is merged over ``defaults.yaml`` (beside this module) unless it says
``extends: none``. Mappings merge key by key (a kind or a step you name replaces only the keys
you give); these replace the default whole: a distribution (a mapping with ``dist`` or
``csv``), ``arrivals.per_hour`` (and ``rate_per_hour`` drops the default ``per_hour``),
``staffing.hours`` (and ``staffing.windows`` drops the default ``hours``), and every list. To
drop a default kind, set its share to 0. Top-level keys:

=================  ==========================================================================
``name``           a title for reports
``extends``        ``defaults`` (the default) or ``none``
``card_settlement`` ``true``; ``false`` = before card settlement (``steps_without_card``)
``arrivals``       ``per_hour: {HH: count}``, or ``rate_per_hour`` + ``hours`` (+ ``start_hour``);
                   ``scale`` (multiplies every hour), ``shape`` (``step`` | ``smooth``)
``kinds``          ``name: {label, share, steps, steps_without_card, fallback_steps, referred}``
``steps``          ``name: {label, time: <distribution, s>, insurer_calls: [infno, ...]}``
``fallback``       ``steps: [...]`` run instead of the rest of a visit when the insurer is down
``insurer``        ``latency: <distribution, ms>`` or ``{csv: FILE, name: Aggregated}``
``staffing``       ``skill: {trained, new}``; ``windows: N`` (every hour) or
                   ``hours: {HH: N | {windows: N, new: K}}``
``patients``       ``balking: [{queue_at_least, probability}]``, ``patience: <distribution, min>``
``faults``         ``[{kind: outage | slow, start, end, ...}]`` (see ``faults.py``)
``target``         ``wait_minutes`` and ``share`` (e.g. 90% wait at most 10 minutes)
``warmup_minutes`` arrivals before this minute are simulated but not counted
=================  ==========================================================================

Every value is checked; a problem raises :class:`ScenarioError` naming the file and the key.
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from simulator.windows.arrivals import SHAPES, ArrivalProfile
from simulator.windows.distributions import Distribution, parse_distribution
from simulator.windows.errors import LatencyFileError, ScenarioError
from simulator.windows.faults import FaultTimeline, parse_faults
from simulator.windows.kinds import PatientKind
from simulator.windows.patience import Balking
from simulator.windows.service import Step, load_latency_csv
from simulator.windows.staffing import Staffing

__all__ = [
    "Scenario",
    "Target",
    "compile_scenario",
    "default_data",
    "dump_scenario",
    "load_scenario",
    "merge_data",
]

_TOP = {
    "name", "extends", "card_settlement", "arrivals", "kinds", "steps", "fallback", "insurer",
    "staffing", "patients", "faults", "target", "warmup_minutes",
}
_KEYS = {
    "arrivals": {"per_hour", "rate_per_hour", "hours", "start_hour", "scale", "shape", "source"},
    "kind": {"label", "share", "steps", "steps_without_card", "fallback_steps", "referred", "source"},
    "step": {"label", "time", "insurer_calls", "source"},
    "fallback": {"steps", "source"},
    "insurer": {"latency", "source"},
    "staffing": {"skill", "windows", "hours", "source"},
    "patients": {"balking", "patience", "source"},
    "target": {"wait_minutes", "share"},
}


@dataclass(frozen=True, slots=True)
class Target:
    """The wait target: ``share`` of patients wait at most ``wait_minutes`` (simulated minutes)."""

    wait_minutes: float
    share: float


@dataclass(frozen=True)
class Scenario:
    """A checked scenario, ready to simulate (every duration in simulated minutes)."""

    name: str
    arrivals: ArrivalProfile
    kinds: tuple[PatientKind, ...]
    steps: dict[str, Step]
    fallback_steps: tuple[str, ...]
    latency: Distribution
    staffing: Staffing
    balking: Balking | None
    patience: Distribution | None
    faults: FaultTimeline
    target: Target
    card_settlement: bool = True
    warmup: float = 0.0
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    def path_of(self, kind: PatientKind) -> tuple[str, ...]:
        """The steps a kind goes through in this scenario (with or without card settlement)."""
        return kind.steps if self.card_settlement else kind.steps_without_card

    def fallback_of(self, kind: PatientKind) -> tuple[str, ...]:
        return kind.fallback_steps if kind.fallback_steps is not None else self.fallback_steps

    def mean_service(self, skill: float = 1.0) -> float:
        """Expected service time of one patient (minutes) with no fault, at ``skill``."""
        total_share = sum(kind.share for kind in self.kinds)
        mean = 0.0
        for kind in self.kinds:
            steps = [self.steps[name] for name in self.path_of(kind)]
            work = sum(step.time.mean for step in steps) * skill
            calls = sum(step.calls for step in steps) * self.latency.mean
            mean += kind.share / total_share * (work + calls)
        return mean

    @property
    def is_mmc(self) -> bool:
        """True when the run is an M/M/c queue that Erlang C describes exactly: Poisson arrivals
        at a constant rate, one exponential step and no insurer call, a fixed number of windows
        with one skill, nobody balking or reneging, no faults."""
        active = [kind for kind in self.kinds if kind.share > 0]
        paths = {self.path_of(kind) for kind in active}
        if len(paths) != 1:
            return False
        (path,) = paths
        return (
            self.arrivals.is_constant
            and len(path) == 1
            and self.steps[path[0]].time.is_exponential
            and self.steps[path[0]].calls == 0
            and len(set(self.staffing.windows)) == 1
            and self.staffing.first_hour <= self.arrivals.first_hour
            and (sum(self.staffing.new) == 0 or self.staffing.skill_new == self.staffing.skill_trained)
            and self.balking is None
            and self.patience is None
            and self.faults.empty
        )

    def with_staffing(self, staffing: Staffing) -> Scenario:
        """The same scenario with another staffing schedule (its data updated to match)."""
        data = copy.deepcopy(self.data)
        hours: dict[str, Any] = {}
        for i, (windows, new) in enumerate(zip(staffing.windows, staffing.new, strict=True)):
            hour = f"{staffing.first_hour + i:02d}"
            hours[hour] = {"windows": windows, "new": new} if new else windows
        data["staffing"] = {
            "skill": {"trained": staffing.skill_trained, "new": staffing.skill_new},
            "hours": hours,
        }
        return replace(self, staffing=staffing, data=data)

    def with_card_settlement(self, enabled: bool) -> Scenario:
        data = dict(self.data, card_settlement=enabled)
        return replace(self, card_settlement=enabled, data=data)


# ---------------------------------------------------------------- reading and merging


def default_data() -> dict[str, Any]:
    """The defaults (``defaults.yaml``) as data."""
    text = files("simulator.windows").joinpath("defaults.yaml").read_text(encoding="utf-8")
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


class _ScenarioDumper(yaml.SafeDumper):
    """Writes digit-only strings quoted (hours ``"08"``), as the scenario format asks: a YAML
    1.2 reader would take an unquoted ``08`` for the number 8."""


def _quote_digits(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = '"' if text.isdigit() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_ScenarioDumper.add_representer(str, _quote_digits)


def dump_scenario(data: Mapping[str, Any]) -> str:
    """A scenario's data as YAML that :func:`load_scenario` reads back as the same data."""
    return yaml.dump(dict(data), Dumper=_ScenarioDumper, allow_unicode=True, sort_keys=False)


def _is_atomic(value: object) -> bool:
    return isinstance(value, Mapping) and ("dist" in value or "csv" in value)


def merge_data(base: Mapping[str, Any], over: Mapping[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
    """``over`` merged onto ``base`` by the rules in the module docstring (neither is changed)."""
    merged = copy.deepcopy(dict(base))
    if path == ("arrivals",) and "rate_per_hour" in over and "per_hour" not in over:
        merged.pop("per_hour", None)
    if path == ("arrivals",) and "per_hour" in over:
        for key in ("rate_per_hour", "hours", "start_hour"):
            merged.pop(key, None)
    if path == ("staffing",) and "windows" in over and "hours" not in over:
        merged.pop("hours", None)
    if path == ("staffing",) and "hours" in over:
        merged.pop("windows", None)
    for key, value in over.items():
        here = (*path, str(key))
        whole = here in {("arrivals", "per_hour"), ("staffing", "hours")}
        old = merged.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping) and not whole and not _is_atomic(value):
            merged[key] = merge_data(old, value, here)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_scenario(
    path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    replace: Mapping[str, Any] | None = None,
    shares: Mapping[str, float] | None = None,
) -> Scenario:
    """Read a scenario file (``None``: the defaults alone), merge ``overrides`` (data in the
    same format, e.g. from command-line options), put ``replace``'s top-level sections in place
    of the merged ones, set kinds' ``shares``, and check it. A latency CSV named in the file is
    found relative to the file. A share for a kind the scenario does not define is an error."""
    where = "scenario"
    base_dir = Path.cwd()
    data: dict[str, Any] = default_data()
    if path is not None:
        source = Path(path)
        where = str(source)
        base_dir = source.parent
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot read scenario {source}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError:
            raise ScenarioError(f"{source}: not a UTF-8 text file") from None
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or "bad YAML"
            raise ScenarioError(f"{source}: not valid YAML{at}: {problem}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ScenarioError(f"{source}: expected a mapping of scenario keys at the top")
        extends = loaded.get("extends", "defaults")
        if extends not in ("defaults", "none"):
            raise ScenarioError(f"{source}: extends: use 'defaults' or 'none', got {extends!r}")
        data = merge_data(data if extends == "defaults" else {}, loaded)
    if overrides:
        data = merge_data(data, overrides)
    if replace:
        data.update(copy.deepcopy(dict(replace)))
    if shares:
        kinds = data.get("kinds")
        known = list(kinds) if isinstance(kinds, Mapping) else []
        for name, share in shares.items():
            if name not in known:
                raise ScenarioError(
                    f"unknown patient kind {name!r} (kinds of this scenario: {', '.join(map(str, known))})"
                    f"{_did_you_mean(str(name), known)}"
                )
            data = merge_data(data, {"kinds": {name: {"share": share}}})
    return compile_scenario(data, where=where, base_dir=base_dir)


# ---------------------------------------------------------------- checking


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where}: expected a mapping, got {value!r}")
    return value


def _known(value: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(key) for key in set(value) - allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _number(value: object, where: str, *, low: float = 0.0, high: float = math.inf, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ScenarioError(f"{where}: expected a number, got {value!r}")
    if integer and value != int(value):
        raise ScenarioError(f"{where}: expected a whole number, got {value!r}")
    if not low <= value <= high:
        bound = f">= {low:g}" if high == math.inf else f"between {low:g} and {high:g}"
        raise ScenarioError(f"{where}: must be {bound}, got {value!r}")
    return float(value)


#: Hours a day profile may name (a day may run past midnight into the next one: 24 and later
#: are the next day's early hours, a night shift).
_LAST_HOUR = 47


def _hour(key: object, where: str) -> int:
    text = str(key).strip()
    if text.endswith(":00"):
        text = text[:-3]
    if not text.isdigit():
        raise ScenarioError(
            f"{where}: hour {key!r} is not an hour of the day like \"08\" (quote hours in YAML: "
            f"unquoted 08:00 reads as the number 480)"
        )
    if int(text) > _LAST_HOUR:
        hint = ("" if isinstance(key, str) else
                "; quote hours in YAML: unquoted 08:00 reads as the number 480")
        raise ScenarioError(f"{where}: hour {key!r} is not an hour of the day (hours run \"00\" "
                            f"to \"{_LAST_HOUR}\", 24 and later being the next day's early "
                            f"hours{hint})")
    return int(text)


def _names(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioError(f"{where}: expected a list of step names")
    return tuple(value)


def _arrivals(spec: Mapping[str, Any], where: str) -> ArrivalProfile:
    _known(spec, _KEYS["arrivals"], where)
    scale = _number(spec.get("scale", 1.0), f"{where}.scale")
    shape = spec.get("shape", "step")
    if shape not in SHAPES:
        raise ScenarioError(f"{where}.shape: use one of {', '.join(SHAPES)}, got {shape!r}")
    if "rate_per_hour" in spec:
        rate = _number(spec["rate_per_hour"], f"{where}.rate_per_hour")
        hours = int(_number(spec.get("hours", 24), f"{where}.hours", low=1, integer=True))
        start = int(_number(spec.get("start_hour", 0), f"{where}.start_hour", high=_LAST_HOUR,
                            integer=True))
        return ArrivalProfile.constant(rate * scale, hours, start)
    per_hour = _mapping(spec.get("per_hour"), f"{where}.per_hour")
    counts = {
        _hour(hour, f"{where}.per_hour"): _number(count, f"{where}.per_hour.{hour}") * scale
        for hour, count in per_hour.items()
    }
    if not counts:
        raise ScenarioError(f"{where}.per_hour: no hours given")
    return ArrivalProfile.hourly(counts, shape)


def _step(name: str, spec: object, where: str) -> Step:
    spec = _mapping(spec, where)
    _known(spec, _KEYS["step"], where)
    if "time" not in spec:
        raise ScenarioError(f"{where}.time: missing (the cashier's time in the step, e.g. {{dist: lognormal, mean: 8, sd: 4}})")
    calls = spec.get("insurer_calls", [])
    if not isinstance(calls, list):
        raise ScenarioError(f"{where}.insurer_calls: expected a list of transaction numbers like [\"1101\"]")
    return Step(
        name, str(spec.get("label", name)), parse_distribution(spec["time"], f"{where}.time", "s"),
        tuple(str(call) for call in calls), str(spec.get("source", "assumption")),
    )


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` — did you mean 'ecert'?`` for a name close to a known one, else ``""``."""
    close = difflib.get_close_matches(name, [str(k) for k in known if str(k) != name], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _kind(name: str, spec: object, steps: Mapping[str, Step], where: str,
          others: Iterable[str] = ()) -> PatientKind:
    spec = _mapping(spec, where)
    _known(spec, _KEYS["kind"], where)
    share = _number(spec.get("share"), f"{where}.share")
    if "steps" not in spec:
        hint = _did_you_mean(name, others)
        if hint:
            raise ScenarioError(f"{where}: unknown kind {name!r} (a new kind needs steps){hint}")
        raise ScenarioError(f"{where}.steps: missing")
    path = _names(spec["steps"], f"{where}.steps")
    without = _names(spec.get("steps_without_card", spec["steps"]), f"{where}.steps_without_card")
    fallback = _names(spec["fallback_steps"], f"{where}.fallback_steps") if "fallback_steps" in spec else None
    for key, names in (("steps", path), ("steps_without_card", without), ("fallback_steps", fallback or ())):
        for step in names:
            if step not in steps:
                raise ScenarioError(f"{where}.{key}: unknown step {step!r} (steps defined: {', '.join(steps)})")
    if not path:
        raise ScenarioError(f"{where}.steps: a kind needs at least one step")
    return PatientKind(
        name, str(spec.get("label", name)), share, path, without, fallback,
        bool(spec.get("referred", False)), str(spec.get("source", "assumption")),
    )


def _staffing(spec: Mapping[str, Any], where: str) -> Staffing:
    _known(spec, _KEYS["staffing"], where)
    skill = _mapping(spec.get("skill", {}), f"{where}.skill")
    _known(skill, {"trained", "new"}, f"{where}.skill")
    trained = _number(skill.get("trained", 1.0), f"{where}.skill.trained")
    new_skill = _number(skill.get("new", trained), f"{where}.skill.new")
    if "windows" in spec:
        windows = int(_number(spec["windows"], f"{where}.windows", integer=True))
        if windows < 1:
            raise ScenarioError(f"{where}.windows: at least 1 window (with {windows} nobody is ever served), got {windows}")
        return Staffing(0, (windows,), (0,), trained, new_skill)
    hours = _mapping(spec.get("hours"), f"{where}.hours")
    rows: dict[int, tuple[int, int]] = {}
    for key, value in hours.items():
        at = f"{where}.hours.{key}"
        if isinstance(value, Mapping):
            _known(value, {"windows", "new"}, at)
            count = int(_number(value.get("windows"), f"{at}.windows", integer=True))
            new = int(_number(value.get("new", 0), f"{at}.new", high=count, integer=True))
        else:
            count, new = int(_number(value, at, integer=True)), 0
        rows[_hour(key, f"{where}.hours")] = (count, new)
    if not rows:
        raise ScenarioError(f"{where}.hours: no hours given")
    if not any(count for count, _ in rows.values()):
        raise ScenarioError(f"{where}.hours: no window open in any hour (nobody is ever served)")
    return Staffing.hourly(rows, trained, new_skill)


def _balking(items: object, where: str) -> Balking | None:
    if items is None or items == []:
        return None
    if not isinstance(items, list):
        raise ScenarioError(f"{where}: expected a list like [{{queue_at_least: 60, probability: 0.1}}]")
    rows = []
    for i, item in enumerate(items):
        item = _mapping(item, f"{where}[{i}]")
        _known(item, {"queue_at_least", "probability"}, f"{where}[{i}]")
        rows.append((
            int(_number(item.get("queue_at_least"), f"{where}[{i}].queue_at_least", low=1, integer=True)),
            _number(item.get("probability"), f"{where}[{i}].probability", high=1.0),
        ))
    rows.sort()
    return Balking(tuple(r[0] for r in rows), tuple(r[1] for r in rows))


MAX_LATENCY_MINUTES = 60.0
"""A mean round trip of more than an hour is refused (a value in the wrong unit, say)."""


def _latency(spec: object, where: str, base_dir: Path) -> Distribution:
    if isinstance(spec, Mapping) and "csv" in spec:
        _known(spec, {"csv", "name", "source"}, where)
        path = Path(str(spec["csv"]))
        try:
            return load_latency_csv(path if path.is_absolute() else base_dir / path, spec.get("name"))
        except LatencyFileError as exc:
            raise ScenarioError(f"{where}: {exc}") from exc
    latency = parse_distribution(spec, where, "ms")
    if not latency.mean <= MAX_LATENCY_MINUTES:
        raise ScenarioError(
            f"{where}: a mean round trip of {latency.mean * 60_000:,.0f} ms is more than an hour "
            "(the insurer's latency is one round trip, in milliseconds unless `unit` says otherwise)"
        )
    return latency


def compile_scenario(data: Mapping[str, Any], where: str = "scenario", base_dir: Path | None = None) -> Scenario:
    """Check scenario data (already merged with the defaults) and build the :class:`Scenario`."""
    data = _mapping(data, where)
    _known(data, _TOP, where)
    steps = {
        str(name): _step(str(name), spec, f"{where}: steps.{name}")
        for name, spec in _mapping(data.get("steps", {}), f"{where}: steps").items()
    }
    kinds_data = _mapping(data.get("kinds"), f"{where}: kinds")
    defined = [str(name) for name, spec in kinds_data.items() if isinstance(spec, Mapping) and "steps" in spec]
    kinds = tuple(
        _kind(str(name), spec, steps, f"{where}: kinds.{name}", defined) for name, spec in kinds_data.items()
    )
    if not kinds or sum(kind.share for kind in kinds) <= 0:
        raise ScenarioError(f"{where}: kinds: at least one kind needs a share > 0")
    fallback_data = _mapping(data.get("fallback", {"steps": []}), f"{where}: fallback")
    _known(fallback_data, _KEYS["fallback"], f"{where}: fallback")
    fallback = _names(fallback_data.get("steps", []), f"{where}: fallback.steps")
    for name in fallback:
        if name not in steps:
            raise ScenarioError(f"{where}: fallback.steps: unknown step {name!r}")
    for kind in kinds:
        for name in kind.fallback_steps or fallback:
            if steps[name].calls:
                raise ScenarioError(f"{where}: fallback step {name!r} calls the insurer, which is down")
    insurer = _mapping(data.get("insurer", {"latency": 0}), f"{where}: insurer")
    _known(insurer, _KEYS["insurer"], f"{where}: insurer")
    latency = _latency(insurer.get("latency", 0), f"{where}: insurer.latency", base_dir or Path.cwd())
    patients = _mapping(data.get("patients", {}), f"{where}: patients")
    _known(patients, _KEYS["patients"], f"{where}: patients")
    patience_spec = patients.get("patience")
    target = _mapping(data.get("target", {"wait_minutes": 10, "share": 0.9}), f"{where}: target")
    _known(target, _KEYS["target"], f"{where}: target")
    card = data.get("card_settlement", True)
    if not isinstance(card, bool):
        raise ScenarioError(f"{where}: card_settlement: expected true or false, got {card!r}")
    return Scenario(
        name=str(data.get("name", "scenario")),
        arrivals=_arrivals(_mapping(data.get("arrivals"), f"{where}: arrivals"), f"{where}: arrivals"),
        kinds=kinds,
        steps=steps,
        fallback_steps=fallback,
        latency=latency,
        staffing=_staffing(_mapping(data.get("staffing"), f"{where}: staffing"), f"{where}: staffing"),
        balking=_balking(patients.get("balking"), f"{where}: patients.balking"),
        patience=None if patience_spec is None else parse_distribution(patience_spec, f"{where}: patients.patience", "min"),
        faults=parse_faults(data.get("faults"), f"{where}: faults"),
        target=Target(
            _number(target.get("wait_minutes", 10), f"{where}: target.wait_minutes"),
            _number(target.get("share", 0.9), f"{where}: target.share", high=1.0),
        ),
        card_settlement=card,
        warmup=_number(data.get("warmup_minutes", 0), f"{where}: warmup_minutes"),
        data=copy.deepcopy(dict(data)),
    )
