"""``cardsettle demo``: the main job on embedded defaults — a short, realistic morning at a
hospital's cashier windows, end to end: the mock insurer and the reference HIS started on
127.0.0.1, a couple of hundred visits (refusals, a refund, a lost answer, a short outage),
day-end reconciliation, and a summary an IT lead reads in one screen.

It is the library scenario ``demo-morning`` (scenarios/library/demo-morning.yaml).
"""

from __future__ import annotations

import dataclasses
import statistics
from collections import Counter
from decimal import Decimal
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cardsettle.cli.errors import OneLineCommand, clean_errors
from cardsettle.cli.options import SEED
from cardsettle.cli.outputs import check_output_dir, make_output_dir
from cardsettle.cli.scenario import RUN_FILES, check_report_dir, run_one
from cardsettle.cli.terminal import new_console
from mock_insurer.money import render
from scenarios.checks import amount, refusal_code
from scenarios.library import library_path
from scenarios.loading import load_scenario
from scenarios.planning import DEPARTMENTS
from scenarios.records import RunResult, VisitRecord
from scenarios.report import refusal_label

__all__ = ["demo"]

DEMO_SCENARIO = "demo-morning"


def _money(result: RunResult) -> dict[str, Decimal]:
    totals = dict.fromkeys(("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay"),
                           Decimal("0.00"))
    for visit in result.visits:
        for slip in (visit.bill,) if visit.outcome in ("settled", "partly_refunded") else ():
            for key in totals:
                totals[key] += amount((slip or {}).get("amounts", {}).get(key)) or 0
    return totals


def _yuan(value: Decimal) -> str:
    """``"7,450.07 元"``: two places, thousands separators (money stays Decimal)."""
    return f"{Decimal(render(value)):,.2f} 元"


def _reasons(visits: list[VisitRecord]) -> Text:
    """Each refusal reason of a department on its own line: 中文 English and the count."""
    reasons = Counter(code for v in visits if (code := refusal_code(v)))
    return Text("\n".join(f"{refusal_label(c)} {n}" for c, n in reasons.most_common()))


COLUMNS = ("科室\ndept", "就诊\nvisits", "结算\nsettled", "退费\nrefunded", "拒绝\nrefused",
           "离开\nwalked\naway", "拒绝原因\nrefusal reasons")
"""The department table's headers (中文 over English)."""


def _summary(result: RunResult, console: Console) -> None:
    console.rule("[bold]上午小结 / the morning in one screen")
    money = _money(result)
    console.print(f"医疗费 total {_yuan(money['medfee_sumamt'])}, 基金 fund "
                  f"{_yuan(money['fund_pay_sumamt'])}, 个人账户 account {_yuan(money['acct_pay'])},"
                  f" 现金 cash {_yuan(money['psn_cash_pay'])} (有效票据 bills in effect)",
                  markup=False, highlight=False)
    times = sorted(v.system_ms for v in result.visits if v.outcome in ("settled", "partly_refunded"))
    if len(times) >= 2:
        q = statistics.quantiles(times, n=20)
        console.print(f"每笔结算系统耗时 HIS + insurer time per settled visit: 中位数 median "
                      f"{statistics.median(times):,.0f} ms, 95% {q[18]:,.0f} ms (规划窗口时加到收费员"
                      "自己的操作时间上 add it to the cashier's own minutes when planning "
                      "windows: cardsettle plan windows)",
                      markup=False, highlight=False)
    table = Table(title="按科室 / by department", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    table.add_column(COLUMNS[0], no_wrap=True)
    for column in COLUMNS[1:-1]:
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column(COLUMNS[-1], overflow="fold", ratio=1)
    by_dept: dict[str, list[VisitRecord]] = {}
    for visit in result.visits:
        by_dept.setdefault(visit.dept, []).append(visit)
    for dept, visits in sorted(by_dept.items()):
        outcomes = Counter(v.outcome for v in visits)
        table.add_row(f"{dept} {DEPARTMENTS[dept][0]}", f"{len(visits):,}",
                      f"{outcomes['settled'] + outcomes['partly_refunded']:,}",
                      f"{outcomes['refunded']:,}", f"{outcomes['refused']:,}",
                      f"{outcomes['cancelled']:,}", _reasons(visits))
    console.print(table)
    for event in result.events:
        if event["note"]:
            console.print(f"{event['at'][11:16]}  {event['note']}", markup=False, highlight=False)
    recovered = [v.id for v in result.visits if v.recovered]
    waited = sum(1 for v in result.visits if v.retries)
    console.print(f"应答丢失后恢复、未重复收费 lost answers recovered without charging twice: "
                  f"{len(recovered)}; 中断后再来 patients who came back after the outage: {waited}")
    verdict = ("无遗漏、无重复结算、日终对平 nothing lost, nothing settled twice, day-end balanced"
               if result.passed else
               "出现问题 SOMETHING IS WRONG — see the failed checks above 见上方未通过的检查")
    console.print(f"[bold]{verdict}[/bold]")


@click.command(cls=OneLineCommand)
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out/demo"), show_default=True,
              help="Directory for result.json, the generated data and both databases.")
@click.option("--seed", type=SEED, default=None, help="Seed (default: the scenario's).")
@clean_errors
def demo(out_dir: Path, seed: int | None) -> None:
    """Run the main job on embedded defaults: a morning at the cashier windows, end to end
    (mock insurer + reference HIS + a couple of hundred visits), and its summary."""
    check_report_dir(out_dir)
    check_output_dir("--out", out_dir, RUN_FILES)
    scenario = load_scenario(library_path(DEMO_SCENARIO) or DEMO_SCENARIO)
    if seed is not None:
        scenario = dataclasses.replace(scenario, seed=seed)
    made = make_output_dir("--out", out_dir)
    console = new_console()
    console.print(f"[bold]cardsettle demo[/bold] — {scenario.title}")
    result = run_one(scenario, out_dir, console=console, progress=console.is_terminal,
                     option="--out", made=made)
    _summary(result, console)
    console.print(f"下一步 Next: cardsettle scenario list · docs/scenarios.md · {out_dir}/result.json")
    if not result.passed:
        raise SystemExit(1)
