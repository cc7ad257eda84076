"""The insurer's admin API as the scenario runner uses it (docs/admin-api.md): the business
clock, the fault plan, reset and data loads, and reads of the insurer's ledger.

Money comes back as ``Decimal`` (the API sends yuan as JSON numbers with two decimals).
Anything but the expected answer raises :class:`~scenarios.errors.HarnessError` saying which
call failed and why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from scenarios.errors import HarnessError

__all__ = ["InsurerAdmin", "why_no_answer"]

PAGE = 1000

_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")\]]+)")


def why_no_answer(exc: BaseException, timeout: float | None = None) -> str:
    """Why an HTTP request got no answer, in a few words for a one-line error — the
    operating system's reason (``Connection refused``, ``Name or service not known``) or the
    timeout — instead of the HTTP library's wording (connection pools, retries)."""
    if isinstance(exc, requests.Timeout):
        return f"nothing answered within {timeout:g} s" if timeout else "nothing answered in time"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema
                  | requests.exceptions.InvalidSchema):
        return "not a URL like http://HOST:PORT"
    found = _ERRNO.search(str(exc))
    if found:
        return found.group(1).strip()
    if isinstance(exc, requests.ConnectionError):
        return "cannot connect"
    return type(exc).__name__


class InsurerAdmin:
    """``base_url`` is the insurer's (``http://host:port``); ``token`` its admin token (none:
    the insurer must answer on loopback without one)."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self.session.close()

    def _call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
              body: Any = None, data: bytes | None = None,
              content_type: str | None = None) -> Any:
        url = self.base_url + path
        headers = {"Content-Type": content_type} if content_type else None
        try:
            response = self.session.request(
                method, url, params=params, json=body if data is None else None, data=data,
                headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise HarnessError(f"insurer admin API {method} {url}: no answer "
                               f"({why_no_answer(exc, self.timeout)})") from exc
        if response.status_code == 401 and self.token:
            raise HarnessError(f"insurer admin API {method} {url}: HTTP 401 — the insurer "
                               "refused the admin token given (wrong token): give the token it "
                               "was started with (its --admin-token or CARDSETTLE_ADMIN_TOKEN)")
        if response.status_code in (401, 403):
            raise HarnessError(f"insurer admin API {method} {url}: HTTP {response.status_code} "
                               "— give the insurer's admin token (--admin-token or "
                               "CARDSETTLE_ADMIN_TOKEN)")
        try:
            payload = json.loads(response.text, parse_float=Decimal) if response.text else None
        except ValueError:
            payload = None
        if response.status_code >= 300:
            error = payload.get("error") if isinstance(payload, dict) else None
            detail = (f"{error.get('message')} (where: {error.get('where')})"
                      if isinstance(error, dict) and "where" in error else
                      f"{response.text[:200]} — not a cardsettle mock insurer's admin API "
                      "(is this the insurer's URL, not the HIS's?)"
                      if response.status_code == 404 else response.text[:200])
            failed = HarnessError(f"insurer admin API {method} {url}: HTTP "
                                  f"{response.status_code}: {detail}")
            failed.status = response.status_code  # type: ignore[attr-defined]
            raise failed
        return payload

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self._call("GET", path, params={**params, "limit": PAGE, "offset": offset})
            yield from page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return

    # -- control -------------------------------------------------------------------------
    def set_business_time(self, moment: datetime) -> None:
        self._call("PUT", "/admin/clock",
                   body={"business_time": moment.strftime("%Y-%m-%d %H:%M:%S")})

    def set_faults(self, faults: Sequence[Mapping[str, Any]], seed: int = 1) -> None:
        if faults:
            self._call("PUT", "/admin/faults", body={"seed": seed, "faults": list(faults)})
        else:
            self._call("DELETE", "/admin/faults")

    def reset(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/admin/reset", body={})
        return result

    def load(self, kind: str, path: Path) -> None:
        """Replace the insurer's ``population``, ``catalogue`` or ``institutions``."""
        self._call("POST", f"/admin/{kind}", data=path.read_bytes(),
                   content_type="application/x-ndjson")

    def settings(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/admin/settings")
        return result

    def require_one_process(self, what: str) -> None:
        """Refuse an insurer served by several processes (``--workers N``): ``what`` (a
        scenario, a drill) sets its business clock and fault plan, which each process keeps
        for itself, so they would reach one process of N."""
        processes = self.settings().get("processes", 1)
        if isinstance(processes, int) and processes > 1:
            raise HarnessError(
                f"the insurer at {self.base_url} runs {processes} processes (--workers "
                f"{processes}): {what} sets its business clock and fault plan, which each "
                "process keeps for itself (docs/insurer.md, \"Several processes\"); start it "
                "with one process")

    def institution(self, fixmedins_code: str) -> dict[str, Any] | None:
        """The institution as the insurer serves it (with its gateway credentials), or
        ``None`` when the insurer does not serve it."""
        try:
            found: dict[str, Any] = self._call("GET", f"/admin/institutions/{fixmedins_code}")
        except HarnessError as exc:
            if getattr(exc, "status", None) == 404:
                return None
            raise
        return found

    # -- reads ---------------------------------------------------------------------------
    def settlements(self, fixmedins_code: str, first: date, last: date) -> list[dict[str, Any]]:
        return list(self._pages("/admin/settlements", {
            "fixmedins_code": fixmedins_code, "biz_date_from": first.isoformat(),
            "biz_date_to": last.isoformat()}))

    def visits(self, fixmedins_code: str, status: str | None = None) -> list[dict[str, Any]]:
        params = {"fixmedins_code": fixmedins_code}
        if status:
            params["status"] = status
        return list(self._pages("/admin/visits", params))

    def visit(self, mdtrt_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/admin/visits/{mdtrt_id}")
        return result

    def last_message_id(self) -> int:
        """The id of the newest message recorded (0 when none)."""
        try:
            found = self._call("GET", "/admin/counters")
        except HarnessError as exc:
            if getattr(exc, "status", None) != 404:
                raise
            messages = self.messages()  # an insurer without /admin/counters
            return int(messages[-1]["id"]) if messages else 0
        return int(found.get("last_id") or 0)

    def set_drill(self, state: dict[str, Any] | None) -> None:
        """Tell the insurer (its console) which drill runs and its phase; None: no drill. An
        insurer without a console (no ``/admin/drill``) is left alone."""
        try:
            if state is None:
                self._call("DELETE", "/admin/drill")
            else:
                self._call("PUT", "/admin/drill", body=state)
        except HarnessError as exc:
            if getattr(exc, "status", None) != 404:
                raise

    def drill(self) -> dict[str, Any]:
        """The drill state the insurer holds (``{"drill": null}`` when none)."""
        found: dict[str, Any] = self._call("GET", "/admin/drill")
        return found

    def messages(self, *, after_id: int = 0, **filters: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after = after_id
        while True:
            page = self._call("GET", "/admin/messages",
                              params={**filters, "after_id": after, "limit": PAGE})
            found.extend(page["items"])
            if not page["items"] or page.get("next_after_id") in (None, after):
                return found
            after = page["next_after_id"]
