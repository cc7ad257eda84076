"""The half of the admin API that changes the insurer: faults, clock, reset, data loads.

Fault plans and the business clock are per process (``docs/adr/0007-fault-layer.md``): with
several worker processes a plan or a date set here would reach only the process that served
the request, so on such an insurer every change here is refused (409 ``one_process_only``,
:func:`one_process`), and so are resets and data loads (they change the shared ledger but only
the receiving process's catalogue, policy and institutions). The business clock moves by an offset over the wall clock
(:class:`~mock_insurer.gateway.clock.BusinessClock`), so time keeps running after a date is
set. Guide: ``docs/admin-api.md``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mock_insurer.admin.datafiles import DataFiles
from mock_insurer.admin.errors import BadRequest, NotFound, OneProcessOnly, Unprocessable
from mock_insurer.admin.params import path_text
from mock_insurer.admin.web import MAX_DATA_BODY, AdminCall, Op, Work
from mock_insurer.faults import FaultPlan, FaultPlanError

if TYPE_CHECKING:
    from mock_insurer.gateway.app import Insurer

__all__ = ["CLOCK_RANGE", "YAML_TYPES", "Controller", "control_ops", "json_object",
           "one_process", "only_keys", "printable"]

YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
"""Media types of a fault plan sent as YAML (anything else is read as JSON)."""

CLOCK_RANGE = (date(1900, 1, 1), date(2199, 12, 31))
"""Business dates the clock may be set to (inclusive): far enough for any replay, near enough
that adding the clock's offset to the wall clock can never overflow."""

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}")


