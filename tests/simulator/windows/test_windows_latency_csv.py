"""Insurer latency measured by a load test: the CSV formats accepted, and the errors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from simulator.windows.distributions import Empirical, Quantiles
from simulator.windows.errors import LatencyFileError, ScenarioError
from simulator.windows.scenario import load_scenario
from simulator.windows.service import Mixture, load_latency_csv

DATA = Path(__file__).parent / "data"
MS = 1 / 60_000


def test_latency_ms_column_is_resampled() -> None:
    dist = load_latency_csv(DATA / "latency_ms.csv")
    assert isinstance(dist, Empirical)
    assert sorted(dist.values) == pytest.approx([80 * MS, 120 * MS, 250 * MS, 400 * MS])  # the empty cell is skipped
    draws = {dist.sample(random.Random(seed)) for seed in range(200)}
    assert draws <= set(dist.values)


def test_locust_history_aggregated_uses_the_last_cumulative_row() -> None:
    dist = load_latency_csv(DATA / "stats_history.csv")
    assert isinstance(dist, Quantiles)
    assert dist.probs[0] == 0 and dist.probs[-1] == 1
    assert dist.values[0] == pytest.approx(100 * MS)  # Total Min Response Time
    assert dist.values[1] == pytest.approx(300 * MS)  # 50%
    assert dist.values[-1] == pytest.approx(2500 * MS)  # 100%


def test_locust_history_of_one_request_mixes_rows_by_rate() -> None:
    dist = load_latency_csv(DATA / "stats_history.csv", name="2207")
    assert isinstance(dist, Mixture)
    assert len(dist.components) == 2
    assert dist.cumulative == (5.0, 20.0)
    assert dist.components[0].mean < dist.mean < dist.components[1].mean


def test_locust_stats_csv(tmp_path: Path) -> None:
    path = tmp_path / "run_stats.csv"
    path.write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
        "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
        "POST,2207,100,0,210,250,90,1900,300,10,0,210,240,260,280,350,500,800,1200,1900,1900,1900\n"
        ",Aggregated,100,0,210,250,90,1900,300,10,0,210,240,260,280,350,500,800,1200,1900,1900,1900\n",
        encoding="utf-8",
    )
    dist = load_latency_csv(path)
    assert isinstance(dist, Quantiles)
    assert dist.values[0] == pytest.approx(90 * MS)
    assert dist.values[1] == pytest.approx(210 * MS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n", "expected a 'latency_ms' column"),
        ("latency_ms\nfast\n", "line 2, column 'latency_ms': not a number"),
        ("latency_ms\n-5\n", "not a latency"),
        ("latency_ms\n\n", "no latencies"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LatencyFileError, match=message):
        load_latency_csv(path)


def test_unknown_request_name_lists_the_names() -> None:
    with pytest.raises(LatencyFileError, match="names in the file: 2207, Aggregated"):
        load_latency_csv(DATA / "stats_history.csv", name="2206")


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(LatencyFileError, match="cannot read latency file"):
        load_latency_csv(tmp_path / "nope.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01latency")
    with pytest.raises(LatencyFileError, match="not a CSV text file"):
        load_latency_csv(binary)


def test_scenario_reads_csv_relative_to_itself(tmp_path: Path) -> None:
    (tmp_path / "lat.csv").write_text("latency_ms\n1000\n", encoding="utf-8")
    (tmp_path / "s.yaml").write_text("insurer: {latency: {csv: lat.csv}}\n", encoding="utf-8")
    scenario = load_scenario(tmp_path / "s.yaml")
    assert scenario.latency.mean == pytest.approx(1000 * MS)
    (tmp_path / "t.yaml").write_text("insurer: {latency: {csv: missing.csv}}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"t.yaml: insurer.latency: cannot read latency file"):
        load_scenario(tmp_path / "t.yaml")
