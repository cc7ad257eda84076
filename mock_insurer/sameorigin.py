"""Refuse what a web page in a browser on this machine could send: DNS rebinding and CSRF.

A server that trusts "this machine" (the admin API with no token, answering loopback only) or
that trusts everyone who can reach it (the HIS driver API) is reachable by any web page opened
in a browser on the same machine:

- **DNS rebinding** — the page's own name (``evil.example.com``) is made to resolve to
  ``127.0.0.1``; the browser then treats the server as the page's own origin and lets the page
  read its answers. The request still says ``Host: evil.example.com``, so
  :func:`host_refusal` accepts only a loopback name or address (``localhost``,
  ``127.0.0.0/8``, ``[::1]``, any port), the address the connection arrived on (the
  address the server listens on; an IP literal cannot be rebound) and the names the server
  was told to listen on.
- **CSRF** — the page posts a "simple" request (``text/plain``, no preflight) to the server.
  The browser says where it comes from in ``Origin`` (or, without one, ``Sec-Fetch-Site``),
  so :func:`origin_refusal` refuses a state-changing request (POST, PUT, PATCH, DELETE)
  whose ``Origin`` is another host:port than its ``Host``.

curl, requests, httpx and the project's clients send no ``Origin`` and name the host they
connect to, so they pass. Both functions are plain: each app turns a :class:`Refusal` into a
403 in its own error shape (the admin API in :mod:`mock_insurer.admin.auth`, the reference
HIS in :mod:`simulator.his.api`); they import nothing of the admin API so that the HIS may
use them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["STATE_CHANGING", "Refusal", "host_refusal", "normal_host", "origin_refusal"]

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods that change something, and so must not come from another origin."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_SHOWN = 100  # characters of a refused header repeated in the message


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is refused: the header at fault and a message saying what and why."""

    where: str
    message: str


def _headers(scope: Mapping[str, Any], name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope.get("headers", [])
            if key.lower() == name]


def _split_host(value: str) -> tuple[str, int | None] | None:
    """``(host, port)`` of a ``Host`` header (``[::1]:8080`` → ``("::1", 8080)``, no port →
    None); None when it cannot be read."""
    value = value.strip()
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket:
            return None
    elif value.count(":") > 1:  # a bare IPv6 address: not valid in Host, but unambiguous
        host, rest = value, ""
    else:
        host, colon, digits = value.partition(":")
        rest = colon + digits
    port = None
    if rest:
        digits = rest[1:]
        if not rest.startswith(":") or not (digits.isascii() and digits.isdigit()) \
                or len(digits) > 5:
            return None
        port = int(digits)
    host = normal_host(host)
    return (host, port) if host else None


def normal_host(name: str) -> str:
    """A host name or address as compared: lower case, no trailing dot, no IPv6 brackets, an
    IP address in its one canonical form (``::FFFF:127.0.0.1`` → ``127.0.0.1``)."""
    name = name.strip().strip("[]").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return name
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def _is_loopback_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _shown(value: str) -> str:
    value = "".join(ch if ch.isprintable() else "?" for ch in value)
    return value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "…"


def host_refusal(scope: Mapping[str, Any], hosts: Iterable[str] = ()) -> Refusal | None:
    """A refusal unless the request's ``Host`` names this machine: a loopback name or
    address, the address the connection arrived on (``scope["server"]``), or one of
    ``hosts`` (the names the server was told to listen on). A request without ``Host``
    (HTTP/1.0; a browser always sends one) passes."""
    allowed = {normal_host(name) for name in hosts if name}
    server = scope.get("server")
    if server and isinstance(server[0], str):
        allowed.add(normal_host(server[0]))
    for value in _headers(scope, b"host"):
        parsed = _split_host(value)
        if parsed is not None and (_is_loopback_name(parsed[0]) or parsed[0] in allowed):
            continue
        return Refusal("header.Host", (
            f"Host {_shown(value)!r} is not this machine: this server answers only requests "
            "addressed to localhost, a loopback address or the address it listens on, so "
            "that a web page cannot reach it through a DNS name of its own (DNS rebinding); "
            "use http://127.0.0.1:PORT"))
    return None


def _origin_key(origin: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an ``Origin`` value, the port defaulted by the scheme."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return (parts.scheme, normal_host(parts.hostname),
            port if port is not None else _DEFAULT_PORTS[parts.scheme])


def _same_origin(origin: str, hosts: list[str]) -> bool:
    """Whether ``origin`` names the host:port of the request's one ``Host`` header (a Host
    without a port means the default port of the origin's scheme)."""
    key = _origin_key(origin)
    own = _split_host(hosts[0]) if len(hosts) == 1 else None
    if key is None or own is None:
        return False
    scheme, host, port = key
    return own[0] == host and (own[1] if own[1] is not None else _DEFAULT_PORTS[scheme]) == port


def origin_refusal(scope: Mapping[str, Any]) -> Refusal | None:
    """A refusal when a state-changing request comes from another origin than the server's
    own: an ``Origin`` whose host:port is not the ``Host`` (``null`` included), or, without
    ``Origin``, ``Sec-Fetch-Site: cross-site`` or ``same-site`` (another origin of the same
    site). Reads (GET, HEAD) and requests naming no origin (curl, Python clients) pass."""
    if str(scope.get("method", "GET")).upper() not in STATE_CHANGING:
        return None
    why = ("so that a web page open in a browser cannot change this server's state (CSRF); "
           "send it from the server's own pages, or without an Origin header")
    origins = _headers(scope, b"origin")
    if not origins:
        for site in _headers(scope, b"sec-fetch-site"):
            if site.strip().lower() in ("cross-site", "same-site"):
                return Refusal("header.Sec-Fetch-Site", (
                    f"the browser says this request comes from another site "
                    f"(Sec-Fetch-Site: {_shown(site.strip())}): it is refused, {why}"))
        return None
    hosts = _headers(scope, b"host")
    for origin in origins:
        if not _same_origin(origin, hosts):
            shown = _shown(hosts[0]) if hosts else "none"
            return Refusal("header.Origin", (
                f"Origin {_shown(origin)!r} is not this server (Host {shown}): a request "
                f"that changes something is refused when it comes from another origin, "
                f"{why}"))
    return None
