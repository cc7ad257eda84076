"""The Tencent TIF ("里约") gateway signature: the one place that signs and checks it.

Headers (fact sheet §1.3 B; shared/reference/README.md, "gateway auth"):
``x-tif-paasid`` (the institution's PaaS id), ``x-tif-timestamp`` (Unix time in **seconds**,
decimal), ``x-tif-nonce`` (random string), ``x-tif-signature`` = lowercase hex SHA-256 of the
UTF-8 string ``timestamp + token + nonce + timestamp`` (token = the secret issued with the
paasid). The body is not signed. Header names are case-insensitive.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from mock_insurer.wire.timefmt import unix_seconds

__all__ = [
    "TIF_HEADERS",
    "TIF_REASONS",
    "NonceCache",
    "missing_tif_header",
    "nearest_clock",
    "tif_headers",
    "tif_signature",
    "verify_tif",
]

TIF_HEADERS = ("x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature")

TIF_REASONS: Mapping[str, str] = MappingProxyType({
    "tif_missing_header": "网关认证失败：缺少请求头 {header}",
    "tif_unknown_paasid": "网关认证失败：x-tif-paasid 不是本机构的网关账号（未注册或属于其他机构），"
                          "请核对本机构的 paasid 和 token",
    "tif_bad_timestamp": "网关认证失败：x-tif-timestamp 应为Unix秒",
    "tif_timestamp_millis": "网关认证失败：x-tif-timestamp 应为秒，收到的是毫秒",
    "tif_timestamp_skew": "网关认证失败：x-tif-timestamp 与服务器时间相差过大",
    "tif_bad_signature": "网关认证失败：签名不一致，请核对 token 及签名算法 "
                         "sha256(timestamp + token + nonce + timestamp)",
    "tif_nonce_reused": "网关认证失败：x-tif-nonce 已被使用",
    "tif_signed_before_start": "网关认证失败：签名时间早于医保中心本次启动，无法确认 x-tif-nonce "
                               "未被使用，请重新签名后再发",
})
"""A text for each reason code :func:`verify_tif` returns (``{header}`` filled in by callers)."""


def tif_signature(timestamp: str, token: str, nonce: str) -> str:
    """Lowercase hex SHA-256 of ``timestamp + token + nonce + timestamp``."""
    return hashlib.sha256(f"{timestamp}{token}{nonce}{timestamp}".encode()).hexdigest()


def tif_headers(paasid: str, token: str, clock: Callable[[], datetime],
                nonce: str) -> dict[str, str]:
    """The four ``x-tif-*`` headers for one request, signed at ``clock()`` with *nonce*.

    *nonce* must be new for every request (the gateway refuses a reused one)."""
    timestamp = str(unix_seconds(clock()))
    return {
        "x-tif-paasid": paasid,
        "x-tif-timestamp": timestamp,
        "x-tif-nonce": nonce,
        "x-tif-signature": tif_signature(timestamp, token, nonce),
    }


class NonceCache:
    """Remembers ``(paasid, nonce)`` pairs; thread-safe. Use an instance as ``seen_nonce`` for
    :func:`verify_tif`: calling it with a pair, the timestamp it was signed with and the
    server's time on the clock that timestamp follows records the pair and says whether it may
    be used (``None``) or why not (a reason code of :data:`TIF_REASONS`).

    *skew_seconds* is the gateway's timestamp window: a signed request can be replayed until
    its timestamp is *skew* behind the server's clock, so a pair is kept that long, counted on
    *timer* (monotonic seconds) — not on whichever clock the latest request followed, which an
    operator may have moved by days. A cache knows nothing of the pairs used before it
    existed: a timestamp signed before it opened (on the same clock) is refused as
    ``tif_signed_before_start``, so a restarted insurer does not accept a replay of a request
    its previous run took."""

    def __init__(self, skew_seconds: int, timer: Callable[[], float]) -> None:
        self.skew_seconds = skew_seconds
        self._timer = timer
        self._opened = timer()
        self._seen: dict[tuple[str, str], float] = {}  # pair -> when it may be forgotten
        self._lock = threading.Lock()
        self._last_sweep = self._opened

    def __call__(self, paasid: str, nonce: str, signed_seconds: int,
                 now_seconds: int) -> str | None:
        key = (paasid, nonce)
        now = self._timer()
        if now_seconds - signed_seconds > now - self._opened + 1:  # whole seconds: 1 s slack
            return "tif_signed_before_start"
        with self._lock:
            if now - self._last_sweep >= self.skew_seconds:
                self._seen = {k: until for k, until in self._seen.items() if until >= now}
                self._last_sweep = now
            until = self._seen.get(key)
            if until is not None and until >= now:
                return "tif_nonce_reused"
            self._seen[key] = now + max(0, signed_seconds + self.skew_seconds - now_seconds) + 1
            return None


def verify_tif(headers: Mapping[str, str], token_lookup: Callable[[str], str | None],
               now_seconds: int, skew_seconds: int,
               seen_nonce: Callable[[str, str, int, int], str | None]) -> str | None:
    """Check the TIF headers of one request; ``None`` when good, else a stable reason code.

    *token_lookup* maps a paasid to its token (``None``: unknown). *now_seconds* is the
    server's Unix time; the timestamp may differ by at most *skew_seconds* either way.
    *seen_nonce* (e.g. a :class:`NonceCache`) is asked only once the signature is good, so a
    forged request cannot burn a nonce. Reason codes are the keys of :data:`TIF_REASONS`."""
    lowered = {key.lower(): value for key, value in headers.items()}
    for name in TIF_HEADERS:
        if not lowered.get(name):
            return "tif_missing_header"
    paasid = lowered["x-tif-paasid"]
    token = token_lookup(paasid)
    if token is None:
        return "tif_unknown_paasid"
    timestamp = lowered["x-tif-timestamp"].strip()
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 15:
        return "tif_bad_timestamp"
    seconds = int(timestamp)
    if abs(now_seconds - seconds) > skew_seconds:
        if len(timestamp) >= 13 and abs(now_seconds - seconds // 1000) <= skew_seconds:
            return "tif_timestamp_millis"
        return "tif_timestamp_skew"
    nonce = lowered["x-tif-nonce"]
    expected = tif_signature(lowered["x-tif-timestamp"], token, nonce)
    given = lowered["x-tif-signature"].strip().lower()
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        return "tif_bad_signature"
    return seen_nonce(paasid, nonce, seconds, now_seconds)


def nearest_clock(headers: Mapping[str, str], clocks: Sequence[int]) -> int:
    """Of the server's clocks (Unix seconds; the first is the wall clock), the one nearest the
    request's ``x-tif-timestamp`` — the first when the header is missing or not a number.

    The mock insurer has two: the wall clock, which a HIS on real time signs with, and the
    business clock when an operator moved it, which a simulated HIS (a scenario's) follows."""
    lowered = {key.lower(): value for key, value in headers.items()}
    stamp = str(lowered.get("x-tif-timestamp", "")).strip()
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 15:
        return clocks[0]
    return min(clocks, key=lambda clock: abs(clock - int(stamp)))


def missing_tif_header(headers: Mapping[str, str]) -> str | None:
    """The first missing ``x-tif-*`` header name (for the ``{header}`` of the text), if any."""
    lowered = {key.lower() for key, value in headers.items() if value}
    return next((name for name in TIF_HEADERS if name not in lowered), None)
