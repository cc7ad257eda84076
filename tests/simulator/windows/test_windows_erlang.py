"""With exponential arrivals and service the simulated hall is an M/M/c queue: its mean wait
agrees with Erlang C within 3% at utilizations 0.5, 0.8 and 0.9 (issue 7, "Correctness").

Long horizons and several replications (seeded; in two worker processes): about 1, 1.5 and
5 million patients. The 0.9 case needs the most, because waits at high utilization are
strongly correlated from one patient to the next.
"""

from __future__ import annotations

import pytest

from simulator.capacity.erlang import erlang_c_block
from simulator.windows.results import summarize
from simulator.windows.runs import run_replications
from simulator.windows.scenario import compile_scenario
from tests.simulator.windows.conftest import mmc_overrides

MEAN_SERVICE = 3.0  # minutes

CASES = [
    # (utilization, windows, hours per replication, replications)
    (0.5, 1, 12_500, 8),
    (0.8, 2, 6_000, 8),
    (0.9, 2, 17_500, 8),
]


@pytest.mark.slow
@pytest.mark.parametrize(("rho", "windows", "hours", "replications"), CASES)
def test_mean_wait_agrees_with_erlang_c(rho: float, windows: int, hours: int, replications: int) -> None:
    rate_per_hour = rho * windows / MEAN_SERVICE * 60
    data = mmc_overrides(rate_per_hour, hours, windows, MEAN_SERVICE)
    data["warmup_minutes"] = 100 * 60
    scenario = compile_scenario(data)
    assert scenario.is_mmc
    report = summarize(scenario, run_replications(scenario, 2026, replications, workers=2), 2026)
    erlang = erlang_c_block(scenario, report)
    assert erlang is not None
    assert erlang["utilization"] == pytest.approx(rho)
    assert abs(erlang["relative_difference"]["wait_mean"]) < 0.03, erlang
    # the run is long enough for its own 95% confidence interval to be narrow
    low, high = report["wait_minutes"]["ci95"]
    assert (high - low) / 2 < 0.05 * erlang["wait_mean"]
    assert report["utilization"] == pytest.approx(rho, rel=0.01)
    assert report["within_target"]["share"] == pytest.approx(erlang["within_target"], abs=0.01)
    assert report["wait_minutes"]["p90"] == pytest.approx(erlang["wait_p90"], rel=0.05, abs=0.05)
    law = report["littles_law"]["queue"]
    assert law["relative_error"] < 1e-6
