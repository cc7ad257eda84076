"""Pictures of a cash-flow year (PNG bytes): the receivable and the exposure over the year for
both regimes, and the refusal losses by the claims' month and category.

Labels are bilingual when a CJK font is installed (the window model's font handling,
:mod:`simulator.windows.plots`). Amounts are drawn in 10,000 yuan (万元); the figures only
display money, they never compute it (the Decimal values are converted at the last moment).
"""

from __future__ import annotations

from decimal import Decimal

import matplotlib
from matplotlib.dates import MonthLocator
from matplotlib.figure import Figure

from simulator.finance.model import YearRun
from simulator.finance.params import CATEGORIES
from simulator.finance.summary import monthly_losses
from simulator.windows.plots import figure_bytes, label, plot_style

__all__ = ["CATEGORY_LABELS", "PLOT_FILES", "exposure_figure", "plot_outputs", "refusals_figure"]

#: File names of the pictures in the report directory.
PLOT_FILES = {"exposure": "cashflow_exposure.png", "refusals": "cashflow_refusals.png"}

#: Bilingual names of the deduction categories (English, Chinese).
CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "insurance_rules": ("insurance rules", "医保政策"),
    "medical_admin": ("medical/drug administration", "医疗及药品管理"),
    "pricing": ("pricing", "价格"),
    "personal": ("personal", "参保人员"),
    "declaration": ("declared ≠ uploaded", "申报不符"),
}

COLORS = {"outstanding": "#1f77b4", "post_payment": "#d62728", "advance_payment": "#2ca02c", "held": "#98df8a"}
CATEGORY_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")
TEN_THOUSAND = Decimal(10_000)


def _wan(value: Decimal) -> float:
    return float(value / TEN_THOUSAND)


def exposure_figure(run: YearRun) -> Figure:
    """Top: the outstanding receivable and the advance held; bottom: the exposure of each regime."""
    days = [row.day for row in run.days]
    with matplotlib.rc_context(plot_style()):
        figure = Figure(figsize=(12, 7), layout="constrained")
        top, bottom = figure.subplots(2, 1, sharex=True)
        top.plot(days, [_wan(row.outstanding) for row in run.days], color=COLORS["outstanding"],
                 label=label("outstanding receivable", "应收未收"))
        top.fill_between(days, [_wan(row.advance_held["advance_payment"]) for row in run.days], step="post",
                         color=COLORS["held"], alpha=0.6, label=label("advance held", "预付金余额"))
        top.set_ylabel(label("10,000 yuan", "万元"))
        top.set_title(label("What the insurer owes the hospital", "医保待回款"))
        top.legend(loc="upper left")
        for regime, english, chinese, style in (
            ("post_payment", "post-payment", "按月后付", "-"),
            ("advance_payment", "advance payment", "预付金", "--"),
        ):
            bottom.plot(days, [_wan(row.exposure[regime]) for row in run.days], style, color=COLORS[regime],
                        label=label(f"exposure, {english}", f"资金占用（{chinese}）"))
        bottom.axhline(0, color="#7f7f7f", linewidth=0.8)
        bottom.set_ylabel(label("10,000 yuan", "万元"))
        bottom.set_title(label("Exposure = outstanding − advance held", "资金占用 = 应收未收 − 预付金余额"))
        bottom.legend(loc="upper left")
        bottom.xaxis.set_major_locator(MonthLocator())
        bottom.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%m"))
        bottom.set_xlabel(label(f"month of {run.year}", f"{run.year}年月份"))
        figure.suptitle(f"{run.params.name} — {run.year}, seed {run.seed}", fontsize=11)
    return figure


def refusals_figure(run: YearRun) -> Figure:
    """Refusal losses (拒付) per month of the claims, stacked by category (months not yet
    reviewed by 31 December show nothing)."""
    losses = monthly_losses(run)
    months = [month[5:] for month in losses]
    with matplotlib.rc_context(plot_style()):
        figure = Figure(figsize=(12, 5), layout="constrained")
        axes = figure.subplots()
        bottoms = [0.0] * len(months)
        for category, color in zip(CATEGORIES, CATEGORY_COLORS, strict=True):
            heights = [_wan(values[category]) for values in losses.values()]
            axes.bar(months, heights, bottom=bottoms, color=color, label=label(*CATEGORY_LABELS[category]))
            bottoms = [low + high for low, high in zip(bottoms, heights, strict=True)]
        axes.set_ylabel(label("10,000 yuan", "万元"))
        axes.set_xlabel(label(f"month of the claims, {run.year} (reviewed within the year)",
                              f"{run.year}年费用发生月份（年内已审核）"))
        axes.set_ylim(0, max(max(bottoms) * 1.4, 1.0))
        axes.set_title(label("Refusal losses by reason", "拒付金额（按原因）"))
        axes.legend(loc="upper left", ncols=3)
    return figure


def plot_outputs(run: YearRun) -> dict[str, bytes]:
    """Each picture's file name and PNG bytes."""
    return {
        PLOT_FILES["exposure"]: figure_bytes(exposure_figure(run), "png"),
        PLOT_FILES["refusals"]: figure_bytes(refusals_figure(run), "png"),
    }
