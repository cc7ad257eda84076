"""Bilingual texts on the pages for hospital staff: ``中文 English`` with the English half marked
``lang="en"`` (the pages are ``zh-CN``), so that a screen reader reads it with an English voice.
One way in for every page maker (the run and month pages, the drill debrief, the load-test
summary, the finance pages); plain ``html`` and ``re`` only, so that importing it costs nothing.
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = ["CHINESE", "bilingual", "both", "english", "lines", "said"]

CHINESE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
"""A Chinese (or full-width) character."""

_HAN = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff]")  # a character, not full-width punctuation
_LATIN = re.compile(r"[ /]+[A-Za-z0-9][\w\s/().,:;'’&+#-]*")
_LETTER = re.compile(r"[A-Za-z]")
_UNIT = " (元 yuan)"


def _e(value: Any) -> str:
    return html.escape(str(value))


def english(text: Any) -> str:
    """English text (escaped) marked as English."""
    return f'<span lang="en">{_e(text)}</span>'


def bilingual(text: str) -> str:
    """``"结果 verdict"`` as HTML with its English half marked as English
    (``结果 <span lang="en">verdict</span>``). The English half is what follows the last Chinese
    character (and a space or `` / ``); failing that, what follows `` / `` (``"对总账 (3201) /
    The insurer's …"``) or the first space behind the last Chinese character (``"就诊ID visit
    (mdtrt_id)"``). A unit at the end, ``(元 yuan)``, is marked too. A text without both halves
    is only escaped."""
    head, unit, tail = text.partition(_UNIT)
    if unit and not tail:
        return f"{bilingual(head)} (元 {english('yuan')})"
    wide = [found.end() for found in CHINESE.finditer(text)]
    if not wide:
        return _e(text)
    end = wide[-1]
    rest = text[end:]
    # right after full-width punctuation English needs no space: "HIS（驱动接口）the HIS"
    glued = rest[:1] not in (" ", "/") and not _HAN.match(text, end - 1)
    if _LATIN.fullmatch(" " + rest if glued else rest) and rest.count("(") == rest.count(")"):
        lead = len(rest) - len(rest.lstrip(" /"))
        return _e(text[:end + lead]) + english(rest[lead:])
    zh, sep, en = text.rpartition(" / ")
    if not (sep and CHINESE.search(zh) and not CHINESE.search(en)):
        space = text.find(" ", wide[-1])
        if space < 0:
            return _e(text)
        zh, sep, en = text[:space], " ", text[space + 1:]
    if not _LETTER.search(en) or en.count("(") != en.count(")"):
        return _e(text)
    return f"{_e(zh)}{sep}{english(en)}"


def _part(text: str) -> str:
    if CHINESE.search(text):
        return bilingual(text)
    return english(text) if _LETTER.search(text) else _e(text)


def said(text: str) -> str:
    """A text said in parts (``"中心宕机 / insurer down: 拒绝连接 connection refused"``, or an
    error from a run): each part (split at ``": "``) with its English marked, a part in English
    alone marked as English."""
    return ": ".join(_part(part) for part in text.split(": "))


def lines(text: str) -> str:
    """Text line by line (instructions): a line in English alone marked as English, a line in
    both languages its English half."""
    return "\n".join(_part(line) for line in text.split("\n"))


def both(zh: str, en: str) -> str:
    """The Chinese, then the English marked as English (either may be missing; escaped)."""
    return " ".join(part for part in (_e(zh) if zh else "", english(en) if en else "") if part)
