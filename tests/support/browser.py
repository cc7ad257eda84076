"""A real headless browser for tests: Debian's chromium (installed with apt-get when missing —
CI must not skip a browser test), driven by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Page, sync_playwright

__all__ = ["chromium_page"]


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("chromium is missing and this user cannot install it "
                           "(apt-get install -y chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "chromium"], check=True, env=env,
                   capture_output=True)
    found = shutil.which("chromium")
    if found is None:
        raise RuntimeError("apt-get installed chromium but it is not on PATH")
    return found


@contextmanager
def chromium_page() -> Iterator[Page]:
    """A page of a headless Chromium (Debian's), closed afterwards."""
    executable = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            yield page
        finally:
            browser.close()
