"""Locustfiles and load shapes for peak outpatient hours, against the insurer directly or end to
end through a HIS's driver API.

Not built yet: arrives with the issue "Peak-hour load tests, the performance baseline, and scale
beyond one machine".
"""

__all__: list[str] = []
