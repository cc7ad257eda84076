"""Failure drills (docs/drills.md): a drill script — phases in wall-clock time with names and
instructions for staff, faults that start and stop, optional injected patients — run against
the insurer the staff's HIS points at (``cardsettle drill run``), then a debrief of what was
lost, left open or left unreconciled, in yuan.

A drill compiles to a scenario (:mod:`scenarios.model`) whose timeline is the phases and whose
arrivals are the injected patients, and runs on the scenario runner, waiting for the wall clock
(scaled by ``accelerate``) instead of jumping through business time.
"""

__all__: list[str] = []
