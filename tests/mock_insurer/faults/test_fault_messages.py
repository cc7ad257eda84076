"""A fault plan's mistake said in Chinese too (accessibility audit): the hospital staff read it
on the drill console (the admin API's PUT /admin/faults) and in ``cardsettle scenario check``
/ ``drill check``. The English stays as it was — after the place, as tests and people's greps
look for it — and its Chinese follows (`` / 必须是有限数值``); the Chinese comes from one
table of phrases (validation.PROBLEM_PHRASES), so every problem the checks say has one."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from mock_insurer.faults import FaultPlan, FaultPlanError, validation
from mock_insurer.faults.validation import PROBLEM_PHRASES, problem_chinese

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _said(data: Any) -> str:
    with pytest.raises(FaultPlanError) as caught:
        FaultPlan.from_yaml(data) if isinstance(data, str) else FaultPlan.from_dict(data)
    return str(caught.value)


@pytest.mark.parametrize(("data", "english", "chinese"), [
    ({"faults": [{"effect": {"kind": "delay", "ms": float("nan")}}]},
     "effect.ms: must be a finite number, got nan", "必须是有限数值"),
    ("faults: [{id: a, effect: close}, {id: b, effect: close, match: {probability: 1.5}}]",
     "faults[1] (id 'b'): match.probability: must be a number from 0 to 1, got 1.5",
     "必须是 0 到 1 之间的数"),
    ({"faults": [{"effect": {"kind": "delay", "ms": 1e23}}]},
     "effect.ms: must be at most 600000, got 1e+23", "不能大于 600000"),
    ("faults: [{effect: {kind: delay, ms: -5}}]", "effect.ms: must be at least 0, got -5",
     "不能小于 0"),
    ("faults: [{id: t, effect: close, mtach: {}}]", "faults[0] (id 't'): mtach: unknown field",
     "未知字段"),
    ("faults: [{id: e}]", "faults[0] (id 'e'): effect: is required", "必须填写"),
    ("faults: [{effect: {kind: lose_answer, how: vanish}}]",
     "effect.how: must be one of: close, reset, timeout, got 'vanish'",
     "必须是以下之一：close, reset, timeout"),
    ("faults: [{id: off, effect: close}]", "id: must be a text (quote it: YAML reads",
     "必须是文本；请加引号"),
    ("faults: [{id: a, effect: close}, {id: a, effect: refuse}]",
     "faults[1] (id 'a'): id: duplicate id (faults[0] has it already)", "id 重复"),
    ({"seed": -1, "faults": []}, "seed: must be a whole number, at least 0",
     "必须是 0 到 9223372036854775807 之间的整数"),
])
def test_a_mistake_is_said_in_english_then_in_chinese(data: Any, english: str,
                                                     chinese: str) -> None:
    said = _said(data)
    assert said.startswith("fault plan: ") and english in said
    assert f" / {chinese}" in said
    assert said.index(english) < said.index(chinese)  # the English where it was, then Chinese


def test_a_yaml_error_keeps_its_lines_and_says_so_in_chinese_on_the_first() -> None:
    first, *rest = _said("faults: [ {").splitlines()
    assert first.startswith("fault plan: not valid YAML: ") and first.endswith(" / 不是有效的 YAML")
    assert rest and not CHINESE.search("".join(rest))


def test_the_parts_stay_for_the_admin_api_and_the_chinese_follows_a_moved_error() -> None:
    with pytest.raises(FaultPlanError) as caught:
        FaultPlan.from_dict({"faults": [{"effect": "close"},
                                        {"id": "p", "effect": "close", "match": {"first": -1}}]})
    error = caught.value
    assert (error.fault_index, error.field) == (1, "match.first")
    assert error.problem.startswith("must be a whole number, at least 1")  # English alone
    assert error.chinese == "必须是 1 到 1000000000 之间的整数"
    assert str(error).endswith(f"{error.problem} / {error.chinese}")


def test_the_admin_api_says_it_in_both_languages(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from tests.mock_insurer.admin.conftest import AUTH, make_insurer

    insurer = make_insurer(tmp_path)
    try:
        answer = TestClient(insurer, headers=AUTH).put(
            "/admin/faults", json={"faults": [{"match": {"probability": 1.5}, "effect": "refuse"}]})
    finally:
        insurer.close()
    assert answer.status_code == 422
    message = answer.json()["error"]["message"]
    assert "match.probability: must be a number from 0 to 1, got 1.5" in message
    assert message.endswith(" / 必须是 0 到 1 之间的数")


def _problems() -> list[tuple[str, str]]:
    """Every problem the fault plan's readers write in their source (``fail(name, problem)``,
    ``FaultPlanError(problem)``), each formatted value as ``1``: (file:line, problem)."""
    found = []
    for path in sorted(Path(validation.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            given = (node.args[1:2] if node.func.id == "fail" else
                     node.args[:1] if node.func.id == "FaultPlanError" else [])
            for arg in given:
                while isinstance(arg, ast.BinOp):  # "must be a text" + yaml_bool_hint(...)
                    arg = arg.left
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    text = arg.value
                elif isinstance(arg, ast.JoinedStr):
                    text = "".join(part.value if isinstance(part, ast.Constant) else "1"
                                   for part in arg.values)
                else:
                    continue  # a problem built before (its parts are checked where built)
                found.append((f"{path.name}:{node.lineno}", text))
    return found


def test_every_problem_the_checks_say_has_its_chinese() -> None:
    problems = _problems()
    assert len(problems) > 30
    missing = [(where, text) for where, text in problems if not problem_chinese(text)]
    assert missing == []


def test_the_phrases_are_one_table_of_english_and_chinese() -> None:
    for english, chinese in PROBLEM_PHRASES:
        groups = re.compile(english).groups
        assert CHINESE.search(chinese) and not CHINESE.search(english), english
        chinese.format(*["x"] * groups)  # every {n} has its group
    for path in Path(validation.__file__).parent.glob("*.py"):  # no Chinese in the callers
        if path.name != "validation.py":
            code = "\n".join(line for line in path.read_text("utf-8").splitlines()
                             if "fail(" in line or "FaultPlanError(" in line)
            assert not CHINESE.search(code), path.name
