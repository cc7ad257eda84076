"""Pictures of a cash-flow year (PNG bytes): the receivable and the exposure over the year for
both regimes, and the refusal losses by the claims' month and category — and the few things
every finance page shows people the same way: the deduction categories' names
(:data:`CATEGORY_LABELS`, shared with the month runner's refusal analysis), yuan with
thousands separators (:func:`yuan_text`), rates as percentages (:func:`percent_text`).

Labels are bilingual when a CJK font is installed (the window model's font handling,
:mod:`simulator.windows.plots`). Amounts are drawn in yuan (元), or in 10,000 yuan (万元) when
the largest amount on the figure reaches :data:`WAN_FROM`; the figures only display money,
they never compute it (the Decimal values are converted at the last moment).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import matplotlib
from matplotlib.axes import Axes
from matplotlib.dates import DateFormatter, MonthLocator
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from mock_insurer.money import ZERO, parse_decimal, round_money
from simulator.finance.model import REGIMES, YearRun
from simulator.finance.params import CATEGORIES
from simulator.finance.summary import monthly_losses
from simulator.windows.plots import figure_bytes, label, plot_style

__all__ = ["CATEGORY_COLORS", "CATEGORY_LABELS", "CLAIMS_MONTH_LABEL", "PLOT_FILES", "WAN_FROM", "category_text", "exposure_figure",
           "money_axis", "money_unit", "percent_text", "plot_outputs", "refusals_figure",
           "share_text", "yuan_text"]

#: File names of the pictures in the report directory.
PLOT_FILES = {"exposure": "cashflow_exposure.png", "refusals": "cashflow_refusals.png"}

#: The review's deduction categories (docs/review.md, the declaration contract's ``category``)
#: as hospital staff read them: (Chinese, English). The one table of these names: the cash-flow
#: report and the month runner's refusal analysis (scenarios/month/report.py) both use it.
CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "insurance_rules": ("违反医保规定", "insurance rules"),
    "medical_admin": ("医疗/药品管理", "medical and drug administration"),
    "pricing": ("价格违规", "pricing"),
    "personal": ("个人原因", "personal"),
    "declaration": ("申报不符", "declaration"),
}

#: From this many yuan (the largest amount on a figure) the axis is in 万元 (10,000 yuan).
WAN_FROM = Decimal(100_000)
TEN_THOUSAND = Decimal(10_000)

COLORS = {"outstanding": "#1f77b4", "post_payment": "#d62728", "advance_payment": "#2ca02c", "held": "#98df8a"}
#: The one palette of the deduction categories: cashflow_refusals.png and the month runner's
#: refusals-by-month.png (scenarios/month/report.py) both colour a category with it.
CATEGORY_COLORS: dict[str, str] = {
    "insurance_rules": "#c62828", "medical_admin": "#ef6c00", "pricing": "#6a1b9a",
    "personal": "#1565c0", "declaration": "#546e7a",
}

#: The month axis of both refusal-by-month pictures, (Chinese, English): the month the claims
#: arose in, which is the period declared (申报期) — the same month on both pictures.
CLAIMS_MONTH_LABEL = ("费用发生月份（申报期）", "month of the claims (period declared)")

#: The advance is flagged on the exposure figure when it is this many times the largest receivable.
ADVANCE_DWARFS = 10


def category_text(category: str, separator: str = " ") -> str:
    """``"违反医保规定 insurance rules"``: a category as people read it (the code itself when
    it is not one of :data:`CATEGORY_LABELS`)."""
    zh, en = CATEGORY_LABELS.get(category, (category, ""))
    return f"{zh}{separator}{en}" if en else zh


def yuan_text(value: Decimal | str | int | None) -> str:
    """Yuan as people read them: thousands separators, two places, half-up to the cent
    (``"92,007,423.99"``, ``"-6,627,590.35"``); ``"-"`` for ``None`` or an empty string. No unit:
    the caller puts 元 where the layout wants it."""
    if value is None or value == "":
        return "-"
    return f"{round_money(parse_decimal(value)):,.2f}"


def percent_text(rate: Decimal | str | None) -> str:
    """A fraction as a percentage with two places, half-up (``0.006`` → ``"0.60 %"``,
    ``0.000378`` → ``"0.04 %"``, ``0`` → ``"0.00 %"``); ``"-"`` for ``None``. Every finance page
    shows percentages this way."""
    if rate is None or rate == "":
        return "-"
    shown = (parse_decimal(rate) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) + 0
    return f"{shown:.2f} %"


def share_text(part: Decimal | str, whole: Decimal | str) -> str:
    """``part`` as a percentage of ``whole`` (two places, ``"12.50 %"``); ``"-"`` when the
    whole is 0."""
    total = parse_decimal(whole)
    return "-" if not total else percent_text(parse_decimal(part) / total)


def money_unit(amounts: Iterable[Decimal]) -> tuple[Decimal, str, str]:
    """The unit to draw these yuan in: ``(divisor, English, Chinese)`` — 万元 when the largest
    absolute amount reaches :data:`WAN_FROM`, else 元 (so a few yuan are not drawn as 0.0001
    万元)."""
    largest = max((abs(value) for value in amounts), default=ZERO)
    if largest >= WAN_FROM:
        return TEN_THOUSAND, "10,000 yuan", "万元"
    return Decimal(1), "yuan", "元"


def _tick(value: float, _position: float) -> str:
    if abs(value) < 1e-9:
        return "0"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def money_axis(axes: Axes, which: str = "y") -> None:
    """Tick labels of a money axis with thousands separators (``1,250``, ``0.25``)."""
    axis = axes.yaxis if which == "y" else axes.xaxis
    axis.set_major_formatter(FuncFormatter(_tick))


def _scaled(values: Iterable[Decimal], divisor: Decimal) -> list[float]:
    return [float(value / divisor) for value in values]  # plotting only


def exposure_figure(run: YearRun) -> Figure:
    """Top: the outstanding receivable and the advance held; bottom: the exposure of each
    regime. When the advance dwarfs the receivable (e.g. the default advance over a small
    month taken with ``--from-month``) the top panel says so."""
    days = [row.day for row in run.days]
    outstanding = [row.outstanding for row in run.days]
    held = [row.advance_held["advance_payment"] for row in run.days]
    exposures = {regime: [row.exposure[regime] for row in run.days] for regime in REGIMES}
    divisor, unit_en, unit_zh = money_unit([*outstanding, *held, *(v for values in exposures.values() for v in values)])
    level = yuan_text(run.params.daily_level)
    with matplotlib.rc_context(plot_style()):
        figure = Figure(figsize=(12, 7), layout="constrained")
        top, bottom = figure.subplots(2, 1, sharex=True)
        top.plot(days, _scaled(outstanding, divisor), color=COLORS["outstanding"],
                 label=label("outstanding receivable", "应收未收"))
        top.fill_between(days, _scaled(held, divisor), step="post",
                         color=COLORS["held"], alpha=0.6, label=label("advance held", "预付金余额"))
        top.set_ylabel(label(unit_en, unit_zh))
        top.set_title(label("What the insurer owes the hospital", "医保待回款"))
        top.legend(loc="upper left")
        most_owed = max(outstanding, default=ZERO)
        advance = run.params.advance.amount
        if advance > most_owed * ADVANCE_DWARFS:
            top.text(0.5, 0.5, label(
                f"the advance ({yuan_text(advance)} yuan) is far above the largest receivable "
                f"({yuan_text(most_owed)} yuan):\nthe advance is not scaled to these claims — set "
                "advance.base_amount in --params",
                "\n预付金远大于应收未收：预付金未按本年申报规模调整"),
                transform=top.transAxes, ha="center", va="center", fontsize=10,
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#b26a00"})
        for regime, english, chinese, style in (
            ("post_payment", "post-payment", "按月后付", "-"),
            ("advance_payment", "advance payment", "预付金", "--"),
        ):
            bottom.plot(days, _scaled(exposures[regime], divisor), style, color=COLORS[regime],
                        label=label(f"exposure, {english}", f"资金占用（{chinese}）"))
        bottom.axhline(0, color="#7f7f7f", linewidth=0.8)
        bottom.set_ylabel(label(unit_en, unit_zh))
        bottom.set_title(label("Exposure = outstanding − advance held", "资金占用 = 应收未收 − 预付金余额"))
        bottom.legend(loc="upper left")
        for axes in (top, bottom):
            money_axis(axes)
        bottom.xaxis.set_major_locator(MonthLocator())
        bottom.xaxis.set_major_formatter(DateFormatter("%m"))
        bottom.set_xlabel(label(f"month of {run.year}", f"{run.year}年月份"))
        figure.suptitle(f"{run.params.name} — {run.year}, seed {run.seed}; "
                        f"{label('daily level', '日均水平')} {level} 元", fontsize=11)
    return figure


def refusals_figure(run: YearRun) -> Figure:
    """Refusal losses (拒付) per month of the claims, stacked by category (months not yet
    reviewed by 31 December show nothing)."""
    losses = monthly_losses(run)
    months = [month[5:] for month in losses]
    totals = [sum(values.values(), ZERO) for values in losses.values()]
    divisor, unit_en, unit_zh = money_unit(totals)
    with matplotlib.rc_context(plot_style()):
        figure = Figure(figsize=(12, 5), layout="constrained")
        axes = figure.subplots()
        bottoms = [0.0] * len(months)
        for category in CATEGORIES:
            heights = _scaled((values[category] for values in losses.values()), divisor)
            if not any(heights):  # nothing lost for this reason: not in the legend either
                continue
            zh, en = CATEGORY_LABELS[category]
            axes.bar(months, heights, bottom=bottoms, color=CATEGORY_COLORS[category], label=label(en, zh))
            bottoms = [low + high for low, high in zip(bottoms, heights, strict=True)]
        axes.set_ylabel(label(unit_en, unit_zh))
        money_axis(axes)
        zh, en = CLAIMS_MONTH_LABEL
        axes.set_xlabel(label(f"{en}, {run.year} — reviewed within the year",
                              f"{run.year}年{zh}，年内已审核"))
        axes.set_ylim(0, max(max(bottoms) * 1.4, 1.0))
        axes.set_title(label("Refusal losses by reason", "拒付金额（按原因）"))
        if any(bottoms):
            axes.legend(loc="upper left", ncols=3)
    return figure


def plot_outputs(run: YearRun) -> dict[str, bytes]:
    """Each picture's file name and PNG bytes."""
    return {
        PLOT_FILES["exposure"]: figure_bytes(exposure_figure(run), "png"),
        PLOT_FILES["refusals"]: figure_bytes(refusals_figure(run), "png"),
    }
