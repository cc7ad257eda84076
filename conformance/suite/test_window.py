"""WIN: how long the HIS and the insurer take over a card visit, at the profile's latency."""

from __future__ import annotations

import statistics

import pytest

from conformance.plugin import Cert


@pytest.mark.requirement("WIN-001")
def test_a_visit_completes_in_time(cert: Cert) -> None:
    run = cert.run("window-time")
    limit_ms = cert.profile.window_seconds * 1000
    times = [v.system_ms for v in run.result.visits if v.outcome == "settled"]
    if not times:
        cert.fail("no visit was settled", [])
    slow = [{"visit": v.id, "system_ms": round(v.system_ms), "limit_ms": limit_ms,
             "steps": [(s.step, round(s.ms)) for s in v.steps]}
            for v in run.result.visits if v.outcome == "settled" and v.system_ms > limit_ms]
    cert.note({"median_ms": round(statistics.median(times)), "max_ms": round(max(times)),
               "limit_ms": limit_ms, "insurer_latency_ms": cert.profile.insurer_latency_ms})
    if slow:
        cert.fail(f"{len(slow)} of {len(times)} visits took longer than {limit_ms:.0f} ms", slow)
