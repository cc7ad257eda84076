"""``cardsettle policy ...``: a region's own policy profile and its worked cases."""

from __future__ import annotations

from pathlib import Path

import click

from cardsettle.cli.errors import BadInput, BadInputGroup
from mock_insurer.policy import CaseFileError, ProfileError, load_profile
from mock_insurer.policy.worked_cases import CaseResult, run_case_file

__all__ = ["policy"]


@click.group(cls=BadInputGroup)
def policy() -> None:
    """Policy profiles and their worked cases (docs/policy.md)."""


@policy.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--policy", "profile", metavar="NAME|FILE", default=None,
              help="Run every case with this profile (a packaged one's name or a YAML file) "
                   "instead of the one each case names.")
def cases(files: tuple[Path, ...], profile: str | None) -> None:
    """Run worked cases (mock_insurer/policy/cases/README.md) and print each one's result.

    Exit 0 when every case holds, 1 when an amount differs from what a case expects, 2 when
    a case file (or the profile) cannot be run.
    """
    if profile is not None:
        try:
            load_profile(profile)
        except ProfileError as exc:
            raise BadInput(str(exc)) from exc
    held = failed = broken = 0
    for path in files:
        try:
            result = run_case_file(path, profile)
        except CaseFileError as exc:
            broken += 1
            click.echo(f"ERROR   {exc}")
            continue
        if result.ok:
            held += 1
            click.echo(f"ok      {path}: {result.title} ({_settlements(result)}; profile "
                       f"{result.profile})")
        else:
            failed += 1
            for line in result.mismatches:
                click.echo(f"FAILED  {line}")
    click.echo(f"{len(files)} case file{'s' if len(files) != 1 else ''}: {held} held, "
               f"{failed} failed, {broken} could not run")
    if broken or failed:
        raise SystemExit(2 if broken else 1)


def _settlements(result: CaseResult) -> str:
    count = len(result.outcomes)
    return f"{count} settlement{'s' if count != 1 else ''}"
