"""Assembling the insurer: ledger + reference data + service + the ASGI app.

``Insurer.open(config)`` opens (and if needed creates) the ledger, loads the data files it is
given, and builds the service; the :class:`Insurer` itself is the ASGI app a server runs
(several worker processes build theirs with :mod:`mock_insurer.gateway.worker`). POSTs outside the
reserved prefixes go straight to the gateway (no framework on the hot path); everything else
(``/health``, ``/schemas/``, ``/admin/``, ``/console``) is a Starlette app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mock_insurer.faults import FaultEngine
from mock_insurer.gateway.asgi import Gateway, unavailable_reason
from mock_insurer.gateway.clock import BusinessClock
from mock_insurer.gateway.loading import (
    check_data_files,
    load_catalogue,
    load_institutions,
    load_population,
)
from mock_insurer.gateway.reference import build_reference
from mock_insurer.gateway.service import Auth, InsurerService
from mock_insurer.ledger import Ledger
from mock_insurer.ledger.claim import INSURER_APPLICATION, LedgerClaim
from mock_insurer.ledger.engine import shown_url
from mock_insurer.policy import Profile, load_profile
from mock_insurer.transactions import Settings
from mock_insurer.wire.timefmt import china_now

__all__ = ["RESERVED_PREFIXES", "Insurer", "InsurerConfig", "check_inputs", "ledger_holds_data"]

_log = logging.getLogger("cardsettle.insurer")
HEALTH_TIMEOUT = 3.0  # seconds /health waits for the ledger

RESERVED_PREFIXES = ("/admin", "/schemas", "/console", "/health")


@dataclass(frozen=True, slots=True)
class InsurerConfig:
    db_url: str
    population: Path | None = None
    catalogue: Path | None = None
    institutions: Path | None = None
    policy: str = "beijing"
    auth: str = "none"
    settings: Settings = field(default_factory=Settings)
    admin_token: str | None = None
    area: str = "110000"
    refmsgid_start: int = 1
    wall: Callable[[], datetime] = field(default=china_now)  # the CLI's edge; tests pass one
    fresh: bool = False  # drop every table first
    durability: str = "full"  # SQLite: full (sync every commit) or normal (kill -9 safe)
    processes: int = 1  # processes serving this ledger together (--workers N); /admin/settings
    host_names: tuple[str, ...] = ()  # --host: a name the admin API accepts in Host (loopback)


def check_inputs(config: InsurerConfig) -> Profile:
    """Load the policy profile and read every data file the configuration gives, writing
    nothing; raises the one-line error of the first that is refused (:class:`ProfileError`,
    :class:`DataFileError`). :meth:`Insurer.open` calls it before it drops (``fresh``) or
    writes anything, so a refused start leaves the ledger and the data directory as they
    were."""
    profile = load_profile(config.policy)
    check_data_files(population=config.population, catalogue=config.catalogue,
                     institutions=config.institutions)
    return profile


def ledger_holds_data(db_url: str) -> bool:
    """Whether the ledger at ``db_url`` exists and holds persons (a restart continues it)."""
    ledger = Ledger(db_url)
    try:
        ledger.create()
        with ledger.reaching(), ledger.read() as tx:
            return tx.count("persons") > 0
    finally:
        ledger.dispose()


class Insurer:
    """A running insurer's parts (the ledger, clock, faults, service) and its ASGI app."""

    def __init__(self, config: InsurerConfig, ledger: Ledger, service: InsurerService,
                 clock: BusinessClock) -> None:
        self.config = config
        self.ledger = ledger
        self.service = service
        self.clock = clock
        self.gateway = Gateway(service)
        self.claim: LedgerClaim | None = None  # released when the insurer closes
        self.web = Starlette(routes=self._routes(), exception_handlers={
            kind: self.ledger_unavailable for kind in ledger.unavailable})

    @classmethod
    def open(cls, config: InsurerConfig, *, profile: Profile | None = None) -> Insurer:
        """Check the inputs (:func:`check_inputs`; pass the ``profile`` it returned when the
        caller has checked them already), then open (``fresh``: empty first) the ledger, load
        the data files given and build the policy. A profile or file refused by the check
        leaves the ledger untouched — ``fresh`` drops nothing. When loading fails all the same
        (the database refuses a record) after the ledger was emptied or loaded, the ledger is
        left empty, not half-loaded: the next start begins anew instead of continuing a ledger
        that holds the institutions but not the catalogue."""
        if profile is None:
            profile = check_inputs(config)
        ledger = Ledger(config.db_url, durability=config.durability,
                        application=INSURER_APPLICATION)
        claim = LedgerClaim(config.db_url, ledger.engine)
        started_empty = False
        try:
            with ledger.reaching():
                claim.take(fresh=config.fresh)  # --fresh: only a ledger no other insurer serves
            if config.fresh:
                ledger.drop()
            ledger.create()
            with ledger.read() as tx:
                started_empty = tx.count("institutions") == 0 and tx.count("persons") == 0
            insurer = cls._open(config, ledger, profile)
            insurer.claim = claim
            return insurer
        except BaseException:
            if started_empty:  # what this open loaded goes; a ledger that held data stays
                with contextlib.suppress(Exception):  # the refusal is what the caller sees
                    ledger.drop()
            ledger.dispose()
            claim.release()
            raise

    @classmethod
    def _open(cls, config: InsurerConfig, ledger: Ledger, profile: Profile) -> Insurer:
        if config.institutions:
            load_institutions(ledger, config.institutions)
        if config.population:
            load_population(ledger, config.population)
        if config.catalogue:
            load_catalogue(ledger, config.catalogue)
        clock = BusinessClock(config.wall)
        service = InsurerService(
            ledger=ledger, settings=config.settings,
            reference=build_reference(ledger, profile), faults=FaultEngine(),
            clock=clock.now, wall=config.wall, auth=Auth(config.auth),
            wall_ms=lambda: int(time.time() * 1000), timer=time.perf_counter,
            area=config.area, refmsgid_start=config.refmsgid_start)
        return cls(config, ledger, service, clock)

    def counts(self) -> dict[str, int]:
        """Rows in the main tables; a ledger that cannot be read (a damaged file) is one
        :class:`~mock_insurer.ledger.LedgerConfigError` naming it."""
        with self.ledger.reaching(), self.ledger.read() as tx:
            return {name: tx.count(name) for name in
                    ("institutions", "persons", "cards", "catalogue_items", "diagnoses",
                     "mappings", "settlements", "messages")}

    def _routes(self) -> list[Any]:
        routes: list[Any] = [Route("/health", self._health)]
        from mock_insurer.admin import admin_routes  # the admin API sits beside the gateway

        routes.extend(admin_routes(self))
        return routes

    async def _health(self, _request: Request) -> Response:
        # the pid tells which worker process answered (--workers N shares one socket)
        health: dict[str, Any] = {"status": "ok",
                                  "business_time": self.clock.now().isoformat(" "),
                                  "pid": os.getpid()}
        down: tuple[type[BaseException], ...] = (TimeoutError, *self.ledger.unavailable)
        try:  # the ledger answers (off the event loop, bounded: a database that hangs)
            await asyncio.wait_for(asyncio.to_thread(self._ping_ledger), HEALTH_TIMEOUT)
        except down as exc:
            reason = (f"no answer within {HEALTH_TIMEOUT:g} s"
                      if isinstance(exc, TimeoutError) else unavailable_reason(exc))
            health.update(status="ledger_unavailable",
                          ledger=f"{shown_url(self.ledger.url)}: {reason}")
            return JSONResponse(health, status_code=503)
        return JSONResponse(health)

    def _ping_ledger(self) -> None:
        with self.ledger.read() as tx:
            tx.count("institutions")

    async def ledger_unavailable(self, request: Request, exc: Exception) -> Response:
        """An admin or console request while the database cannot be used: a JSON 503 that
        names the ledger, one line in the log, no traceback."""
        if isinstance(exc, self.ledger.bugs):
            raise exc
        reason = unavailable_reason(exc)
        _log.error("ledger unavailable, %s %s answered 503: %s", request.method,
                   request.url.path, reason)
        return JSONResponse({"error": {
            "code": "ledger_unavailable", "where": "ledger",
            "message": f"the ledger {shown_url(self.ledger.url)} cannot be used: {reason}; "
                       "try again when it is back"}}, status_code=503)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] == "POST"
                and not scope["path"].startswith(RESERVED_PREFIXES)):
            await self.gateway(scope, receive, send)
            return
        await self.web(scope, receive, send)

    def close(self) -> None:
        self.ledger.dispose()
        if self.claim is not None:
            self.claim.release()
