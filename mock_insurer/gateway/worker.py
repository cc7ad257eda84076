"""Building the insurer inside each worker process of a multi-process server.

``cardsettle insurer serve --workers N`` (N > 1, PostgreSQL only) loads the data files ONCE in
the parent process, then lets uvicorn start N worker processes that share the listening
socket. uvicorn imports the app anew in every worker from an import string, so the app is
built by the module-level factory :func:`create_app` (``APP_FACTORY``, run with
``factory=True``), which reads the insurer's configuration from the environment variable
``CONFIG_ENV``: a JSON object made by :func:`encode_config` from an :class:`InsurerConfig`.
Each worker opens the existing ledger (never ``fresh``, never loading files), with its own
connection pool, business clock, fault engine and drill state.

What is per process (docs/insurer.md, "Several processes"): the fault plan and its counters,
the business-clock offset set through the admin API, the drill state, the sign-in cache (a
sign-out elsewhere is seen within ``SIGNIN_CACHE_SECONDS``). What is shared: everything in the
ledger (persons, visits, settlements, the message record and its msgid idempotency).

Each worker draws its ``inf_refmsgid`` sequence from its own start (:func:`refmsgid_start`,
from the process id), so two workers do not hand out the same id in the same second.
Wall clock: ``china_now`` of the worker (this module is a process entry point, like the
CLI).
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import signal
import sys
from datetime import date
from typing import Any

from mock_insurer.errors import InsurerError
from mock_insurer.gateway.app import Insurer, InsurerConfig
from mock_insurer.ledger.engine import shown_url
from mock_insurer.transactions import Settings
from mock_insurer.wire.timefmt import china_now

__all__ = [
    "APP_FACTORY",
    "CONFIG_ENV",
    "WorkerConfigError",
    "WorkerSpec",
    "create_app",
    "decode_config",
    "encode_config",
    "refmsgid_start",
]

CONFIG_ENV = "CARDSETTLE_INSURER_CONFIG"
APP_FACTORY = "mock_insurer.gateway.worker:create_app"
_REFMSGID_BLOCK = 1_000_000  # ids a worker can draw before it could meet another's start
_REFMSGID_SLOTS = 10_000  # 10-digit sequence (mock_insurer.wire.msgid) / _REFMSGID_BLOCK


class WorkerConfigError(InsurerError):
    """The worker's configuration (environment variable ``CONFIG_ENV``) is missing or wrong."""


@dataclasses.dataclass(frozen=True, slots=True)
class WorkerSpec:
    """What a worker needs besides the :class:`InsurerConfig`: the business date to start on
    (None: today's, from the wall clock) and, when ``announce`` is set, the address shown in
    the line each worker writes to standard output once it is built."""

    business_date: date | None = None
    announce: bool = False
    listen: str = ""


def encode_config(config: InsurerConfig, spec: WorkerSpec | None = None) -> str:
    """The JSON text :func:`create_app` reads from ``CONFIG_ENV``. Data files and ``fresh``
    are left out on purpose: the parent loads the data once; workers only open the ledger.
    ``wall`` is left out too (a worker uses its own ``china_now``)."""
    spec = spec or WorkerSpec()
    return json.dumps({
        "db_url": config.db_url, "policy": config.policy, "auth": config.auth,
        "settings": dataclasses.asdict(config.settings), "admin_token": config.admin_token,
        "area": config.area, "durability": config.durability, "processes": config.processes,
        "business_date": spec.business_date.isoformat() if spec.business_date else None,
        "announce": spec.announce, "listen": spec.listen, "host_names": list(config.host_names),
    }, ensure_ascii=False)


def decode_config(text: str) -> tuple[InsurerConfig, WorkerSpec]:
    """The configuration and spec encoded by :func:`encode_config`; raises
    :class:`WorkerConfigError` naming the field that is wrong."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise WorkerConfigError(f"{CONFIG_ENV} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise WorkerConfigError(f"{CONFIG_ENV} must be a JSON object")
    if not isinstance(data.get("db_url"), str) or not data["db_url"]:
        raise WorkerConfigError(f"{CONFIG_ENV}: db_url is missing")
    settings_fields = {f.name for f in dataclasses.fields(Settings)}
    raw_settings = data.get("settings") or {}
    if not isinstance(raw_settings, dict) or set(raw_settings) - settings_fields:
        raise WorkerConfigError(f"{CONFIG_ENV}: settings has unknown fields "
                                f"{sorted(set(raw_settings) - settings_fields)}")
    try:
        business_date = (date.fromisoformat(data["business_date"])
                         if data.get("business_date") else None)
    except (TypeError, ValueError) as exc:
        raise WorkerConfigError(f"{CONFIG_ENV}: business_date is not YYYY-MM-DD") from exc
    config = InsurerConfig(
        db_url=data["db_url"], policy=str(data.get("policy", "beijing")),
        auth=str(data.get("auth", "none")), settings=Settings(**raw_settings),
        admin_token=data.get("admin_token"), area=str(data.get("area", "110000")),
        durability=str(data.get("durability", "full")), wall=china_now,
        refmsgid_start=refmsgid_start(os.getpid()), fresh=False,
        processes=_positive(data.get("processes", 1)), host_names=_names(data.get("host_names")))
    spec = WorkerSpec(business_date=business_date, announce=bool(data.get("announce")),
                      listen=str(data.get("listen", "")))
    return config, spec


def _names(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise WorkerConfigError(f"{CONFIG_ENV}: host_names must be a list of names")
    return tuple(value)


def _positive(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise WorkerConfigError(f"{CONFIG_ENV}: processes must be a whole number above 0")
    return value


def refmsgid_start(pid: int) -> int:
    """Where a process's ``inf_refmsgid`` sequence starts: a block of a million ids chosen by
    its process id (two live workers share a block only when their pids are equal modulo
    10 000)."""
    return (pid % _REFMSGID_SLOTS) * _REFMSGID_BLOCK


_PR_SET_PDEATHSIG = 1  # prctl(2)


def _die_with_parent() -> None:
    """Linux: this worker gets SIGTERM (and stops as uvicorn stops a worker) when the server's
    parent process dies, so ``kill -9`` of the parent leaves no worker serving on its own,
    holding the port. Elsewhere a no-op. uvicorn starts and restarts workers from the parent's
    main thread, whose end is what the kernel watches."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took hold
        os.kill(os.getpid(), signal.SIGTERM)


def create_app(environ: dict[str, str] | None = None) -> Insurer:
    """The insurer of one worker process, configured by ``CONFIG_ENV`` in ``environ``
    (default: the process environment). Opens the existing ledger; loads nothing."""
    env: Any = os.environ if environ is None else environ
    text = env.get(CONFIG_ENV)
    if not text:
        raise WorkerConfigError(f"{CONFIG_ENV} is not set: start workers with "
                                "`cardsettle insurer serve --workers N`")
    config, spec = decode_config(text)
    _die_with_parent()
    insurer = Insurer.open(config)
    if spec.business_date is not None:
        insurer.clock.set_business_date(spec.business_date)
    if spec.announce:
        where = f" on {spec.listen}" if spec.listen else ""
        sys.stdout.write(
            f"  worker pid {os.getpid()}: national interface, admin API and console{where}; "
            f"ledger {shown_url(config.db_url)}; business time {insurer.clock.now():%Y-%m-%d %H:%M:%S}\n")
        sys.stdout.flush()
    return insurer
