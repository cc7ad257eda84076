"""The before/after comparison the field asks for: windows needed with and without card
settlement, with trained and with new cashiers.

Four plans of the same day (same arrivals, same seeds), each by :func:`plan_windows`:

=========================  ==================  ===========================================
variant                    card settlement     cashiers
=========================  ==================  ===========================================
``card_trained``           yes (``steps``)     all trained (skill multiplier ``trained``)
``card_new``               yes                 all new (skill multiplier ``new``)
``no_card_trained``        no (``steps_without_card``: pay in full, claim later)  all trained
``no_card_new``            no                  all new
=========================  ==================  ===========================================

The differences in window-hours answer "what does card settlement cost at the windows" and
"what does training save".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.capacity.planner import Plan, plan_windows
from simulator.windows.runs import default_workers, worker_pool
from simulator.windows.scenario import Scenario

__all__ = ["VARIANTS", "compare_plans", "comparison_data"]

#: (name, card settlement, share of new cashiers, English label, Chinese label)
VARIANTS: tuple[tuple[str, bool, float, str, str], ...] = (
    ("card_trained", True, 0.0, "card settlement, trained cashiers", "持卡结算，熟练收费员"),
    ("card_new", True, 1.0, "card settlement, new cashiers", "持卡结算，新收费员"),
    ("no_card_trained", False, 0.0, "no card settlement, trained cashiers", "无持卡结算，熟练收费员"),
    ("no_card_new", False, 1.0, "no card settlement, new cashiers", "无持卡结算，新收费员"),
)


def compare_plans(
    scenario: Scenario,
    *,
    seed: int,
    replications: int,
    workers: int | None = None,
    max_windows: int = 200,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Plan]:
    """The four plans of :data:`VARIANTS`, by name."""
    plans: dict[str, Plan] = {}
    count = min(workers or default_workers(), replications)
    pool = worker_pool(count) if count > 1 else None
    try:
        for name, card, new_share, english, _ in VARIANTS:
            if on_progress is not None:
                on_progress(f"planning: {english}")
            plans[name] = plan_windows(
                scenario.with_card_settlement(card), seed=seed, replications=replications, new_share=new_share,
                max_windows=max_windows, workers=workers, on_progress=on_progress, pool=pool,
            )
    finally:
        if pool is not None:
            pool.shutdown()
    return plans


def comparison_data(plans: dict[str, Plan]) -> dict[str, Any]:
    """JSON-ready: per hour the windows of each variant, the totals, and the differences."""
    labels = {name: (english, chinese) for name, _, _, english, chinese in VARIANTS}
    hours = sorted({hour for plan in plans.values() for hour in plan.windows})
    totals = {name: plan.window_hours for name, plan in plans.items()}
    return {
        "variants": {
            name: {
                "label": labels[name][0],
                "label_zh": labels[name][1],
                "window_hours": plan.window_hours,
                "met": plan.met,
                "unmet_hours": [f"{hour:02d}:00" for hour in plan.unmet_hours],
                "mean_service_minutes": plan.report["scenario"]["mean_service_minutes_expected"],
                "wait_p90": plan.report["wait_minutes"]["p90"],
                "utilization": plan.report["utilization"],
            }
            for name, plan in plans.items()
        },
        "hours": [
            {"hour": f"{hour:02d}:00", **{name: plan.windows.get(hour, 0) for name, plan in plans.items()}}
            for hour in hours
        ],
        "card_settlement_adds_window_hours": {
            "trained": totals["card_trained"] - totals["no_card_trained"],
            "new": totals["card_new"] - totals["no_card_new"],
        },
        "training_saves_window_hours": {
            "with_card": totals["card_new"] - totals["card_trained"],
            "without_card": totals["no_card_new"] - totals["no_card_trained"],
        },
    }
