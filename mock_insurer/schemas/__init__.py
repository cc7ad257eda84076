"""JSON Schemas (Draft 2020-12) of the envelopes and of every transaction's input and output,
kept as ``*.json`` files beside this module (generated from :mod:`.catalog` by
:mod:`.generate`, checked by a test) and served by the insurer under ``/schemas/``.

Names: ``"envelope.request"``, ``"envelope.answer"``, ``"<infno>.input"``,
``"<infno>.output"`` (``"2207.input"``, ``"2203A.output"`` …). Validation uses
``jsonschema_rs`` (compiled once per schema and cached; about 100× faster than the pure-Python
``jsonschema``, and it takes :class:`~decimal.Decimal` numbers as they are), falling back to
``jsonschema`` when the Rust package is not installed; see docs/adr/0008-schema-validation.md.
Validate values as parsed by :func:`mock_insurer.wire.jsonio.loads` or as built by handlers
(Decimals, ints, strings, ``None``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "SchemaProblem",
    "backend",
    "is_valid",
    "names",
    "schema",
    "schema_bytes",
    "validate",
]

_SUFFIX = ".json"


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One way an instance fails a schema: where (``setlinfo.medfee_sumamt``,
    ``feedetail[2].cnt``; ``""`` for the whole instance), what, and the failing keyword."""

    path: str
    message: str
    keyword: str

    def __str__(self) -> str:
        return f"{self.path or '(root)'}: {self.message}"


@cache
def names() -> tuple[str, ...]:
    """Every schema name, sorted."""
    found = [entry.name[: -len(_SUFFIX)] for entry in resources.files(__name__).iterdir()
             if entry.name.endswith(_SUFFIX)]
    return tuple(sorted(found))


@cache
def schema_bytes(name: str) -> bytes:
    """The file of schema *name*, as served (UTF-8 JSON). KeyError when there is none."""
    if name not in names():
        raise KeyError(f"no schema named {name!r}")
    return resources.files(__name__).joinpath(name + _SUFFIX).read_bytes()


def schema(name: str) -> dict[str, Any]:
    """Schema *name* as a fresh dict (callers may change it). KeyError when there is none."""
    loaded: dict[str, Any] = json.loads(schema_bytes(name))
    return loaded


def _format_path(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


_Check = Callable[[Any], list[SchemaProblem]]
_lock = threading.Lock()
_compiled: dict[str, _Check] = {}


def _compile_rs(document: dict[str, Any]) -> _Check:
    import jsonschema_rs

    validator = jsonschema_rs.Draft202012Validator(document)

    def check(instance: Any) -> list[SchemaProblem]:
        return [SchemaProblem(_format_path(error.instance_path), error.message,
                              type(error.kind).__name__.lower())
                for error in validator.iter_errors(instance)]

    return check


def _compile_py(document: dict[str, Any]) -> _Check:
    import jsonschema

    validator = jsonschema.Draft202012Validator(document)

    def check(instance: Any) -> list[SchemaProblem]:
        problems = []
        for error in validator.iter_errors(instance):
            best = jsonschema.exceptions.best_match(error.context) if error.context else error
            problems.append(SchemaProblem(_format_path(best.absolute_path), best.message,
                                          str(best.validator)))
        return problems

    return check


@cache
def backend() -> str:
    """``"jsonschema_rs"`` when installed, else ``"jsonschema"``."""
    try:
        import jsonschema_rs  # noqa: F401
    except ImportError:
        return "jsonschema"
    return "jsonschema_rs"


def _checker(name: str) -> _Check:
    check = _compiled.get(name)
    if check is None:
        with _lock:
            check = _compiled.get(name)
            if check is None:
                compile_ = _compile_rs if backend() == "jsonschema_rs" else _compile_py
                check = compile_(schema(name))
                _compiled[name] = check
    return check


def validate(name: str, instance: Any) -> list[SchemaProblem]:
    """Every problem of *instance* against schema *name*, sorted by path (empty: valid)."""
    problems = _checker(name)(instance)
    return sorted(problems, key=lambda p: (p.path, p.keyword, p.message))


def is_valid(name: str, instance: Any) -> bool:
    """Whether *instance* is valid against schema *name*."""
    return not _checker(name)(instance)
