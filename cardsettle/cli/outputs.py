"""Where a command writes: its output options checked before anything runs, and a run's
directory left as it was found when the run cannot go on.

Every error is one line naming the option, exit 2 (:class:`~cardsettle.cli.errors.BadInput`):

- ``--out -`` or a target that is a device or a named pipe: ``--out PATH: not a regular file``
  (the writers rename a finished file over their target, which would replace it with a plain
  file; :func:`simulator.output.check_target` is the one check, here and in every writer);
- a file a command writes into its directory that is not a regular file:
  ``--report DIR: DIR/result.json is not a regular file``;
- a directory that cannot be created: ``--report /proc/x: cannot write there (No such file or
  directory)``.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import click

from cardsettle.cli.errors import BadInput
from scenarios.errors import HarnessError
from simulator.output import NotRegularFileError, check_target

__all__ = ["check_output_dir", "check_output_files", "make_output_dir", "undone_on_failure"]

STDOUT = "-"
"""What many tools read as "standard output"; no command here writes there."""


def check_output_files(option: str, given: Path, targets: Iterable[Path] | None = None, *,
                       error: type[click.ClickException] = BadInput) -> None:
    """Refuse ``given`` (the option's value) as ``-``, and each of ``targets`` (default: ``given``
    itself) that exists and is not a regular file. A directory where a file is written is left
    to the writer's own ``it is a directory``. ``error``: what is raised (:class:`BadInput`,
    exit 2; ``click.ClickException``, exit 1, for the commands whose bad input exits 1)."""
    if str(given) == STDOUT:
        raise error(f"{option} {STDOUT}: not a regular file (nothing is written to standard "
                       "output: give a path)")
    for target in (given,) if targets is None else targets:
        try:
            check_target(target)
        except NotRegularFileError as exc:
            if target == given:
                raise error(f"{option} {given}: not a regular file") from exc
            raise error(f"{option} {given}: {target} is not a regular file") from exc


def check_output_dir(option: str, directory: Path, names: Iterable[str] = (), *,
                     error: type[click.ClickException] = BadInput) -> None:
    """Refuse, before anything runs, a directory option that is ``-``, an existing path that
    is not a directory, or a directory holding one of the files ``names`` (those the command
    replaces) as something else than a regular file (``error`` as for
    :func:`check_output_files`)."""
    if str(directory) == STDOUT:
        raise error(f"{option} {STDOUT}: not a directory (give a directory's path)")
    if directory.exists() and not directory.is_dir():
        raise error(f"{option} {directory}: not a directory")
    check_output_files(option, directory, [directory / name for name in names], error=error)


def make_output_dir(option: str, directory: Path) -> list[Path]:
    """Create ``directory`` (and its missing parents) and return the directories this made,
    innermost first (for :func:`undone_on_failure`); one line naming the option when it
    cannot be created."""
    made = [path for path in (directory, *directory.parents) if not path.exists()]
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # an existing directory may refuse new files (read-only, immutable): say so up front
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        _remove_dirs(made)
        raise BadInput(f"{option} {directory}: cannot write there ({exc.strerror or exc})"
                       ) from exc
    return made


def _remove_dirs(made: Iterable[Path]) -> None:
    for path in made:  # innermost first; a directory someone else filled meanwhile stays
        try:
            path.rmdir()
        except OSError:
            break


def _contents(directory: Path) -> set[Path]:
    return set(directory.rglob("*")) if directory.is_dir() else set()


@contextlib.contextmanager
def undone_on_failure(directory: Path, made: Iterable[Path] = (), keep: Iterable[Path] = (),
                      spare: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """On an error out of the body, remove what it created under ``directory`` — the files
    and directories that were not there before — and the directories ``made`` for it, so a run
    that could not go on leaves no half-written folder; what was there before stays (a file it
    replaced is not brought back). A path of ``keep`` that the error's message names stays
    (a started HIS's log the message points to), and the message then says so (raised again as
    a :class:`~scenarios.errors.HarnessError`). An interrupt (Ctrl+C) removes nothing, nor
    does an error of ``spare`` (a drill interrupted half way keeps its record)."""
    before = _contents(directory)
    try:
        yield
    except spare:
        raise
    except Exception as exc:
        said = str(exc)
        kept = sorted(path for path in keep if str(path) in said and path.exists())
        created = sorted(_contents(directory) - before - set(kept),
                         key=lambda path: len(path.parts), reverse=True)
        for path in created:
            with contextlib.suppress(OSError):
                if path.is_dir() and not path.is_symlink():
                    path.rmdir()  # emptied by the files removed before it (deepest first)
                else:
                    path.unlink()
        _remove_dirs(made)
        if kept:
            raise HarnessError(f"{said} — kept {', '.join(map(str, kept))}; the rest of what "
                               "this run wrote was removed") from exc
        raise
