"""Identity edge cases: their labels, default rates, how rates are given, and how a cashier's
typed form is derived from the insurer's record.

Each person carries the labels of the edge cases it exhibits in ``edge_cases``; a label's rate
is the probability that a person carries it. The four *name kinds* (``name_outside_gbk``,
``name_middle_dot``, ``name_long``, ``compound_surname``) are exclusive (a person's name is of
one kind at most), so their rates must add up to at most 1. docs/generator.md explains each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

import yaml

from simulator.errors import DataFileError, InvalidArgumentError

__all__ = [
    "DEFAULT_EDGE_RATES",
    "EDGE_CASE_LABELS",
    "FULLWIDTH_DIGITS",
    "NAME_KINDS",
    "SPACE_PATTERNS",
    "check_rate",
    "load_edge_rates_file",
    "parse_edge_rate",
    "resolve_edge_rates",
    "to_fullwidth_digits",
    "untype_certno",
]

#: Every label, in the order they appear in a record's ``edge_cases``.
EDGE_CASE_LABELS: tuple[str, ...] = (
    "name_outside_gbk",
    "name_middle_dot",
    "name_long",
    "compound_surname",
    "certno_lowercase_x",
    "fullwidth_digits",
    "typed_spaces",
    "twin",
    "replaced_card",
)

#: The exclusive name kinds (at most one per person).
NAME_KINDS: tuple[str, ...] = EDGE_CASE_LABELS[:4]

#: Default rates: small, but common enough that a few thousand persons hold every case.
DEFAULT_EDGE_RATES: Mapping[str, float] = MappingProxyType(
    {
        "name_outside_gbk": 0.005,
        "name_middle_dot": 0.01,
        "name_long": 0.005,
        "compound_surname": 0.01,
        "certno_lowercase_x": 0.02,
        "fullwidth_digits": 0.01,
        "typed_spaces": 0.02,
        "twin": 0.01,
        "replaced_card": 0.03,
    }
)

#: Full-width forms of the ASCII digits (U+FF10..U+FF19), as an IME in full-width mode types them.
FULLWIDTH_DIGITS = str.maketrans({str(d): chr(0xFF10 + d) for d in range(10)})
_ASCII_DIGITS = str.maketrans({chr(0xFF10 + d): str(d) for d in range(10)})

#: (leading, trailing) padding a typed field with ``typed_spaces`` gets; never both empty.
SPACE_PATTERNS: tuple[tuple[str, str], ...] = ((" ", ""), ("", " "), (" ", " "), ("  ", ""), ("", "  "))


def to_fullwidth_digits(text: str) -> str:
    """``text`` with ASCII digits replaced by full-width digits (other characters kept)."""
    return text.translate(FULLWIDTH_DIGITS)


def untype_certno(typed: str) -> str:
    """Undo every typed-form edge case of an ID number: spaces, full-width digits, lower-case x."""
    return typed.strip(" ").translate(_ASCII_DIGITS).replace("x", "X")


def parse_edge_rate(text: str) -> tuple[str, float]:
    """Parse ``LABEL=RATE`` (the ``--edge-rate`` option)."""
    label, sep, value = text.partition("=")
    if not sep:
        raise InvalidArgumentError(f"--edge-rate: expected LABEL=RATE, got {text!r}")
    return label.strip(), check_rate(value.strip(), f"--edge-rate {label.strip()}")


def load_edge_rates_file(path: str | Path) -> dict[str, float]:
    """Read a YAML mapping ``label: rate`` (the ``--edge-rates-file`` option)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataFileError(f"cannot read edge rates file {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise DataFileError(f"edge rates file {path}: not a UTF-8 text file") from None
    except yaml.YAMLError as exc:
        raise DataFileError(f"edge rates file {path}: not valid YAML{_yaml_problem(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DataFileError(f"edge rates file {path}: expected a mapping label: rate")
    return {str(k): check_rate(v, f"{path}: {k}") for k, v in data.items()}


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """`` at line L, column C: problem`` of a YAML error, on one line."""
    mark = getattr(exc, "problem_mark", None)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{at}: {problem}"


def check_rate(value: object, where: str) -> float:
    """``value`` as a probability in 0..1, or :class:`InvalidArgumentError` naming ``where``."""
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{where}: rate must be a number in 0..1, got {value!r}")
    try:
        rate = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{where}: rate must be a number in 0..1, got {value!r}") from None
    if not 0.0 <= rate <= 1.0:
        raise InvalidArgumentError(f"{where}: rate must be in 0..1, got {value}")
    return rate


def resolve_edge_rates(*layers: Mapping[str, float] | Iterable[tuple[str, float]]) -> dict[str, float]:
    """The defaults overridden by each layer in turn (e.g. the rates file, then ``--edge-rate``).

    Raises :class:`InvalidArgumentError` for an unknown label, a rate outside 0..1, or name-kind
    rates adding up to more than 1.
    """
    rates = dict(DEFAULT_EDGE_RATES)
    for layer in layers:
        items = layer.items() if isinstance(layer, Mapping) else layer
        for label, rate in items:
            if label not in rates:
                known = ", ".join(EDGE_CASE_LABELS)
                raise InvalidArgumentError(f"unknown edge-case label {label!r} (known: {known})")
            rates[label] = check_rate(rate, f"edge-case rate {label}")
    name_total = sum(rates[kind] for kind in NAME_KINDS)
    if name_total > 1.0 + 1e-12:
        raise InvalidArgumentError(
            f"the name edge-case rates ({', '.join(NAME_KINDS)}) add up to {name_total:g}; "
            "a name is of one kind at most, so they must add up to at most 1"
        )
    return rates
