"""Turning a part's own errors into one line and an exit code, for every command."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlparse

import click

from mock_insurer.errors import InsurerError
from scenarios.errors import ScenarioError
from simulator.errors import SimulatorError
from simulator.output import NotRegularFileError

__all__ = ["BadInput", "BadInputCommand", "OneLineCommand", "OneLineGroup", "clean_errors",
           "is_http_url", "one_line_errors"]

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Translate the parts' exception roots (and OSError) into click's one-line error: exit 1,
    or 2 for a scenario that cannot run (told apart from one whose expectations failed) and
    for an output that is not a regular file (a device, a named pipe)."""
    try:
        yield
    except NotRegularFileError as exc:  # a device or a pipe where a file is written: bad input
        raise BadInput(str(exc)) from exc
    except (SimulatorError, InsurerError) as exc:
        raise click.ClickException(str(exc)) from exc
    except ScenarioError as exc:  # exit 2: a scenario that cannot run, told apart from one
        failed = click.ClickException(str(exc))  # whose expectations failed (exit 1)
        failed.exit_code = 2
        raise failed from exc
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        raise click.ClickException(f"{exc.strerror or exc}{where}") from exc


def clean_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`one_line_errors` for click commands."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with one_line_errors():
            return func(*args, **kwargs)

    return wrapper


class OneLineCommand(click.Command):
    """A command whose usage errors (a missing option, a value of the wrong type) are one line,
    like every other bad-input error, instead of click's usage block."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise click.ClickException(f"{exc.format_message()} (see --help)") from exc


class OneLineGroup(click.Group):
    """A group whose usage errors (an unknown sub-command) are one line too; its commands and
    sub-groups are one-line too (every group of the CLI is one)."""

    command_class = OneLineCommand
    group_class = type

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            raise click.ClickException(f"{exc.format_message()} (see --help)") from exc


class BadInput(click.ClickException):
    """A bad option of a command whose exit codes tell its outcomes apart (1: the judged
    thing failed): one line, exit 2."""

    exit_code = 2


class BadInputCommand(OneLineCommand):
    """A one-line command whose usage errors exit 2 (:class:`BadInput`), for commands where 1
    means a verdict (a load test's SLA missed, a HIS not certified)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.ClickException as exc:
            raise BadInput(exc.format_message()) from exc


class BadInputGroup(OneLineGroup):
    """A group whose usage errors (an unknown sub-command) and whose commands' usage errors
    (an unknown option, a value out of range) are bad input: one line, exit 2."""

    command_class = BadInputCommand

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.ClickException as exc:
            raise BadInput(exc.format_message()) from exc


def is_http_url(url: str) -> bool:
    """``http(s)://HOST[:PORT]...`` with a port, if any, in 1..65535 — what a ``--...-url``
    option takes."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False
    try:
        port = parsed.port
    except ValueError:  # not a number, or out of range
        return False
    return port is None or port > 0
