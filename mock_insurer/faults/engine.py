"""Matching messages against the fault plan: which fault (if any) hits this message.

The gateway builds one :class:`MessageFacts` per incoming message and asks
:meth:`FaultEngine.match`; it checks :attr:`FaultEngine.has_active` first and skips the whole
layer when no fault is armed. The engine only decides; applying an effect is the gateway's
(with :mod:`mock_insurer.faults.effects` for what touches the connection).

Determinism: every random draw comes from generators seeded from the plan's ``seed`` and the
fault's id — one for the probability selector, one for delays — so the same plan and the same
sequence of messages give the same hits and the same delays, and adding a fault does not
change the draws of the others. Counters (``first`` N, hits) are per engine, that is per
insurer process: with several worker processes each counts its own.

Thread-safety: :meth:`match`, :meth:`set_plan`, :meth:`set_active`, :meth:`clear` and
:meth:`stats` may be called from any thread (the admin API edits the plan while the gateway
matches); one lock guards the mutable state.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from dataclasses import dataclass
from datetime import datetime

from mock_insurer.faults.plan import Delay, Effect, Fault, FaultPlan

__all__ = ["FaultEngine", "Hit", "MessageFacts"]


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What the fault layer may select on, for one incoming message.

    ``business_time`` is the insurer's business clock when the message arrived (naive, the
    same clock as the plan's windows), not the wall clock.
    """

    infno: str
    fixmedins_code: str
    psn_no: str | None
    msgid: str
    business_time: datetime


@dataclass(frozen=True, slots=True)
class Hit:
    """The fault that hit a message: its id and name (for the message record), its effect,
    and for a ``delay`` effect the delay drawn for this message in milliseconds (wall clock);
    ``None`` for every other effect."""

    fault_id: str
    fault_name: str
    effect: Effect
    delay_ms: float | None = None


class _FaultState:
    """A fault of the current plan with its counters and generators."""

    __slots__ = ("delay_rng", "fault", "hits", "rng")

    def __init__(self, fault: Fault, seed: int) -> None:
        self.fault = fault
        self.hits = 0
        self.rng = random.Random(f"{seed}:{fault.id}:probability")
        self.delay_rng = random.Random(f"{seed}:{fault.id}:delay")


class FaultEngine:
    """Holds the fault plan and matches messages against it (see the module docstring)."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self._plan = FaultPlan()
        self._states: tuple[_FaultState, ...] = ()
        self._has_active = False
        self.set_plan(plan if plan is not None else FaultPlan())

    # --- the plan -----------------------------------------------------------------------

    def set_plan(self, plan: FaultPlan) -> None:
        """Replace the plan; counters, hit statistics and generators start afresh."""
        states = tuple(_FaultState(fault, plan.seed) for fault in plan.faults)
        with self._lock:
            self._plan = plan
            self._states = states
            self._has_active = any(fault.active for fault in plan.faults)

    def clear(self) -> None:
        """Remove every fault (an empty plan, same as a fresh engine)."""
        self.set_plan(FaultPlan())

    def plan(self) -> FaultPlan:
        """The current plan, with each fault's ``active`` as it is now."""
        with self._lock:
            return self._plan

    def set_active(self, fault_id: str, active: bool) -> bool:
        """Arm or disarm one fault, keeping its counters; ``False`` if no fault has that id."""
        with self._lock:
            for state in self._states:
                if state.fault.id == fault_id:
                    state.fault = dataclasses.replace(state.fault, active=active)
                    self._plan = self._plan.with_active(fault_id, active)
                    self._has_active = any(s.fault.active for s in self._states)
                    return True
            return False

    @property
    def has_active(self) -> bool:
        """Whether any fault is armed; when ``False`` the gateway can skip the layer."""
        return self._has_active

    def stats(self) -> dict[str, int]:
        """Hits so far per fault id (every fault of the plan, in plan order)."""
        with self._lock:
            return {state.fault.id: state.hits for state in self._states}

    # --- matching -----------------------------------------------------------------------

    def match(self, facts: MessageFacts) -> Hit | None:
        """The first active fault, in plan order, whose selectors all match ``facts``.

        Order of checks per fault: the code lists and the window; then ``first`` (a fault
        that has had its N hits is skipped); then the probability draw. A hit counts towards
        ``first`` and the statistics. Faults after the one that hit are not looked at (their
        draws and counters do not move).
        """
        if not self._has_active:
            return None
        with self._lock:
            for state in self._states:
                fault = state.fault
                if not fault.active:
                    continue
                selector = fault.match
                if selector.infno is not None and facts.infno not in selector.infno:
                    continue
                if (
                    selector.fixmedins_code is not None
                    and facts.fixmedins_code not in selector.fixmedins_code
                ):
                    continue
                if selector.psn_no is not None and (
                    facts.psn_no is None or facts.psn_no not in selector.psn_no
                ):
                    continue
                if selector.window is not None and not selector.window.contains(
                    facts.business_time
                ):
                    continue
                if selector.first is not None and state.hits >= selector.first:
                    continue
                if selector.probability is not None and not (
                    state.rng.random() < selector.probability
                ):
                    continue
                state.hits += 1
                effect = fault.effect
                delay_ms = effect.draw_ms(state.delay_rng) if isinstance(effect, Delay) else None
                return Hit(fault.id, fault.name, effect, delay_ms)
        return None
