"""A scenario file with a mistake is refused with the path of the offending field, before
anything runs; every library scenario is a valid file."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from scenarios.errors import ScenarioFileError
from scenarios.library import LIBRARY, library_scenarios
from scenarios.loading import load_scenario, parse_scenario, scenario_schema

HEAD = 'scenario: x\ntitle: t\ndate: "2026-03-02"\n'


def test_the_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(scenario_schema())


def test_every_library_scenario_loads() -> None:
    loaded = library_scenarios()
    assert len(loaded) == len(list(LIBRARY.glob("*.yaml"))) >= 12
    concerns = {s.concern for s in loaded}
    assert {"data-consistency", "rejection-handling", "outage-recovery", "window-throughput",
            "refunds", "reconciliation", "rules"} <= concerns


@pytest.mark.parametrize(("body", "where", "says"), [
    ("visits:\n - {id: a, at: '08:05', person: {card: stolen}}\n",
     "visits[0].person.card", "'stolen' is not one of"),
    ("visits:\n - {id: a, at: '8:05', person: {}}\n", "visits[0].at", "HH:MM"),
    ("visits:\n - {id: a, at: '28:05', person: {}}\n", "visits[0].at", "not a time"),
    ("visits:\n - {id: a, at: '08:05', persn: {}}\n", "visits[0]", "'persn' was unexpected"),
    ("visits:\n - {id: a, at: '08:05', person: {insutype: 310}}\n",
     "visits[0].person.insutype", "quote it"),
    ("visits:\n - {id: a, at: '08:05', person: {}}\n - {id: a, at: '08:06', person: {}}\n",
     "visits[1].id", "used by visits[0]"),
    ("visits:\n - {id: a, at: '08:05', person: {same_as: b}}\n", "visits[0].person.same_as",
     "not the id of an earlier visit"),
    ("visits:\n - {id: a, at: '08:05', person: {}}\nexpect: [no_orphan]\n", "expect[0]",
     "not one of: no_orphans"),
    ("visits:\n - {id: a, at: '08:05', person: {}, items: [{item: {category: D}}]}\n",
     "visits[0].items[0].item.category", "not one of"),
    ("arrivals:\n - {from: '10:00', to: '09:00', count: 3}\n", "arrivals[0].to", "not after"),
    ("visits:\n - {id: a, at: '08:05', person: {}}\ntimeline:\n - at: '09:00'\n"
     "   faults: [{match: {probability: 1.5}, effect: {kind: refuse}}]\n",
     "timeline[0].faults", "probability"),
    ("visits:\n - {id: a, at: '08:05', person: {}}\ndata:\n  population: {edge_rates: {twins: 0.1}}\n",
     "data.population", "twins"),
    ("title: only a title\n", "(top level)", "required"),
])
def test_a_mistake_is_reported_with_its_path(body: str, where: str, says: str) -> None:
    text = body if body.startswith("title:") else HEAD + body
    with pytest.raises(ScenarioFileError) as caught:
        parse_scenario(text, source="s.yaml")
    assert caught.value.where.startswith(where), str(caught.value)
    assert says in str(caught.value)
    assert str(caught.value).startswith("s.yaml: ")


def test_yaml_keeps_what_the_file_shows(tmp_path: Path) -> None:
    """Dates, 9:30-like times and codes stay text (YAML 1.1 would turn them into a date, a
    number of minutes, or an octal number)."""
    path = tmp_path / "s.yaml"
    path.write_text("scenario: x\ntitle: t\ndate: 2026-03-02\nvisits:\n"
                    " - {id: a, at: 09:30, person: {insutype: '0310'[1:]}}\n".replace(
                        "'0310'[1:]", "'310'"), "utf-8")
    loaded = load_scenario(path)
    assert loaded.date.isoformat() == "2026-03-02"
    assert loaded.visits[0].at.strftime("%H:%M") == "09:30"


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioFileError, match="no such file"):
        load_scenario(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenario: [unclosed\n", "utf-8")
    with pytest.raises(ScenarioFileError, match="not YAML: line"):
        load_scenario(bad)
    missing_data = tmp_path / "data.yaml"
    missing_data.write_text(HEAD + "data:\n  population: {file: people.jsonl}\n"
                            "visits:\n - {id: a, at: '08:05', person: {}}\n", "utf-8")
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(missing_data)
    assert caught.value.where == "data.population.file"


@pytest.mark.parametrize(("body", "where", "says"), [
    ("seed: 99999999999999999999999\n", "seed", "maximum of 9223372036854775807"),
    ("seed: -1\n", "seed", "minimum"),
    ("data:\n  population: {seed: 99999999999999999999999}\n", "data.population", "maximum"),
])
def test_a_seed_outside_0_to_2_63_is_refused_by_check(body: str, where: str, says: str) -> None:
    text = HEAD + "visits:\n - {id: a, at: '08:05', person: {}}\n" + body
    with pytest.raises(ScenarioFileError) as caught:
        parse_scenario(text, source="s.yaml")
    assert caught.value.where.startswith(where) and says in str(caught.value), str(caught.value)


@pytest.mark.parametrize("date", ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"])
def test_a_date_outside_the_insurers_clock_is_refused_by_check(date: str) -> None:
    text = (f'scenario: x\ntitle: t\ndate: "{date}"\n'
            'visits:\n - {id: a, at: "08:05", person: {}}\n')
    with pytest.raises(ScenarioFileError) as caught:
        parse_scenario(text, source="s.yaml")
    assert caught.value.where == "date" and "1900..2199" in str(caught.value), str(caught.value)


def test_scenario_check_and_run_refuse_a_huge_seed_in_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cardsettle.cli import main

    path = tmp_path / "s.yaml"
    path.write_text(HEAD + "seed: 99999999999999999999999\n"
                    "visits:\n - {id: a, at: '08:05', person: {}}\n", "utf-8")
    for command in ("check", "run"):
        result = CliRunner().invoke(main, ["scenario", command, str(path)])
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1, (command, result.output)
        assert "seed: 99999999999999999999999 is greater than the maximum" in lines[0]
    assert [p.name for p in tmp_path.iterdir()] == ["s.yaml"]
