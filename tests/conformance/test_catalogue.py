"""The requirement catalogue is whole: every SHALL requirement has a test or a reason, every
test cites known IDs, IDs are stable in shape and unique."""

from __future__ import annotations

import ast
import re
from importlib import resources
from pathlib import Path

from conformance.catalogue import GROUPS, requirements

SUITE = Path(str(resources.files("conformance"))) / "suite"


def _cited() -> dict[str, list[str]]:
    """Requirement IDs cited by ``@pytest.mark.requirement(...)`` in the suite, by test."""
    found: dict[str, list[str]] = {}
    for path in sorted(SUITE.glob("test_*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "") == \
                        "requirement":
                    ids = [a.value for a in decorator.args if isinstance(a, ast.Constant)]
                    found[f"{path.name}::{node.name}"] = ids
    return found


def test_ids_have_a_stable_shape_and_a_known_group() -> None:
    for rid, req in requirements().items():
        assert re.fullmatch(r"[A-Z]+-\d{3}", rid), rid
        assert req.group in GROUPS, rid
        assert req.level in ("SHALL", "SHOULD"), rid
        assert req.text and req.source, rid


def test_every_test_cites_known_requirements() -> None:
    cited = _cited()
    assert cited, "the suite has tests"
    unknown = {test: [r for r in ids if r not in requirements()] for test, ids in cited.items()}
    assert not {t: ids for t, ids in unknown.items() if ids}


def test_every_shall_requirement_has_a_test_or_a_reason() -> None:
    tested = {rid for ids in _cited().values() for rid in ids}
    missing = [rid for rid, req in requirements().items()
               if req.level == "SHALL" and rid not in tested and not req.untested]
    assert not missing, f"SHALL requirements with neither a test nor an 'untested' reason: {missing}"
    both = [rid for rid, req in requirements().items() if rid in tested and req.untested]
    assert not both, f"tested requirements that still say why they are not: {both}"


def test_the_sign_in_requirement_counts_every_sign_in_refusal_the_insurer_gives() -> None:
    from conformance.suite.test_messages import SIGNIN_REFUSALS
    from mock_insurer.refusals import TEXTS

    given = {code for code in TEXTS if code == "no_signin" or code.startswith("signin_")}
    assert given == set(SIGNIN_REFUSALS)


def test_every_requirement_is_said_in_chinese_too() -> None:
    """Hospital staff read the report in Chinese first: each text, fix and reason has its
    Chinese beside the English (which vendors read and tests quote)."""
    for rid, req in requirements().items():
        assert re.search(r"[\u4e00-\u9fff]", req.text_zh), rid
        assert bool(req.fix) == bool(req.fix_zh), rid
        assert bool(req.untested) == bool(req.untested_zh), rid
