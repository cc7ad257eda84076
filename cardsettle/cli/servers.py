"""The servers a command is pointed at (``--his-url``, ``--insurer-url``), checked before it
writes anything: the URL's shape, then that the HIS's driver API and the mock insurer answer
there (with its admin token), and that a HIS started here can learn how to sign for that
insurer. Each problem is one line naming the option, exit 2
(:class:`~cardsettle.cli.errors.BadInput`), without the HTTP library's own wording."""

from __future__ import annotations

import socket

from cardsettle.cli.errors import BadInput, is_http_url
from mock_insurer.admin.auth import is_loopback

__all__ = ["CHECK_TIMEOUT", "check_his", "check_insurer", "check_urls", "open_to_the_network"]

CHECK_TIMEOUT = 10.0
"""Seconds (wall clock) each check waits for an answer."""


def open_to_the_network(host: str) -> bool:
    """Whether a server listening on ``host`` can be reached from other machines: any address
    that is not this machine's loopback (``0.0.0.0``, ``::``, a LAN address, a name that
    resolves to one)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return False  # check_listen has refused it already
    return not all(is_loopback(str(address[0]).split("%")[0]) for *_, address in infos)


def check_urls(**urls: str | None) -> None:
    """Each given URL (``his_url="http://…"`` for ``--his-url``) is ``http(s)://HOST:PORT``."""
    for name, url in urls.items():
        if url is not None and not is_http_url(url):
            raise BadInput(f"--{name.replace('_', '-')} must be http(s)://HOST:PORT, got {url!r}")


def check_his(his_url: str) -> None:
    """A HIS driver API answers ``GET /his/v1/info`` at ``his_url``."""
    import requests

    from scenarios.insurer_admin import why_no_answer
    from simulator.his.driver import HttpHisDriver
    from simulator.his.errors import HisError

    driver = HttpHisDriver(his_url, timeout=CHECK_TIMEOUT)
    try:
        answered = driver.info().ok
    except HisError as exc:
        cause = exc.__cause__
        said = (f"GET {his_url.rstrip('/')}/his/v1/info: no answer: "
                f"{why_no_answer(cause, CHECK_TIMEOUT)}"
                if isinstance(cause, requests.RequestException) else str(exc))
        raise BadInput(f"--his-url {his_url}: no HIS driver API answers there ({said})") from exc
    finally:
        driver.close()
    if not answered:
        raise BadInput(f"--his-url {his_url}: the HIS did not answer its info")


def check_insurer(insurer_url: str, admin_token: str | None, *, his_started_here: bool) -> None:
    """A cardsettle mock insurer answers at ``insurer_url``, its admin API takes
    ``admin_token``, and — when ``his_started_here`` (the embedded reference HIS, or one from
    ``--his-command``) — it says its gateway authentication, so that HIS can sign for it."""
    import requests

    from scenarios.harness import GATEWAY_AUTH_MODES
    from scenarios.insurer_admin import why_no_answer

    base = insurer_url.rstrip("/")
    headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
    with requests.Session() as session:
        try:
            health = session.get(base + "/health", timeout=CHECK_TIMEOUT)
            admin = session.get(base + "/admin/institutions", timeout=CHECK_TIMEOUT,
                                headers=headers)
        except requests.RequestException as exc:
            raise BadInput(f"--insurer-url {insurer_url}: no answer "
                           f"({why_no_answer(exc, CHECK_TIMEOUT)})") from exc
        if health.status_code != 200 or "business_time" not in health.text:
            raise BadInput(f"--insurer-url {insurer_url}: not a cardsettle mock insurer "
                           f"(GET /health answered HTTP {health.status_code})")
        if admin.status_code in (401, 403):
            raise BadInput(f"--insurer-url {insurer_url}: the admin API refused "
                           f"{'--admin-token' if admin_token else 'a request without --admin-token'}"
                           f" (HTTP {admin.status_code})")
        if not his_started_here:
            return
        try:
            settings = session.get(base + "/admin/settings", timeout=CHECK_TIMEOUT,
                                   headers=headers)
            mode = settings.json().get("gateway_auth") if settings.ok else None
        except (requests.RequestException, ValueError, AttributeError):
            mode = None
    if mode not in GATEWAY_AUTH_MODES:
        raise BadInput(f"--insurer-url {insurer_url}: the insurer does not say its gateway "
                       "authentication (GET /admin/settings: gateway_auth), so the HIS started "
                       "here cannot sign for it: give a HIS configured for that insurer "
                       "(--his-url), or leave out --insurer-url")
