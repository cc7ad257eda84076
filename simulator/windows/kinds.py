"""Patient kinds at the cashier window and their shares of the arrivals.

A kind is data (see ``defaults.yaml``): its share of the patients who come to the window, the
steps the cashier goes through for it with card settlement (``steps``) and without it
(``steps_without_card``: before card settlement an insured patient paid everything and claimed
later), whether the insurer's refusal sends the patient on to the insurance desk
(``referred``), and optionally its own steps for when the insurer is down and the window
switches to full self-pay (``fallback_steps``; the scenario's ``fallback.steps`` otherwise).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["KindPicker", "PatientKind"]


@dataclass(frozen=True, slots=True)
class PatientKind:
    """One kind of patient at the window; ``share`` is a weight (shares are normalised)."""

    name: str
    label: str
    share: float
    steps: tuple[str, ...]
    steps_without_card: tuple[str, ...]
    fallback_steps: tuple[str, ...] | None = None
    referred: bool = False
    source: str = "assumption"


@dataclass(frozen=True, slots=True)
class KindPicker:
    """Draws a kind index from the shares: ``pick(u)`` for ``u`` uniform in [0, 1)."""

    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, kinds: Sequence[PatientKind]) -> KindPicker:
        total = sum(kind.share for kind in kinds)
        running = 0.0
        cumulative = []
        for kind in kinds:
            running += kind.share / total
            cumulative.append(running)
        return cls(tuple(cumulative))

    def pick(self, u: float) -> int:
        return min(bisect_right(self.cumulative, u), len(self.cumulative) - 1)
