"""The ``cardsettle`` command line: one entry point, sub-commands grouped by part.

Each part's commands live in their own module here and translate the part's own exception
root into one clear line and a non-zero exit (never a traceback).
"""

from __future__ import annotations

import click

from cardsettle import __version__
from cardsettle.cli.certify import certify
from cardsettle.cli.demo import demo
from cardsettle.cli.drill import drill
from cardsettle.cli.errors import OneLineGroup
from cardsettle.cli.finance import finance
from cardsettle.cli.generate import generate
from cardsettle.cli.his import his
from cardsettle.cli.insurer import insurer
from cardsettle.cli.load import load
from cardsettle.cli.policy import policy
from cardsettle.cli.scenario import scenario
from cardsettle.cli.terminal import tolerate_narrow_encodings
from cardsettle.cli.windows import plan, simulate

__all__ = ["main"]


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="cardsettle")
def main() -> None:
    """cardsettle: a simulation and conformance harness for card-based real-time outpatient
    settlement (持卡就医、实时结算) between a hospital information system and an insurer center.

    \b
    Parts:
      generate   synthetic persons, cards, institutions, catalogue
      insurer    the mock insurer center (national interface)
      policy     policy profiles: run a region's worked cases
      his        the reference HIS (serves the HIS driver API)
      simulate   the cashier-window model (SimPy)
      plan       window plans per hour that meet a wait target
      scenario   scenario scripts run against a HIS and the insurer
      certify    the conformance suite and the certification report
      drill      failure drills for hospital staff, and their debrief
      load       peak-hour load tests (locust) against an SLA
      finance    after the window: a month to repayment, the year's cash flow
      demo       the main job on embedded defaults
    """
    tolerate_narrow_encodings()


main.add_command(generate)
main.add_command(insurer)
main.add_command(policy)
main.add_command(demo)
main.add_command(his)
main.add_command(simulate)
main.add_command(plan)
main.add_command(scenario)
main.add_command(certify)
main.add_command(drill)
main.add_command(load)
main.add_command(finance)