def json_object(call: AdminCall, *, empty: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body as a JSON object (``empty`` when there is no body and that is allowed)."""
    if not call.body.strip() and empty is not None:
        return dict(empty)
    try:
        data = json.loads(call.body)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"the body is not valid JSON ({exc})", where="body") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object", where="body")
    return data


def printable(text: str, limit: int = 100) -> str:
    """``text`` cut to ``limit`` characters with lone surrogates replaced (``"\\ud800"`` reads
    from JSON but cannot be written back), to quote it in an error."""
    return text[:limit].encode("utf-8", "replace").decode("utf-8")


def only_keys(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """Refuse (422) a field of ``data`` that is not in ``allowed``."""
    for key in data:
        if key not in allowed:
            name = printable(key)
            raise Unprocessable(f"unknown field {name!r}; expected {', '.join(allowed)}",
                                where=f"body.{name}")


class Controller:
    """The endpoints that change the insurer."""

    def __init__(self, insurer: Insurer) -> None:
        self.insurer = insurer
        self.data = DataFiles(insurer)

    # -- faults -------------------------------------------------------------------------------
    def faults(self, call: AdminCall) -> dict[str, Any]:
        engine = self.insurer.service.faults
        return {"plan": engine.plan().to_dict(), "stats": engine.stats(),
                "armed": engine.has_active}

    def put_faults(self, call: AdminCall) -> dict[str, Any]:
        plan = _read_plan(call)
        self.insurer.service.faults.set_plan(plan)
        return self.faults(call)

    def delete_faults(self, call: AdminCall) -> dict[str, Any]:
        self.insurer.service.faults.clear()
        return self.faults(call)

    def start_fault(self, call: AdminCall) -> dict[str, Any]:
        return self._arm(call, True)

    def stop_fault(self, call: AdminCall) -> dict[str, Any]:
        return self._arm(call, False)

    def _arm(self, call: AdminCall, active: bool) -> dict[str, Any]:
        fault_id = path_text(call.path, "id")
        if not self.insurer.service.faults.set_active(fault_id, active):
            raise NotFound(f"the fault plan has no fault {fault_id!r}", where="path.id")
        return self.faults(call)

    # -- clock ----------------------------------------------------------------------------------
    def clock(self, call: AdminCall) -> dict[str, Any]:
        now = self.insurer.clock.now()
        return {"business_time": now.strftime("%Y-%m-%d %H:%M:%S"),
                "business_date": now.strftime("%Y-%m-%d")}

    def put_clock(self, call: AdminCall) -> dict[str, Any]:
        data = json_object(call)
        fields = ("business_date", "business_time", "reset")
        only_keys(data, fields)
        given = [key for key in fields if key in data]
        if len(given) != 1:
            raise Unprocessable("give exactly one of business_date, business_time or reset",
                                where="body")
        clock = self.insurer.clock
        key = given[0]
        value = data[key]
        if key == "reset":
            if value is not True:
                raise Unprocessable("reset must be true", where="body.reset")
            clock.reset()
        elif key == "business_date":
            clock.set_business_date(_read_date(value))
        else:
            clock.set_business_time(_read_time(value))
        return self.clock(call)

    # -- settings --------------------------------------------------------------------------------
    def settings(self, call: AdminCall) -> dict[str, Any]:
        insurer = self.insurer
        switches = dataclasses.asdict(insurer.service.settings)
        return {
            "mode": switches.pop("mode"), "switches": switches,
            "gateway_auth": insurer.service.auth.mode,
            "admin_auth": "token" if insurer.config.admin_token else "loopback",
            "policy": insurer.service.reference.profile.label, "area": insurer.config.area,
            "processes": insurer.config.processes,
            "ledger": {"backend": insurer.ledger.dialect, "counts": insurer.counts()},
            "faults_armed": insurer.service.faults.has_active,
        }

    # -- reset and loads -------------------------------------------------------------------------
    def reset(self, call: AdminCall) -> dict[str, Any]:
        data = json_object(call, empty={})
        only_keys(data, ("keep_reference",))
        keep = data.get("keep_reference", True)
        if not isinstance(keep, bool):
            raise Unprocessable("keep_reference must be true or false",
                                where="body.keep_reference")
        return self.data.reset(keep_reference=keep)

    def load(self, kind: str) -> Work:
        """The work of ``POST /admin/<kind>``: the body is the JSONL file, or (as
        application/json) ``{"path": ...}`` naming a file on the insurer's machine."""

        def work(call: AdminCall) -> dict[str, Any]:
            if call.media_type == "application/json":
                data = json_object(call)
                only_keys(data, ("path",))
                path = data.get("path")
                if not isinstance(path, str) or not path.strip() or "\x00" in path:
                    raise Unprocessable('give {"path": "<a file on the insurer\'s machine>"}, '
                                        "or send the JSONL itself as application/x-ndjson",
                                        where="body.path")
                return self.data.load_path(kind, Path(path))
            return self.data.load_bytes(kind, call.body)

        work.__name__ = f"load_{kind}"
        return work


def _read_plan(call: AdminCall) -> FaultPlan:
    try:
        if call.media_type in YAML_TYPES:
            try:
                data = yaml.safe_load(call.body.decode("utf-8"))
            except UnicodeDecodeError:
                raise BadRequest("the YAML body is not UTF-8", where="body") from None
            except yaml.YAMLError as exc:
                raise BadRequest(f"the body is not valid YAML ({exc})", where="body") from None
            return FaultPlan.from_dict(data)
        try:
            data = json.loads(call.body)
        except (ValueError, RecursionError) as exc:
            raise BadRequest(f"the body is not valid JSON ({exc}); send YAML as "
                             "application/yaml", where="body") from None
        return FaultPlan.from_dict(data)
    except FaultPlanError as exc:
        raise Unprocessable(str(exc), where=_plan_where(exc), code="invalid_fault_plan") from None
    except RecursionError:
        raise BadRequest("the fault plan is nested too deeply", where="body") from None
    except (TypeError, ValueError) as exc:
        # the plan reader's checks miss some shapes (an effect kind that is a mapping)
        raise Unprocessable(f"fault plan: cannot be read ({exc})", where="body",
                            code="invalid_fault_plan") from None


def _plan_where(exc: FaultPlanError) -> str:
    parts = []
    if exc.fault_index is not None:
        parts.append(f"faults[{exc.fault_index}]")
    elif exc.fault_id is not None:
        parts.append(f"faults[id={exc.fault_id}]")
    if exc.field:
        parts.append(exc.field)
    return ".".join(parts) or "body"


def _in_range(day: date, where: str) -> None:
    low, high = CLOCK_RANGE
    if not low <= day <= high:
        raise Unprocessable(f"{day.isoformat()} is outside {low.isoformat()}..{high.isoformat()}",
                            where=where)


def _read_date(value: Any) -> date:
    where = "body.business_date"
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise Unprocessable("business_date must be a date like 2026-03-02", where=where)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise Unprocessable(f"{value} is not a calendar date", where=where) from None
    _in_range(day, where)
    return day


def _read_time(value: Any) -> datetime:
    where = "body.business_time"
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise Unprocessable('business_time must be like "2026-03-02 08:00:00"', where=where)
    try:
        moment = datetime.fromisoformat(value.replace("T", " "))
    except ValueError:
        raise Unprocessable(f"{value} is not a calendar time", where=where) from None
    _in_range(moment.date(), where)
    return moment


def one_process(insurer: Insurer, what: str, work: Work) -> Work:
    """``work``, refused (409) when the insurer is served by several processes: ``what`` (a
    fault plan, ...) would reach only the process that answered, and the others would go on
    without it — with no sign of it in a 200."""

    def guarded(call: AdminCall) -> Any:
        processes = insurer.config.processes
        if processes > 1:
            raise OneProcessOnly(
                f"this insurer runs {processes} processes (--workers {processes}), and {what} "
                f"would reach only the one that answered (pid {os.getpid()}) while the others "
                "go on without it; restart the insurer with --workers 1 (the default) for "
                "faults, drills, clock moves, resets and loads (docs/insurer.md, \"Several "
                "processes\")", where="processes")
        return work(call)

    guarded.__name__ = getattr(work, "__name__", "admin_endpoint")
    return guarded


def control_ops(insurer: Insurer) -> list[Op]:
    """The operations that change the insurer, relative to the ``/admin`` mount."""
    c = Controller(insurer)

    def single(what: str, work: Work) -> Work:
        return one_process(insurer, what, work)

    plan = "a fault plan"
    ops = [
        Op("GET", "/faults", c.faults), Op("PUT", "/faults", single(plan, c.put_faults)),
        Op("DELETE", "/faults", single(plan, c.delete_faults)),
        Op("POST", "/faults/{id}/start", single(plan, c.start_fault)),
        Op("POST", "/faults/{id}/stop", single(plan, c.stop_fault)),
        Op("GET", "/clock", c.clock),
        Op("PUT", "/clock", single("a move of the business clock", c.put_clock)),
        Op("GET", "/settings", c.settings),
        Op("POST", "/reset", single("a reset (the reference data it reloads)", c.reset)),
    ]
    paths = {"population": "/population", "catalogue": "/catalogue",
             "institutions": "/institutions"}
    ops += [Op("POST", path, single(f"a load of the {kind} (the reference data it reloads)",
                                    c.load(kind)), body_limit=MAX_DATA_BODY)
            for kind, path in paths.items()]
    return ops
