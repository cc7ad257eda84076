"""The fault plan's error, and the small checks every part of a plan is read with.

Each check raises :class:`FaultPlanError` naming the field it looked at; the readers of the
plan, the faults and the effects add where that field sits (``faults[2] (id 'x'):
match.probability``), so the user gets one line that says what is wrong and where.

The problem is said in English (as the checks write it, what tests and people's greps look
for), then `` / `` and its Chinese: the hospital staff read these lines on the drill
console (``PUT /admin/faults``) and from ``cardsettle scenario check`` / ``drill check``. The Chinese comes from one table,
:data:`PROBLEM_PHRASES`, looked up by :func:`problem_chinese`; the checks write English only.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from mock_insurer.errors import InsurerError

__all__ = [
    "PROBLEM_PHRASES",
    "FaultPlanError",
    "as_mapping",
    "check_keys",
    "check_number",
    "check_whole",
    "choice_field",
    "fail",
    "number_field",
    "problem_chinese",
    "text_field",
    "type_name",
    "yaml_bool_hint",
]


PROBLEM_PHRASES: tuple[tuple[str, str], ...] = (
    (r"must be a finite number", "必须是有限数值"),
    (r"must be greater than 0", "必须大于 0"),
    (r"must be at least low \(([^)]*)\)", "不能小于 low（{0}）"),
    (r"must be at least (-?[0-9.e+]+)", "不能小于 {0}"),
    (r"must be at most (-?[0-9.e+]+)", "不能大于 {0}"),
    (r"must be a whole number of seconds, at least (-?\d+) and at most (-?\d+)",
     "必须是 {0} 到 {1} 之间的整数秒"),
    (r"must be a whole number, at least (-?\d+) and at most (-?\d+)",
     "必须是 {0} 到 {1} 之间的整数"),
    (r"must be a whole number", "必须是整数"),
    (r"must be a number from 0 to 1", "必须是 0 到 1 之间的数"),
    (r"must be a number", "必须是数值"),
    (r"must be a mapping \(key: value\)", "必须是映射（键: 值）"),
    (r"must be a list of faults", "必须是故障列表"),
    (r"must be a non-empty text", "必须是非空文本"),
    (r"must be a text \(a code\) or a list of them", "必须是文本（代码）或代码列表"),
    (r"must be a text", "必须是文本"),
    (r"quote it: YAML reads yes/no/on/off/true/false unquoted",
     "请加引号：YAML 把不带引号的 yes/no/on/off/true/false 读作 true 或 false"),
    (r"must be true or false", "必须是 true 或 false"),
    (r"must be one of:? (.+)", "必须是以下之一：{0}"),
    (r"is required \(one of: ([^)]*)\)", "必须填写（以下之一：{0}）"),
    (r"is required \(what the fault does\)", "必须填写（故障做什么）"),
    (r"is required for an? (\w+) distribution", "{0} 分布必须有此参数"),
    (r"is required", "必须填写"),
    (r"is not a parameter of an? (\w+) distribution", "不是 {0} 分布的参数"),
    (r"unknown field \(expected one of: ([^)]*)\)", "未知字段（应为以下之一：{0}）"),
    (r"unknown effect \(expected one of: ([^)]*)\)", "未知的故障效果（应为以下之一：{0}）"),
    (r"must be a business-clock time without a time zone", "必须是业务时钟时间，不带时区"),
    (r'must be a time like "([^"]+)"', "必须是形如 “{0}” 的时间（业务时钟）"),
    (r"must be after start \(([^)]*)\)", "必须晚于开始时间 start（{0}）"),
    (r"give start, end or both", "请给出 start、end 或两者"),
    (r"give exactly one of ms", "ms（固定延迟）与 dist（分布）必须给出且只给出一个"),
    (r"must be an HTTP status from 500 to 599", "必须是 500 到 599 之间的 HTTP 状态码"),
    (r"must not be empty \(a refusal always says why\)", "不能为空（拒绝总要说明原因）"),
    (r"must not be empty \(that would be a normal success\)", "不能为空（否则就是正常的成功应答）"),
    (r"must not be empty", "不能为空"),
    (r"applies only to how: (.+)", "仅适用于 how: {0}"),
    (r"an empty list never matches", "空列表永远不会匹配；要匹配任何值，请省略这个条件"),
    (r"duplicate id \(faults\[(\d+)\] has it already\)", "id 重复（faults[{0}] 已使用），id 必须唯一"),
    (r"not valid YAML", "不是有效的 YAML"),
    (r"is not valid JSON", "不是有效的 JSON"),
    (r"^cannot read ", "无法读取文件"),
)
"""The Chinese of the problems the checks say, one place for all: (English, Chinese) — the
English a regular expression found anywhere in a problem, the Chinese a template given its
groups (``{0}`` …: numbers, codes and names, said as in the English). At a place where
several match, the first in the table (the longer phrase) is taken."""

_PHRASES = tuple((re.compile(english), chinese) for english, chinese in PROBLEM_PHRASES)


def problem_chinese(problem: str) -> str:
    """The Chinese of an English ``problem`` (its phrases from :data:`PROBLEM_PHRASES`, in
    the order they come, joined with "；"); ``""`` when no phrase is known."""
    said: list[str] = []
    position = 0
    while True:
        found = [(match.start(), n, match) for n, (pattern, _chinese) in enumerate(_PHRASES)
                 if (match := pattern.search(problem, position)) is not None]
        if not found:
            return "；".join(said)
        _start, n, match = min(found, key=lambda item: (item[0], item[1]))
        said.append(_PHRASES[n][1].format(*match.groups()))
        position = max(match.end(), position + 1)


class FaultPlanError(InsurerError):
    """A fault plan that cannot be used; the message names the fault and the field.

    ``str(error)`` reads e.g. ``fault plan: faults[2] (id 'lose-2207'): match.probability:
    must be a number from 0 to 1, got 1.5 / 必须是 0 到 1 之间的数``: the problem in English
    as the checks say it, then (after its first line) its Chinese — ``chinese``,
    :func:`problem_chinese` of the problem unless given, none when no phrase is known. The
    parts are kept as attributes for the admin API (``fault_index``, ``fault_id``,
    ``field``, ``problem``, ``chinese``).
    """

    def __init__(
        self,
        problem: str,
        *,
        field: str | None = None,
        fault_index: int | None = None,
        fault_id: str | None = None,
        chinese: str | None = None,
    ) -> None:
        self.problem = problem
        self.chinese = problem_chinese(problem) if chinese is None else chinese
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
        first, newline, rest = self.problem.partition("\n")  # a YAML error's lines follow
        said = f"{first} / {self.chinese}{newline}{rest}" if self.chinese else self.problem
        return "fault plan: " + "".join(part + ": " for part in where) + said

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
            chinese=self.chinese,
        )


def fail(field_name: str, problem: str, value: Any = dataclasses.MISSING) -> FaultPlanError:
    """The error for ``field_name`` (``value``, when given, is quoted in the message); the
    Chinese of ``problem`` is looked up before the value is added (a value is no phrase)."""
    chinese = problem_chinese(problem)
    if value is not dataclasses.MISSING:
        problem = f"{problem}, got {value!r}"
    return FaultPlanError(problem, field=field_name, chinese=chinese)


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
