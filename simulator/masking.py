"""Personal data masked in the evidence a report shows: names, ID and card numbers, person
numbers and e-certificate tokens keep only enough to be recognised by someone who already
knows them (张*, 110101********123X)."""

from __future__ import annotations

from typing import Any

__all__ = ["MASKED_FIELDS", "mask", "mask_text"]

MASKED_FIELDS = frozenset({
    "psn_name", "certno", "mdtrt_cert_no", "psn_cert_no", "card_sn", "card_no", "ec_token",
    "cert_no", "emp_name", "name", "tel", "addr", "psn_no",
})


def mask_text(key: str, value: str) -> str:
    if not value:
        return value
    if key in ("psn_name", "name", "emp_name"):
        return value[0] + "*" * (len(value) - 1)
    keep_head, keep_tail = (6, 2) if len(value) >= 12 else (1, 1)
    if len(value) <= keep_head + keep_tail:
        return "*" * len(value)
    return value[:keep_head] + "*" * (len(value) - keep_head - keep_tail) + value[-keep_tail:]


def mask(value: Any, key: str = "") -> Any:
    """A copy of a JSON-like value with the personal fields masked (any depth)."""
    if isinstance(value, dict):
        return {k: mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, key) for v in value]
    if isinstance(value, str) and key in MASKED_FIELDS:
        return mask_text(key, value)
    return value
