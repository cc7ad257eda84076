"""The drill debrief for those who listen (accessibility audit, the debrief's leftovers): the
page is Chinese (zh-CN) and every English half — headings, table headers, the counts of each
phase, the reasons patients left, the notes, the English lines of the instructions — is
marked lang="en", so that a screen reader reads it with an English voice; Chinese still
comes first."""

from __future__ import annotations

import pytest

from scenarios.drills.debrief import Debrief
from scenarios.drills.report import render_html
from tests.scenarios.test_drill_debrief_patients import slow  # noqa: F401  (a fixture)
from tests.scenarios.test_drill_report import _debrief
from tests.support.lang import chinese_read_as_english, english_read_as_chinese, texts

NAMES = frozenset({"HIS"})
"""Names read as they are in a Chinese sentence too."""


@pytest.fixture(scope="module")
def pages(slow: Debrief) -> dict[str, str]:  # noqa: F811
    """A debrief without the patients' side (and a day-end with a group), and one with
    patients who left unsettled, the HIS's reasons and a fault in the last phase."""
    return {"insurer only": render_html(_debrief(), b""), "patients": render_html(slow, b"")}


@pytest.mark.parametrize("which", ["insurer only", "patients"])
def test_no_english_is_read_with_a_chinese_voice(pages: dict[str, str], which: str) -> None:
    page = pages[which]
    assert page.startswith('<!doctype html><html lang="zh-CN">')
    assert english_read_as_chinese(page, names=NAMES) == []
    assert chinese_read_as_english(page) == []  # a mark never takes the Chinese with it


def test_the_english_halves_are_marked_where_people_meet_them(pages: dict[str, str]) -> None:
    english = {text for text, lang, _where in texts(pages["insurer only"]) if lang == "en"}
    for said in ("Drill debrief", "money at risk", "settled twice", "Phases", "answered",
                 "no answer", "connection refused", "insurer down", "Charge as usual.",
                 "Settled twice", "visit (mdtrt_id)", "extra", "yuan", "drill seconds",
                 "Day-end reconciliation", "balanced", "insurance type",
                 "employees' basic medical insurance", "none"):
        assert said in english, said
    english = {text for text, lang, _where in texts(pages["patients"]) if lang == "en"}
    for said in ("came", "turned away", "the HIS timed out (the insurer answered too late)",
                 "identify", "messages without an answer", "reversals sent",
                 "Patients who left without a settlement", "patient", "why",
                 "the drill ended during the fault (no later phase to recover in)"):
        assert said in english, said


def test_chinese_comes_first(pages: dict[str, str]) -> None:
    page = pages["insurer only"]
    assert '<h2>各阶段 / <span lang="en">Phases</span></h2>' in page
    assert '<th title="mdtrt_id">就诊ID <span lang="en">visit (mdtrt_id)</span></th>' in page
    assert '<span class="count">成功 40 <span lang="en">answered</span></span>' in page
    assert "多结算金额 <span lang=\"en\">extra</span> (元 <span lang=\"en\">yuan</span>)" in page
