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
    :func:`verify_tif`: calling it records the pair and says whether it was seen before.

    *skew_seconds* is the gateway's timestamp window. A timestamp is accepted from *skew*
    before to *skew* after the server's time, so a replay of a request can arrive up to
    ``2 × skew`` seconds after the first use: pairs are remembered that long, no longer."""

    def __init__(self, skew_seconds: int) -> None:
        self.skew_seconds = skew_seconds
        self.keep_seconds = 2 * skew_seconds
        self._seen: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._last_sweep = 0

    def __call__(self, paasid: str, nonce: str, now_seconds: int) -> bool:
        key = (paasid, nonce)
        with self._lock:
            if now_seconds - self._last_sweep >= self.keep_seconds:
                horizon = now_seconds - self.keep_seconds
                self._seen = {k: t for k, t in self._seen.items() if t >= horizon}
                self._last_sweep = now_seconds
            seen_at = self._seen.get(key)
            if seen_at is not None and now_seconds - seen_at <= self.keep_seconds:
                return True
            self._seen[key] = now_seconds
            return False


def verify_tif(headers: Mapping[str, str], token_lookup: Callable[[str], str | None],
               now_seconds: int, skew_seconds: int,
               seen_nonce: Callable[[str, str, int], bool]) -> str | None:
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
    if seen_nonce(paasid, nonce, now_seconds):
        return "tif_nonce_reused"
    return None


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
