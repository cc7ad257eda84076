"""The drill the coordinator is running, as the drill runner reports it (``/admin/drill``).

``cardsettle drill run`` tells the insurer which drill runs, its phases and the current one
(``PUT /admin/drill``) so that the console (``/console``, :mod:`mock_insurer.console`) can show
the timeline to the people running the drill. The insurer only keeps what it was told, in
memory and per process like the fault plan (``docs/adr/0007-fault-layer.md``): it does not run
the drill. Guide: ``docs/admin-api.md`` ("Drill and counters"), ``docs/console.md``.

Body (every key but ``drill`` and ``phases`` optional)::

    {"drill": "outage-at-peak", "title": "早高峰中心宕机 / outage at the morning peak",
     "accelerate": 1.0, "state": "running", "current": 1,
     "phases": [{"name": "...", "instructions": "...", "start": "2026-11-23T09:00:00Z",
                 "end": "2026-11-23T09:05:00Z", "faults": ["down"]}],
     "message_id_at_start": 1234}

Phase ``start``/``end`` are wall-clock date-times (ISO 8601, ``T`` or a space, seconds,
optional fraction and zone; without a zone they are the coordinator's local time).
``current`` indexes ``phases`` (``null``: before the first phase or after the last).
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mock_insurer.admin.control import json_object, one_process, only_keys, printable
from mock_insurer.admin.errors import Unprocessable
from mock_insurer.admin.web import AdminCall, Op

if TYPE_CHECKING:
    from mock_insurer.gateway.app import Insurer

__all__ = [
    "DRILL_FIELDS",
    "DRILL_STATES",
    "MAX_ACCELERATE",
    "MAX_FAULTS",
    "MAX_INSTRUCTIONS",
    "MAX_NAME",
    "MAX_PHASES",
    "MAX_TITLE",
    "PHASE_FIELDS",
    "DrillBoard",
    "drill_board",
    "drill_ops",
    "read_drill",
]

DRILL_FIELDS = ("drill", "title", "accelerate", "state", "current", "phases",
                "message_id_at_start")
PHASE_FIELDS = ("name", "instructions", "start", "end", "faults")
DRILL_STATES = ("running", "finished", "aborted")
"""``aborted``: the runner was interrupted (Ctrl+C); ``current`` is the phase it stopped in."""
MAX_NAME = 100
"""Longest drill id, phase name or fault id (characters)."""
MAX_TITLE = 200
MAX_INSTRUCTIONS = 2000
"""Longest instructions of one phase (characters)."""
MAX_PHASES = 100
MAX_FAULTS = 100
"""Most fault ids listed for one phase."""
MAX_ACCELERATE = 1000.0
MAX_ID = 999_999_999_999_999_999

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}"
                     r"(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?")


def _text(value: Any, where: str, limit: int, *, empty: bool = False,
          lines: bool = False) -> str:
    if not isinstance(value, str):
        raise Unprocessable(f"{where} must be a text", where=where)
    if not value and not empty:
        raise Unprocessable(f"{where} must not be empty", where=where)
    if len(value) > limit:
        raise Unprocessable(f"{where} is longer than {limit} characters", where=where)
    if not lines and _CONTROL.search(value):
        raise Unprocessable(f"{where} contains a control character", where=where)
    if printable(value, len(value)) != value:
        raise Unprocessable(f"{where} is not valid Unicode (a lone surrogate)", where=where)
    return value


def _whole(value: Any, where: str, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unprocessable(f"{where} must be a whole number", where=where)
    if not 0 <= value <= high:
        raise Unprocessable(f"{where} must be from 0 to {high} (got {value})", where=where)
    return value


def _moment(value: Any, where: str) -> datetime | None:
    """A phase's start or end: ``None``, or an ISO 8601 date-time (kept as given)."""
    if value is None:
        return None
    if not isinstance(value, str) or not _MOMENT.fullmatch(value):
        raise Unprocessable(f'{where} must be a date-time like "2026-11-23T09:00:00Z" or '
                            '"2026-11-23 09:00:00"', where=where)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise Unprocessable(f"{where} is not a calendar time ({value})", where=where) from None


