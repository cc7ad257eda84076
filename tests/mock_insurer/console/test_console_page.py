"""The console's files: served publicly with the right types, nothing from elsewhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mock_insurer.console import ASSETS
from mock_insurer.gateway import Insurer
from tests.mock_insurer.admin.conftest import make_insurer
from tests.support.contrast import AA, contrast


@pytest.fixture
def anonymous(tmp_path: Path) -> Iterator[TestClient]:
    """A client with no admin token, of an insurer that has one."""
    insurer: Insurer = make_insurer(tmp_path, token="secret")
    yield TestClient(insurer)
    insurer.close()


@pytest.mark.parametrize("path", ["/console", "/console/"])
def test_the_page_is_public_html_that_loads_only_its_own_files(anonymous: TestClient,
                                                              path: str) -> None:
    answer = anonymous.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    page = answer.text
    assert "演练控制台" in page and "Drill console" in page
    sources = [s for s in re.findall(r'(?:src|href)="([^"]+)"', page)
               if not s.startswith("data:")]
    assert sources == ["/console/console.css", "/console/console.js"]
    # its icon is in the page: the browser asks no /favicon.ico (a 404 in its console each load)
    assert re.search(r'<link rel="icon" href="data:image/svg\+xml,', page)
    for needed in ('id="feed"', 'id="faults"', 'id="phases"', 'id="counter-settled"',
                   'id="token-form"', 'id="phase-instructions"'):
        assert needed in page
    assert anonymous.get("/admin/drill").status_code == 401  # the data are not public


SCRIPTS = ["console.js", "api.js", "text.js", "panels.js", "feed.js"]
"""The page's JavaScript modules: console.js is the entry, it imports the others."""


@pytest.mark.parametrize(("name", "media_type"), [
    *[(name, "text/javascript; charset=utf-8") for name in SCRIPTS],
    ("console.css", "text/css; charset=utf-8")])
def test_the_assets_are_served_with_their_types(anonymous: TestClient, name: str,
                                                media_type: str) -> None:
    answer = anonymous.get(f"/console/{name}")
    assert answer.status_code == 200 and answer.headers["content-type"] == media_type
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.content == (Path(__file__).parents[3] / "mock_insurer" / "console"
                              / name).read_bytes()
    assert set(ASSETS) == {"console.html", "console.css", *SCRIPTS}


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_scripts_use_no_cdn_and_no_html_injection(anonymous: TestClient, name: str) -> None:
    script = anonymous.get(f"/console/{name}").text
    assert "http://" not in script and "https://" not in script
    assert "innerHTML" not in script and "eval(" not in script
    imported = re.findall(r'from "\./([a-z]+\.js)";', script)
    assert set(imported) <= set(SCRIPTS) - {"console.js"}  # only the page's own modules


def test_transaction_names_for_the_feed(anonymous: TestClient) -> None:
    answer = anonymous.get("/console/transactions.json")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    names = answer.json()
    assert names["2207"]["zh"] == "门诊结算" and names["1101"]["zh"] == "人员信息获取"


def test_other_console_paths_are_not_found_and_posts_do_not_reach_the_gateway(
        anonymous: TestClient) -> None:
    assert anonymous.get("/console/console.html").status_code == 404
    assert anonymous.post("/console").status_code == 405


CONSOLE = Path(__file__).parents[3] / "mock_insurer" / "console"


def test_colours_and_languages_for_those_who_magnify_or_listen() -> None:
    """The refused result and counter reach WCAG AA (4.5:1) on their backgrounds, a button's
    English half is not faded below it, every English half is marked lang="en", and the narrow
    layout hides the table headers from sight only (screen readers keep the column names)."""
    css = (CONSOLE / "console.css").read_text("utf-8")
    refused = re.search(r"--refused:\s*(#\w+)", css)
    row = re.search(r"#feed tr\.result-refused \{ background: (#\w+)", css)
    assert refused and row
    assert contrast(refused[1], row[1]) >= AA and contrast(refused[1], "#fff") >= AA
    button = re.search(r"button \.en \{([^}]*)\}", css)
    assert button and "opacity" not in button[1]
    narrow = css[css.index("@media (max-width: 900px) {\n  main { padding"):]
    assert "thead { display: none" not in narrow and "clip-path: inset(50%)" in narrow
    page = (CONSOLE / "console.html").read_text("utf-8")
    assert page.count('<span class="en">') == 0 and page.count('<span class="en" lang="en">') > 40
    assert 'el("span", { class: "en", lang: "en" }, en)' in (CONSOLE / "text.js").read_text("utf-8")
