"""``cardsettle insurer ...``: the mock insurer center."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from pathlib import Path

import click

from cardsettle.cli.errors import OneLineGroup, clean_errors
from cardsettle.cli.options import SEED
from cardsettle.cli.outputs import make_output_dir, undone_on_failure
from cardsettle.cli.servers import open_to_the_network
from mock_insurer.gateway import Insurer, InsurerConfig
from mock_insurer.gateway.app import check_inputs, ledger_holds_data
from mock_insurer.gateway.loading import check_data_files
from mock_insurer.gateway.worker import APP_FACTORY, CONFIG_ENV, WorkerSpec, encode_config
from mock_insurer.ledger.engine import (
    CONNECTIONS_PER_PROCESS,
    LedgerConfigError,
    connection_room,
    parse_url,
    shown_url,
)
from mock_insurer.policy import Profile
from mock_insurer.server import check_listen, run
from mock_insurer.transactions import Settings
from mock_insurer.wire.timefmt import china_now
from simulator.catalogue import write_catalogue
from simulator.institutions import load_institutions, write_institutions
from simulator.persons import MAX_COUNT as MAX_PERSONS
from simulator.population import write_population

__all__ = ["insurer", "not_in_force_note"]

ENDPOINT = "/fsi/api/rsfComIfsService/callService"
#: ``--workers`` at most this many per CPU: beyond, processes only queue for the cores, start
#: slowly and hold more database connections (docs/insurer.md, "Several processes").
WORKERS_PER_CPU = 4
#: How long uvicorn's parent waits for a worker to answer its health check before it kills
#: and replaces it (wall-clock seconds), per worker and at least: a new worker answers only
#: once Python and the CLI's modules are loaded (about 2 s of CPU), and N workers starting
#: together share the cores — with uvicorn's default 5 s, workers on a busy machine were
#: killed and restarted over and over during the start-up.
HEALTHCHECK_S_PER_WORKER = 5
HEALTHCHECK_MIN_S = 30


@click.group(cls=OneLineGroup)
def insurer() -> None:
    """The mock insurer center speaking the national interface."""


def default_files(data_dir: Path, seed: int, persons: int, *,
                  given: Mapping[str, Path | None] | None = None) -> dict[str, Path]:
    """The data files to load: those ``given``, and the seeded defaults generated (once) into
    ``data_dir`` for the others. Without a catalogue, one is generated for the institutions in
    use — the default ones, or those of a given institutions file (a catalogue of its own,
    ``catalogue-SEED-for-NAME.jsonl``: the default catalogue maps only the default
    institutions)."""
    given = dict(given or {})
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = {key: value for key, value in given.items() if value is not None}
    own = paths.get("institutions")
    if "institutions" not in paths:
        paths["institutions"] = data_dir / f"institutions-{seed}.jsonl"
        institutions = write_institutions(paths["institutions"], seed=seed)
    elif "catalogue" not in paths:
        institutions = load_institutions(paths["institutions"])
    if "catalogue" not in paths:
        name = f"catalogue-{seed}.jsonl" if own is None else f"catalogue-{seed}-for-{own.stem}.jsonl"
        paths["catalogue"] = data_dir / name
        if own is not None or not paths["catalogue"].exists():
            write_catalogue(paths["catalogue"], seed=seed, institutions=institutions)
    if "population" not in paths:
        paths["population"] = data_dir / f"persons-{seed}-{persons}.jsonl"
        if not paths["population"].exists():
            write_population(paths["population"], persons, seed=seed, workers=1)
    return paths


@insurer.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".cardsettle"), show_default=True,
              help="Where the default ledger and generated data files live.")
@click.option("--db", "db_url", default=None,
              help="Ledger URL: sqlite:///FILE (default DATA_DIR/insurer.db) or "
                   "postgresql://USER@HOST/DB.")
@click.option("--population", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Persons JSONL (cardsettle generate population). Default: generated.")
@click.option("--catalogue", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Catalogue JSONL (cardsettle generate catalogue). Default: generated.")
@click.option("--institutions", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Institutions JSONL (cardsettle generate institutions). Default: generated.")
@click.option("--policy", default="beijing", show_default=True,
              help="Policy profile: a packaged one's name (beijing, hebei, national) or a "
                   "YAML file (docs/policy.md).")
@click.option("--auth", type=click.Choice(["none", "tif", "apikey"]), default="none",
              show_default=True, help="Gateway authentication.")
@click.option("--mode", type=click.Choice(["strict", "tolerant"]), default="strict",
              show_default=True, help="strict refuses what the specification forbids; tolerant "
                                      "accepts what real clients send and records it.")
@click.option("--admin-token", envvar="CARDSETTLE_ADMIN_TOKEN", default=None,
              help="Bearer token of the admin API (env CARDSETTLE_ADMIN_TOKEN). Without one "
                   "the admin API answers loopback clients only.")
@click.option("--no-signin-check", is_flag=True, help="Do not require a 9001 sign-in.")
@click.option("--amounts-check", type=click.Choice(["refuse", "warn"]), default="refuse",
              show_default=True, help="When 2207's amounts differ from the computation.")
@click.option("--durability", type=click.Choice(["full", "normal"]), default="full",
              show_default=True,
              help="SQLite: full syncs the log to disk before every answer; normal survives "
                   "kill -9 of the insurer (WAL) but not a power loss, and is faster.")
@click.option("--business-date", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Start on this business date (time of day follows the wall clock).")
@click.option("--seed", default=1, show_default=True, type=SEED, help="Seed of the default data.")
@click.option("--persons", default=1000, show_default=True, type=click.IntRange(1, MAX_PERSONS),
              help="Size of the default population.")
@click.option("--fresh", is_flag=True, help="Start a new, empty ledger (drops the old one).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1),
              help="Worker processes sharing the socket (more than 1 needs a PostgreSQL "
                   "ledger; fault plan, clock and drills are then per process).")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@clean_errors
def serve(host: str, port: int, data_dir: Path, db_url: str | None, population: Path | None,
          catalogue: Path | None, institutions: Path | None, policy: str, auth: str, mode: str,
          admin_token: str | None, no_signin_check: bool, amounts_check: str,
          durability: str, business_date: datetime | None, seed: int, persons: int, fresh: bool,
          workers: int, log_level: str) -> None:
    """Serve the mock insurer (national interface, admin API, schemas) until interrupted.

    With no data files it serves a seeded default population, catalogue and institutions. A
    ledger that already holds data is continued (a restart loses nothing); pass --fresh to
    start over. --workers N runs N processes over one PostgreSQL ledger (docs/insurer.md).
    """
    check_listen(host, port)  # a port in use: one line, before anything is loaded
    if db_url is not None:
        try:
            parse_url(db_url)  # a malformed URL: one line naming the option
        except LedgerConfigError as exc:
            raise click.ClickException(f"--db: {exc}") from exc
    url = db_url or f"sqlite:///{data_dir / 'insurer.db'}"
    if workers > 1:
        _check_workers(workers, db_url)
    # the profile and the files given, checked before anything is generated, written or
    # dropped (--fresh): a refused start leaves the ledger and the data directory as they were
    profile = check_inputs(InsurerConfig(db_url=url, population=population, catalogue=catalogue,
                                         institutions=institutions, policy=policy))
    made = make_output_dir("--data-dir", data_dir)
    files = {"population": population, "catalogue": catalogue, "institutions": institutions}
    continuing = not fresh and ledger_holds_data(url)
    if continuing and any(files.values()):
        raise click.ClickException(
            f"the ledger {shown_url(url)} already holds data: pass --fresh to start a new ledger with "
            "these files, or leave the files out to continue it")
    if not continuing:
        with undone_on_failure(data_dir, made):
            resolved = default_files(data_dir, seed, persons, given=files)
            if any(files.values()) and not all(files.values()):
                # given files beside generated ones: check them together (a given catalogue's
                # mappings against the institutions in use) before --fresh drops anything
                check_data_files(**resolved)
        files = dict(resolved)
    settings = Settings(mode="tolerant" if mode == "tolerant" else "strict",
                        require_signin=not no_signin_check,
                        amounts_check="warn" if amounts_check == "warn" else "refuse")
    config = InsurerConfig(db_url=url, population=files["population"],
                           catalogue=files["catalogue"], institutions=files["institutions"],
                           policy=policy, auth=auth, settings=settings,
                           admin_token=admin_token, wall=china_now, fresh=fresh,
                           durability=durability, host_names=(host,))
    start_date = (date(business_date.year, business_date.month, business_date.day)
                  if business_date is not None else None)
    app = Insurer.open(config, profile=profile)  # creates the ledger and loads the files, once
    if start_date is not None:
        app.clock.set_business_date(start_date)
    _announce(app, host, port, url, continuing, profile)
    _warn_if_open(host, auth, generated_institutions=institutions is None and not continuing,
                   seed=seed)
    if workers == 1:
        try:
            run(app, host=host, port=port, log_level=log_level)
        finally:  # the ledger closed: SQLite folds its log back in (no -wal left to copy)
            app.close()
        return
    app.close()
    _warn_if_short_of_connections(url, workers)
    click.echo(f"  workers  {workers} processes share the socket over this ledger; fault "
               "plans, clock moves, drills, resets and loads need one process and are refused "
               "(docs/insurer.md, \"Several processes\"); each worker prints a line once it "
               "serves:")
    worker_config = replace(config, population=None, catalogue=None, institutions=None,
                            fresh=False, processes=workers)
    os.environ[CONFIG_ENV] = encode_config(
        worker_config, WorkerSpec(business_date=start_date, announce=True,
                                  listen=f"http://{host}:{port}"))
    run(APP_FACTORY, host=host, port=port, workers=workers, factory=True, log_level=log_level,
        timeout_worker_healthcheck=max(HEALTHCHECK_MIN_S, HEALTHCHECK_S_PER_WORKER * workers))


def _cpus() -> int:
    """The CPUs this process may run on (its affinity: a container's or taskset's share)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _check_workers(workers: int, db_url: str | None) -> None:
    """One line when ``--workers`` (above 1) cannot be served: a ledger that is not PostgreSQL
    (``db_url`` already parsed; None: the default SQLite file), more than
    :data:`WORKERS_PER_CPU` per CPU."""
    if db_url is None or parse_url(db_url).get_backend_name() == "sqlite":
        which = ("the default ledger (DATA_DIR/insurer.db) is SQLite" if db_url is None
                 else "--db names an SQLite ledger")
        raise click.ClickException(
            f"--workers {workers} needs a PostgreSQL ledger (--db postgresql://...): {which}, "
            "which has one writer at a time, so more processes would only queue on its lock")
    cpus = _cpus()
    if workers > WORKERS_PER_CPU * cpus:
        raise click.ClickException(
            f"--workers {workers} is too many for {cpus} CPU{'s' if cpus > 1 else ''}: at most "
            f"{WORKERS_PER_CPU * cpus} ({WORKERS_PER_CPU} per CPU); more processes would only "
            "queue for the cores, start slowly and hold more database connections")


