"""WCAG 2.x contrast of two CSS colours (#rgb or #rrggbb), for the tests of the pages' styles:
text needs 4.5:1 against its background (AA), large or bold-large text 3:1."""

from __future__ import annotations

__all__ = ["AA", "contrast"]

AA = 4.5
"""The least contrast of normal-size text (WCAG 2.x, 1.4.3)."""


def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    """The contrast ratio, 1.0 to 21.0."""
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
