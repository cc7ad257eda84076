"""The insurer's rule library (规则库) as data, and applying it to one order line.

A rule (``rules.yaml`` beside this module) is an id, a name, the kind of line check it
*inspects*, a severity (``sev_deg``: 1 severe … 3 notice) and a source. The checks themselves
are not written twice: a rule applies :func:`~mock_insurer.policy.checks.check_line` (the
real-time refusals of 2204) to the order, with the catalogue item narrowed to the one limit the
rule inspects, and ``price_over_cap`` reads the over-limit amount of
:func:`~mock_insurer.policy.rows.split_row`. So a line 3101/3102 warns about with a severe rule
is a line 2204 refuses with the same text, and an indication or price warning is a line 2204
pays as self-pay (issue 10: "what a HIS could have caught before is exactly what is refused
after").

``cumulative_over_supply`` is the same check with the days the ledger holds for the person and
item (the caller passes them, counted exactly as 2204 counts them).

Each rule says how the insurer *enforces* it (``enforced``): ``realtime`` — 2204 handles the
line when it is uploaded (refuses it, or pays it as self-pay); ``review`` — the line settles and
the after-the-fact review deducts it (拒付). The review rules look across charges, not at one
line: the same item twice on one day, mutually exclusive services on one day, and frequency
limits; their limits (item types, exclusive groups, N times in M days) are data in the rule
entry, and the checks are :func:`mock_insurer.policy.history.review_findings`, shared by
3101/3102 and the review.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mock_insurer.money import ZERO, render
from mock_insurer.policy.catalogue import CatalogueEntry
from mock_insurer.policy.checks import PersonFacts, check_line
from mock_insurer.policy.errors import PolicyError
from mock_insurer.policy.parameters import Parameters
from mock_insurer.policy.rows import FeeLine, split_row

__all__ = [
    "ENFORCED",
    "ENFORCED_BY",
    "INSPECTS",
    "REVIEW_KINDS",
    "SEVERITIES",
    "ExclusiveGroup",
    "FrequencyLimit",
    "Rule",
    "RuleFileError",
    "Violation",
    "apply_rule",
    "apply_rules",
    "default_rules",
    "load_rules",
    "realtime_rule_for",
    "rules_from_mapping",
]

#: What a rule may inspect → what it means. The four refusal kinds map to the refusal code of
#: :func:`check_line` they expect.
INSPECTS: Mapping[str, str] = {
    "over_quantity": "cnt above the item's per-prescription quantity (max_cnt_per_rx)",
    "over_days": "prd_days above the item's per-prescription days (max_days_per_rx)",
    "gender": "the item is limited to one gender (gend_limit) and the patient is not",
    "age": "the patient's age is outside the item's [age_min, age_max]",
    "indication": "the item is limited to indications none of the diagnoses meets",
    "price_over_cap": "the unit price is above the item's payment cap (pric_uplmt_amt)",
    "cumulative_over_supply": "days already supplied in the window (ledger) + prd_days above "
                              "the window's length + tolerance",
    "same_day_duplicate": "an item of the rule's item_types charged twice to one person on one "
                          "day",
    "exclusive_same_day": "two different items of one of the rule's groups charged to one "
                          "person on one day",
    "frequency": "an item of one of the rule's limits charged more than `times` times to one "
                 "person within `days` days",
}

#: How the insurer enforces a rule: ``realtime`` — 2204 handles the line (refuses it, or pays
#: it as self-pay); ``review`` — the line settles and the after-the-fact review deducts it.
ENFORCED: Mapping[str, str] = {
    "realtime": "2204 实时拒付或按自费 the upload refuses the line or self-pays it",
    "review": "事后审核扣款 the review deducts the settled line",
}

#: The kinds looked at across charges (several rows), checked by the review.
REVIEW_KINDS = ("same_day_duplicate", "exclusive_same_day", "frequency")

#: Each kind → how it is enforced (a rule's ``enforced`` must say the same).
ENFORCED_BY: Mapping[str, str] = {
    kind: "review" if kind in REVIEW_KINDS else "realtime" for kind in INSPECTS
}

_REFUSAL_OF = {"over_quantity": "over_quantity", "over_days": "over_days",
               "gender": "gender_restricted", "age": "age_restricted",
               "cumulative_over_supply": "cumulative_over_supply"}

#: ``sev_deg`` (严重程度) → meaning (our scale; the interface does not define the values).
SEVERITIES: Mapping[int, str] = {1: "严重 severe", 2: "警告 warning", 3: "提示 notice"}

_KEYS = ("rule_id", "name", "inspects", "sev_deg", "source")
#: Optional fields: ``enforced`` (defaults to the kind's), and the limits of the review kinds.
_OPTIONAL = ("enforced", "item_types", "groups", "limits")
_DATA_OF = {"same_day_duplicate": "item_types", "exclusive_same_day": "groups",
            "frequency": "limits"}
_NEUTRAL = PersonFacts(gend="0", age=0, psn_no="")


class RuleFileError(PolicyError):
    """The rule library file is missing, does not parse, or a rule in it is wrong."""


@dataclass(frozen=True, slots=True)
class ExclusiveGroup:
    """Services of which at most one may be charged to a person on one day (national codes)."""

    name: str
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FrequencyLimit:
    """Items (national codes, counted together) a person may be charged at most ``times``
    times (quantity ``cnt`` added up) within ``days`` days (inclusive of the charge's day)."""

    codes: tuple[str, ...]
    times: int
    days: int


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the library; ``sev_deg`` 1 severe, 2 warning, 3 notice; ``enforced``
    ``realtime`` or ``review`` (:data:`ENFORCED`). ``item_types`` (``med_chrgitm_type``
    codes), ``groups`` and ``limits`` are the data of the review kinds."""

    rule_id: str
    name_zh: str
    name_en: str
    inspects: str
    sev_deg: int
    source: str
    enforced: str = "realtime"
    item_types: tuple[str, ...] = ()
    groups: tuple[ExclusiveGroup, ...] = ()
    limits: tuple[FrequencyLimit, ...] = ()


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule an order breaks; ``detail`` is the Chinese text naming the item and the limit
    (answered as ``vola_cont``)."""

    rule: Rule
    detail: str


def load_rules(path: str | Path | None = None) -> tuple[Rule, ...]:
    """The rules of *path*, or of the packaged ``rules.yaml`` when None.

    Raises :class:`RuleFileError` naming the file, the rule and the field that is wrong."""
    if path is None:
        source = "policy/rules.yaml"
        text = (resources.files("mock_insurer.policy") / "rules.yaml").read_text("utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RuleFileError(f"{source}: cannot read the rule library: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from None
    return rules_from_mapping(data, source=source)


@cache
def default_rules() -> tuple[Rule, ...]:
    """The packaged library, loaded once."""
    return load_rules()


def rules_from_mapping(data: Any, *, source: str = "rules") -> tuple[Rule, ...]:
    """Validate a parsed rule document (``{version: 1, rules: [...]}``) into rules."""
    if not isinstance(data, Mapping) or not isinstance(data.get("rules"), list):
        raise RuleFileError(f"{source}: expected a mapping with a list 'rules'")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(data["rules"]):
        rule = _rule(raw, f"{source}: rules[{index}]")
        if rule.rule_id in seen:
            raise RuleFileError(f"{source}: rules[{index}]: rule_id {rule.rule_id} repeats")
        seen.add(rule.rule_id)
        rules.append(rule)
    if not rules:
        raise RuleFileError(f"{source}: the list 'rules' is empty")
    return tuple(rules)


def _rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, Mapping):
        raise RuleFileError(f"{where}: expected a mapping with {', '.join(_KEYS)}")
    rule_id = raw.get("rule_id")
    if isinstance(rule_id, str) and rule_id.strip():
        where = f"{where} ({rule_id})"
    unknown = sorted(set(map(str, raw)) - set(_KEYS) - set(_OPTIONAL))
    if unknown:
        raise RuleFileError(f"{where}: unknown field {unknown[0]}")
    missing = [key for key in _KEYS if raw.get(key) in (None, "")]
    if missing:
        raise RuleFileError(f"{where}: field {missing[0]}: missing")
    if not isinstance(rule_id, str) or not rule_id.strip() or " " in rule_id.strip():
        raise RuleFileError(f"{where}: field rule_id: expected text without spaces")
    name = raw["name"]
    if not isinstance(name, Mapping) or not all(
        isinstance(name.get(lang), str) and name[lang].strip() for lang in ("zh", "en")
    ):
        raise RuleFileError(f"{where}: field name: expected {{zh: 中文名, en: English name}}")
    inspects = raw["inspects"]
    if inspects not in INSPECTS:
        raise RuleFileError(f"{where}: field inspects: {inspects!r} is not one of "
                            f"{', '.join(INSPECTS)}")
    sev_deg = raw["sev_deg"]
    if isinstance(sev_deg, bool) or sev_deg not in SEVERITIES:
        raise RuleFileError(f"{where}: field sev_deg: {sev_deg!r} is not 1 (severe), "
                            f"2 (warning) or 3 (notice)")
    source = raw["source"]
    if not isinstance(source, str):
        raise RuleFileError(f"{where}: field source: expected text")
    enforced = raw.get("enforced", ENFORCED_BY[inspects])
    if enforced != ENFORCED_BY[inspects]:
        raise RuleFileError(f"{where}: field enforced: {enforced!r}: a rule inspecting "
                            f"{inspects} is enforced {ENFORCED_BY[inspects]!r}")
    wanted = _DATA_OF.get(inspects)
    for key in ("item_types", "groups", "limits"):
        if key != wanted and raw.get(key) is not None:
            raise RuleFileError(f"{where}: field {key}: not used by a rule inspecting "
                                f"{inspects}")
    return Rule(rule_id=rule_id.strip(), name_zh=name["zh"].strip(), name_en=name["en"].strip(),
                inspects=inspects, sev_deg=int(sev_deg), source=source.strip(),
                enforced=enforced,
                item_types=_codes(raw.get("item_types"), f"{where}: field item_types")
                if wanted == "item_types" else (),
                groups=_groups(raw.get("groups"), f"{where}: field groups")
                if wanted == "groups" else (),
                limits=_limits(raw.get("limits"), f"{where}: field limits")
                if wanted == "limits" else ())


def _codes(value: Any, where: str, *, at_least: int = 1) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
        raise RuleFileError(f"{where}: expected a list of codes (text)")
    codes = tuple(dict.fromkeys(c.strip() for c in value))
    if len(codes) < at_least:
        raise RuleFileError(f"{where}: expected at least {at_least} different codes")
    return codes


def _groups(value: Any, where: str) -> tuple[ExclusiveGroup, ...]:
    if not isinstance(value, list) or not value:
        raise RuleFileError(f"{where}: expected a list of {{name, codes}}")
    groups = []
    for index, raw in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str) \
                or not raw["name"].strip():
            raise RuleFileError(f"{here}: expected {{name: 中文名, codes: [...]}}")
        groups.append(ExclusiveGroup(raw["name"].strip(),
                                     _codes(raw.get("codes"), f"{here}.codes", at_least=2)))
    return tuple(groups)


