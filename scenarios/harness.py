"""What a scenario runs against: the insurer (through its admin API) and a HIS (through the HIS
driver API) — each either given by URL or started here, embedded, on 127.0.0.1.

Embedded insurer: a fresh SQLite ledger in the run's directory, loaded with the scenario's
files, an admin token of its own. Embedded HIS: the reference HIS (or a class given in Python,
e.g. a deliberately broken variant) for the scenario's institution, its own SQLite database,
its clock set by the runner, served as the HTTP driver API — so it is driven exactly as a
vendor's HIS is.

A HIS started here (embedded, or from ``--his-command``) authenticates at the insurer's gateway
as the insurer asks: with an insurer given by URL, the mode is read from its admin API
(``GET /admin/settings``: ``gateway_auth``) and the institution's credentials from
``GET /admin/institutions/{code}``; what cannot be learned there fails before the scenario
runs, saying so.

A HIS given by URL keeps its own clock; only the insurer's business clock follows the scenario.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from mock_insurer.client import ApiKeyAuth, Auth, TifAuth
from mock_insurer.gateway import FixedClock, Insurer, InsurerConfig
from mock_insurer.server import RunningServer, ServerError, start_in_thread
from mock_insurer.transactions import Settings
from mock_insurer.wire.timefmt import china_now
from scenarios.data import ScenarioData
from scenarios.errors import HarnessError
from scenarios.his_process import start_his_command
from scenarios.insurer_admin import InsurerAdmin
from scenarios.model import Scenario
from simulator.his.api import driver_app
from simulator.his.app import ReferenceHis
from simulator.his.catalogue import ItemTable
from simulator.his.config import HisConfig, admdvs_of
from simulator.his.driver import HisDriver, HttpHisDriver
from simulator.his.errors import DriverError, DriverInputError
from simulator.his.operations import (
    ChargeInput,
    DayEndInput,
    DeclareInput,
    IdentifyInput,
    Outcome,
    RefundInput,
    RegisterInput,
    SettleInput,
    VisitInput,
    json_type,
)

__all__ = ["DRIVER_TIMEOUT", "GATEWAY_AUTH_MODES", "GIVE_UP_AFTER", "GivingUpDriver", "Harness",
           "ScenarioClock", "gateway_auth", "his_info", "open_harness"]

DRIVER_TIMEOUT = 60.0
"""Seconds (wall clock) the harness waits for each answer of the HIS's driver API."""

GIVE_UP_AFTER = 3
"""Requests in a row that get no answer within the driver timeout after which the harness stops
driving the HIS: a HIS that hangs would otherwise cost the timeout on every visit (hours over a
certification). Three, so that one slow answer — or two — is not taken for a hang."""


class ScenarioClock:
    """The embedded HIS's wall clock: set by the runner to the scenario's business time, then
    advancing ``step`` per read (so that stamps stay distinct and ordered)."""

    def __init__(self, start: datetime, step: timedelta = timedelta(milliseconds=200)) -> None:
        self._now = start
        self._step = step
        self._lock = threading.Lock()

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = max(moment, self._now)

    def __call__(self) -> datetime:
        with self._lock:
            current = self._now
            self._now = current + self._step
            return current


