"""report.html as a vendor's engineer and a hospital's IT read it (conformance/report.py
``render_html``): 中文 English badges that do not wrap, `names` as code, evidence as a capped
table, the messages exchanged folded away, and report.json left as it was."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conformance.report import BADGES, EVIDENCE_ROWS, render_html
from tests.support.browser import chromium_page
from tests.support.contrast import AA, contrast


def message(n: int) -> dict[str, Any]:
    return {"scenario": "lost-answer-2207", "infno": "2207", "msgid": f"H1101090000120260302{n:010d}",
            "biz_time": "2026-03-02 08:00:07", "infcode": 0, "rejection_code": None,
            "err_msg": None, "fault": {"id": "lose", "effect": "lose_answer"} if n == 0 else None,
            "deviations": [], "input": {"data": {"psn_no": "110000****22", "lines": list(range(200))}},
            "output": {"setlinfo": {f"field_{i}": "1.00" for i in range(60)}}}


def report(evidence: list[Any]) -> dict[str, Any]:
    failing = {"nodeid": "test_outage.py::test_lost", "name": "test_lost_settlement_answers",
               "requirements": ["OUT-001"], "outcome": "fail",
               "message": "lost-answer-2207: 2 visit(s) settled twice", "evidence": evidence,
               "scenarios": ["lost-answer-2207"], "seconds": 0.1,
               "messages": [message(n) for n in range(12)]}
    rows = [{"id": "OUT-001", "group": "OUT", "level": "SHALL", "outcome": "fail",
             "text": "The patient is settled once within `window_seconds`.", "source": "facts §7",
             "fix": "Send `infver` in every envelope.", "untested": None,
             "tests": [failing["nodeid"]]},
            {"id": "MSG-001", "group": "MSG", "level": "SHOULD", "outcome": "not run",
             "text": "The `input` validates.", "source": "spec", "fix": "", "untested": None,
             "tests": []}]
    return {"tool": "cardsettle certify", "version": "1", "profile": {"name": "default"},
            "his": {"label": "mutant blind-resend", "url": None, "info": {"name": "ref"}},
            "insurer": {"url": "embedded"}, "only": ["OUT"], "certified": False,
            "verdict": "not certified", "failing_shall": ["OUT-001"],
            "counts": {"fail": 1, "not run": 1}, "seconds": 1.5, "requirements": rows,
            "tests": [failing], "scenarios": {}}


def settled_twice(n: int) -> list[dict[str, Any]]:
    return [{"scenario": "lost-answer-2207", "check": "exactly_once", "mdtrt_id": f"30000{i}",
             "psn_no": f"110000****{i:02d}",
             "settlements": [{"setl_id": f"4000{i}{k}", "medfee_sumamt": "53.20",
                              "setl_time": "2026-03-02 08:00:07"} for k in range(2)]}
            for i in range(n)]


def test_badges_are_bilingual_and_do_not_wrap() -> None:
    page = render_html(report(settled_twice(2)))
    for code in ("not certified", "fail", "not run"):
        assert BADGES[code] in page
    assert '<span class="badge not-run" title="not run">未运行 not run</span>' in page
    assert re.search(r"\.badge\{[^}]*white-space:nowrap", page)
    assert "编号 ID" in page and "必须 SHALL" in page and "应当 SHOULD" in page


def test_backticked_names_are_code() -> None:
    page = render_html(report(settled_twice(2)))
    assert "<code>window_seconds</code>" in page and "<code>input</code>" in page
    assert "<code>infver</code>" in page and "`" not in page


def test_evidence_is_a_capped_table_with_what_every_row_shares_said_once() -> None:
    page = render_html(report(settled_twice(EVIDENCE_ROWS + 7)))
    assert '<table class="data"><tr><th>mdtrt_id</th><th>psn_no</th><th>settlements</th>' in page
    assert "检查 check: 只结算一次 exactly once" in page
    assert "另有 7 条未显示 and 7 more" in page and "report.json" in page
    assert page.count("<th>setl_id</th>") == EVIDENCE_ROWS


def test_evidence_that_is_not_rows_is_pretty_json() -> None:
    page = render_html(report([{"nested": {"deep": {"deeper": {"deepest": 1}}}}]))
    assert "<pre>[\n {\n  &quot;nested&quot;" in page
    assert "<pre>[\n &quot;a line&quot;" in render_html(report(["a line", "another"]))


def test_messages_are_folded_with_one_line_each() -> None:
    page = render_html(report(settled_twice(2)))
    assert '<details class="messages"><summary>相关报文 messages exchanged (12;' in page
    assert "2207 门诊结算" in page and "应答丢失 answer lost" in page and "成功 ok" in page


@pytest.mark.slow
def test_a_failure_with_much_evidence_stays_short_in_a_browser(tmp_path: Path) -> None:
    """The audit saw one failure about 39,000 px tall: now the evidence is capped and the
    messages are folded until clicked."""
    path = tmp_path / "report.html"
    path.write_text(render_html(report(settled_twice(500))), "utf-8")
    with chromium_page() as page:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(path.resolve().as_uri())
        height = page.locator("#OUT-001").bounding_box()["height"]  # type: ignore[index]
        assert height < 3000, height
        assert not page.locator("details.messages table.data").is_visible()
        page.locator("details.messages > summary").click()
        assert page.locator("details.messages table.data").is_visible()
        badge = page.locator("#summary .badge.not-run").first.bounding_box()
        assert badge is not None and badge["height"] < 40, "one line"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, width


def with_outcome(outcome: str, message: str) -> dict[str, Any]:
    data = report(settled_twice(2))
    data["tests"][0].update(outcome=outcome, message=message)
    data["requirements"][0]["outcome"] = outcome
    data["counts"] = {outcome: 1, "not run": 1}
    return data


def test_findings_are_listed_first_with_links_to_their_requirement() -> None:
    page = render_html(with_outcome("fail", "lost-answer-2207: 2 visit(s) settled twice"))
    findings = page.index('<ul id="findings">')
    assert findings < page.index('<table id="summary">')
    assert '<li><a href="#OUT-001">OUT-001</a> <span class="badge fail"' in page
    assert "lost-answer-2207: 2 visit(s) settled twice</li>" in page
    assert 'SHALL requirements not met: <b><a href="#OUT-001">OUT-001</a>' in page


def test_a_requirement_not_judged_is_not_given_its_fix() -> None:
    """An error (the HIS's driver API broke) is not the requirement's failure: telling the
    vendor to fix their settlement logic for it would send them the wrong way."""
    page = render_html(with_outcome("error", "HisDriverError: scenario lost-answer-2207, visit "
                                             "am-0001 (identify): ..."))
    assert "how to fix" not in page and "<code>infver</code>" not in page
    assert "未能判定 not judged" in page and "fix what the finding names, then run again" in page


@pytest.mark.slow
@pytest.mark.parametrize("outcome", ["pass", "error", "fail", "skip"])
def test_a_requirement_block_is_dark_text_on_a_light_background(tmp_path: Path,
                                                                 outcome: str) -> None:
    """The blocks of passed and errored requirements used to take the badge's colour as
    their background: dark text on solid green or purple."""
    path = tmp_path / "report.html"
    path.write_text(render_html(with_outcome(outcome, "x")), "utf-8")
    with chromium_page() as page:
        page.goto(path.resolve().as_uri())
        background = page.evaluate(
            "getComputedStyle(document.getElementById('OUT-001')).backgroundColor")
        channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
        assert background == "rgba(0, 0, 0, 0)" or min(channels) > 200, background
        badge = page.evaluate("getComputedStyle(document.querySelector("
                              "'#OUT-001 .badge')).backgroundColor")
        assert badge != background


def test_requirement_texts_and_fixes_are_chinese_then_english_marked_as_english() -> None:
    data = with_outcome("fail", "lost-answer-2207: 2 visit(s) settled twice")
    data["requirements"][0].update(text_zh="患者在 `window_seconds` 内结算一次。",
                                   fix_zh="每条报文头都发送 `infver`。")
    page = render_html(data)
    said = ('患者在 <code>window_seconds</code> 内结算一次。<br><span class="en-text" lang="en">'
            "The patient is settled once within <code>window_seconds</code>.</span>")
    assert page.count(said) == 2  # in the table of every requirement and in its block
    assert ('如何修复 how to fix: 每条报文头都发送 <code>infver</code>。<br><span class="en-text" '
            'lang="en">Send <code>infver</code> in every envelope.</span>') in page
    finding = page[page.index('<ul id="findings">'):page.index("</ul>")]
    assert "患者在 <code>window_seconds</code> 内结算一次。<br>lost-answer-2207" in finding
    # a report.json written before the Chinese texts still renders, in English
    assert "The <code>input</code> validates.</td>" in page


def test_the_page_prints_whole_and_its_colours_are_readable() -> None:
    """Printed, folded tests and messages are open and nothing is cut in a scroll box; the
    table of every requirement scrolls in its own box on a narrow screen; the partial-run
    badge and the grey codes reach WCAG AA (4.5:1)."""
    page = render_html(report(settled_twice(2)))
    printed = page[page.index("@media print{"):]
    assert "details::details-content{content-visibility:visible" in printed
    assert re.search(r"\.scroll\{overflow:visible", printed.replace(".wide,.wrap,", ""))
    assert re.search(r'<div class="scroll" role="region" tabindex="0" aria-label="[^"]+">'
                     r'<table id="summary">', page)
    badge = re.search(r"\.badge\.partial-run\{background:(#\w+)\}", page)
    code = re.search(r"\.code\{color:(#\w+)", page)
    assert badge and code
    assert contrast("#fff", badge[1]) >= AA and contrast(code[1], "#fff5f5") >= AA


@pytest.mark.slow
def test_printed_the_folded_details_are_open(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(render_html(report(settled_twice(3))), "utf-8")
    with chromium_page() as page:
        page.goto(path.resolve().as_uri())
        rows = page.locator("details.messages table.data")
        assert not rows.is_visible()
        page.emulate_media(media="print")
        assert rows.is_visible()
