"""A CJK font for the tests that check bilingual (Chinese + English) plot labels.

Nothing is skipped: when no Chinese font is installed the helper installs Debian's
``fonts-wqy-microhei`` (CI runs as root); when it cannot, the test errors with the reason.
"""

from __future__ import annotations

import os
import subprocess

__all__ = ["ensure_cjk_font"]

PACKAGE = "fonts-wqy-microhei"


def _has_cjk_font() -> bool:
    try:
        found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True,
                               check=False).stdout
    except FileNotFoundError:
        return False
    return bool(found.strip())


def ensure_cjk_font() -> None:
    if _has_cjk_font():
        return
    if os.geteuid() != 0:
        raise RuntimeError(f"no Chinese font and not root: apt-get install -y {PACKAGE}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", PACKAGE]
    if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=True)
        subprocess.run(install, env=env, capture_output=True, check=True)
    if not _has_cjk_font():
        raise RuntimeError(f"installed {PACKAGE} but fc-list finds no Chinese font")