def _limits(value: Any, where: str) -> tuple[FrequencyLimit, ...]:
    if not isinstance(value, list) or not value:
        raise RuleFileError(f"{where}: expected a list of {{codes, times, days}}")
    limits = []
    for index, raw in enumerate(value):
        here = f"{where}[{index}]"
        if not isinstance(raw, Mapping):
            raise RuleFileError(f"{here}: expected {{codes: [...], times: N, days: M}}")
        numbers = []
        for key in ("times", "days"):
            number = raw.get(key)
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise RuleFileError(f"{here}.{key}: expected a whole number of at least 1")
            numbers.append(number)
        limits.append(FrequencyLimit(_codes(raw.get("codes"), f"{here}.codes"),
                                     numbers[0], numbers[1]))
    return tuple(limits)


def realtime_rule_for(refusal: str, rules: Sequence[Rule] | None = None) -> Rule | None:
    """The first rule of *rules* (default: the packaged library) whose check gives the 2204
    refusal code *refusal*, or None."""
    for rule in default_rules() if rules is None else rules:
        if _REFUSAL_OF.get(rule.inspects) == refusal:
            return rule
    return None


def apply_rules(
    rules: Sequence[Rule],
    line: FeeLine,
    item: CatalogueEntry,
    person: PersonFacts | None,
    diagnoses: Sequence[str],
    params: Parameters,
    *,
    supplied_days: Decimal = ZERO,
) -> list[Violation]:
    """Every rule of *rules* the line breaks, in the library's order (the review kinds are
    not line rules: see :func:`mock_insurer.policy.history.review_findings`)."""
    found = (apply_rule(rule, line, item, person, diagnoses, params,
                        supplied_days=supplied_days) for rule in rules)
    return [violation for violation in found if violation is not None]


