"""The inspection endpoints: what a tester or a conformance check reads back from the insurer."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from .conftest import (
    GATEWAY,
    MDTRT_ID,
    PSN_NO,
    SETL_ID,
    SETTLED_ACCT_PAY,
    SETTLED_DEDC,
    Hospital,
    dataset,
)


def _json(answer: Any) -> Any:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return answer.json()


def test_institutions_list_and_detail(client: TestClient) -> None:
    listed = _json(client.get("/admin/institutions"))
    assert listed["total"] == 3
    codes = [item["fixmedins_code"] for item in listed["items"]]
    assert codes == sorted(codes) and dataset.HOSPITAL in codes
    one = _json(client.get(f"/admin/institutions/{dataset.HOSPITAL}"))
    assert one["tier"] == "3" and one["blacklisted"] is False
    assert one["credentials"]["apikey"] == "key03"
    blacklisted = _json(client.get(f"/admin/institutions/{dataset.BLACKLISTED_HOSPITAL}"))
    assert blacklisted["blacklisted"] is True
    missing = client.get("/admin/institutions/H000")
    assert missing.status_code == 404 and missing.json()["error"]["where"] == "path.code"


def test_persons_page_and_search(client: TestClient) -> None:
    page = _json(client.get("/admin/persons", params={"limit": 4, "offset": 2}))
    assert page["total"] == len(dataset.PERSONS)
    assert (page["limit"], page["offset"]) == (4, 2)
    assert [p["psn_no"] for p in page["items"]] == [p["psn_no"] for p in dataset.PERSONS[2:6]]
    for q, expected in (("王秀英", dataset.PERSONS[1]), ("19900505", dataset.PERSONS[2]),
                        ("0009", dataset.PERSONS[8])):
        found = _json(client.get("/admin/persons", params={"q": q}))
        assert [p["psn_no"] for p in found["items"]] == [expected["psn_no"]]
    assert _json(client.get("/admin/persons", params={"q": "%"}))["total"] == 0


def test_a_persons_record_cards_account_counters_and_visits(client: TestClient,
                                                            seeded: Hospital) -> None:
    person = _json(client.get(f"/admin/persons/{PSN_NO}"))
    assert person["psn_name"] == "张伟" and person["insuinfo"][0]["insutype"] == "310"
    assert Decimal(str(person["balc"])) == Decimal("1378.15") - SETTLED_ACCT_PAY
    assert [c["status"] for c in person["cards"]] == ["active"]
    assert person["ec_tokens"] == [dataset.PERSONS[0]["ec_token"]]
    assert person["cum"] == [{"year": 2026, "insutype": "310", "name": "dedc_used",
                              "value": float(SETTLED_DEDC)}]
    assert [e["setl_id"] for e in person["account_entries"]] == [SETL_ID]
    assert [v["mdtrt_id"] for v in person["visits"]] == [MDTRT_ID]
    assert person["visits_total"] == 1
    lost_card = _json(client.get(f"/admin/persons/{dataset.PERSONS[7]['psn_no']}"))
    assert sorted(c["status"] for c in lost_card["cards"]) == ["active", "lost"]


def test_money_is_written_with_two_decimals(client: TestClient, seeded: Hospital) -> None:
    text = client.get(f"/admin/persons/{PSN_NO}/counters").text
    assert '"balc":1365.65' in text and '"value":30.00' in text


def test_counters(client: TestClient, seeded: Hospital) -> None:
    counters = _json(client.get(f"/admin/persons/{PSN_NO}/counters"))
    assert counters["psn_no"] == PSN_NO
    assert counters["cum"][0]["name"] == "dedc_used"
    assert counters["cum_entries"][0]["setl_id"] == SETL_ID
    untouched = _json(client.get(f"/admin/persons/{dataset.PERSONS[2]['psn_no']}/counters"))
    assert untouched["cum"] == [] and untouched["balc"] == 0
    assert client.get("/admin/persons/nobody/counters").status_code == 404


def test_catalogue_page_search_and_item_with_its_mappings(client: TestClient) -> None:
    page = _json(client.get("/admin/catalogue", params={"limit": 3}))
    assert page["total"] == len(dataset.ITEMS) and len(page["items"]) == 3
    found = _json(client.get("/admin/catalogue", params={"q": "阿莫西林"}))
    assert [i["med_list_codg"] for i in found["items"]] == ["XJ01CAA040A001010100568"]
    item = _json(client.get("/admin/catalogue/XJ01CAA040A001010100568"))
    assert item["record"]["selfpay_prop"] == "0.0500"  # the record as loaded
    assert {m["fixmedins_code"] for m in item["mappings"]} == {dataset.HOSPITAL,
                                                               dataset.COMMUNITY}
    assert client.get("/admin/catalogue/NOPE").status_code == 404


def test_messages_show_what_was_sent_and_answered(client: TestClient, seeded: Hospital) -> None:
    log = _json(client.get("/admin/messages"))
    assert [m["infno"] for m in log["items"]] == ["9001", "2201", "2201"]
    signin = log["items"][0]
    assert signin["request"]["encoding"] == "json"
    assert signin["request"]["content"]["infno"] == "9001"
    assert signin["answer"]["content"]["infcode"] == 0
    assert signin["status"] == "answered" and signin["infcode"] == 0 and signin["fault"] is None
    assert signin["received_at"].endswith("Z") and signin["biz_time"] == "2026-03-02 08:00:00"
    refused = log["items"][2]
    assert refused["infcode"] == -1 and refused["rejection_code"]
    assert refused["err_msg"] == refused["answer"]["content"]["err_msg"]
    one = _json(client.get(f"/admin/messages/{refused['id']}"))
    assert one == refused


def test_messages_filter_and_page_by_after_id(client: TestClient, seeded: Hospital) -> None:
    first = _json(client.get("/admin/messages", params={"limit": 2}))
    assert len(first["items"]) == 2 and first["next_after_id"] == first["items"][1]["id"]
    rest = _json(client.get("/admin/messages", params={"after_id": first["next_after_id"]}))
    assert len(rest["items"]) == 1
    empty = _json(client.get("/admin/messages", params={"after_id": rest["next_after_id"]}))
    assert empty["items"] == [] and empty["next_after_id"] == rest["next_after_id"]
    assert len(_json(client.get("/admin/messages", params={"infno": "2201"}))["items"]) == 2
    refused = _json(client.get("/admin/messages"))["items"][2]
    by_code = _json(client.get("/admin/messages",
                               params={"rejection_code": refused["rejection_code"]}))
    assert [m["id"] for m in by_code["items"]] == [refused["id"]]
    by_msgid = _json(client.get("/admin/messages", params={"msgid": refused["msgid"]}))
    assert [m["id"] for m in by_msgid["items"]] == [refused["id"]]
    assert _json(client.get("/admin/messages", params={"status": "faulted"}))["items"] == []
    hospital = _json(client.get("/admin/messages", params={"fixmedins_code": dataset.HOSPITAL}))
    assert len(hospital["items"]) == 3


def test_a_body_that_is_not_json_is_shown_as_base64(client: TestClient) -> None:
    garbage = b"\xff\xfe not json"
    client.post(GATEWAY, content=garbage)
    message = _json(client.get("/admin/messages"))["items"][-1]
    assert message["request"]["encoding"] == "base64"
    assert base64.b64decode(message["request"]["content"]) == garbage
    assert message["request"]["size"] == len(garbage)
    assert message["answer"]["content"]["infcode"] == -1


def test_a_json_body_nested_too_deep_to_show_is_shown_as_base64(client: TestClient) -> None:
    body = b"[" * 253 + b"]" * 253
    client.post(GATEWAY, content=body)
    listed = client.get("/admin/messages")
    assert listed.status_code == 200
    message = listed.json()["items"][-1]
    assert message["request"]["encoding"] == "base64"
    assert base64.b64decode(message["request"]["content"]) == body


def test_visits_list_filters_and_detail(client: TestClient, seeded: Hospital) -> None:
    visits = _json(client.get("/admin/visits"))
    assert visits["total"] == 2
    mine = _json(client.get("/admin/visits", params={"psn_no": PSN_NO}))
    assert [v["mdtrt_id"] for v in mine["items"]] == [MDTRT_ID]
    assert _json(client.get("/admin/visits", params={"status": "cancelled"}))["total"] == 0
    visit = _json(client.get(f"/admin/visits/{MDTRT_ID}"))
    assert visit["diagnoses"] == ["J06.900"] and visit["status"] == "open"
    row = visit["fee_details"][0]
    assert row["status"] == "settled" and row["setl_id"] == SETL_ID
    assert row["cnt"] == 1 and row["pric"] == 30 and row["det_item_fee_sumamt"] == 30
    assert [s["setl_id"] for s in visit["settlements"]] == [SETL_ID]
    assert client.get("/admin/visits/300000000999").status_code == 404


def test_settlements_by_institution_date_and_person(client: TestClient,
                                                    seeded: Hospital) -> None:
    def listed(**params: Any) -> list[str]:
        return [s["setl_id"] for s in _json(client.get("/admin/settlements",
                                                       params=params))["items"]]

    assert listed() == [SETL_ID]
    assert listed(fixmedins_code=dataset.HOSPITAL, psn_no=PSN_NO) == [SETL_ID]
    assert listed(biz_date_from="2026-03-02", biz_date_to="2026-03-02") == [SETL_ID]
    assert listed(biz_date_from="2026-03-03") == []
    assert listed(biz_date_to="2026-03-01") == []
    assert listed(fixmedins_code=dataset.COMMUNITY) == []
    assert listed(order="newest", limit=1) == [SETL_ID]  # the console's latest settlements
    wrong = client.get("/admin/settlements", params={"order": "latest"})
    assert wrong.status_code == 400 and wrong.json()["error"]["where"] == "order"
    settlement = _json(client.get(f"/admin/settlements/{SETL_ID}"))
    assert settlement["acct_pay"] == 12.5 and settlement["refd_setl_flag"] == "0"
    assert settlement["counter_deltas"] == {"dedc_used": 30.0}
    assert settlement["setldetail"][0]["fund_pay_type"] == "310200"
    assert client.get("/admin/settlements/nope").status_code == 404


@pytest.mark.parametrize(("path", "params", "where"), [
    ("/admin/persons", {"limit": "0"}, "limit"),
    ("/admin/persons", {"limit": "1001"}, "limit"),
    ("/admin/persons", {"limit": "ten"}, "limit"),
    ("/admin/persons", {"offset": "-1"}, "offset"),
    ("/admin/persons", {"q": "x" * 101}, "q"),
    ("/admin/persons", {"q": "a\x00b"}, "q"),
    ("/admin/persons", {"limt": "5"}, "limt"),
    ("/admin/catalogue", {"offset": "1.5"}, "offset"),
    ("/admin/messages", {"after_id": "abc"}, "after_id"),
    ("/admin/messages", {"status": "lost"}, "status"),
    ("/admin/visits", {"status": "closed"}, "status"),
    ("/admin/settlements", {"biz_date_from": "2026-13-01"}, "biz_date_from"),
    ("/admin/settlements", {"biz_date_to": "02/03/2026"}, "biz_date_to"),
    ("/admin/settlements", {"biz_date_from": "2026-03-05", "biz_date_to": "2026-03-01"},
     "biz_date_from"),
    ("/admin/messages/abc", {}, "path.id"),
    ("/admin/messages/%C2%B2", {}, "path.id"),
    ("/admin/messages/1234567890123456789", {}, "path.id"),
    ("/admin/persons/a%0Ab", {}, "path.psn_no"),
    ("/admin/clock", {"x": "1"}, "x"),
])
def test_bad_query_values_are_refused_400_with_where(client: TestClient, path: str,
                                                     params: dict[str, str],
                                                     where: str) -> None:
    answer = client.get(path, params=params)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "bad_request" and error["where"] == where and error["message"]


def test_unknown_paths_and_methods_answer_json(client: TestClient) -> None:
    missing = client.get("/admin/nothing/here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong = client.delete("/admin/persons")
    assert wrong.status_code == 405 and "GET" in wrong.headers["allow"]
    assert wrong.json()["error"]["code"] == "method_not_allowed"
