"""An institution's own settlement-portal credential (``credentials.portal``): a HIS declares
its hospital's month and reads its declarations and payments with it, and can do nothing else —
not another hospital's data, not the insurer's review, clock, faults or reset. So a HIS under
test is never handed the insurer's admin token (security review, left item)."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from tests.mock_insurer.gateway import dataset

from .conftest import HOSPITAL, START, Month
from .test_review_flow import uploaded_of

OWN = "portal-of-the-third-hospital"  # HOSPITAL's, in tests/mock_insurer/gateway/dataset.py
OTHER = "portal-of-the-community-centre"  # dataset.COMMUNITY's


def portal(month: Month, token: str, **headers: str) -> TestClient:
    return TestClient(month.insurer, headers={"Authorization": f"Bearer {token}", **headers})


def declared(month: Month) -> list[object]:
    return month.admin.get("/admin/declarations",
                           params={"fixmedins_code": HOSPITAL}).json()["declarations"]


def test_a_hospital_declares_and_reads_its_own_month_with_its_portal_credential(
        month: Month) -> None:
    month.set_date("2026-04-01")
    his = portal(month, OWN)
    made = his.post("/admin/declarations", json={
        "fixmedins_code": HOSPITAL, "period": "2026-03", "declared": uploaded_of(month)})
    assert made.status_code == 201, made.text
    dcla_id = made.json()["declaration"]["dcla_id"]
    mine = his.get("/admin/declarations")  # fixmedins_code may be left out: its own
    assert mine.status_code == 200, mine.text
    assert [d["dcla_id"] for d in mine.json()["declarations"]] == [dcla_id]
    assert his.get("/admin/declarations", params={"fixmedins_code": HOSPITAL}).json() == \
        mine.json()
    assert his.get(f"/admin/declarations/{dcla_id}").json()["declaration"]["dcla_id"] == dcla_id
    paid = his.get("/admin/payments", params={"year": "2026"})
    assert paid.status_code == 200 and paid.json() == {"payments": []}


def test_another_hospitals_data_is_refused_or_not_found(month: Month) -> None:
    month.set_date("2026-04-01")
    made = portal(month, OWN).post("/admin/declarations", json={
        "fixmedins_code": HOSPITAL, "period": "2026-03", "declared": uploaded_of(month)})
    dcla_id = made.json()["declaration"]["dcla_id"]
    community = portal(month, OTHER)

    listed = community.get("/admin/declarations", params={"fixmedins_code": HOSPITAL})
    assert listed.status_code == 403
    error = listed.json()["error"]
    assert (error["code"], error["where"], error["field"]) == (
        "forbidden", "query.fixmedins_code", "fixmedins_code")
    assert error["message"] == (f"the settlement-portal credential of {dataset.COMMUNITY} is "
                                f"for that institution only, not {HOSPITAL}")
    assert community.get("/admin/payments",
                         params={"fixmedins_code": HOSPITAL}).status_code == 403
    assert community.get("/admin/declarations").json() == {"declarations": []}

    seen = community.get(f"/admin/declarations/{dcla_id}")
    unknown = community.get("/admin/declarations/D-NO-SUCH")
    assert (seen.status_code, unknown.status_code) == (404, 404)  # existence is not told
    assert seen.json()["error"]["message"] == f"no declaration {dcla_id!r}"

    before = declared(month)
    forged = community.post("/admin/declarations", json={
        "fixmedins_code": HOSPITAL, "period": "2026-02", "declared": uploaded_of(month)})
    assert forged.status_code == 403
    assert forged.json()["error"]["where"] == "body.fixmedins_code"
    assert declared(month) == before  # nothing written


def test_everything_else_needs_the_admin_token(month: Month) -> None:
    month.set_date("2026-04-01")
    his = portal(month, OWN)
    dcla_id = his.post("/admin/declarations", json={
        "fixmedins_code": HOSPITAL, "period": "2026-03",
        "declared": uploaded_of(month)}).json()["declaration"]["dcla_id"]
    calls = [("GET", "/admin/persons", None), ("GET", "/admin/messages", None),
             ("PUT", "/admin/clock", {"business_date": "2027-01-01"}),
             ("PUT", "/admin/faults", {"faults": []}), ("POST", "/admin/reset", {}),
             ("POST", f"/admin/declarations/{dcla_id}/review", {}),
             ("POST", f"/admin/declarations/{dcla_id}/pay", {}),
             ("PUT", "/admin/advance", {"fixmedins_code": HOSPITAL, "year": 2026,
                                        "base_amount": "1.00", "ratio": "1"})]
    for method, path, body in calls:
        answer = his.request(method, path, json=body)
        assert answer.status_code == 403, (path, answer.text)
        error = answer.json()["error"]
        assert error["where"] == "header.Authorization"
        assert error["message"].startswith(
            f"this is the settlement-portal credential of {HOSPITAL}: it may declare"), path
    clock = month.admin.get("/admin/clock").json()
    assert clock["business_date"] == "2026-04-01"  # nothing moved
    assert month.admin.get(f"/admin/declarations/{dcla_id}").json()["declaration"][
        "status"] == "declared"


def test_a_wrong_token_is_still_401_and_a_foreign_page_is_refused(month: Month) -> None:
    wrong = portal(month, "not-a-credential").get("/admin/declarations")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["message"] == (
        "令牌既不是管理令牌，也不是任何机构的结算平台凭证 / the token is neither the admin "
        "token nor an institution's settlement-portal credential")
    month.set_date("2026-04-01")
    forged = portal(month, OWN, Origin="http://evil.example").post(
        "/admin/declarations", json={"fixmedins_code": HOSPITAL, "period": "2026-03",
                                     "declared": uploaded_of(month)})
    assert forged.status_code == 403
    assert forged.json()["error"]["where"] == "header.Origin"
    assert declared(month) == []


def test_without_an_admin_token_the_portal_credential_works_from_another_machine(
        tmp_path: Path) -> None:
    paths = dataset.write(tmp_path)
    insurer = Insurer.open(InsurerConfig(
        db_url=f"sqlite:///{tmp_path}/ledger.db", population=paths["population"],
        catalogue=paths["catalogue"], institutions=paths["institutions"],
        wall=FixedClock(START), fresh=True))
    try:
        # TestClient's requests come from "testclient", not from a loopback address
        nobody = TestClient(insurer).get("/admin/declarations",
                                         params={"fixmedins_code": HOSPITAL})
        assert nobody.status_code == 403  # loopback only, as before
        his = TestClient(insurer, headers={"Authorization": f"Bearer {OWN}"})
        assert his.get("/admin/declarations").json() == {"declarations": []}
        assert his.get("/admin/persons").status_code == 403  # and nothing else
    finally:
        insurer.close()
