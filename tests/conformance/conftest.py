"""Fixtures for the conformance package's tests: the reference HIS's rig (a real mock insurer
and a HIS — the reference or a mutant — behind its driver API), re-exported from
tests/simulator/his/conftest.py."""

from __future__ import annotations

from tests.simulator.his.conftest import make_rig

__all__ = ["make_rig"]
