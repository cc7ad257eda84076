"""The plots of a run's page (``report.html``, :mod:`scenarios.page`), as PNG bytes.

``visits_chart``: the visits over the scenario's day by arrival time (business time, the
scenario's clock), stacked by how each ended, with the time a fault of the timeline was active
shaded. ``latency_chart``: the wall-clock milliseconds of the HIS's answers per driver-API
step (``steps[].ms`` of result.json) — measured, so it differs from one run to the next.
Labels are bilingual (:func:`simulator.windows.plots.label`); no date in the images' metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from scenarios.records import RunResult
from scenarios.report import OUTCOME_LABELS

__all__ = ["OUTCOME_COLORS", "OUTCOME_HATCHES", "STEP_NAMES", "fault_spans", "latency_chart", "visits_chart"]

OUTCOME_COLORS = {
    "settled": "#2e7d32", "partly_refunded": "#81c784", "refunded": "#1565c0",
    "cancelled": "#9e9e9e", "refused": "#ef6c00", "unresolved": "#6a1b9a", "error": "#c62828",
    "pending": "#bdbdbd",
}
"""A colour per visit outcome (the page's tables use the same)."""

OUTCOME_HATCHES = {
    "settled": "", "partly_refunded": "..", "refunded": "\\\\", "cancelled": "--",
    "refused": "//", "unresolved": "oo", "error": "xx", "pending": "++",
}
"""A pattern per visit outcome in the plot, so that outcomes differ by more than colour
(settled green and refused orange look alike to red-green colour-blind readers)."""

STEP_NAMES = {
    "identify": ("identify", "读卡识别"), "register": ("register", "挂号"),
    "charge": ("charge", "记账"), "pre_settle": ("pre-settle", "预结算"),
    "settle": ("settle", "结算"), "refund": ("refund", "退费"),
    "cancel": ("cancel", "撤销"), "visit": ("look up the visit", "查询就诊"),
}
"""Each driver-API step of a visit (``steps[].step``) in English and Chinese."""

def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)  # business time: naive, the scenario's clock


def fault_spans(result: RunResult) -> list[tuple[datetime, datetime | None, list[str]]]:
    """``(from, until, fault ids)`` for each timeline event that set faults: active until the
    next event (``None``: to the end of the run). Business time."""
    spans: list[tuple[datetime, datetime | None, list[str]]] = []
    for n, event in enumerate(result.events):
        if event.get("faults"):
            after = result.events[n + 1]["at"] if n + 1 < len(result.events) else None
            spans.append((_at(event["at"]), None if after is None else _at(after),
                          list(event["faults"])))
    return spans


def _bin_minutes(span: timedelta) -> int:
    """Minutes per bar: 10 to 60 within a day, a day for a run over several days."""
    hours = span.total_seconds() / 3600
    return (10 if hours <= 2 else 15 if hours <= 4 else 30 if hours <= 10 else 60
            if hours <= 24 else 24 * 60)


def visits_chart(result: RunResult) -> bytes | None:
    """Stacked bars: visits arriving in each interval (10 to 60 minutes, by the day's span),
    by outcome; faults shaded. ``None`` without visits."""
    if not result.visits:
        return None
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from simulator.windows.plots import figure_bytes, label, plot_style

    first = min(v.at for v in result.visits)
    last = max(v.at for v in result.visits)
    width = _bin_minutes(last - first)
    daily = width == 24 * 60
    start = (first.replace(hour=0, minute=0, second=0, microsecond=0) if daily else
             first.replace(minute=first.minute - first.minute % width, second=0, microsecond=0))
    bins = int((last - start).total_seconds() // (width * 60)) + 1
    counts: dict[str, list[int]] = {}
    for visit in result.visits:
        index = int((visit.at - start).total_seconds() // (width * 60))
        counts.setdefault(visit.outcome, [0] * bins)[index] += 1
    order = [o for o in OUTCOME_COLORS if o in counts] + sorted(set(counts) - set(OUTCOME_COLORS))
    with matplotlib.rc_context(plot_style()):
        figure = Figure(figsize=(9, 3.6))
        axes = figure.subplots()
        minutes = [(width * i) for i in range(bins)]
        bottom = [0] * bins
        for outcome in order:
            chinese, _, english = OUTCOME_LABELS.get(outcome, f"{outcome} {outcome}").partition(" ")
            axes.bar(minutes, counts[outcome], width=width * 0.9, bottom=bottom, align="edge",
                     color=OUTCOME_COLORS.get(outcome, "#757575"),
                     hatch=OUTCOME_HATCHES.get(outcome, ""), edgecolor="white",
                     label=label(english, chinese))
            bottom = [b + c for b, c in zip(bottom, counts[outcome], strict=True)]
        end = width * bins
        for n, (began, until, _ids) in enumerate(fault_spans(result)):
            x0 = (began - start).total_seconds() / 60
            x1 = end if until is None else (until - start).total_seconds() / 60
            axes.axvspan(max(x0, 0), min(max(x1, 0), end), color="#c62828", alpha=0.12,
                         label=label("fault active", "故障期间") if n == 0 else None)
        step = width * max(1, bins // 10)
        ticks = list(range(0, end + 1, step))
        axes.set_xticks(ticks, [(start + timedelta(minutes=t)).strftime(
            "%m-%d" if daily else "%H:%M") for t in ticks])
        axes.set_xlim(0, end)
        axes.set_xlabel(label("arrival day (scenario clock, a bar a day)", "到达日期（场景时间，每天）")
                        if daily else label(f"arrival time (scenario clock, {width}-minute bars)",
                                            f"到达时间（场景时间，每{width}分钟）"))
        axes.set_ylabel(label("visits", "就诊数"))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(label("Visits over the day, by outcome", "全天就诊及结果"))
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=8)
        return figure_bytes(figure, "png")


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency_chart(result: RunResult) -> bytes | None:
    """Bars per driver-API step: median and 95th percentile of the wall-clock milliseconds
    the HIS took to answer. ``None`` when no step was timed."""
    samples: dict[str, list[float]] = {}
    for visit in result.visits:
        for step in visit.steps:
            samples.setdefault(step.step, []).append(step.ms)
    names = [s for s in STEP_NAMES if s in samples] + sorted(set(samples) - set(STEP_NAMES))
    if not names:
        return None
    import matplotlib
    from matplotlib.figure import Figure

    from simulator.windows.plots import figure_bytes, label, plot_style

    with matplotlib.rc_context(plot_style()):
        figure = Figure(figsize=(9, 3.4))
        axes = figure.subplots()
        for offset, (q, english, chinese, color, hatch) in enumerate((
                (0.5, "median: half were faster", "中位数", "#1565c0", ""),
                (0.95, "p95: 95 in 100 were faster", "95%更快", "#ef6c00", "//"))):
            axes.bar([i + (offset - 0.5) * 0.4 for i in range(len(names))],
                     [_percentile(samples[n], q) for n in names], 0.4, color=color,
                     hatch=hatch, edgecolor="white", label=label(english, chinese))
        axes.set_xticks(range(len(names)), [
            label(*STEP_NAMES[n]) if n in STEP_NAMES else n for n in names], fontsize=8,
            rotation=20, ha="right")
        axes.set_ylabel(label("milliseconds (wall clock)", "毫秒（实际时间）"))
        axes.set_title(label("How long the HIS took to answer, per step", "HIS 各步骤响应时间"))
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize=8)
        return figure_bytes(figure, "png")
