"""A small seeded scenario gives exactly the stored report (golden output), in one process or
two. After an intended change of the model, regenerate the file with

    CARDSETTLE_UPDATE_GOLDEN=1 python -m pytest tests/simulator/windows/test_windows_golden.py

and review the difference before committing it.
"""

from __future__ import annotations

import json
import os

import orjson

from simulator.windows.results import summarize
from simulator.windows.runs import run_replications
from simulator.windows.scenario import Scenario
from tests.simulator.windows.conftest import DATA

GOLDEN = DATA / "small_golden.json"
SEED = 7
REPLICATIONS = 3


def test_small_scenario_matches_golden_output(small: Scenario) -> None:
    report = summarize(small, run_replications(small, SEED, REPLICATIONS, workers=1), SEED)
    text = orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    if os.environ.get("CARDSETTLE_UPDATE_GOLDEN"):
        GOLDEN.write_bytes(text)
    assert json.loads(text) == json.loads(GOLDEN.read_bytes())
    # something happened in this scenario: faults, new cashiers, balking and reneging
    assert report["counts"]["later_claims"] > 0
    assert report["counts"]["balked"] + report["counts"]["reneged"] > 0


def test_two_workers_give_the_same_bytes(small: Scenario) -> None:
    one = summarize(small, run_replications(small, SEED, REPLICATIONS, workers=1), SEED)
    two = summarize(small, run_replications(small, SEED, REPLICATIONS, workers=2), SEED)
    assert orjson.dumps(one) == orjson.dumps(two)