class GivingUpDriver(HisDriver):
    """A driver that stops driving a HIS that stopped answering: after ``after`` requests in a
    row got no answer in time (the client's timeout), every further call raises
    :class:`DriverError` at once, saying so, without sending anything — the runner records
    those steps as not run (:mod:`scenarios.runner`). Any answer, even one the harness cannot
    use, starts the count again. ``stopped`` is the one line that says why, starting with the
    last request that got no answer, as the driver client's errors do (or ``None``)."""

    def __init__(self, driver: HisDriver, *, after: int = GIVE_UP_AFTER) -> None:
        self.driver = driver
        self.after = after
        self.stopped: str | None = None
        self._silent: list[str] = []  # the requests in a row that got no answer

    def _send(self, call: Callable[[], Outcome]) -> Outcome:
        if self.stopped is not None:
            raise DriverError(f"not sent: {self.stopped}")
        try:
            outcome = call()
        except DriverError as exc:
            if not isinstance(exc.__cause__, requests.Timeout):
                self._silent.clear()  # an answer, or a refused connection: not a hang
                raise
            self._silent.append(str(exc).split(": ", 1)[0])  # "POST http://…/identify"
            if len(self._silent) < self.after:
                raise
            timeout = getattr(self.driver, "timeout", None)
            within = f" within {timeout:g} s" if isinstance(timeout, int | float) else ""
            given_up = (f"{len(self._silent)} requests in a row without an answer: the HIS "
                        "stopped answering, so the harness drives it no further")
            self.stopped = f"{self._silent[-1]}: no answer{within}, {given_up}"
            raise DriverError(f"{exc} — {given_up}") from exc
        except DriverInputError:
            self._silent.clear()
            raise
        self._silent.clear()
        return outcome

    def info(self) -> Outcome:
        return self._send(self.driver.info)

    def identify(self, request: IdentifyInput) -> Outcome:
        return self._send(lambda: self.driver.identify(request))

    def register(self, request: RegisterInput) -> Outcome:
        return self._send(lambda: self.driver.register(request))

    def charge(self, visit_id: str, request: ChargeInput) -> Outcome:
        return self._send(lambda: self.driver.charge(visit_id, request))

    def pre_settle(self, visit_id: str, request: SettleInput) -> Outcome:
        return self._send(lambda: self.driver.pre_settle(visit_id, request))

    def settle(self, visit_id: str, request: SettleInput) -> Outcome:
        return self._send(lambda: self.driver.settle(visit_id, request))

    def refund(self, visit_id: str, request: RefundInput) -> Outcome:
        return self._send(lambda: self.driver.refund(visit_id, request))

    def cancel(self, visit_id: str, request: VisitInput) -> Outcome:
        return self._send(lambda: self.driver.cancel(visit_id, request))

    def visit(self, visit_id: str) -> Outcome:
        return self._send(lambda: self.driver.visit(visit_id))

    def bill(self, visit_id: str) -> Outcome:
        return self._send(lambda: self.driver.bill(visit_id))

    def day_end(self, request: DayEndInput) -> Outcome:
        return self._send(lambda: self.driver.day_end(request))

    def ledger(self, day: date | None = None) -> Outcome:
        return self._send(lambda: self.driver.ledger(day))

    def declare(self, request: DeclareInput) -> Outcome:
        return self._send(lambda: self.driver.declare(request))

    def collect_payments(self) -> Outcome:
        return self._send(self.driver.collect_payments)

    def receivables(self, period: str | None = None) -> Outcome:
        return self._send(lambda: self.driver.receivables(period))

    def close(self) -> None:
        self.driver.close()


