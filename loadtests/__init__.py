"""Locustfiles and load shapes for peak outpatient hours, against the insurer directly
(:mod:`loadtests.insurer_direct`) or end to end through a HIS's driver API
(:mod:`loadtests.his_e2e`); the shapes (:mod:`loadtests.shapes`), the SLA as data
(:mod:`loadtests.sla`) and the one-page report (:mod:`loadtests.report`).

docs/loadtests.md is the guide; `cardsettle load` runs it all headless.
"""

__all__: list[str] = []
