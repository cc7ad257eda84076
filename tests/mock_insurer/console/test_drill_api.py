"""``/admin/drill``: the drill runner tells the insurer which drill runs; the console reads it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_insurer.admin.drill import MAX_PHASES, drill_board
from mock_insurer.gateway import Insurer
from tests.mock_insurer.admin.conftest import make_insurer

from .conftest import AUTH

STATE: dict[str, Any] = {
    "drill": "outage-at-peak", "title": "早高峰中心宕机 / outage at the morning peak",
    "accelerate": 1.0, "state": "running", "current": 1,
    "phases": [
        {"name": "正常营业 / normal service", "instructions": "照常收费。\nServe as usual.",
         "start": "2026-11-23T09:00:00Z", "end": "2026-11-23T09:05:00Z", "faults": []},
        {"name": "中心宕机 / the center is down", "instructions": "改为手工登记。",
         "start": "2026-11-23T09:05:00Z", "end": "2026-11-23T09:20:00Z", "faults": ["down"]},
    ],
    "message_id_at_start": 1234,
}


@pytest.fixture
def insurer(tmp_path: Path) -> Iterator[Insurer]:
    made = make_insurer(tmp_path, token="secret")
    yield made
    made.close()


@pytest.fixture
def api(insurer: Insurer) -> TestClient:
    return TestClient(insurer, headers=AUTH)


def test_no_drill_until_one_is_put_and_none_after_delete(api: TestClient) -> None:
    assert api.get("/admin/drill").json() == {"drill": None}
    put = api.put("/admin/drill", json=STATE)
    assert put.status_code == 200 and put.json() == STATE
    assert api.get("/admin/drill").json() == STATE
    gone = api.delete("/admin/drill")
    assert gone.status_code == 200 and gone.json() == {"drill": None}
    assert api.get("/admin/drill").json() == {"drill": None}


def test_the_drill_runners_own_shape_is_kept_as_sent(api: TestClient) -> None:
    """Local wall-clock times with a space (what ``cardsettle drill run`` sends), no title,
    current null before the first phase; optional fields come back filled in."""
    state = {"drill": "slow", "state": "running", "current": None, "message_id_at_start": 0,
             "accelerate": 60,
             "phases": [{"name": "慢 / slow", "instructions": "", "start": "2026-11-23 09:00:00",
                         "end": "2026-11-23 09:10:00", "faults": ["slow-1", "slow-2"]}]}
    kept = api.put("/admin/drill", json=state).json()
    assert kept == {**state, "title": ""}
    minimal = api.put("/admin/drill", json={"drill": "x", "phases": [{"name": "one"}]}).json()
    assert minimal == {"drill": "x", "title": "", "accelerate": 1.0, "state": "running",
                       "current": None, "message_id_at_start": 0,
                       "phases": [{"name": "one", "instructions": "", "start": None,
                                   "end": None, "faults": []}]}


def test_an_interrupted_drill_is_kept_as_aborted_in_the_phase_it_stopped(
        api: TestClient) -> None:
    """Ctrl+C at the drill runner: the console must not go on saying 进行中 / running."""
    api.put("/admin/drill", json=STATE)
    stopped = api.put("/admin/drill", json={**STATE, "state": "aborted", "current": 1})
    assert stopped.status_code == 200
    assert api.get("/admin/drill").json() == {**STATE, "state": "aborted", "current": 1}


def test_a_new_put_replaces_the_state_and_each_insurer_has_its_own(
        api: TestClient, insurer: Insurer, tmp_path: Path) -> None:
    api.put("/admin/drill", json=STATE)
    api.put("/admin/drill", json={**STATE, "current": 0, "state": "finished"})
    assert api.get("/admin/drill").json()["state"] == "finished"
    assert drill_board(insurer).get() == {**STATE, "current": 0, "state": "finished"}
    (tmp_path / "other").mkdir()
    other = make_insurer(tmp_path / "other", token="secret")
    try:
        assert TestClient(other, headers=AUTH).get("/admin/drill").json() == {"drill": None}
    finally:
        other.close()


def _with(**changes: Any) -> dict[str, Any]:
    state = {**STATE, **changes}
    return {key: value for key, value in state.items() if value is not _DROP}


def _phase(**changes: Any) -> dict[str, Any]:
    phase = {**STATE["phases"][0], **changes}
    return _with(current=0,
                 phases=[{key: value for key, value in phase.items() if value is not _DROP}])


_DROP = object()

REFUSED = [
    (_with(drill=_DROP), "body.drill"),
    (_with(phases=_DROP), "body.phases"),
    (_with(colour="red"), "body.colour"),
    (_with(drill=""), "body.drill"),
    (_with(drill="x" * 101), "body.drill"),
    (_with(drill="a\nb"), "body.drill"),
    (_with(drill="\ud800"), "body.drill"),
    (_with(title=7), "body.title"),
    (_with(accelerate=0), "body.accelerate"),
    (_with(accelerate=True), "body.accelerate"),
    (_with(accelerate=10_000), "body.accelerate"),
    (_with(state="paused"), "body.state"),
    (_with(current=2), "body.current"),
    (_with(current=-1), "body.current"),
    (_with(current=1.5), "body.current"),
    (_with(message_id_at_start="12"), "body.message_id_at_start"),
    (_with(phases={"name": "x"}), "body.phases"),
    (_with(phases=[{"name": "x"}] * (MAX_PHASES + 1)), "body.phases"),
    (_with(phases=["x"]), "body.phases[0]"),
    (_phase(name=_DROP), "body.phases[0].name"),
    (_with(phases=[{"instructions": "x"}]), "body.phases[0].name"),
    (_phase(colour="red"), "body.phases[0].colour"),
    (_phase(instructions="x" * 2001), "body.phases[0].instructions"),
    (_phase(start="09:00"), "body.phases[0].start"),
    (_phase(start="2026-02-30T09:00:00Z"), "body.phases[0].start"),
    (_phase(end="2026-11-23T08:00:00Z"), "body.phases[0].end"),
    (_phase(end="2026-11-23 09:05:00"), "body.phases[0].end"),
    (_phase(faults="down"), "body.phases[0].faults"),
    (_phase(faults=[""]), "body.phases[0].faults[0]"),
    (_phase(faults=[1]), "body.phases[0].faults[0]"),
]


@pytest.mark.parametrize(("body", "where"), REFUSED,
                         ids=[where + f"#{n}" for n, (_, where) in enumerate(REFUSED)])
def test_a_bad_drill_state_is_refused_with_where(api: TestClient, body: dict[str, Any],
                                                 where: str) -> None:
    api.put("/admin/drill", json=STATE)
    answer = api.put("/admin/drill", content=json.dumps(body).encode(),  # ASCII: \ud800 too
                     headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["where"] == where and error["message"]
    assert api.get("/admin/drill").json() == STATE  # the old state stays


def test_a_body_that_is_not_a_json_object_is_a_bad_request(api: TestClient) -> None:
    for content in (b"", b"{", b"[]", b'"drill"'):
        answer = api.put("/admin/drill", content=content,
                         headers={"Content-Type": "application/json"})
        assert answer.status_code == 400 and answer.json()["error"]["where"] == "body"


def test_the_drill_needs_the_admin_token(insurer: Insurer) -> None:
    anonymous = TestClient(insurer)
    assert anonymous.get("/admin/drill").status_code == 401
    assert anonymous.put("/admin/drill", json=STATE).status_code == 401
    assert anonymous.delete("/admin/drill").status_code == 401
