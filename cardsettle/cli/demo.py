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
from rich.console import Console
from rich.table import Table

from cardsettle.cli.errors import OneLineCommand, clean_errors
from cardsettle.cli.options import SEED
from cardsettle.cli.scenario import check_report_dir, run_one
from scenarios.checks import amount, refusal_code
from scenarios.library import library_path
from scenarios.loading import load_scenario
from scenarios.planning import DEPARTMENTS
from scenarios.records import RunResult

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


def _summary(result: RunResult, console: Console) -> None:
    console.rule("[bold]上午小结 / the morning in one screen")
    money = _money(result)
    console.print(f"医疗费 total {money['medfee_sumamt']} 元, 基金 fund {money['fund_pay_sumamt']}, "
                  f"个人账户 account {money['acct_pay']}, 现金 cash {money['psn_cash_pay']} "
                  "(bills in effect)")
    times = sorted(v.system_ms for v in result.visits if v.outcome in ("settled", "partly_refunded"))
    if len(times) >= 2:
        q = statistics.quantiles(times, n=20)
        console.print(f"HIS + insurer time per settled visit: median {statistics.median(times):.0f} ms, "
                      f"95 % {q[18]:.0f} ms (add it to the cashier's own minutes when planning "
                      "windows: cardsettle plan windows)")
    table = Table(title="科室 / by department", title_justify="left")
    for column in ("科室 dept", "visits", "settled", "refused", "walked away", "refusal reasons"):
        table.add_column(column, justify="left" if column in ("科室 dept", "refusal reasons") else "right")
    by_dept: dict[str, list] = {}
    for visit in result.visits:
        by_dept.setdefault(visit.dept, []).append(visit)
    for dept, visits in sorted(by_dept.items()):
        outcomes = Counter(v.outcome for v in visits)
        reasons = Counter(code for v in visits if (code := refusal_code(v)))
        table.add_row(f"{dept} {DEPARTMENTS[dept][0]}", str(len(visits)),
                      str(outcomes["settled"] + outcomes["partly_refunded"]),
                      str(outcomes["refused"]), str(outcomes["cancelled"]),
                      ", ".join(f"{c} {n}" for c, n in reasons.most_common()))
    console.print(table)
    for event in result.events:
        if event["note"]:
            console.print(f"{event['at'][11:16]}  {event['note']}")
    recovered = [v.id for v in result.visits if v.recovered]
    waited = sum(1 for v in result.visits if v.retries)
    console.print(f"lost answers recovered without charging twice: {len(recovered)}; patients who "
                  f"came back after the outage: {waited}")
    verdict = "nothing lost, nothing settled twice, day-end balanced" if result.passed else \
        "SOMETHING IS WRONG — see the failed checks above"
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
    scenario = load_scenario(library_path(DEMO_SCENARIO) or DEMO_SCENARIO)
    if seed is not None:
        scenario = dataclasses.replace(scenario, seed=seed)
    console = Console()
    console.print(f"[bold]cardsettle demo[/bold] — {scenario.title}")
    result = run_one(scenario, out_dir, console=console, progress=console.is_terminal)
    _summary(result, console)
    console.print(f"Next: cardsettle scenario list · docs/scenarios.md · {out_dir}/result.json")
    if not result.passed:
        raise SystemExit(1)