def _warn_if_short_of_connections(url: str, workers: int) -> None:
    """A warning (stderr) when ``workers`` processes can open more connections than the
    PostgreSQL server has room for: at peak, requests would get 503 ledger unavailable."""
    room = connection_room(url)
    wanted = workers * CONNECTIONS_PER_PROCESS
    if room is None or wanted <= room.free:
        return
    click.secho(
        f"WARNING: {workers} workers can open up to {wanted} PostgreSQL connections "
        f"({CONNECTIONS_PER_PROCESS} each) but the server has room for {room.free} "
        f"(max_connections {room.allowed}, less {room.reserved} reserved for superusers and "
        f"{room.in_use} in use): at peak, requests beyond that are answered 503 ledger "
        "unavailable; use fewer workers or raise max_connections", fg="yellow", err=True)


def _warn_if_open(host: str, auth: str, *, generated_institutions: bool, seed: int) -> None:
    """Warnings (stderr) when the gateway can be reached from other machines and is not
    protected: no gateway auth, or credentials anyone can derive from the seed."""
    if not open_to_the_network(host):
        return
    warn = partial(click.secho, fg="yellow", err=True)
    if auth == "none":
        warn(f"WARNING: listening on {host} with --auth none: anyone who can reach this "
             "machine can sign in as any institution, read persons by ID number (1101) and "
             "settle or refund; use --auth tif|apikey, or --host 127.0.0.1")
    elif generated_institutions:
        warn(f"WARNING: listening on {host} with the default institutions: their gateway "
             f"credentials are generated from --seed {seed}, so anyone with cardsettle can "
             "derive them; give your own --institutions file to keep them private")


