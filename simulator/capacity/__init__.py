"""Capacity planning on top of the window model (issue 7): Erlang C, the window planner, and
the with/without-card-settlement and trained/new-cashier comparison. Pictures are in
:mod:`simulator.capacity.plots` (imported on its own: it loads matplotlib). See
docs/windows.md.
"""

from simulator.capacity.compare import VARIANTS, compare_plans, comparison_data
from simulator.capacity.erlang import (
    erlang_b,
    erlang_c,
    erlang_c_block,
    mmc_wait,
    mmc_wait_cdf,
    mmc_wait_quantile,
    windows_for_target,
)
from simulator.capacity.planner import Plan, plan_windows

__all__ = [
    "VARIANTS",
    "Plan",
    "compare_plans",
    "comparison_data",
    "erlang_b",
    "erlang_c",
    "erlang_c_block",
    "mmc_wait",
    "mmc_wait_cdf",
    "mmc_wait_quantile",
    "plan_windows",
    "windows_for_target",
]
