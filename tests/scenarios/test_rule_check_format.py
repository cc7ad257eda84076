"""The scenario format's rule-check fields: ``on_warning``, ``override_reason`` and the
``warnings`` expectation (docs/scenarios.md, "Rule-check warnings")."""

from __future__ import annotations

import pytest

from scenarios.errors import ScenarioFileError
from scenarios.loading import parse_scenario
from scenarios.model import DEFAULT_OVERRIDE_REASON

HEAD = 'scenario: x\ntitle: t\ndate: "2026-03-02"\n'


def test_a_visit_overrides_by_default_and_can_say_otherwise() -> None:
    scenario = parse_scenario(HEAD + (
        "visits:\n"
        " - {id: a, at: '08:00', person: {}}\n"
        " - {id: b, at: '08:05', person: {}, on_warning: correct,\n"
        "    expect: {warnings: [R-QTY-001]}}\n"
        " - {id: c, at: '08:10', person: {}, on_warning: override, override_reason: 坚持,\n"
        "    expect: {warnings: []}}\n"))
    a, b, c = scenario.visits
    assert (a.on_warning, a.override_reason) == ("override", DEFAULT_OVERRIDE_REASON)
    assert b.on_warning == "correct" and b.expect["warnings"] == ["R-QTY-001"]
    assert c.override_reason == "坚持" and c.expect["warnings"] == []


@pytest.mark.parametrize(("body", "where"), [
    (" - {id: a, at: '08:00', person: {}, on_warning: ignore}\n", "visits[0].on_warning"),
    (" - {id: a, at: '08:00', person: {}, override_reason: ''}\n", "visits[0].override_reason"),
    (" - {id: a, at: '08:00', person: {}, expect: {warnings: R-QTY-001}}\n",
     "visits[0].expect.warnings"),
])
def test_a_mistake_names_the_field(body: str, where: str) -> None:
    with pytest.raises(ScenarioFileError) as caught:
        parse_scenario(HEAD + "visits:\n" + body)
    assert where in str(caught.value)
