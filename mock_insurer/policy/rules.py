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

Not yet rules: cumulative over-supply across visits (needs the ledger's supplied days), the
same item twice a day, mutually exclusive services and frequency limits (issue 10, later
increments).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    "INSPECTS",
    "SEVERITIES",
    "Rule",
    "RuleFileError",
    "Violation",
    "apply_rule",
    "apply_rules",
    "default_rules",
    "load_rules",
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
}

_REFUSAL_OF = {"over_quantity": "over_quantity", "over_days": "over_days",
               "gender": "gender_restricted", "age": "age_restricted"}

#: ``sev_deg`` (严重程度) → meaning (our scale; the interface does not define the values).
SEVERITIES: Mapping[int, str] = {1: "严重 severe", 2: "警告 warning", 3: "提示 notice"}

_KEYS = ("rule_id", "name", "inspects", "sev_deg", "source")
_NEUTRAL = PersonFacts(gend="0", age=0, psn_no="")


class RuleFileError(PolicyError):
    """The rule library file is missing, does not parse, or a rule in it is wrong."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the library; ``sev_deg`` 1 severe, 2 warning, 3 notice."""

    rule_id: str
    name_zh: str
    name_en: str
    inspects: str
    sev_deg: int
    source: str


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
    unknown = sorted(set(map(str, raw)) - set(_KEYS))
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
    return Rule(rule_id=rule_id.strip(), name_zh=name["zh"].strip(), name_en=name["en"].strip(),
                inspects=inspects, sev_deg=int(sev_deg), source=source.strip())


def apply_rules(
    rules: Sequence[Rule],
    line: FeeLine,
    item: CatalogueEntry,
    person: PersonFacts | None,
    diagnoses: Sequence[str],
    params: Parameters,
) -> list[Violation]:
    """Every rule of *rules* the line breaks, in the library's order."""
    found = (apply_rule(rule, line, item, person, diagnoses, params) for rule in rules)
    return [violation for violation in found if violation is not None]


def apply_rule(
    rule: Rule,
    line: FeeLine,
    item: CatalogueEntry,
    person: PersonFacts | None,
    diagnoses: Sequence[str],
    params: Parameters,
) -> Violation | None:
    """The violation of *rule* by *line*, or None.

    *person* None (gender and birth date unknown) makes the gender and age rules not apply.
    Cumulative supply is not a rule yet: the line is checked as if nothing had been supplied
    before."""
    kind = rule.inspects
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
    checked_line = line if kind == "over_days" else dataclasses.replace(line, prd_days=None)
    check = check_line(checked_line, narrowed, person or _NEUTRAL, diagnoses, ZERO, params)
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
