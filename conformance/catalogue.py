"""The requirement catalogue (conformance/requirements.yaml): stable IDs, SHALL/SHOULD, the
text, the source, how to fix a failure, and — where there is no test — why; the text, the fix
and the reason also in Chinese (``*_zh``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

__all__ = ["GROUPS", "Requirement", "group_of", "requirements"]


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    level: Literal["SHALL", "SHOULD"]
    text: str
    source: str
    fix: str = ""
    untested: str = ""
    text_zh: str = ""
    fix_zh: str = ""
    untested_zh: str = ""

    @property
    def group(self) -> str:
        return group_of(self.id)


def group_of(requirement_id: str) -> str:
    """``OUT-001`` → ``OUT``."""
    return requirement_id.rsplit("-", 1)[0]


@cache
def _load() -> tuple[Mapping[str, str], Mapping[str, Requirement]]:
    text = resources.files("conformance").joinpath("requirements.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    found = {rid: Requirement(id=rid, level=body["level"], text=body["text"],
                              source=body["source"], fix=body.get("fix", ""),
                              untested=body.get("untested", ""),
                              text_zh=body.get("text_zh", ""), fix_zh=body.get("fix_zh", ""),
                              untested_zh=body.get("untested_zh", ""))
             for rid, body in data["requirements"].items()}
    return dict(data["groups"]), found


def requirements() -> Mapping[str, Requirement]:
    """Every requirement by ID, in catalogue order."""
    return _load()[1]


GROUPS: Mapping[str, str] = _load()[0]
"""Group prefix → its name (中文 / English)."""