def not_in_force_note(profile: Profile, day: date) -> str:
    """One line saying which parameters of ``profile`` have no value yet on the business date
    ``day`` and from when the profile is in force in full; "" when every one is in force."""
    later = profile.not_in_force_on(day)
    if not later:
        return ""
    full = profile.in_force_from().isoformat()
    if len(later) == len(profile.leaves()):
        return (f"the policy profile has no parameters in force on the business date "
                f"{day.isoformat()}: its first values hold from "
                f"{min(leaf.first_day for leaf in later).isoformat()}, all from {full}; until "
                "then 2204-2207 are refused (policy_not_in_force)")
    more = f" and {len(later) - 1} more" if len(later) > 1 else ""
    return (f"on the business date {day.isoformat()} the policy profile has no value yet for "
            f"{later[0].path} (from {later[0].first_day.isoformat()}){more}; it is in force in "
            f"full from {full}, and until then what needs them is refused (policy_not_in_force)")


def _announce(app: Insurer, host: str, port: int, url: str, continuing: bool,
              profile: Profile) -> None:
    counts = app.counts()
    echo = click.echo
    echo(f"cardsettle mock insurer — national interface on http://{host}:{port}{ENDPOINT}")
    echo(f"  (every POST path under it routes by infno; admin API http://{host}:{port}/admin/,"
         f" schemas /schemas/; drill console http://{host}:{port}/console)")
    echo(f"  ledger   {shown_url(url)} ({'continued' if continuing else 'new'}; "
         f"{counts['persons']} persons, {counts['catalogue_items']} catalogue items, "
         f"{counts['settlements']} settlement rows)")
    settings = app.config.settings
    echo(f"  mode     {settings.mode}; auth {app.config.auth}; sign-in "
         f"{'required' if settings.require_signin else 'not required'}; business time "
         f"{app.clock.now():%Y-%m-%d %H:%M:%S}")
    echo(f"  policy   {profile.label}")
    note = not_in_force_note(profile, app.clock.now().date())
    if note:
        echo(f"  note     {note}")
    echo(f"  admin    {'bearer token required' if app.config.admin_token else 'loopback only'}"
         f" (pid {os.getpid()})")
    echo("  institutions (fixmedins_code, tier, name, TIF paasid/token, apikey, portal):")
    with app.ledger.read() as tx:
        for inst in tx.institutions():
            c = inst.credentials
            echo(f"    {inst.fixmedins_code}  {inst.tier:<9}  {inst.fixmedins_name}  "
                 f"{c.get('paasid', '')}/{c.get('token', '')}  {c.get('apikey', '')}  "
                 f"{c.get('portal', '-')}{'  (blacklisted)' if inst.blacklisted else ''}")