@dataclass
class Harness:
    """The insurer's admin API, the HIS's driver, and what was started here (to stop)."""

    admin: InsurerAdmin
    his: HisDriver
    insurer_url: str
    his_url: str
    fixmedins_code: str
    his_name: str = ""
    embedded: list[str] = field(default_factory=list)
    his_clock: ScenarioClock | None = None
    follow_clock: bool = True
    _last_set: datetime | None = None
    _servers: list[RunningServer] = field(default_factory=list)
    _closers: list[Any] = field(default_factory=list)

    def set_time(self, moment: datetime) -> None:
        """Move the insurer's business clock (and the embedded HIS's clock) to ``moment`` —
        unless the run keeps real time (a drill: ``follow_clock`` false)."""
        if not self.follow_clock or moment == self._last_set:
            return  # steps at the same business time: one admin call, not one per step
        self.admin.set_business_time(moment)
        self._last_set = moment
        if self.his_clock is not None:
            self.his_clock.set(moment)

    @property
    def his_stopped(self) -> str | None:
        """Why the harness stopped driving the HIS (it stopped answering), or ``None``."""
        return self.his.stopped if isinstance(self.his, GivingUpDriver) else None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.admin.set_faults([])
        self.his.close()
        self.admin.close()
        stopping = [threading.Thread(target=server.stop) for server in self._servers]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        for closer in reversed(self._closers):
            closer()

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_harness(scenario: Scenario, data: ScenarioData, directory: Path, *,
                 insurer_url: str | None = None, admin_token: str | None = None,
                 his_url: str | None = None, his_class: type[ReferenceHis] = ReferenceHis,
                 his_command: str | None = None, his_timeout: float | None = None,
                 insurer_settings: Settings | None = None,
                 wall: Callable[[], datetime] | None = None,
                 prepare_insurer: bool = True, insurer_auth: str = "none",
                 driver_timeout: float = DRIVER_TIMEOUT,
                 give_up_after: int = GIVE_UP_AFTER, insurer_port: int = 0) -> Harness:
    """Start what is missing and prepare the insurer (an insurer given by URL is reset and
    loaded with the scenario's files through its admin API, unless ``prepare_insurer`` is
    false: a drill on the insurer the staff's HIS uses). ``wall``: keep real time — the
    embedded servers read this clock and nobody moves the insurer's (a drill); by default the
    scenario's business time is followed. ``insurer_auth`` (none, tif, apikey) is the embedded
    insurer's gateway authentication; the embedded HIS then signs with its institution's
    credentials. An insurer given by URL keeps its own mode: the HIS started here learns it and
    the institution's credentials from the insurer's admin API (:func:`gateway_auth`), and
    ``insurer_auth`` is not used. ``his_command``: start the HIS under test for this scenario
    from that command template (:mod:`scenarios.his_process`) instead of the embedded reference
    HIS. ``driver_timeout``: seconds (wall clock) to wait for each answer of the HIS's driver
    API; after ``give_up_after`` requests in a row without one the harness stops driving the
    HIS (:class:`GivingUpDriver`). ``insurer_port``: where the embedded insurer listens on
    127.0.0.1 (0: any free port)."""
    directory.mkdir(parents=True, exist_ok=True)
    servers: list[RunningServer] = []
    closers: list[Any] = []
    embedded: list[str] = []
    start = datetime.combine(scenario.date, datetime.min.time()).replace(hour=7)
    try:
        if insurer_url is None:
            admin_token = secrets.token_hex(16)
            insurer = Insurer.open(InsurerConfig(
                db_url=f"sqlite:///{directory / 'insurer.db'}", population=data.population_file,
                catalogue=data.insurer_catalogue_file, institutions=data.institutions_file,
                settings=insurer_settings or Settings(), admin_token=admin_token,
                wall=wall or _insurer_wall(start, his_url, his_command), fresh=True,
                auth=insurer_auth))
            closers.append(insurer.close)
            server = start_in_thread(insurer, port=insurer_port)
            servers.append(server)
            insurer_url = server.url
            embedded.append("insurer")
            admin = InsurerAdmin(insurer_url, admin_token)
        else:
            admin = InsurerAdmin(insurer_url, admin_token)
            admin.require_one_process("a scenario")
            admin.set_faults([])
            if prepare_insurer:
                admin.reset()
                admin.load("institutions", data.institutions_file)
                admin.load("catalogue", data.insurer_catalogue_file)
                admin.load("population", data.population_file)
        if wall is None:
            admin.set_business_time(start)
        clock: ScenarioClock | None = None
        auth_mode, credentials = insurer_auth, dict(data.institution.get("credentials") or {})
        if his_url is None and "insurer" not in embedded:
            auth_mode, credentials = gateway_auth(admin, insurer_url, data.code, credentials)
        if his_url is None and his_command is not None:
            for stale in directory.glob("his.db*"):
                stale.unlink()
            his_url, stop = start_his_command(his_command, {
                "insurer_url": insurer_url, "admin_token": admin_token or "",
                "portal_token": credentials.get("portal") or admin_token or "",
                "institution": data.code, "catalogue": data.catalogue_file.resolve(),
                "institutions": data.institutions_file.resolve(),
                "population": data.population_file.resolve(),
                "db": (directory / "his.db").resolve(), "directory": directory.resolve(),
                "timeout": his_timeout if his_timeout is not None else scenario.his.timeout,
                "auth": auth_mode, "paasid": credentials.get("paasid", ""),
                "token": credentials.get("token", ""), "apikey": credentials.get("apikey", ""),
            }, directory)
            closers.append(stop)
        if his_url is None:
            for stale in directory.glob("his.db*"):  # every run starts from an empty HIS
                stale.unlink()
            clock = ScenarioClock(start)
            code = data.code
            his = his_class(HisConfig(
                insurer_url=insurer_url, fixmedins_code=code,
                fixmedins_name=str(data.institution.get("fixmedins_name") or code),
                mdtrtarea_admvs=str(data.institution.get("admdvs") or admdvs_of(code)),
                db_url=f"sqlite:///{directory / 'his.db'}",
                items=ItemTable.load(data.catalogue_file, code), clock=wall or clock,
                timeout=his_timeout if his_timeout is not None else scenario.his.timeout,
                center_only="reverse" if scenario.his.center_only == "reverse" else "learn",
                auth=_auth(auth_mode, credentials)))
            closers.append(his.close)
            his_server = start_in_thread(driver_app(his))
            servers.append(his_server)
            his_url = his_server.url
            embedded.append("his")
        driver = GivingUpDriver(HttpHisDriver(his_url, timeout=driver_timeout),
                                after=give_up_after)
        info = his_info(driver, his_url, data.code, f"scenario {scenario.id}", (
            f"serve it as {data.code} with the scenario's catalogue "
            f"{data.catalogue_file.name} and institutions {data.institutions_file.name} (a run "
            f"without --his-url writes them into its report's data/: `cardsettle scenario run "
            f"{scenario.id}`), or give the HIS as a command (--his-command) to have it started "
            "for each scenario"))
        return Harness(admin=admin, his=driver, insurer_url=insurer_url, his_url=his_url,
                       fixmedins_code=data.code, his_name=str(info.body.get("name", "")),
                       embedded=embedded, his_clock=None if wall else clock,
                       follow_clock=wall is None, _servers=servers, _closers=closers)
    except (ServerError, DriverError, OSError) as exc:
        _stop(servers, closers)
        raise HarnessError(f"cannot start the scenario's servers: {exc}") from exc
    except BaseException:
        _stop(servers, closers)
        raise