def _phase(data: Any, n: int) -> dict[str, Any]:
    where = f"body.phases[{n}]"
    if not isinstance(data, dict):
        raise Unprocessable(f"{where} must be an object with name, instructions, start, end, "
                            "faults", where=where)
    for key in data:
        if key not in PHASE_FIELDS:
            name = printable(key)
            raise Unprocessable(f"unknown field {name!r}; expected {', '.join(PHASE_FIELDS)}",
                                where=f"{where}.{name}")
    if "name" not in data:
        raise Unprocessable("a phase needs a name", where=f"{where}.name")
    start = _moment(data.get("start"), f"{where}.start")
    end = _moment(data.get("end"), f"{where}.end")
    if start is not None and end is not None:
        if (start.tzinfo is None) != (end.tzinfo is None):
            raise Unprocessable("start and end must both give a time zone or both leave it "
                                "out", where=f"{where}.end")
        if end < start:
            raise Unprocessable(f"the phase ends ({data['end']}) before it starts "
                                f"({data['start']})", where=f"{where}.end")
    faults = data.get("faults", [])
    if not isinstance(faults, list):
        raise Unprocessable(f"{where}.faults must be a list of fault ids",
                            where=f"{where}.faults")
    if len(faults) > MAX_FAULTS:
        raise Unprocessable(f"{where}.faults lists more than {MAX_FAULTS} faults",
                            where=f"{where}.faults")
    return {
        "name": _text(data["name"], f"{where}.name", MAX_TITLE),
        "instructions": _text(data.get("instructions", ""), f"{where}.instructions",
                              MAX_INSTRUCTIONS, empty=True, lines=True),
        "start": data.get("start"), "end": data.get("end"),
        "faults": [_text(f, f"{where}.faults[{i}]", MAX_NAME) for i, f in enumerate(faults)],
    }


def read_drill(data: dict[str, Any]) -> dict[str, Any]:
    """The drill state in ``data`` with the optional fields filled in; raises
    :class:`~mock_insurer.admin.errors.Unprocessable` naming the field that is wrong."""
    only_keys(data, DRILL_FIELDS)
    for key in ("drill", "phases"):
        if key not in data:
            raise Unprocessable(f"the drill state needs {key!r}", where=f"body.{key}")
    phases = data["phases"]
    if not isinstance(phases, list):
        raise Unprocessable("phases must be a list", where="body.phases")
    if len(phases) > MAX_PHASES:
        raise Unprocessable(f"a drill has at most {MAX_PHASES} phases", where="body.phases")
    drill = _text(data["drill"], "body.drill", MAX_NAME)
    title = _text(data.get("title", ""), "body.title", MAX_TITLE, empty=True)
    read = [_phase(phase, n) for n, phase in enumerate(phases)]
    accelerate = data.get("accelerate", 1.0)
    if (isinstance(accelerate, bool) or not isinstance(accelerate, int | float)
            or not math.isfinite(accelerate) or not 0 < accelerate <= MAX_ACCELERATE):
        raise Unprocessable(f"accelerate must be a number above 0 and at most "
                            f"{MAX_ACCELERATE:g}", where="body.accelerate")
    state = data.get("state", "running")
    if state not in DRILL_STATES:
        raise Unprocessable(f"state must be one of {', '.join(DRILL_STATES)}",
                            where="body.state")
    current = data.get("current")
    if current is not None:
        _whole(current, "body.current", MAX_ID)
        if current >= len(phases):
            raise Unprocessable(f"current must index phases (0 to {len(phases) - 1}) or be "
                                f"null (got {current})", where="body.current")
    return {
        "drill": drill, "title": title, "accelerate": accelerate, "state": state,
        "current": current, "phases": read,
        "message_id_at_start": _whole(data.get("message_id_at_start", 0),
                                      "body.message_id_at_start", MAX_ID),
    }


class DrillBoard:
    """The drill state one insurer was last told (thread-safe; ``None``: no drill)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, Any] | None = None

    def get(self) -> dict[str, Any] | None:
        with self._lock:
            return self._state

    def set(self, state: dict[str, Any] | None) -> None:
        with self._lock:
            self._state = state


_BOARDS: weakref.WeakKeyDictionary[Any, DrillBoard] = weakref.WeakKeyDictionary()
_BOARDS_LOCK = threading.Lock()


def drill_board(insurer: Insurer) -> DrillBoard:
    """The drill board of ``insurer`` (made on first use, gone with the insurer)."""
    with _BOARDS_LOCK:
        board = _BOARDS.get(insurer)
        if board is None:
            board = _BOARDS[insurer] = DrillBoard()
        return board


def drill_ops(insurer: Insurer) -> list[Op]:
    """``GET``/``PUT``/``DELETE /drill``, relative to the ``/admin`` mount."""
    board = drill_board(insurer)

    def get_drill(call: AdminCall) -> dict[str, Any]:
        return board.get() or {"drill": None}

    def put_drill(call: AdminCall) -> dict[str, Any]:
        state = read_drill(json_object(call))
        board.set(state)
        return state

    def delete_drill(call: AdminCall) -> dict[str, Any]:
        board.set(None)
        return {"drill": None}

    return [Op("GET", "/drill", get_drill),
            Op("PUT", "/drill", one_process(insurer, "the drill shown on the console",
                                            put_drill)),
            Op("DELETE", "/drill", one_process(insurer, "the drill shown on the console",
                                               delete_drill))]
