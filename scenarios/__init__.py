"""Scenario scripts (YAML: population, arrivals, items, fault timeline, expectations) and the
runner that executes one against a HIS through the HIS driver API or in the SimPy window model.

Not built yet: arrives with the issue "The reference HIS, the HIS driver API, and scenario
scripts".
"""

__all__: list[str] = []
