"""End to end in a real headless browser (Debian's chromium, Playwright): the coordinator opens
the console, types the admin token, starts a fault, sees it hit the next message in the feed,
stops it and sees the next message go through. Along the way: the instructions read as
sentences (a drill file's wrapped lines joined, Chinese and English on their own lines), the
counters at 0 are grey, and the feed says what a fault did in words. For a screen reader: the
status line's clock is not announced every second, the phase and its instructions are (once),
the first refusal is, and each Start/Stop button names its fault."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from mock_insurer.client import InsurerRefusal
from mock_insurer.server import RunningServer
from tests.mock_insurer.gateway.driver import Window

from . import browser
from .conftest import AUTH, TOKEN

insurer = browser.insurer  # this folder's browser fixtures (SQLite insurer, chromium page)
page = browser.page

FAULT = "refuse-1101"
ERR_MSG = "FSI-演练：医保中心繁忙"
INSTRUCTIONS = ("请改用身份证号\n查询，不要重复读卡。\nLook the person up by their ID number; do not\n"
                "read the card again and again.\n\nIT: check the card readers.\n")
"""As a drill file's ``|`` block keeps them: a Chinese line broken mid-sentence, an English one
wrapped, a paragraph break."""
SHOWN = ("请改用身份证号查询，不要重复读卡。\nLook the person up by their ID number; do not read "
         "the card again and again.\n\nIT: check the card readers.")
MUTED = "rgb(95, 107, 118)"  # console.css --muted
PLAN = {"seed": 1, "faults": [
    {"id": FAULT, "name": "人员信息获取失败 / person lookup refused", "active": False,
     "match": {"infno": "1101"}, "effect": {"kind": "business_error", "err_msg": ERR_MSG}}]}


def _admin(server: RunningServer, method: str, path: str, body: Any) -> Any:
    answer = requests.request(method, f"{server.url}/admin{path}", json=body, headers=AUTH,
                              timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_start_a_fault_from_the_console_see_it_hit_then_stop_it(
        server: RunningServer, window: Window, page: Page) -> None:
    _admin(server, "PUT", "/faults", PLAN)
    start_id = _admin(server, "GET", "/counters", None)["last_id"]
    _admin(server, "PUT", "/drill", {
        "drill": "refused-lookups", "title": "人员信息获取失败 / person lookups refused",
        "state": "running", "current": 0, "message_id_at_start": start_id,
        "phases": [{"name": "中心拒绝 / the center refuses", "faults": [FAULT],
                    "instructions": INSTRUCTIONS,
                    "start": "2026-11-23T09:00:00Z", "end": "2999-01-01T00:00:00Z"},
                   {"name": "恢复 / recovery", "instructions": ""}]})

    page.goto(f"{server.url}/console")
    expect(page.locator("#token-form")).to_be_visible()  # the insurer has a token
    page.fill("#token", TOKEN)
    page.click("#token-submit")
    expect(page.locator("#status")).to_have_attribute("data-state", "ok")
    expect(page.locator("#phase-current")).to_contain_text("中心拒绝")
    _live_regions_say_what_matters_once(page)
    instructions = page.locator("#phase-instructions")
    expect(instructions).to_contain_text("ID number; do not read the card")
    assert instructions.evaluate("e => e.textContent") == SHOWN
    assert instructions.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-line"
    scope = page.locator("#counters-scope")
    expect(scope).to_have_text("自演练开始 since the drill started")  # no "message #…" jargon
    expect(scope).to_have_attribute("title", re.compile(rf"after message {start_id}$"))
    for name in ("failed", "unreconciled", "refused"):
        counter = page.locator(f"#counter-{name}")
        expect(counter).to_have_text("0")
        expect(counter.locator("xpath=..")).to_have_attribute("data-zero", "true")
        assert counter.evaluate("e => getComputedStyle(e).color") == MUTED, name
    expect(page.locator("#phase-left")).to_contain_text("剩余")

    row = page.locator(f'#faults tr[data-fault-id="{FAULT}"]')
    expect(row).to_have_attribute("data-armed", "false")
    expect(row).to_contain_text("业务错误 business_error")
    page.click(f'button[data-fault-id="{FAULT}"][data-action=start]')
    expect(row).to_have_attribute("data-armed", "true")

    with pytest.raises(InsurerRefusal):
        window.info(1)
    refused = page.locator(f'#feed tr[data-infno="1101"][data-fault-id="{FAULT}"]')
    expect(refused).to_have_attribute("data-result", "refused")
    expect(refused).to_contain_text("拒绝")
    expect(refused).to_contain_text(ERR_MSG)
    expect(refused).to_contain_text("人员信息获取")
    expect(row.locator(".fault-hits")).to_have_text("1")
    expect(page.locator("#counter-refused")).to_have_text("1")
    assert page.locator("#counter-refused").evaluate("e => getComputedStyle(e).color") != MUTED
    # the first refusal is announced at once; the messages counter never is
    expect(page.locator("#counters-announce")).to_contain_text("拒绝 refused 1 (+1)")
    assert "messages" not in page.locator("#counters-announce").inner_text()
    fault_cell = refused.locator("td.fault")
    expect(fault_cell).to_have_text("业务错误 business error")  # not "refuse-1101 business_error"
    expect(fault_cell).to_have_attribute("title", re.compile(f"{FAULT}.*business_error"))

    page.click(f'button[data-fault-id="{FAULT}"][data-action=stop]')
    expect(row).to_have_attribute("data-armed", "false")
    assert window.info(1).infcode == 0
    newest = page.locator("#feed tbody tr").first
    expect(newest).to_have_attribute("data-result", "ok")
    expect(newest).to_have_attribute("data-infno", "1101")
    expect(newest).not_to_have_attribute("data-fault-id", FAULT)
    expect(newest.locator(".person")).to_have_text("1100************0001")
    expect(page.locator("#counter-messages")).to_have_text("2")
    expect(page.locator("#counter-refused")).to_have_text("1")


def _live_regions_say_what_matters_once(page: Page) -> None:
    """The status line is no live region (its "updated 09:00:01" changes every second): only
    the connection's state inside it is, and it is not rewritten while the state stays. The
    phase and its instructions are said assertively, the countdown beside them is not; the
    current phase is marked for assistive technology, not only by colour; each fault button's
    name says which fault it starts or stops; the English halves are marked as English."""
    status = page.locator("#status")
    assert status.get_attribute("role") is None and status.get_attribute("aria-live") is None
    words = page.locator("#status-words")
    expect(words).to_have_attribute("aria-live", "polite")
    expect(words).to_have_text("已连接 connected")
    page.evaluate("""() => { window.rewrites = 0; new MutationObserver((changes) => {
        window.rewrites += changes.length; }).observe(document.getElementById("status-words"),
        {childList: true, subtree: true, characterData: true}); }""")
    first = page.locator("#status-detail").inner_text()
    expect(page.locator("#status-detail")).not_to_have_text(first, timeout=5000)  # ticking
    assert page.evaluate("window.rewrites") == 0
    announce = page.locator("#phase-announce")
    expect(announce).to_have_attribute("aria-live", "assertive")
    expect(announce).to_contain_text("中心拒绝 / the center refuses")
    expect(announce).to_contain_text("ID number; do not read the card")
    assert page.locator("#phase-now [aria-live], #phase-left[aria-live]").count() == 0
    expect(page.locator("#phase-current")).to_have_attribute("aria-current", "step")
    expect(page.locator("#counters-announce")).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("button", name="启动 Start 故障 fault 人员信息获取失败 / person lookup "
                            "refused", exact=True)).to_be_enabled()
    expect(page.get_by_role("heading", name=re.compile("^故障计划 Fault plan"))).not_to_contain_text(
        "Clear the plan")
    assert page.locator("#drill-state .en").get_attribute("lang") == "en"
