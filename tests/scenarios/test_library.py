"""Every library scenario passes against the reference HIS, run end to end: the embedded mock
insurer and the reference HIS on 127.0.0.1, driven through the HTTP driver API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.library import LIBRARY, library_path
from scenarios.loading import load_scenario
from scenarios.report import write_json
from scenarios.runner import run_scenario, shown_source

NAMES = sorted(path.stem for path in LIBRARY.glob("*.yaml"))
SLOW = {"morning-peak", "demo-morning", "insurer-slow"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in NAMES])
def test_library_scenario_passes_against_the_reference_his(name: str, tmp_path: Path) -> None:
    path = library_path(name)
    assert path is not None
    result = run_scenario(load_scenario(path), tmp_path)
    failed = {c.name: c.evidence for c in result.checks if not c.passed}
    assert not failed, failed
    assert result.visits and all(v.outcome != "error" for v in result.visits)
    written = json.loads(write_json(result, tmp_path).read_text("utf-8"))
    assert written["passed"] is True
    assert written["outcomes"] == result.outcome_counts()


def test_the_same_scenario_gives_the_same_visits(tmp_path: Path) -> None:
    """Seeded: persons, items, times and outcomes repeat run after run."""
    scenario = load_scenario(library_path("refunds") or "")
    first = run_scenario(scenario, tmp_path / "1")
    second = run_scenario(scenario, tmp_path / "2")

    def shape(result: object) -> list[tuple[object, ...]]:
        return [(v.id, v.psn_no, v.at, v.outcome, tuple(i["code"] for i in v.items),
                 (v.bill or {}).get("amounts", {}).get("medfee_sumamt"))
                for v in result.visits]  # type: ignore[attr-defined]

    assert shape(first) == shape(second)


def test_refusals_carry_the_insurers_code_and_text(tmp_path: Path) -> None:
    result = run_scenario(load_scenario(library_path("refused-persons") or ""), tmp_path)
    lost = next(v for v in result.visits if v.id == "lost-card")
    assert lost.refusal is not None
    assert lost.refusal["rejection_code"] == "card_lost"
    assert "挂失" in lost.refusal["message"]
    assert lost.refusal["step"] == "identify"


def test_result_names_a_library_scenario_the_same_on_every_install(tmp_path: Path) -> None:
    assert shown_source(library_path("refunds")) == "scenarios/library/refunds.yaml"
    mine = tmp_path / "mine.yaml"
    assert shown_source(mine) == str(mine) and shown_source(None) == ""
