"""A trainer's typing mistakes in a drill or scenario file are named in the YAML error: the
Chinese input method's colon, comma and space, a tab, and indentation that does not line up."""

from __future__ import annotations

import pytest

from scenarios.yamlio import YamlError, load_yaml_text

PHASE = "phases:\n  - name: 正常营业 normal\n{line}\n    instructions: 正常收费：请核对姓名\n"


@pytest.mark.parametrize(("line", "hint"), [
    ("    minutes： 2", "line 3 has a full-width colon '：' (中文冒号) after its key"),
    ("\u3000\u3000  minutes: 2", "line 3 is indented with a full-width space (全角空格)"),
    ("\t  minutes: 2", "line 3 is indented with a tab"),
    ("    patients: {count: 6，windows: 3}", "line 3 has a full-width comma '，' (中文逗号)"),
    ("   minutes: 2", "check the indentation of line 3"),
])
def test_the_mistake_is_named(line: str, hint: str) -> None:
    with pytest.raises(YamlError) as caught:
        load_yaml_text(PHASE.format(line=line))
    assert hint in str(caught.value)


def test_chinese_punctuation_inside_text_is_not_blamed() -> None:
    """The instructions' own '：' is text; a file that parses is read as it is."""
    assert load_yaml_text(PHASE.format(line="    minutes: 2"))["phases"][0]["instructions"] == (
        "正常收费：请核对姓名")
