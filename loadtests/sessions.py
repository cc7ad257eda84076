"""Locust's HTTP session, judging answers by their business outcome and naming requests by
what they do, so that the client SDK and the HIS driver can run on it unchanged.

Locust's :class:`~locust.clients.HttpSession` is a :class:`requests.Session`: the SDK's
``InsurerClient(session=...)`` and ``HttpHisDriver(session=...)`` send through it and locust
times every request. :class:`JudgedSession` adds what HTTP status codes cannot tell: an HTTP
200 whose envelope says ``infcode`` -1 (or whose driver answer says ``"ok": false``) is a
FAILURE in locust's statistics — unless the task said it expected that refusal, and then an
answer that was *not* refused is the failure. Times are wall-clock milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from locust.clients import HttpSession, ResponseContextManager
from locust.env import Environment

__all__ = ["JudgedSession", "VisitTimer", "driver_verdict", "insurer_verdict"]

Verdict = Callable[[Any], "bool | None"]
"""Reads a decoded answer: True refused, False accepted, None not an answer at all."""


def insurer_verdict(payload: Any) -> bool | None:
    """The national envelope: ``infcode`` 0 accepted, anything else refused."""
    if not isinstance(payload, dict) or "infcode" not in payload:
        return None
    return str(payload["infcode"]) != "0"


def driver_verdict(payload: Any) -> bool | None:
    """The HIS driver API: ``{"ok": true|false, ...}``."""
    if not isinstance(payload, dict) or "ok" not in payload:
        return None
    return payload["ok"] is not True


class JudgedSession(HttpSession):
    """An :class:`HttpSession` whose every request is named by :meth:`step` and judged by
    *verdict* (see the module docstring)."""

    def __init__(self, base_url: str, environment: Environment, user: Any,
                 verdict: Verdict) -> None:
        super().__init__(base_url=base_url, request_event=environment.events.request,
                         user=user)
        self.trust_env = False
        self._verdict = verdict
        self._name: str | None = None
        self._expect_refusal = False
        self.refused = False

    @contextmanager
    def step(self, name: str, *, expect_refusal: bool = False) -> Iterator[None]:
        """Name the requests sent inside (``2207 settle``) and say whether a refusal is what
        the task wants to see."""
        self._name, self._expect_refusal = name, expect_refusal
        try:
            yield
        finally:
            self._name, self._expect_refusal = None, False

    def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                name: str | None = None, catch_response: bool = False,
                context: dict[str, Any] | None = None, **kwargs: Any) -> ResponseContextManager:
        label = name or self._name
        with super().request(method, url, name=label, catch_response=True,
                             context=context or {}, **kwargs) as response:
            self.refused = False
            if response.error is not None:
                response.failure(response.error)
            elif response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            else:
                self._judge(response)
        if response.error is not None:
            raise response.error  # the SDK and the driver turn it into their own errors
        return response

    def _judge(self, response: ResponseContextManager) -> None:
        try:
            payload = orjson.loads(response.content or b"")
        except orjson.JSONDecodeError:
            payload = None
        refused = self._verdict(payload)
        if refused is None:
            if response.headers.get("Content-Type", "").startswith("application/json"):
                response.failure("not an answer of the interface")
            else:  # a file download (9102) answers bytes
                response.success()
            return
        self.refused = refused
        if refused and not self._expect_refusal:
            message = (payload.get("err_msg") or payload.get("refusal") or "refused")
            response.failure(f"refused: {str(message)[:160]}")
        elif not refused and self._expect_refusal:
            response.failure("expected a refusal, was accepted")
        else:
            response.success()


class VisitTimer:
    """Times a whole visit and reports it to locust as its own entry (request type
    ``VISIT``, name ``visit`` by default): wall-clock milliseconds from the first request to
    the last answer; a visit that ended in an error counts as a failed visit."""

    def __init__(self, environment: Environment, name: str = "visit",
                 timer: Callable[[], float] = time.perf_counter) -> None:
        self.environment = environment
        self.name = name
        self._timer = timer

    @contextmanager
    def timing(self) -> Iterator[None]:
        """Time the visit inside; a visit cut off when the test stops (locust kills its
        users: ``GreenletExit``, a ``BaseException``) did not end and is not counted."""
        started = self._timer()
        error: Exception | None = None
        try:
            yield
        except Exception as exc:
            where = getattr(exc, "infno", "") or ""
            error = RuntimeError(f"{type(exc).__name__}{' at ' + where if where else ''}")
            self._report(started, error)
            raise
        self._report(started, None)

    def _report(self, started: float, error: Exception | None) -> None:
        elapsed = (self._timer() - started) * 1000.0
        self.environment.events.request.fire(
            request_type="VISIT", name=self.name, response_time=elapsed,
            response_length=0, exception=error, context={})
