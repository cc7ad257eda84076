"""Reading a scenario file: YAML → checked against the JSON Schema (scenarios/schema/) → the
cross-field rules the schema cannot say → a :class:`~scenarios.model.Scenario`.

Any mistake raises one :class:`~scenarios.errors.ScenarioFileError` naming the path of the
offending field (``visits[3].person.card``) — before anything runs.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from mock_insurer.faults import FaultPlan, FaultPlanError
from mock_insurer.refusals import TEXTS as REFUSAL_TEXTS
from mock_insurer.transactions import HANDLERS
from scenarios.errors import ScenarioFileError
from scenarios.model import (
    DEFAULT_OVERRIDE_REASON,
    ArrivalSpec,
    CheckSpec,
    DataSpec,
    EventSpec,
    HisSpec,
    LineSpec,
    Quantity,
    RetrySpec,
    Scenario,
    VisitSpec,
)
from scenarios.yamlio import DuplicateKeyError, YamlError, load_yaml_text
from simulator.edge_cases import EDGE_CASE_LABELS

DEFAULT_HIS_TIMEOUT = 2.0
"""Seconds the embedded reference HIS waits for the insurer (short: scenarios time out on
purpose, and a run should not sit through a real HIS's 10-60 s)."""

MAX_VISITS = 20_000
"""Visits a scenario may hold in all (explicit visits and every arrival group's count): one
arrival group's own limit. A run plays every visit one after another (some 25 a second on a
two-core machine), so 20,000 is already a quarter of an hour's run; a bigger day is a load test
(docs/loadtests.md)."""

HIS_REFUSALS = ("insurer_refused", "visit_state", "insurer_unavailable", "insurer_no_answer",
                "insurer_gateway", "insurer_answer_unusable", "settlement_unknown",
                "refund_unknown", "settlement_failed", "refund_failed", "rule_check_severe")
"""The reference HIS's own refusal codes (docs/his-driver.md); a vendor's HIS may add its own,
written ``his:CODE`` in a scenario."""

SHARE_TOLERANCE = 0.001
"""How far the shares of ``mix`` or ``certificates`` may add up from 1 (rounding)."""

__all__ = ["DEFAULT_HIS_TIMEOUT", "HIS_REFUSALS", "MAX_VISITS", "TRANSACTION_CODES",
           "fault_plan_problem", "field_path", "load_scenario", "parse_scenario", "scenario_schema",
           "schema_message"]


TRANSACTION_CODES = tuple(HANDLERS)
"""The transactions (infno) the mock insurer serves: what a fault's ``match.infno`` may name."""


def fault_plan_problem(faults: Sequence[Any], seed: Any) -> str | None:
    """What is wrong with the fault plan of a timeline event or a drill phase, as the
    insurer's own reader says it — or a selector naming a transaction the insurer does not
    serve (:data:`TRANSACTION_CODES`: such a fault would never fire) — else ``None``."""
    try:
        plan = FaultPlan.from_dict({"seed": seed, "faults": list(faults)})
    except FaultPlanError as exc:
        return str(exc).removeprefix("fault plan: ")
    for index, fault in enumerate(plan.faults):
        for n, code in enumerate(fault.match.infno or ()):
            if code not in TRANSACTION_CODES:
                given = faults[index]["match"]["infno"]
                at = f"match.infno[{n}]" if isinstance(given, list) else "match.infno"
                return (f"faults[{index}] (id {fault.id!r}): {at}: unknown transaction "
                        f"{code!r}, so the fault would never fire (the insurer serves: "
                        f"{', '.join(TRANSACTION_CODES)})")
    return None


@cache
def scenario_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of a scenario file."""
    text = resources.files("scenarios").joinpath("schema/scenario.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(scenario_schema())


def field_path(parts: Iterable[Any]) -> str:
    """``["visits", 3, "person"]`` → ``visits[3].person``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _alternative(schema: Mapping[str, Any]) -> str:
    """One branch of an anyOf/oneOf in words: ``a number above 0``, ``'over_limit'``."""
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return " or ".join(repr(name) for name in schema["enum"])
    kind = schema.get("type")
    words = {"number": "a number", "integer": "a whole number", "string": "a text",
             "object": "a mapping", "array": "a list", "boolean": "true or false"}
    text = words.get(str(kind), "something else")
    if "exclusiveMinimum" in schema:
        text += f" above {schema['exclusiveMinimum']}"
    elif "minimum" in schema:
        text += f" ≥ {schema['minimum']}"
    if kind == "string" and schema.get("description"):
        text += f" ({schema['description']})"
    return text


def _alternatives(error: ValidationError) -> str | None:
    """What an anyOf/oneOf allows, in words, or None when its branches do not say it simply."""
    branches = error.schema.get(str(error.validator)) or []
    if branches and all(set(b) == {"required"} for b in branches):
        names = [f"`{name}`" for b in branches for name in b["required"]]
        noun = next((f"a {key}" for key in ("scenario", "drill")
                     if key in (error.schema.get("required") or [])), "it")
        return f"{noun} needs {' or '.join(names)}"
    if branches and all(set(b) & {"type", "const", "enum"} for b in branches):
        expected = " or ".join(_alternative(b) for b in branches)
        return f"{error.instance!r} is not valid: {expected} is expected"
    return None


def schema_message(error: ValidationError) -> str:
    message = error.message
    if error.validator in ("anyOf", "oneOf") and (said := _alternatives(error)) is not None:
        message = said
    if error.validator == "pattern" and error.schema.get("description"):
        message = f"{error.instance!r} is not {error.schema['description']}"
    if isinstance(error.instance, int | float) and not isinstance(error.instance, bool) \
            and '"string"' in json.dumps(error.schema):
        message += (f" (quote it: '{error.instance}')" if "a text" in message else
                    f" (a text is expected here; quote it: '{error.instance}')")
    if error.validator == "oneOf" and isinstance(error.instance, str):
        names = [name for choice in error.schema.get("oneOf", []) for name in choice.get("enum", [])]
        if names:
            message = f"{error.instance!r} is not one of: {', '.join(names)}"
    if error.validator == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        if allowed:
            message += f" (expected one of: {', '.join(allowed)})"
    if error.validator == "type" and isinstance(error.instance, str) \
            and error.validator_value in ("number", "integer") and _numeric(error.instance):
        message += (f" (YAML reads {error.instance} as text, not a number: write it with a "
                    f"decimal point, {float(error.instance):.1e}, or in full)")
    return message


def _numeric(text: str) -> bool:
    """Whether YAML text such as ``1e12`` (which YAML 1.1 reads as a string) is a number."""
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity")


def read_file(path: Path) -> str:
    """A scenario or drill file's text; a file that cannot be read is a ScenarioFileError."""
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        raise ScenarioFileError(str(path), "", "no such file") from None
    except UnicodeDecodeError as exc:
        raise ScenarioFileError(str(path), "", "not UTF-8 text (save it as UTF-8)") from exc
    except OSError as exc:
        raise ScenarioFileError(str(path), "", f"cannot read it ({exc.strerror or exc})") from exc


def checked_document(text: str, name: str, validator: jsonschema.Draft202012Validator,
                     shape: str) -> dict[str, Any]:
    """YAML ``text`` that is a mapping valid against ``validator``, or the ScenarioFileError
    naming the first offending field (``shape`` says what the top level should hold)."""
    try:
        data = load_yaml_text(text)
    except DuplicateKeyError as exc:
        raise ScenarioFileError(name, "", str(exc)) from exc
    except YamlError as exc:
        raise ScenarioFileError(name, "", f"not YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ScenarioFileError(name, "", f"must be a mapping ({shape})")
    error = best_match(validator.iter_errors(data))
    if error is not None:
        raise ScenarioFileError(name, field_path(error.absolute_path) or "(top level)",
                                schema_message(error))
    return data


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file (``.yaml``/``.yml``, or ``.json``)."""
    path = Path(path)
    return parse_scenario(read_file(path), source=path)


def parse_scenario(text: str, *, source: Path | str = "<scenario>") -> Scenario:
    """Check ``text`` (YAML or JSON) and build the scenario. File paths inside it are relative
    to ``source``'s directory."""
    name = str(source)
    data = checked_document(text, name, _validator(), "scenario:, title:, date:, ...")
    return _Builder(name, Path(source) if isinstance(source, Path) else None, data).build()


class _Builder:
    def __init__(self, name: str, path: Path | None, data: dict[str, Any]) -> None:
        self.name = name
        self.path = path
        self.data = data
        self.day = self._date(data["date"], "date")

    def fail(self, where: str, message: str) -> ScenarioFileError:
        return ScenarioFileError(self.name, where, message)

    def _date(self, text: str, where: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.fail(where, f"{text!r} is not a date (YYYY-MM-DD)") from None

    def moment(self, text: str, where: str) -> datetime:
        day_text, _, clock = text.rpartition(" ")
        day = self._date(day_text, where) if day_text else self.day
        if day < self.day:
            raise self.fail(where, f"{text!r} is before the scenario's date "
                                   f"{self.day.isoformat()} (date is the first business day; "
                                   "give a time on it or a later day)")
        try:
            return datetime.combine(day, time.fromisoformat(clock))
        except ValueError:
            raise self.fail(where, f"{text!r} is not a time (HH:MM or HH:MM:SS)") from None

    def build(self) -> Scenario:
        data = self.data
        self._check_refusals()
        visits = tuple(self.visit(v, f"visits[{i}]") for i, v in enumerate(data.get("visits", [])))
        self._check_visit_ids(visits)
        arrivals = tuple(self.arrivals(a, f"arrivals[{i}]", i)
                         for i, a in enumerate(data.get("arrivals", [])))
        self._check_total(visits, arrivals)
        timeline = tuple(self.event(e, f"timeline[{i}]")
                         for i, e in enumerate(data.get("timeline", [])))
        self._check_order(timeline)
        his = data.get("his", {})
        return Scenario(
            id=data["scenario"], title=data["title"], date=self.day, source=self.path,
            concern=data.get("concern", ""), description=data.get("description", ""),
            seed=data.get("seed", 1), data=self.data_spec(data.get("data", {})),
            his=HisSpec(timeout=float(his.get("timeout", DEFAULT_HIS_TIMEOUT)),
                        center_only=his.get("center_only", "learn")),
            visits=visits, arrivals=arrivals, timeline=timeline,
            day_end=data.get("day_end", True),
            expect=tuple(self.check(c) for c in data.get("expect", [])))

    def data_spec(self, data: Mapping[str, Any]) -> DataSpec:
        parts: dict[str, Mapping[str, Any]] = {}
        for kind in ("population", "institutions", "catalogue"):
            part = dict(data.get(kind, {}))
            if "file" in part:
                base = self.path.parent if self.path is not None else Path.cwd()
                file = (base / part["file"]).resolve()
                if not file.is_file():
                    raise self.fail(f"data.{kind}.file", f"no such file: {file}")
                part["file"] = file
            parts[kind] = part
        rates = parts["population"].get("edge_rates", {})
        for label in rates:
            if label not in EDGE_CASE_LABELS:
                raise self.fail(f"data.population.edge_rates.{label}",
                                f"unknown edge case (expected one of: {', '.join(EDGE_CASE_LABELS)})")
        if "ref_date" in parts["population"]:
            self._date(parts["population"]["ref_date"], "data.population.ref_date")
        return DataSpec(population=parts["population"], institutions=parts["institutions"],
                        catalogue=parts["catalogue"], institution=data.get("institution", {}))

    @staticmethod
    def quantity(value: Any) -> Quantity:
        if value is None or value == "over_limit":
            return value
        return Decimal(str(value))

    def lines(self, items: list[dict[str, Any]]) -> tuple[LineSpec, ...]:
        return tuple(LineSpec(line["item"], self.quantity(line.get("qty")),
                              self.quantity(line.get("days"))) for line in items)

    @staticmethod
    def retry(data: Mapping[str, Any] | None) -> RetrySpec:
        data = data or {}
        return RetrySpec(after_minutes=float(data.get("after_minutes", 10)),
                         times=int(data.get("times", 1 if data else 0)))

    def visit(self, data: dict[str, Any], where: str) -> VisitSpec:
        items = data.get("items", [])
        refund_items = tuple(data.get("refund_items", ()))
        for n, index in enumerate(refund_items):
            if index >= max(len(items), 1):
                raise self.fail(f"{where}.refund_items[{n}]",
                                f"{index} is not the index of one of the visit's items "
                                f"(0..{max(len(items), 1) - 1})")
        if refund_items and data.get("then") != "partial_refund":
            raise self.fail(f"{where}.refund_items", "only with then: partial_refund")
        return VisitSpec(
            id=data["id"], at=self.moment(data["at"], f"{where}.at"), person=data["person"],
            certificate=data.get("certificate", "card"), typed=data.get("typed", {}),
            operator=data.get("operator", "C01"), dept=data.get("dept", ""),
            insutype=data.get("insutype", ""), items=self.lines(items),
            diagnoses=tuple(data.get("diagnoses", ())), acct_used=data.get("acct_used", True),
            on_warning=data.get("on_warning", "override"),
            override_reason=data.get("override_reason", DEFAULT_OVERRIDE_REASON),
            then=data.get("then", "settle"), refund_items=refund_items,
            retry=self.retry(data.get("retry")), expect=data.get("expect", {}))

    def _check_total(self, visits: tuple[VisitSpec, ...],
                     arrivals: tuple[ArrivalSpec, ...]) -> None:
        total = len(visits) + sum(group.count for group in arrivals)
        if total > MAX_VISITS:
            raise self.fail("arrivals" if arrivals else "visits",
                            f"{total:,} visits in all ({len(visits):,} visits + "
                            f"{total - len(visits):,} arrivals); a scenario holds at most "
                            f"{MAX_VISITS:,} (split it into several scenarios, or load-test a "
                            "bigger day: cardsettle load)")

    def _check_order(self, timeline: tuple[EventSpec, ...]) -> None:
        """Timeline events in time order: each replaces the fault plan from its time on, so an
        event written after a later one would silently change what is in force."""
        for n in range(1, len(timeline)):
            before, event = timeline[n - 1], timeline[n]
            if event.at < before.at:
                raise self.fail(f"timeline[{n}].at",
                                f"{event.at:%Y-%m-%d %H:%M:%S} is before timeline[{n - 1}] at "
                                f"{before.at:%Y-%m-%d %H:%M:%S}: write the events in time order")

    def _check_refusals(self) -> None:
        """Every refusal code an expectation names is one the insurer or the HIS can give
        (a misspelt code would only fail at the end of a run)."""
        data = self.data
        for kind in ("visits", "arrivals"):
            for i, item in enumerate(data.get(kind, [])):
                code = (item.get("expect") or {}).get("refusal")
                if code is not None:
                    item["expect"] = {**item["expect"], "refusal": self.refusal(
                        code, f"{kind}[{i}].expect.refusal")}
        for i, spec in enumerate(data.get("expect", [])):
            if isinstance(spec, dict) and "refusals" in spec:
                spec["refusals"] = {self.refusal(code, f"expect[{i}].refusals.{code}"): wanted
                                    for code, wanted in spec["refusals"].items()}

    def refusal(self, code: str, where: str) -> str:
        """``code`` as the checks compare it (``his:CODE``, a vendor's own code: CODE)."""
        if code.startswith("his:") and len(code) > 4:
            return code[4:]
        known = [*sorted(REFUSAL_TEXTS), *HIS_REFUSALS]
        if code in known:
            return code
        close = difflib.get_close_matches(code, known, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise self.fail(where, f"{code!r} is not a refusal code the insurer or the HIS gives; "
                               f"{hint}known: {', '.join(known)} (a vendor HIS's own code: "
                               f"'his:{code}')")

    def _check_visit_ids(self, visits: tuple[VisitSpec, ...]) -> None:
        seen: dict[str, int] = {}
        for i, visit in enumerate(visits):
            if visit.id in seen:
                raise self.fail(f"visits[{i}].id", f"{visit.id!r} is used by visits[{seen[visit.id]}] too")
            same = visit.person.get("same_as")
            if same is not None:
                earlier = seen.get(same)
                if earlier is None:
                    raise self.fail(f"visits[{i}].person.same_as",
                                    f"{same!r} is not the id of an earlier visit")
                if visits[earlier].at > visit.at:
                    raise self.fail(f"visits[{i}].person.same_as",
                                    f"visit {same!r} comes later ({visits[earlier].at:%Y-%m-%d %H:%M})")
            seen[visit.id] = i

    def arrivals(self, data: dict[str, Any], where: str, index: int) -> ArrivalSpec:
        start = self.moment(data["from"], f"{where}.from")
        end = self.moment(data["to"], f"{where}.to")
        if end <= start:
            raise self.fail(f"{where}.to", f"{data['to']!r} is not after from {data['from']!r}")
        for key in ("certificates", "mix"):
            shares = data.get(key)
            if shares is not None and abs(sum(shares.values()) - 1) > SHARE_TOLERANCE:
                raise self.fail(f"{where}.{key}",
                                f"the shares add up to {sum(shares.values()):g}; they are the "
                                "parts of the group's visits and must add up to 1")
        low, high = data.get("lines", [1, 4])
        if high < low:
            raise self.fail(f"{where}.lines", f"[{low}, {high}]: the second is below the first")
        items = data.get("items", {})
        if isinstance(items, str):
            items = {"code": items}
        return ArrivalSpec(
            id=data.get("id", f"a{index + 1}"), start=start, end=end, count=data["count"],
            windows=data.get("windows", 1), persons=data.get("persons", {}),
            certificates=data.get("certificates", {"card": 1.0}),
            mix=data.get("mix", {"settle": 1.0}), lines=(low, high), items=items,
            retry=self.retry(data.get("retry")), expect=data.get("expect", {}))

    def event(self, data: dict[str, Any], where: str) -> EventSpec:
        at = self.moment(data["at"], f"{where}.at")
        faults = data.get("faults")
        seed = data.get("seed", 1)
        if faults is not None and (problem := fault_plan_problem(faults, seed)):
            raise self.fail(f"{where}.faults", problem)
        return EventSpec(at=at, faults=None if faults is None else tuple(faults), seed=seed,
                         note=data.get("note", ""))

    @staticmethod
    def check(data: Any) -> CheckSpec:
        if isinstance(data, str):
            return CheckSpec(data)
        (name, params), = data.items()
        return CheckSpec(name, params)
