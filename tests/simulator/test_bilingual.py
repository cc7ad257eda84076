"""One way of marking the English half of the pages' bilingual texts (simulator.bilingual),
used by every page maker: what a screen reader reads with an English voice."""

from __future__ import annotations

import pytest

from simulator.bilingual import bilingual, both, lines, said


@pytest.mark.parametrize(("text", "html"), [
    ("结果 verdict", '结果 <span lang="en">verdict</span>'),
    ("检查 / Checks", '检查 / <span lang="en">Checks</span>'),
    ("HIS（驱动接口）the HIS (driver API)", 'HIS（驱动接口）<span lang="en">the HIS (driver API)</span>'),
    ("就诊ID visit (mdtrt_id)", '就诊ID <span lang="en">visit (mdtrt_id)</span>'),
    ("对总账 (3201) / The insurer's totals",
     '对总账 (3201) / <span lang="en">The insurer&#x27;s totals</span>'),
    ("金额 (元 yuan)", '金额 (元 <span lang="en">yuan</span>)'),
    ("只有中文", "只有中文"),
    ("English <only>", "English &lt;only&gt;"),
])
def test_the_english_half_is_marked(text: str, html: str) -> None:
    assert bilingual(text) == html


def test_texts_in_parts_and_lines() -> None:
    assert said("中心宕机 / insurer down: HTTP 500") == (
        '中心宕机 / <span lang="en">insurer down</span>: <span lang="en">HTTP 500</span>')
    assert lines("请重试 retry\nwait\n123") == (
        '请重试 <span lang="en">retry</span>\n<span lang="en">wait</span>\n123')
    assert both("秒", "seconds") == '秒 <span lang="en">seconds</span>'
    assert both("秒", "") == "秒"
