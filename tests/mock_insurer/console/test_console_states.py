"""What a coordinator sees in the console (headless Debian chromium, Playwright) when things are
not simply fine: the insurer stops answering, its message log is emptied under the page,
the token is wrong, thousands of messages went by and the refusals scrolled away, the window is
narrow; and the controls a settlement office expects beside the feed: the business date, and
loading or clearing a whole fault plan."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Dialog, Page, Route, expect

from mock_insurer.client import InsurerRefusal
from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.server import RunningServer, start_in_thread
from tests.mock_insurer.gateway import dataset
from tests.mock_insurer.gateway.conftest import START
from tests.mock_insurer.gateway.driver import Window

from . import browser
from .conftest import AUTH, TOKEN

insurer = browser.insurer  # this folder's browser fixtures (SQLite insurer, chromium page)
page = browser.page


def _admin(server: RunningServer, method: str, path: str, body: Any = None) -> Any:
    answer = requests.request(method, f"{server.url}/admin{path}", json=body, headers=AUTH,
                              timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _connect(page: Page, server: RunningServer) -> None:
    page.goto(f"{server.url}/console")
    page.fill("#token", TOKEN)
    page.click("#token-submit")
    expect(page.locator("#status")).to_have_attribute("data-state", "ok")


def test_before_the_token_nothing_pretends_to_know_and_a_wrong_token_says_what_to_type(
        server: RunningServer, page: Page) -> None:
    page.goto(f"{server.url}/console")
    expect(page.locator("#token-form")).to_be_visible()
    # not "No drill is running": the page has not read anything yet
    expect(page.locator("#drill-waiting")).to_be_visible()
    expect(page.locator("#drill-none")).to_be_hidden()
    # the English half of the button is as legible as the Chinese half
    button = page.locator("#token-submit")
    assert (button.locator(".en").evaluate("e => getComputedStyle(e).color")
            == button.evaluate("e => getComputedStyle(e).color"))

    page.fill("#token", "not-the-token")
    page.click("#token-submit")
    expect(page.locator("#status")).to_contain_text("管理令牌错误")
    expect(page.locator("#token-error")).to_contain_text("--admin-token")
    page.fill("#token", TOKEN)
    page.click("#token-submit")
    expect(page.locator("#status")).to_have_attribute("data-state", "ok")
    expect(page.locator("#drill-none")).to_be_visible()
    expect(page.locator("#drill-waiting")).to_be_hidden()
    expect(page.locator("#token-error")).to_have_text("")


def test_an_unreachable_insurer_is_said_plainly_and_the_old_data_is_marked_stale(
        server: RunningServer, window: Window, page: Page) -> None:
    window.info(1)
    _connect(page, server)
    expect(page.locator("#feed tbody tr")).to_have_count(2)  # 9001 and 1101

    def unreachable(route: Route) -> None:
        route.abort("connectionrefused")

    page.route("**/admin/**", unreachable)
    stale = page.locator("#stale")
    expect(stale).to_be_visible()
    expect(stale).to_contain_text("无法连接医保中心")
    expect(stale).to_contain_text("Cannot reach the insurer")
    expect(stale).to_contain_text(re.compile(r"from \d\d:\d\d:\d\d and may be out of date"))
    expect(page.locator("body")).to_have_attribute("data-stale", "true")
    status = page.locator("#status")
    expect(status).to_have_attribute("data-state", "error")
    expect(status).to_contain_text("连接中断")
    assert "Failed to fetch" not in page.locator("header").inner_text()
    assert "Failed to fetch" not in stale.inner_text()
    # what was shown stays, greyed, rather than vanishing
    expect(page.locator("#feed tbody tr")).to_have_count(2)
    assert float(page.locator("main").evaluate("e => getComputedStyle(e).opacity")) < 1

    page.unroute("**/admin/**", unreachable)
    expect(stale).to_be_hidden()
    expect(status).to_have_attribute("data-state", "ok")
    expect(page.locator("body")).to_have_attribute("data-stale", "false")


def test_an_insurer_answering_errors_is_not_shown_as_connected(
        server: RunningServer, page: Page) -> None:
    _connect(page, server)

    def gateway_page(route: Route) -> None:
        route.fulfill(status=502, content_type="text/html", body="<h1>502 Bad Gateway</h1>")

    page.route("**/admin/**", gateway_page)
    expect(page.locator("#stale")).to_contain_text("HTTP 502")
    expect(page.locator("#status")).to_have_attribute("data-state", "error")
    assert "undefined" not in page.locator("body").inner_text()


def test_an_emptied_message_log_restarts_the_feed_and_the_counters_and_says_why(
        server: RunningServer, client: Any, window: Window, page: Page) -> None:
    window.info(1)
    window.info(2)
    _connect(page, server)
    expect(page.locator("#feed tbody tr")).to_have_count(3)
    window.info(1)
    expect(page.locator("#counter-messages")).to_have_text("1")  # since the page opened

    _admin(server, "POST", "/reset", {})
    client.sign_in(opter_no="C01", mac="00-1A-2B-3C-4D-5E", ip="127.0.0.1")  # message 1 again
    notice = page.locator("#feed-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("交易记录已清空")
    expect(notice).to_contain_text("message log was emptied")
    # the feed shows the new log, not the old rows with a feed stuck above the new ids
    expect(page.locator("#feed tbody tr")).to_have_count(1)
    expect(page.locator("#feed tbody tr").first).to_have_attribute("data-infno", "9001")
    expect(page.locator("#counter-messages")).to_have_text("1")
    expect(page.locator("#counters-scope")).to_contain_text("since the log was emptied")
    window.info(1)
    expect(page.locator("#feed tbody tr")).to_have_count(2)
    expect(page.locator("#counter-messages")).to_have_text("2")


def _feed_requests(page: Page) -> list[str]:
    """The message-log requests the page makes from now on (their query strings)."""
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url.split("?", 1)[-1])
            if "/admin/messages?" in request.url else None)
    return asked


def test_refusals_that_scrolled_away_are_found_with_a_filter_and_older_pages(
        server: RunningServer, window: Window, page: Page) -> None:
    _admin(server, "PUT", "/faults", {"faults": [
        {"id": "busy", "match": {"infno": "1101", "first": 2},
         "effect": {"kind": "business_error", "err_msg": "FSI-中心繁忙"}}]})
    for _ in range(2):
        with pytest.raises(InsurerRefusal):
            window.info(1)
    for n in range(560):  # enough to push the refusals out of the live feed, and past one page
        window.info(1 + n % 3)
    asked = _feed_requests(page)
    _connect(page, server)
    rows = page.locator("#feed tbody tr")
    expect(rows).to_have_count(200)
    expect(page.locator('#feed tr[data-result="refused"]')).to_have_count(0)
    assert "before_id=564&limit=200" in asked  # the newest 200, from the end of the log

    page.select_option("#filter-result", "refused")
    expect(rows).to_have_count(2)
    for row in rows.all():
        expect(row).to_have_attribute("data-result", "refused")
        expect(row).to_contain_text("FSI-中心繁忙")
    expect(page.locator("#feed-count")).to_contain_text("2 matching")
    expect(page.locator("#feed-reach")).to_contain_text("back to the first message")
    expect(page.locator("#feed-older")).to_be_hidden()
    assert "before_id=564&limit=200&result=refused" in asked  # the insurer filters, not the page

    page.select_option("#filter-result", "ok")
    page.select_option("#filter-infno", "9001")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-infno", "9001")
    assert any("result=ok&infno=9001" in query for query in asked)

    page.select_option("#filter-result", "")
    page.select_option("#filter-infno", "")
    page.fill("#filter-institution", "H00000000000")
    expect(page.locator("#feed-empty")).to_contain_text("no message matches the filter")
    page.click("#filter-clear")
    expect(rows).to_have_count(200)
    page.click("#feed-older")
    expect(rows).to_have_count(400)
    expect(page.locator("#feed-reach")).to_contain_text("looked back to message 164")
    page.click("#feed-older")
    expect(rows).to_have_count(563)  # every message: 9001, two refusals, 560 answered
    expect(page.locator("#feed-older")).to_be_hidden()
    expect(rows.last).to_have_attribute("data-infno", "9001")
    ids = [int(i) for i in rows.evaluate_all("rs => rs.map(r => r.dataset.messageId)")]
    assert ids == list(range(563, 0, -1))  # no gap, no repeat
    assert "before_id=364&limit=200" in asked and "before_id=164&limit=200" in asked
    window.info(2)  # the live feed keeps going on top, and keeps the older rows
    expect(rows).to_have_count(564)


def test_refusals_and_failures_thousands_of_messages_back_are_found_in_one_look(
        insurer: Insurer, server: RunningServer, window: Window, page: Page) -> None:
    """A load run: a refusal and a lost answer, then 6,000 answered messages (more than the
    5,000 the page used to look through per press). "Refused or failed" finds both at once,
    newest first; new ones come in on top."""
    window.info(1)  # a real message first: 9001 and 1101
    record = {"fixmedins_code": dataset.HOSPITAL, "keyed": False, "input_hash": None,
              "psn_no": None, "request": b"{}", "answer": b"{}", "http_status": 200,
              "rejection_code": None, "err_msg": None, "deviations": "[]", "fault_id": None,
              "fault_effect": None, "status": "answered", "biz_time": "2026-03-02 08:00:00",
              "received_ms": 1_772_409_600_000, "effect_ref": None}
    with insurer.ledger.write() as tx:
        refused = tx.add_message({**record, "msgid": "R1", "infno": "2207", "infcode": -1,
                                  "rejection_code": "psn_not_found", "err_msg": "查无此人"})
        lost = tx.add_message({**record, "msgid": "L1", "infno": "2207", "infcode": 0,
                               "fault_id": "lose", "fault_effect": "lose_answer"})
        for n in range(6000):
            tx.add_message({**record, "msgid": f"OK{n}", "infno": "1101", "infcode": 0})
    asked = _feed_requests(page)
    _connect(page, server)
    rows = page.locator("#feed tbody tr")
    expect(rows).to_have_count(200)

    page.select_option("#filter-result", "refused,failed")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-message-id", str(lost))
    expect(rows.nth(0)).to_have_attribute("data-result", "failed")
    expect(rows.nth(0)).to_contain_text("answer lost")
    expect(rows.nth(1)).to_have_attribute("data-message-id", str(refused))
    expect(rows.nth(1)).to_have_attribute("data-result", "refused")
    expect(page.locator("#feed-older")).to_be_hidden()
    expect(page.locator("#feed-reach")).to_contain_text("back to the first message")
    assert any("limit=200&result=refused%2Cfailed" in query for query in asked)
    assert all("limit=200" in query for query in asked)  # every request bounded

    _admin(server, "PUT", "/faults", {"faults": [
        {"id": "busy", "match": {"infno": "1101", "first": 1},
         "effect": {"kind": "business_error", "err_msg": "FSI-中心繁忙"}}]})
    with pytest.raises(InsurerRefusal):  # a new refusal arrives while the filter is on
        window.info(1)
    window.info(2)  # and an answered one, which the filter leaves out
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("data-result", "refused")


def test_the_business_date_is_shown_changed_and_put_back(
        server: RunningServer, page: Page) -> None:
    _connect(page, server)
    now = page.locator("#clock-now")
    expect(now).to_contain_text(START.strftime("%Y-%m-%d"))
    page.fill("#clock-date", "2022-12-31")
    page.click("#clock-set")
    expect(page.locator("#clock-message")).to_contain_text("the business date is now 2022-12-31")
    expect(now).to_contain_text("2022-12-31")
    assert _admin(server, "GET", "/clock")["business_date"] == "2022-12-31"
    page.click("#clock-reset")
    expect(page.locator("#clock-message")).to_contain_text("back to real time")
    expect(now).to_contain_text(START.strftime("%Y-%m-%d"))
    assert _admin(server, "GET", "/clock")["business_date"] == START.strftime("%Y-%m-%d")


def test_a_whole_plan_is_loaded_a_bad_one_is_explained_and_the_plan_is_cleared(
        server: RunningServer, page: Page) -> None:
    _connect(page, server)
    expect(page.locator("#faults-none")).to_be_visible()
    expect(page.locator("#faults-clear")).to_be_disabled()
    page.click("#plan-load summary")
    page.fill("#plan-text", "faults:\n  - id: down\n    match: {probability: 1.5}\n"
                            "    effect: refuse\n")
    page.click("#plan-submit")
    problem = page.locator("#plan-error")
    expect(problem).to_contain_text("not loaded, the old plan stays")
    expect(problem).to_contain_text("probability")
    expect(problem).to_contain_text("faults[0].match.probability")

    page.fill("#plan-text", "faults:\n  - id: down\n    name: 中心宕机 / insurer down\n"
                            "    effect: refuse\n")
    page.click("#plan-submit")
    expect(page.locator('#faults tr[data-fault-id="down"]')).to_have_attribute("data-armed",
                                                                               "true")
    expect(page.locator("#faults-message")).to_contain_text("loaded: 1 fault")
    expect(problem).to_have_text("")
    assert [f["id"] for f in _admin(server, "GET", "/faults")["plan"]["faults"]] == ["down"]

    def refuse(dialog: Dialog) -> None:
        dialog.dismiss()

    page.once("dialog", refuse)
    page.click("#faults-clear")  # the person changes their mind: nothing happens
    expect(page.locator('#faults tr[data-fault-id="down"]')).to_be_visible()

    def accept(dialog: Dialog) -> None:
        assert "Clear the fault plan?" in dialog.message
        dialog.accept()

    page.once("dialog", accept)
    page.click("#faults-clear")
    expect(page.locator("#faults-none")).to_be_visible()
    expect(page.locator("#faults-message")).to_contain_text("the fault plan was cleared")
    assert _admin(server, "GET", "/faults")["plan"]["faults"] == []


@pytest.mark.parametrize("width", [380, 760])  # a phone, a tablet
def test_on_a_narrow_screen_the_result_and_the_buttons_are_on_screen(
        server: RunningServer, window: Window, page: Page, width: int) -> None:
    _admin(server, "PUT", "/faults", {"faults": [
        {"id": "down", "name": "中心宕机 / insurer down", "active": False,
         "effect": {"kind": "refuse"}}]})
    window.info(1)
    window.visit(1, [("001102000010000", "1")])
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{server.url}/console")
    connect = page.locator("#token-submit")
    expect(connect).to_be_visible()
    box = connect.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width, box  # not cut off
    page.fill("#token", TOKEN)
    connect.click()
    expect(page.locator("#status")).to_have_attribute("data-state", "ok")
    result = page.locator("#feed tbody tr").first.locator("td.result")
    expect(result).to_contain_text("成功")
    start = page.locator('button[data-fault-id="down"][data-action=start]')
    state = page.locator("#settlements tbody tr").first.locator("td.setl-state")
    expect(state).to_contain_text("有效")
    cash = page.locator("#settlements tbody tr").first.locator("td.cash")
    for thing in (result, start, state, cash):
        thing.scroll_into_view_if_needed()
        box = thing.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # the header rows are out of sight, not out of the accessibility tree: each cell of a card
    # still has its column's name for a screen reader (a magnifier user may use both)
    for table, header in (("#feed", "时间 time"), ("#settlements", "结算号 settlement no."),
                          ("#faults", "操作 action")):
        tree = page.locator(table).aria_snapshot()
        assert f'columnheader "{header}"' in tree, tree
        box = page.locator(f"{table} thead").bounding_box()
        assert box is not None and box["width"] <= 1 and box["height"] <= 1, box


def test_the_latest_settlements_show_yuan_with_two_places_and_a_refund(
        server: RunningServer, window: Window, page: Page) -> None:
    _connect(page, server)
    expect(page.locator("#settlements-none")).to_be_visible()
    answer = window.visit(1, [("001102000010000", "1"), ("XJ01CAA040A001010100568", "1")])
    setl = answer.output["setlinfo"]
    kept = window.visit(2, [("001102000010000", "1")]).output["setlinfo"]
    window.cancel(1, setl["mdtrt_id"], setl["setl_id"])

    rows = page.locator("#settlements tbody tr")
    expect(rows).to_have_count(3)  # two settlements and the refund row, newest on top
    expect(rows.first).to_have_attribute("data-state", "refund")
    expect(rows.first).to_contain_text(f"refund of {setl['setl_id']}")
    refunded = page.locator(f'#settlements tr[data-setl-id="{setl["setl_id"]}"]')
    expect(refunded).to_have_attribute("data-state", "cancelled")
    expect(refunded).to_contain_text("已撤销")
    expect(refunded.locator("td.medfee")).to_have_text(f"{setl['medfee_sumamt']:.2f}")
    expect(refunded.locator("td.cash")).to_have_text(f"{setl['psn_cash_pay']:.2f}")
    expect(rows.first.locator("td.medfee")).to_have_text(f"-{setl['medfee_sumamt']:.2f}")
    row = page.locator(f'#settlements tr[data-setl-id="{kept["setl_id"]}"]')
    expect(row).to_contain_text("有效")
    expect(row.locator("td.fund")).to_have_text(f"{kept['fund_pay_sumamt']:.2f}")
    for cell in page.locator("#settlements td.money").all():
        assert re.fullmatch(r"-?\d+\.\d\d", cell.inner_text()), cell.inner_text()
    expect(page.locator("#settlements-count")).to_contain_text("3 in all")
    assert "NaN" not in page.locator("#settlements").inner_text()
    # every column, the state included, fits the panel of a 1280-pixel screen
    panel = page.locator("#settlements-panel")
    assert panel.evaluate("e => e.scrollWidth <= e.clientWidth"), panel.evaluate(
        "e => [e.scrollWidth, e.clientWidth]")


def test_without_a_token_on_this_machine_no_token_is_asked_and_forbidden_says_what_to_do(
        tmp_path: Path, page: Page) -> None:
    paths = dataset.write(tmp_path)
    opened = Insurer.open(InsurerConfig(
        db_url=f"sqlite:///{tmp_path}/open.db", population=paths["population"],
        catalogue=paths["catalogue"], institutions=paths["institutions"], admin_token=None,
        wall=FixedClock(START, timedelta(milliseconds=10)), fresh=True))
    try:
        with start_in_thread(opened) as running:
            page.goto(f"{running.url}/console")
            expect(page.locator("#status")).to_have_attribute("data-state", "ok")
            expect(page.locator("#token-form")).to_be_hidden()
            expect(page.locator("#token-forget")).to_be_hidden()  # nothing to forget

            def forbidden(route: Route) -> None:
                route.fulfill(status=403, content_type="application/json", body=(
                    '{"error": {"code": "forbidden", "message": "loopback only"}}'))

            page.route("**/admin/**", forbidden)  # as another machine is answered
            status = page.locator("#status")
            expect(status).to_contain_text("无权访问")
            expect(status).to_contain_text("loopback only")  # what the insurer said
            expect(status).to_contain_text("--admin-token")
            expect(page.locator("body")).to_have_attribute("data-locked", "true")
    finally:
        opened.close()


def test_forgetting_the_token_greys_what_is_no_longer_updated(
        server: RunningServer, window: Window, page: Page) -> None:
    window.info(1)
    _connect(page, server)
    expect(page.locator("body")).to_have_attribute("data-locked", "false")
    page.click("#token-forget")
    expect(page.locator("#token-form")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("需要管理令牌")
    expect(page.locator("body")).to_have_attribute("data-locked", "true")
    assert float(page.locator("main").evaluate("e => getComputedStyle(e).opacity")) < 1
    page.fill("#token", TOKEN)
    page.click("#token-submit")
    expect(page.locator("body")).to_have_attribute("data-locked", "false")


def test_two_unnamed_faults_of_one_effect_are_told_apart_in_the_timeline(
        server: RunningServer, page: Page) -> None:
    _admin(server, "PUT", "/faults", {"faults": [
        {"id": "lose-settle", "match": {"infno": "2207"}, "effect": {"kind": "lose_answer"}},
        {"id": "lose-refund", "match": {"infno": "2208"}, "effect": {"kind": "lose_answer"}}]})
    _admin(server, "PUT", "/drill", {
        "drill": "lost-answers", "state": "running", "current": 0,
        "phases": [{"name": "应答丢失 / answers are lost", "faults": ["lose-settle", "lose-refund"],
                    "start": "2026-11-23T09:00:00Z", "end": "2999-01-01T00:00:00Z"}]})
    _connect(page, server)
    faults = page.locator("#phase-current .phase-faults")
    expect(faults).to_contain_text("应答丢失 answer lost (lose-settle)")
    expect(faults).to_contain_text("应答丢失 answer lost (lose-refund)")
