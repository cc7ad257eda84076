"""The ``Content-Disposition`` header of a file answer (9102), RFC 6266.

``attachment; filename="<name>"`` for a plain ASCII name; a name with other characters (a HIS
uploads ``对账明细.zip``) gets an ASCII stand-in in ``filename`` (each other character as
``_``, for clients that read only that) and the name itself in ``filename*``, UTF-8 and
percent-encoded (RFC 8187), which RFC 6266 clients prefer.
"""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["content_disposition"]

_UNSAFE = frozenset('"\\')


def content_disposition(filename: str) -> bytes:
    """The header's value (Latin-1 bytes, as ASGI sends headers) for a file named *filename*;
    a path in it is reduced to its last part, control characters are dropped."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f") or "download"
    fallback = "".join(ch if ch.isascii() and ch not in _UNSAFE else "_" for ch in name)
    value = f'attachment; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value.encode("latin-1")
