"""The load test's summary.html for those who listen, zoom or print (accessibility audit, the
load page's leftovers): its English halves marked lang="en" (the page is zh-CN); at a 320 px
wide screen (400 % zoom) the page itself never scrolls sideways — each wide table scrolls in a
box that a keyboard can reach and that is named in both languages; printed, every table
whole."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.loadtests.test_report import _write, report  # noqa: F401  (a fixture)
from tests.support.lang import chinese_read_as_english, english_read_as_chinese, texts

NAMES = frozenset({"HIS", "locust", "day", "step"})
"""Names read as they are in a Chinese sentence too (the tool, the HIS, the load shapes)."""

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def page(report: Path) -> str:  # noqa: F811
    _write(report)
    return (report / "summary.html").read_text("utf-8")


def test_no_english_is_read_with_a_chinese_voice(page: str) -> None:
    assert page.startswith('<!doctype html><html lang="zh-CN">')
    assert english_read_as_chinese(page, names=NAMES) == []
    assert chinese_read_as_english(page) == []
    english = {text for text, lang, _where in texts(page) if lang == "en"}
    for said in ("Load test result", "PASS", "Duration", "the outpatient day, compressed",
                 "the HIS (driver API)", "one process", "Transactions", "p95 response time",
                 "settle", "total", "Requests/s", "achieved = 80 visits ÷ 30 s."):
        assert said in english, said
    assert '<th>时长 <span lang="en">Duration</span></th>' in page  # Chinese first


def test_a_failed_runs_error_is_marked_as_english(tmp_path: Path) -> None:
    from loadtests.report import write_report
    from tests.loadtests.test_report import STATS_HEAD, _stats_row

    (tmp_path / "locust_stats.csv").write_text(
        ",".join(STATS_HEAD) + "\n" + ",".join(map(str, _stats_row("", "Aggregated", 0, 0, 0,
                                                                    0, 0.0))) + "\n", "utf-8")
    write_report(tmp_path, [], run={"target": "insurer", "duration_s": 30},
                 error="no request was made")
    page = (tmp_path / "summary.html").read_text("utf-8")
    assert '<p class=bad><span lang="en">no request was made</span></p>' in page
    assert english_read_as_chinese(page, names=NAMES) == []


def test_each_table_is_in_a_named_scroll_box_a_keyboard_reaches(page: str) -> None:
    boxes = re.findall(r'<div class="wrap" role="region" tabindex="0" aria-label="([^"]+)">'
                       r"<table", page)
    assert boxes == ["运行参数 / Run", "服务水平 / SLA", "交易 / Transactions"]
    assert page.count("<table") == len(boxes)  # no table outside a box
    for name in boxes:
        assert CHINESE.search(name) and re.search(r"[A-Za-z]{3,}", name), name
    assert ".wrap{overflow-x:auto" in page and ".wrap:focus-visible{outline" in page
    printed = page[page.index("@media print{"):]
    assert re.search(r"\.wrap\{overflow:visible", printed)  # paper does not scroll


@pytest.mark.slow
def test_at_320_px_only_the_boxes_scroll_and_printed_every_table_is_whole(
        page: str, report: Path) -> None:  # noqa: F811
    from tests.support.browser import chromium_page

    with chromium_page() as browser:
        browser.set_viewport_size({"width": 320, "height": 640})
        browser.goto((report / "summary.html").as_uri())
        assert browser.evaluate("document.documentElement.scrollWidth") <= 320  # no page scroll
        scrolling = browser.evaluate("""() => [...document.querySelectorAll('body *')].filter(
            e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible'
            ).map(e => [e.getAttribute('role'), e.tabIndex, e.getAttribute('aria-label')])""")
        assert ["region", 0, "交易 / Transactions"] in scrolling  # 7 columns do not fit 320 px
        assert all(role == "region" and tab == 0 for role, tab, _label in scrolling), scrolling
        # a keyboard reaches the box and scrolls it
        browser.focus('[aria-label="交易 / Transactions"]')
        browser.keyboard.press("ArrowRight")
        browser.keyboard.press("End")
        browser.wait_for_function(  # the scrolling may be smooth: wait for it
            "document.querySelector('[aria-label=\"交易 / Transactions\"]').scrollLeft > 0",
            timeout=5000)
        browser.emulate_media(media="print")
        browser.set_viewport_size({"width": 1032, "height": 700})  # A4 landscape, 12 mm margins
        cut = browser.evaluate("""() => [...document.querySelectorAll('.wrap')].filter(
            box => box.scrollWidth > box.clientWidth + 1).map(box => box.getAttribute(
            'aria-label'))""")
        assert cut == []
