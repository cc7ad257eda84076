"""Finding 2 of the security review in a real browser (headless Debian chromium): a page of
another origin on the insurer's machine posts to the loopback-only admin API as a "simple"
request (``fetch`` with ``no-cors``, ``text/plain``) and is refused; the console's own page
still writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from mock_insurer.gateway import Insurer
from mock_insurer.server import RunningServer, start_in_thread
from tests.support.browser import chromium_page

from .conftest import make_insurer


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/l.db"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Insurer, RunningServer]]:
    """An insurer without an admin token (loopback only) on 127.0.0.1."""
    insurer = make_insurer(tmp_path, token=None)
    try:
        with start_in_thread(insurer) as server:
            yield insurer, server
    finally:
        insurer.close()


@pytest.fixture
def evil() -> Iterator[RunningServer]:
    """Another web server on this machine: a page of another origin."""

    async def page(_request: object) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>evil</title><p>hello</p>")

    with start_in_thread(Starlette(routes=[Route("/", page)])) as server:
        yield server


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium_page() as opened:
        yield opened


def statuses(page: Page, url: str) -> list[int]:
    """The HTTP statuses the browser got for ``url`` (an opaque answer's too)."""
    seen: list[int] = []
    page.on("response", lambda response: seen.append(response.status)
            if response.url == url else None)
    return seen


def test_a_page_of_another_origin_cannot_reset_the_ledger(
        served: tuple[Insurer, RunningServer], evil: RunningServer, page: Page) -> None:
    insurer, server = served
    before = insurer.counts()
    target = f"{server.url}/admin/reset"
    seen = statuses(page, target)
    page.goto(f"{evil.url}/")
    page.evaluate("""async (url) => {
        await fetch(url, {method: "POST", mode: "no-cors", body: "{}",
                          headers: {"Content-Type": "text/plain"}});
    }""", target)
    page.wait_for_timeout(200)
    assert seen == [403]  # the request reached the insurer, which refused it
    assert insurer.counts() == before
    assert before["persons"] > 0


def test_the_console_page_still_writes(served: tuple[Insurer, RunningServer],
                                       page: Page) -> None:
    _insurer, server = served
    page.goto(f"{server.url}/console")
    status = page.evaluate("""async () => {
        const answer = await fetch("/admin/clock", {method: "PUT",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({business_date: "2026-03-09"})});
        return answer.status;
    }""")
    assert status == 200
    assert page.evaluate("""async () => (await (await fetch("/admin/clock")).json())
                            .business_date""") == "2026-03-09"