def his_info(driver: HisDriver, his_url: str, code: str, run: str, serve: str) -> Outcome:
    """The HIS's answer to ``GET /his/v1/info``, once it says it serves institution ``code``:
    else a :class:`HarnessError` on one line — ``run`` (``scenario ID``, ``drill ID``) is for
    ``code``, and ``serve`` says how to set the HIS up for it, in the words of the command that
    runs it (what it offers, and files that are there after the failure)."""
    info = driver.info()
    if not info.ok:
        raise HarnessError(f"the HIS at {his_url} did not answer its info: {info.body}")
    found = info.body.get("institution")
    if not isinstance(found, Mapping):
        raise HarnessError(
            f"the HIS at {his_url} answered GET /his/v1/info with institution "
            f"{'missing' if 'institution' not in info.body else 'as ' + json_type(found)}"
            f"{'' if found is None else f' {found!r:.80}'}: it must be an object with "
            "fixmedins_code, the institution the HIS serves (docs/his-driver.md)")
    institution = found.get("fixmedins_code")
    if institution != code:
        raise HarnessError(f"the HIS at {his_url} is institution {institution}, but {run} is "
                           f"for {code}: {serve}")
    return info


def _insurer_wall(start: datetime, his_url: str | None,
                  his_command: str | None) -> Callable[[], datetime]:
    """The embedded insurer's wall clock: simulated with the embedded reference HIS (whose clock
    the runner moves too, so a run repeats exactly); China's real time with a HIS of its own
    (it signs TIF headers with real Unix seconds). The business time follows the scenario
    either way (``set_business_time``)."""
    if his_url is None and his_command is None:
        return FixedClock(start, timedelta(milliseconds=10))
    return china_now


GATEWAY_AUTH_MODES = ("none", "tif", "apikey")
_NEEDED = {"none": (), "tif": ("paasid", "token"), "apikey": ("apikey",)}


def gateway_auth(admin: InsurerAdmin, insurer_url: str, fixmedins_code: str,
                 fallback: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """The gateway authentication of the insurer at ``insurer_url`` (none, tif, apikey) and
    the credentials institution ``fixmedins_code`` signs with there — the insurer's own
    (``fallback``: the scenario's, for an insurer that does not show them). A
    :class:`HarnessError` says, on one line, what cannot be learned and what to do."""
    mode = admin.settings().get("gateway_auth")
    if mode not in GATEWAY_AUTH_MODES:
        raise HarnessError(
            f"the insurer at {insurer_url} does not say its gateway authentication (GET "
            f"/admin/settings has gateway_auth {mode!r}, expected one of "
            f"{', '.join(GATEWAY_AUTH_MODES)}), so the HIS started here cannot sign for it: "
            "give a HIS configured for that insurer (--his-url), or leave out --insurer-url")
    if mode == "none":
        return "none", dict(fallback or {})
    found = admin.institution(fixmedins_code)
    if found is None:
        raise HarnessError(
            f"the insurer at {insurer_url} (gateway auth {mode}) does not serve institution "
            f"{fixmedins_code}, so the HIS started here has no credentials to sign with: load "
            "the scenario's institutions into it (let the run reset it), or give a HIS "
            "configured for it (--his-url)")
    credentials = {**(fallback or {}),
                   **{k: v for k, v in (found.get("credentials") or {}).items() if v}}
    missing = [name for name in _NEEDED[mode] if not credentials.get(name)]
    if missing:
        raise HarnessError(
            f"the insurer at {insurer_url} (gateway auth {mode}) shows no {'/'.join(missing)} "
            f"for institution {fixmedins_code} (GET /admin/institutions/{fixmedins_code}), so "
            "the HIS started here cannot sign: load institutions with gateway credentials, or "
            "give a HIS configured for it (--his-url)")
    return str(mode), credentials


def _auth(mode: str, credentials: dict[str, Any]) -> Auth | None:
    if mode == "tif":
        return TifAuth(str(credentials.get("paasid")), str(credentials.get("token")))
    if mode == "apikey":
        return ApiKeyAuth(str(credentials.get("apikey")))
    return None


def _stop(servers: list[RunningServer], closers: list[Any]) -> None:
    for server in servers:
        with contextlib.suppress(Exception):
            server.stop()
    for closer in reversed(closers):
        with contextlib.suppress(Exception):
            closer()
