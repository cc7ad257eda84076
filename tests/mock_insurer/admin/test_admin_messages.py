"""The message log as a settlement office searches it during a load run or a drill: by result
(ok, refused, failed, or refused and failed together), backwards from the newest message, with
the other filters — on SQLite and PostgreSQL, through the partial index of refusals and
failures, which an older ledger gains when it is opened."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, inspect, text
from starlette.testclient import TestClient

from mock_insurer.gateway import Insurer
from mock_insurer.ledger import Ledger

from .conftest import AUTH, dataset, make_insurer

NEWEST = 999999999999999999
"""A ``before_id`` above every id: start from the newest message."""

# (status, infcode, fault_effect, result): every kind of message the gateway records
KINDS: list[tuple[str, int | None, str | None, str | None]] = [
    ("answered", 0, None, "ok"),
    ("answered", -1, None, "refused"),
    ("answered", 0, None, "ok"),
    ("faulted", None, "http_error", "failed"),  # HTTP 502 instead of an answer
    ("answered", 0, "lose_answer", "failed"),  # settled, the answer lost
    ("replayed", -1, None, "refused"),  # a repeated msgid, the refusal replayed
    ("answered", 0, "delay", "ok"),  # slow, but answered
    ("answered", -1, "business_error", "refused"),  # a planted refusal
    ("tombstone", None, None, None),  # a 2601's placeholder: no result
    ("answered", -1, "lose_answer", "failed"),  # a refusal nobody heard
    ("faulted", None, "refuse", "failed"),  # connection refused
    ("answered", 0, None, "ok"),
    ("reversed", 0, None, "ok"),  # a settlement a 2601 took back
]
INSTITUTIONS = (dataset.HOSPITAL, dataset.COMMUNITY)
INFNOS = ("2207", "2201", "1101")
COUNT = 301


def _record(n: int) -> dict[str, Any]:
    status, infcode, effect, _result = KINDS[n % len(KINDS)]
    return {
        "fixmedins_code": INSTITUTIONS[n % 2], "msgid": f"M{n:06d}", "infno": INFNOS[n % 3],
        "keyed": False, "input_hash": None, "psn_no": f"P{n % 5}", "request": b"{}",
        "answer": None if status in ("faulted", "tombstone") else b'{"infcode":0}',
        "http_status": 502 if effect == "http_error" else 200, "infcode": infcode,
        "rejection_code": "psn_not_found" if infcode == -1 else None,
        "err_msg": "查无此人" if infcode == -1 else None, "deviations": "[]",
        "fault_id": effect and "f1", "fault_effect": effect, "status": status,
        "biz_time": "2026-03-02 08:00:00", "received_ms": 1_772_409_600_000 + n,
        "effect_ref": None}


@pytest.fixture
def log(insurer: Insurer) -> list[dict[str, Any]]:
    """COUNT messages of every kind written into the ledger, each with its id and the result
    it came to."""
    written = []
    with insurer.ledger.write() as tx:
        for n in range(COUNT):
            record = _record(n)
            record["id"] = tx.add_message(record)
            record["result"] = KINDS[n % len(KINDS)][3]
            written.append(record)
    return written


def _page(client: TestClient, **params: Any) -> dict[str, Any]:
    answer = client.get("/admin/messages", params=params)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def _ids(client: TestClient, **params: Any) -> list[int]:
    return [m["id"] for m in _page(client, limit=1000, **params)["items"]]


@pytest.mark.parametrize(("result", "means"), [
    ("ok", {"ok"}),
    ("refused", {"refused"}),
    ("failed", {"failed"}),
    ("refused,failed", {"refused", "failed"}),  # what the console's "refused or failed" asks
    ("failed,refused", {"refused", "failed"}),
    ("ok,failed", {"ok", "failed"}),
    ("ok,refused", {"ok", "refused"}),
    ("ok,refused,failed", {"ok", "refused", "failed"}),
    ("refused,refused", {"refused"}),
    ("", {"ok", "refused", "failed", None}),  # empty: no filter, as for the other filters
])
def test_each_result_finds_exactly_its_messages_forwards_and_backwards(
        client: TestClient, log: list[dict[str, Any]], result: str, means: set[str]) -> None:
    expected = [m["id"] for m in log if m["result"] in means]
    assert expected
    assert _ids(client, result=result) == expected
    assert _ids(client, result=result, before_id=NEWEST) == expected[::-1]


def test_results_split_every_message_but_a_tombstone(client: TestClient,
                                                     log: list[dict[str, Any]]) -> None:
    ok, refused, failed = (set(_ids(client, result=r)) for r in ("ok", "refused", "failed"))
    assert not (ok & refused or ok & failed or refused & failed)
    tombstones = {m["id"] for m in log if m["status"] == "tombstone"}
    assert ok | refused | failed | tombstones == {m["id"] for m in log}
    counters = client.get("/admin/counters").json()
    assert len(failed) == counters["failed"]  # the console's counter counts what it shows
    assert counters["refused"] + counters["other_refused"] == len(refused) + sum(
        1 for m in log if m["infcode"] == -1 and m["fault_effect"] == "lose_answer")


def test_paging_back_from_the_newest_reaches_the_first_with_no_gap_or_repeat(
        client: TestClient, log: list[dict[str, Any]]) -> None:
    seen: list[int] = []
    before = NEWEST
    while True:
        page = _page(client, before_id=before, limit=7)
        ids = [m["id"] for m in page["items"]]
        assert ids == sorted(ids, reverse=True) and all(i < before for i in ids)
        assert (page["before_id"], page["limit"]) == (before, 7)
        assert "after_id" not in page and "next_after_id" not in page
        seen += ids
        if len(ids) < 7:
            break
        assert page["next_before_id"] == ids[-1]
        before = page["next_before_id"]
    assert seen == [m["id"] for m in log][::-1]
    end = _page(client, before_id=seen[-1])
    assert end["items"] == [] and end["next_before_id"] == seen[-1]


def test_paging_back_through_refusals_and_failures(client: TestClient,
                                                   log: list[dict[str, Any]]) -> None:
    wanted = [m["id"] for m in log if m["result"] in ("refused", "failed")][::-1]
    seen: list[int] = []
    before = log[-1]["id"] + 1  # last_id + 1 of /admin/counters: what the console sends
    for _ in range(COUNT):
        page = _page(client, before_id=before, limit=5, result="refused,failed")
        seen += [m["id"] for m in page["items"]]
        if len(page["items"]) < 5:
            break
        before = page["next_before_id"]
    assert seen == wanted


def test_forwards_paging_is_unchanged(client: TestClient, log: list[dict[str, Any]]) -> None:
    page = _page(client, after_id=log[9]["id"], limit=3, result="refused")
    refused_after = [m["id"] for m in log[10:] if m["result"] == "refused"]
    assert [m["id"] for m in page["items"]] == refused_after[:3]
    assert page["next_after_id"] == refused_after[2] and page["after_id"] == log[9]["id"]
    assert "before_id" not in page


@pytest.mark.parametrize("filters", [
    {"infno": "2207"},
    {"fixmedins_code": dataset.COMMUNITY},
    {"psn_no": "P3"},
    {"status": "replayed"},
    {"status": "faulted"},
    {"rejection_code": "psn_not_found"},
    {"infno": "2201", "fixmedins_code": dataset.HOSPITAL, "psn_no": "P1"},
    {"msgid": "M000009"},
])
@pytest.mark.parametrize("result", ["ok", "refused", "failed", "refused,failed"])
def test_the_result_combines_with_the_other_filters(
        client: TestClient, log: list[dict[str, Any]], filters: dict[str, str],
        result: str) -> None:
    means = set(result.split(","))
    expected = [m["id"] for m in log if m["result"] in means
                and all(m[key] == value for key, value in filters.items())]
    assert _ids(client, result=result, **filters) == expected
    middle = log[COUNT // 2]["id"]
    assert _ids(client, result=result, before_id=middle, **filters) == [
        i for i in expected if i < middle][::-1]


@pytest.mark.parametrize(("params", "where", "words"), [
    ({"result": "foo"}, "result", "ok, refused, failed"),
    ({"result": "Refused"}, "result", "got 'Refused'"),
    ({"result": "refused,"}, "result", "refused,failed"),
    ({"result": "refused, failed"}, "result", "joined by commas"),
    ({"result": ",ok"}, "result", "result must be"),
    ({"result": "problem"}, "result", "result must be"),
    ({"before_id": "-1"}, "before_id", "whole number"),
    ({"before_id": "abc"}, "before_id", "whole number"),
    ({"before_id": "1.5"}, "before_id", "whole number"),
    ({"before_id": ""}, "before_id", "whole number"),
    ({"before_id": "0"}, "before_id", "at least 1"),
    ({"before_id": "1234567890123456789"}, "before_id", "whole number"),
    ({"after_id": "5", "before_id": "9"}, "before_id", "not both"),
    ({"after_id": "0", "before_id": "9", "result": "ok"}, "before_id", "not both"),
    ({"before_ids": "9"}, "before_ids", "before_ids"),
])
def test_bad_values_are_refused_400_naming_the_parameter(
        client: TestClient, log: list[dict[str, Any]], params: dict[str, str], where: str,
        words: str) -> None:
    answer = client.get("/admin/messages", params=params)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "bad_request" and error["where"] == where
    assert words in error["message"]


@contextmanager
def _statements(ledger: Ledger) -> Iterator[list[tuple[str, Any]]]:
    """The message-log queries run on ``ledger`` meanwhile, with their bound values."""
    caught: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM messages" in statement and "ORDER BY" in statement:
            caught.append((statement, parameters))

    event.listen(ledger.engine, "before_cursor_execute", catch)
    try:
        yield caught
    finally:
        event.remove(ledger.engine, "before_cursor_execute", catch)


@pytest.mark.parametrize("result", ["refused", "failed", "refused,failed"])
def test_refusals_and_failures_are_read_through_their_index_not_the_whole_log(
        insurer: Insurer, client: TestClient, log: list[dict[str, Any]], result: str) -> None:
    """The query as the API runs it, bound values and all, is planned on the partial index
    (SQLite matches a partial index's predicate only as written; PostgreSQL has to prove it:
    sequential scans are turned off so that a small table cannot hide a failed proof)."""
    ledger = insurer.ledger
    with _statements(ledger) as caught:
        _page(client, before_id=NEWEST, result=result)
        _page(client, after_id=0, result=result)
    assert len(caught) == 2
    for statement, parameters in caught:
        with ledger.engine.connect() as conn:
            if ledger.dialect == "sqlite":
                plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            else:
                conn.exec_driver_sql("SET enable_seqscan = off")
                plan = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        assert "ix_messages_unsuccessful" in " ".join(str(row[-1]) for row in plan), plan


def test_an_older_ledger_gains_the_index_when_opened_and_keeps_its_messages(
        tmp_path: Path, db_url: str) -> None:
    first = make_insurer(tmp_path, db_url=db_url)
    with first.ledger.write() as tx:
        for n in range(20):
            tx.add_message(_record(n))
    with first.ledger.engine.begin() as conn:  # as a ledger made before the index was
        conn.execute(text("DROP INDEX ix_messages_unsuccessful"))
    first.close()

    again = make_insurer(tmp_path, db_url=db_url)
    try:
        with again.ledger.engine.connect() as conn:
            names = {index["name"] for index in inspect(conn).get_indexes("messages")}
        assert "ix_messages_unsuccessful" in names
        client = TestClient(again, headers=AUTH)
        failed = [n for n in range(20) if KINDS[n % len(KINDS)][3] == "failed"]
        assert len(_ids(client, result="failed")) == len(failed)
        assert len(_ids(client)) == 20
    finally:
        again.close()
    reopened = make_insurer(tmp_path, db_url=db_url)  # and opening it once more changes nothing
    reopened.close()
