"""A month (or several) from window to repayment: the visits of a month, day-ends, the HIS's declaration,
the insurer's review and payment, the HIS's matching of the payment — and the refusal analysis
(docs/finance.md, "A month from window to repayment")."""

from scenarios.month.report import write_month_report
from scenarios.month.run import (
    MonthPlan,
    MonthRun,
    MonthSession,
    run_month,
    run_months,
    working_days,
)

__all__ = ["MonthPlan", "MonthRun", "MonthSession", "run_month", "run_months", "working_days",
           "write_month_report"]
