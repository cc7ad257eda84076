"""What the client can send: its settings and the values in an envelope, checked before
anything leaves (a configuration or input mistake is a
:class:`~mock_insurer.client.errors.RequestNotSent` naming the setting or the field, never
a network error of unknown effect). Gateway header values are checked in
:mod:`mock_insurer.client.auth`.

Money must be exact (STYLE.md, habit 3): a float anywhere in an envelope is refused, as are
NaN and infinite Decimals, with the field's path (``input.feedetail[0].pric``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from mock_insurer.client.errors import RequestNotSent

__all__ = ["endpoint", "timeout_problem", "unsendable"]


def endpoint(base_url: object, path: str) -> str:
    """``base_url`` + ``path``, or :class:`RequestNotSent` naming what is wrong with it."""
    def refuse(why: str) -> RequestNotSent:
        return RequestNotSent(f"base_url {base_url!r} {why}; expected http://host:port or "
                              "https://host:port", field="base_url")

    if not isinstance(base_url, str) or not base_url.strip():
        raise refuse("is empty")
    if base_url != base_url.strip():
        raise refuse("has spaces at the start or end")
    parts = urlsplit(base_url)
    if parts.scheme.lower() not in ("http", "https"):
        raise refuse("has no scheme" if not parts.scheme or "://" not in base_url
                     else f"has the scheme {parts.scheme!r}")
    if not parts.hostname:
        raise refuse("names no host")
    try:
        parts.port  # noqa: B018  (raises for a port that is not a number in range)
    except ValueError:
        raise refuse("has a bad port") from None
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def timeout_problem(timeout: object) -> str | None:
    """What makes *timeout* (seconds) unusable, or ``None``: a positive finite number."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        return f"timeout {timeout!r} is not a number of seconds"
    if not math.isfinite(timeout) or timeout <= 0:
        return f"timeout {timeout!r} must be a positive number of seconds"
    return None


def unsendable(value: Any, path: str) -> tuple[str, str] | None:
    """The first value under *value* that cannot be sent exactly: ``(path, why)``."""
    if isinstance(value, float):
        return path, (f"is a float ({value!r}); floats are not exact — send money as a Decimal "
                      "quantized to two places (mock_insurer.money.round_money), or as text")
    if isinstance(value, Decimal):
        return None if value.is_finite() else (path, f"is {value!r}, not a finite number")
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return path, "holds a lone surrogate, which UTF-8 cannot carry"
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if not isinstance(key, str):
                return where, f"has the key {key!r}, which is not text"
            found = unsendable(item, where)
            if found is not None:
                return found
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            found = unsendable(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None
