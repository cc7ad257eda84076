"""Scenario files: the defaults, how a file is merged over them, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.windows.errors import ScenarioError
from simulator.windows.scenario import default_data, load_scenario, merge_data


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_load_and_every_number_names_its_source() -> None:
    scenario = load_scenario()
    assert scenario.arrivals.expected_total == 3000
    assert {kind.name for kind in scenario.kinds} >= {"card", "ecert", "self_pay", "problem", "refused", "refund"}
    data = default_data()
    for section in ("kinds", "steps"):
        for name, entry in data[section].items():
            assert entry.get("source"), f"{section}.{name} has no source"
    assert data["arrivals"]["source"]
    # card settlement lengthens the time at the window (DESIGN.md, problem 4)
    assert scenario.mean_service() > scenario.with_card_settlement(False).mean_service()


def test_a_file_changes_only_what_it_names(tmp_path: Path) -> None:
    path = _write(tmp_path, """
name: my hospital
arrivals: {scale: 2}
steps: {payment: {time: {dist: fixed, value: 30}}}
kinds: {refund: {share: 0}}
staffing: {hours: {"08": 3, "09": {windows: 4, new: 1}}}
""")
    scenario = load_scenario(path)
    assert scenario.name == "my hospital"
    assert scenario.arrivals.expected_total == 6000
    assert scenario.steps["payment"].time.mean == pytest.approx(0.5)
    assert scenario.steps["print"].label.startswith("打印")  # untouched default
    assert [k.share for k in scenario.kinds if k.name == "refund"] == [0]
    assert scenario.staffing.first_hour == 8 and scenario.staffing.windows == (3, 4) and scenario.staffing.new == (0, 1)


def test_merge_rules() -> None:
    base = {"arrivals": {"per_hour": {"08": 1, "09": 2}, "scale": 1}, "staffing": {"hours": {"08": 1}, "skill": {"new": 1.5}}}
    merged = merge_data(base, {"arrivals": {"rate_per_hour": 5}, "staffing": {"windows": 3}})
    assert merged["arrivals"] == {"scale": 1, "rate_per_hour": 5}
    assert merged["staffing"] == {"skill": {"new": 1.5}, "windows": 3}
    merged = merge_data(base, {"arrivals": {"per_hour": {"10": 7}}})
    assert merged["arrivals"]["per_hour"] == {"10": 7}
    assert base["arrivals"]["per_hour"] == {"08": 1, "09": 2}  # not changed


def test_extends_none_needs_everything(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="kinds: expected a mapping"):
        load_scenario(_write(tmp_path, "extends: none\narrivals: {per_hour: {'08': 10}}\n"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("arrivals: {per_hour: {'08': -5}}", r"arrivals.per_hour.08: must be >= 0"),
        ("arrivals: {rate_per_hour: -1}", r"arrivals.rate_per_hour: must be >= 0"),
        ("arrivals: {per_hour: {'eight': 5}}", r"hour 'eight' is not an hour"),
        ("arrivals: {per_hour: {8:00: 5}}", r"hour 480 is not an hour of the day.*quote hours"),
        ("arrivals: {shape: wavy}", r"arrivals.shape: use one of step, smooth"),
        ("kinds: {card: {steps: [card_read, teleport]}}", r"kinds.card.steps: unknown step 'teleport'"),
        ("kinds: {card: {share: lots}}", r"kinds.card.share: expected a number"),
        ("kinds: {card: {colour: red}}", r"kinds.card: unknown key 'colour'"),
        ("steps: {payment: {time: {dist: exponential, mean: -3}}}", r"steps.payment.time.mean: must be > 0"),
        ("staffing: {hours: {'08': {windows: 2, new: 3}}}", r"staffing.hours.08.new: must be between 0 and 2"),
        ("staffing: {windows: 2.5}", r"staffing.windows: expected a whole number"),
        ("patients: {balking: [{queue_at_least: 5, probability: 2}]}", r"probability: must be between 0 and 1"),
        ("faults: [{kind: outage, start: '10:00', end: '09:00'}]", r"faults\[0\]: end must be after start"),
        ("faults: [{kind: meteor, start: '10:00', end: '11:00'}]", r"unknown fault kind 'meteor'"),
        ("faults: [{kind: outage, start: '25:99', end: '26:00'}]", r"faults\[0\].start: expected a time"),
        ("target: {share: 1.5}", r"target.share: must be between 0 and 1"),
        ("fallback: {steps: [person_info]}", r"fallback step 'person_info' calls the insurer"),
        ("speed: fast", r"unknown key 'speed'"),
        ("extends: everything", r"extends: use 'defaults' or 'none'"),
        ("- just\n- a list", r"expected a mapping of scenario keys"),
        ("arrivals: {per_hour: {'08': 5}\n  bad: [", r"not valid YAML at line \d+"),
    ],
)
def test_bad_scenarios_say_what_and_where(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError, match=message) as caught:
        load_scenario(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unreadable_scenario(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(tmp_path / "missing.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(ScenarioError, match="not a UTF-8 text file"):
        load_scenario(binary)


def test_shares_of_unknown_kinds_are_refused() -> None:
    with pytest.raises(ScenarioError, match=r"unknown patient kind 'vip'.*card, ecert"):
        load_scenario(shares={"vip": 0.5})
    assert [k.share for k in load_scenario(shares={"refund": 0.3}).kinds if k.name == "refund"] == [0.3]


def test_mmc_is_recognised() -> None:
    replace = {
        "kinds": {"all": {"share": 1, "steps": ["s"]}},
        "steps": {"s": {"time": {"dist": "exponential", "mean": 3, "unit": "min"}}},
        "fallback": {"steps": []},
    }
    overrides = {"arrivals": {"rate_per_hour": 50, "hours": 100}, "staffing": {"windows": 3}}
    mmc = load_scenario(overrides=overrides, replace=replace)
    assert not mmc.is_mmc  # the defaults' balking and patience still apply
    mmc = load_scenario(overrides={**overrides, "patients": {"balking": [], "patience": None}}, replace=replace)
    assert mmc.is_mmc
    assert mmc.mean_service() == pytest.approx(3)