def apply_rule(
    rule: Rule,
    line: FeeLine,
    item: CatalogueEntry,
    person: PersonFacts | None,
    diagnoses: Sequence[str],
    params: Parameters,
    *,
    supplied_days: Decimal = ZERO,
) -> Violation | None:
    """The violation of *rule* by *line*, or None.

    *person* None (gender and birth date unknown) makes the gender and age rules not apply.
    ``supplied_days``: the days of the item already supplied to the person in the over-supply
    window, counted as 2204 counts them (for ``cumulative_over_supply``; 0 when unknown).
    A review kind is never a violation of one line (None)."""
    kind = rule.inspects
    if kind in REVIEW_KINDS:
        return None
    if kind == "price_over_cap":
        split = split_row(line, item)
        if split.overlmt_amt <= 0:
            return None
        return Violation(rule, f"{item.med_list_name} 单价{render(line.pric)}超过医保支付限价"
                               f"{render(item.pric_uplmt_amt)}，超限价{render(split.overlmt_amt)}"
                               f"自费")
    if kind in ("gender", "age") and person is None:
        return None
    narrowed = _only(item, kind)
    keeps_days = kind in ("over_days", "cumulative_over_supply")
    checked_line = line if keeps_days else dataclasses.replace(line, prd_days=None)
    supplied = supplied_days if kind == "cumulative_over_supply" else ZERO
    check = check_line(checked_line, narrowed, person or _NEUTRAL, diagnoses, supplied, params)
    if kind == "indication":
        return None if check.in_scope else Violation(rule, check.memo)
    if check.refusal == _REFUSAL_OF[kind]:
        return Violation(rule, check.detail)
    return None


def _only(item: CatalogueEntry, kind: str) -> CatalogueEntry:
    """The item with every limit removed but the one *kind* inspects."""
    keep = kind

    def limit(name: str, value: Any, empty: Any = None) -> Any:
        return value if name == keep else empty

    return dataclasses.replace(
        item,
        max_cnt_per_rx=limit("over_quantity", item.max_cnt_per_rx),
        max_days_per_rx=limit("over_days", item.max_days_per_rx),
        gend_limit=limit("gender", item.gend_limit),
        age_min=limit("age", item.age_min),
        age_max=limit("age", item.age_max),
        indications=limit("indication", item.indications, ()),
        lmt_used_flag="0",
    )
