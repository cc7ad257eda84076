"""The run's page and the debrief for those who listen, magnify or print (the accessibility
audit): the checks said in Chinese and English, the English halves marked as English, the
evidence columns named in both languages, every folded section printed open, grey text dark
enough to read."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from scenarios.checks import outcomes
from scenarios.page import bilingual, render_page
from tests.scenarios.test_page import _sample
from tests.support.contrast import AA, contrast

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_a_check_says_what_failed_in_chinese_then_english() -> None:
    result = _sample()
    check = outcomes(SimpleNamespace(result=result), {"settled": 3})  # type: ignore[arg-type]
    zh, _, en = check.summary.partition(" / ")
    assert CHINESE.search(zh) and en == "1 outcome count(s) differ (settled 1, refused 3)"
    result.checks = [check]
    page = render_page(result)
    assert f"<td>{check.summary}</td>" in page  # the column "说明 what was checked"
    assert '<th>其他结果的就诊 <span lang="en">other outcomes</span></th>' in page  # evidence


def test_the_english_halves_are_marked_as_english() -> None:
    assert bilingual("结果 verdict") == '结果 <span lang="en">verdict</span>'
    assert bilingual("检查 / Checks") == '检查 / <span lang="en">Checks</span>'
    assert bilingual("plain") == "plain" and bilingual("中文") == "中文"
    assert bilingual("日期 date (场景时间 scenario clock)") == "日期 date (场景时间 scenario clock)"
    page = render_page(_sample())
    assert '<h2>检查 / <span lang="en">Checks</span></h2>' in page
    assert '<th>结果 <span lang="en">verdict</span></th>' in page


def test_grey_text_is_dark_enough() -> None:
    page = render_page(_sample())
    code = re.search(r"\.code\{color:(#\w+)", page)
    assert code and contrast(code[1], "#fff") >= AA
    from scenarios.drills import report as debrief

    source = Path(debrief.__file__).read_text("utf-8")
    for colour in re.findall(r"(?:small|span\.na)\{color:(#\w+)\}", source):
        assert contrast(colour, "#fff") >= AA, colour


@pytest.mark.slow
def test_printed_the_visits_are_open_and_nothing_is_cut(tmp_path: Path) -> None:
    from tests.support.browser import chromium_page

    path = tmp_path / "report.html"
    path.write_text(render_page(_sample()), "utf-8")
    with chromium_page() as page:
        page.set_viewport_size({"width": 794, "height": 1123})
        page.goto(path.as_uri())
        visits = page.locator("details table.data")
        assert not visits.is_visible()  # folded on screen
        page.emulate_media(media="print")
        assert visits.is_visible()
        cut = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e =>
            e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
            .length""")
        assert cut == 0
