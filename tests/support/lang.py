"""Which language a screen reader reads each text of a page in, for the tests of the pages'
``lang`` marks: the page is ``<html lang="zh-CN">`` and its English halves sit in elements
with ``lang="en"``; a text takes the ``lang`` of its nearest element that has one."""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["chinese_read_as_english", "english_read_as_chinese", "texts"]

_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "source", "track", "wbr"})
_CHINESE = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None, str]] = []  # (tag, lang, class)
        self.found: list[tuple[str, str, tuple[str, ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        given = dict(attrs)
        self.stack.append((tag, given.get("lang"), given.get("class") or ""))

    def handle_endtag(self, tag: str) -> None:
        for n in range(len(self.stack) - 1, -1, -1):  # tolerate an element left open
            if self.stack[n][0] == tag:
                del self.stack[n:]
                return

    def handle_data(self, data: str) -> None:
        if not data.strip():
            return
        lang = next((given for _tag, given, _css in reversed(self.stack) if given), "")
        where = tuple(f"{tag}.{css}" if css else tag for tag, _lang, css in self.stack)
        self.found.append((data, lang, where))


def texts(page: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """Every text of the page's body: ``(text, lang, elements around it)`` (``lang`` as a
    screen reader takes it; elements as ``tag`` or ``tag.class``)."""
    parser = _Texts()
    parser.feed(page)
    parser.close()
    return [found for found in parser.found if "body" in found[2]]


def english_read_as_chinese(page: str, *, names: frozenset[str] = frozenset(),
                            inside: tuple[str, ...] = ("code", "small.code")) -> list[str]:
    """The words of English a screen reader would read with a Chinese voice: words of three
    letters or more in a text not in ``lang="en"`` — but ``names`` (``HIS``, ``locust``),
    codes and ids (``psn3``, ``mdtrt_id``), addresses and file names, and the texts in an
    element of ``inside`` (codes, ids)."""
    words = []
    for text, lang, where in texts(page):
        if lang.startswith("en") or any(element in inside for element in where):
            continue
        text = re.sub(r"\S+://\S*|\S+\.(?:html|csv|png|json)\b", " ", text)  # addresses, files
        words += [word.strip("'’-") for word in re.findall(r"[\w'’-]+", text, re.ASCII)
                  if not re.search(r"[\d_]", word)  # a code or an id: psn3, mdtrt_id
                  and len(word.strip("'’-")) >= 3 and word.strip("'’-") not in names]
    return words


def chinese_read_as_english(page: str) -> list[str]:
    """Texts in ``lang="en"`` that have Chinese in them (a mark around too much)."""
    return [text for text, lang, _where in texts(page)
            if lang.startswith("en") and _CHINESE.search(text)]
