"""Reading query and path values of admin requests: each reader names what it read.

Every problem raises :class:`~mock_insurer.admin.errors.BadRequest` with ``where`` set to the
parameter (``limit``, ``path.psn_no``), so the caller sees what to fix. The constraints here are
the ones the OpenAPI description (``openapi.yaml``) states, and nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from mock_insurer.admin.errors import BadRequest

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_TEXT",
    "Query",
    "path_text",
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_TEXT = 100
"""Longest text accepted in a query filter or path value (characters)."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_INTEGER = re.compile(r"[0-9]{1,18}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _clean_text(value: str, where: str) -> str:
    if len(value) > MAX_TEXT:
        raise BadRequest(f"{where} is longer than {MAX_TEXT} characters", where=where)
    if _CONTROL.search(value):
        raise BadRequest(f"{where} contains a control character", where=where)
    return value


def path_text(params: Mapping[str, str], name: str) -> str:
    """A path parameter's text (at most :data:`MAX_TEXT` characters, no control character)."""
    return _clean_text(str(params.get(name, "")), f"path.{name}")


@dataclass(frozen=True, slots=True)
class Query:
    """The query parameters of one request (the last value wins when one is repeated)."""

    values: Mapping[str, str]

    def text(self, name: str) -> str | None:
        """An optional filter: ``None`` when absent or empty."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        return _clean_text(value, name)

    def choice(self, name: str, choices: tuple[str, ...]) -> str | None:
        value = self.text(name)
        if value is not None and value not in choices:
            raise BadRequest(f"{name} must be one of {', '.join(choices)} (got {value!r})",
                             where=name)
        return value

    def choices(self, name: str, choices: tuple[str, ...]) -> tuple[str, ...]:
        """An optional list of ``choices`` joined by commas (``refused,failed``), without
        spaces; ``()`` when absent or empty. A value named twice counts once."""
        value = self.text(name)
        if value is None:
            return ()
        items = value.split(",")
        for item in items:
            if item not in choices:
                joined = ", ".join(choices)
                raise BadRequest(f"{name} must be one of {joined}, or several of them joined by "
                                 f"commas, e.g. {choices[-2]},{choices[-1]} (got {value!r})",
                                 where=name)
        return tuple(choice for choice in choices if choice in items)

    def integer(self, name: str, default: int, *, minimum: int = 0,
                maximum: int | None = None) -> int:
        """A whole number in ``[minimum, maximum]``; ``default`` when absent."""
        raw = self.values.get(name)
        if raw is None:
            return default
        if not _INTEGER.fullmatch(raw):
            raise BadRequest(f"{name} must be a whole number (got {raw[:MAX_TEXT]!r})",
                             where=name)
        value = int(raw)
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            raise BadRequest(f"{name} must be at least {minimum}{upper} (got {value})",
                             where=name)
        return value

    def limit(self) -> int:
        """``limit``: 1 to :data:`MAX_LIMIT`, default :data:`DEFAULT_LIMIT`."""
        return self.integer("limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)

    def offset(self) -> int:
        return self.integer("offset", 0)

    def day(self, name: str) -> str | None:
        """An optional business date ``YYYY-MM-DD`` (returned as that text)."""
        raw = self.values.get(name)
        if raw is None or raw == "":
            return None
        if not _DATE.fullmatch(raw):
            raise BadRequest(f"{name} must be a date YYYY-MM-DD (got {raw[:MAX_TEXT]!r})",
                             where=name)
        try:
            date.fromisoformat(raw)
        except ValueError:
            raise BadRequest(f"{name} is not a calendar date (got {raw!r})",
                             where=name) from None
        return raw
