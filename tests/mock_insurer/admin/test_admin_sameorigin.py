"""The Host and Origin checks shared by the admin API and the HIS driver API, on plain ASGI
scopes: which names are this machine, which origins are the server's own."""

from __future__ import annotations

from typing import Any

import pytest

from mock_insurer.sameorigin import host_refusal, normal_host, origin_refusal


def scope(method: str = "GET", server: Any = ("127.0.0.1", 8080),
          **headers: str | list[str]) -> dict[str, Any]:
    pairs = []
    for name, value in headers.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((name.replace("_", "-").encode(), one.encode("latin-1")))
    return {"type": "http", "method": method, "server": server, "headers": pairs}


@pytest.mark.parametrize("host", [
    "127.0.0.1:8080", "127.0.0.1", "127.9.9.9:1", "localhost", "LocalHost:8080", "localhost.",
    "[::1]:8080", "[::1]", "::1", "[::ffff:127.0.0.1]:8080", "[0:0:0:0:0:0:0:1]:8080",
])
def test_loopback_hosts_pass(host: str) -> None:
    assert host_refusal(scope(host=host)) is None


@pytest.mark.parametrize("host", [
    "evil.example.com", "evil.example.com:8080", "localhost.evil.example.com",
    "127.0.0.1.nip.io", "0x7f000001", "10.0.0.5:8080", "[::2]:8080", "127.0.0.1:", "127.0.0.1:x",
    "127.0.0.1:123456", "[::1", "", "a b",
])
def test_other_hosts_are_refused(host: str) -> None:
    refusal = host_refusal(scope(host=host))
    assert refusal is not None and refusal.where == "header.Host"


def test_every_host_header_must_pass() -> None:
    assert host_refusal(scope(host=["127.0.0.1", "evil.example.com"])) is not None


def test_no_host_header_passes() -> None:
    assert host_refusal(scope()) is None


@pytest.mark.parametrize(("server", "host"), [
    (("192.168.1.20", 8080), "192.168.1.20:8080"),
    (("fe80::1", 8080), "[FE80::1]:8080"),
    (("testserver", 80), "testserver"),
])
def test_the_address_the_connection_arrived_on_passes(server: Any, host: str) -> None:
    assert host_refusal(scope(server=server, host=host)) is None
    assert host_refusal(scope(server=None, host=host)) is not None


def test_names_given_pass() -> None:
    assert host_refusal(scope(host="insurer.lan:8080"), ["Insurer.LAN."]) is None
    assert host_refusal(scope(host="insurer.lan:8080"), ["other.lan"]) is not None


def test_a_refused_host_is_shown_safely() -> None:
    refusal = host_refusal(scope(host="x" * 500 + "\x01"))
    assert refusal is not None and len(refusal.message) < 600 and "\x01" not in refusal.message


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "post"])
def test_a_foreign_origin_may_not_change_anything(method: str) -> None:
    refusal = origin_refusal(scope(method, host="127.0.0.1:8080", origin="http://evil.example"))
    assert refusal is not None and refusal.where == "header.Origin"


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_reads_are_not_checked_for_origin(method: str) -> None:
    assert origin_refusal(scope(method, host="127.0.0.1:8080", origin="http://evil")) is None


@pytest.mark.parametrize(("host", "origin"), [
    ("127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("localhost:8080", "http://LOCALHOST:8080"),
    ("[::1]:8080", "http://[::1]:8080"),
    ("localhost", "http://localhost"),
    ("localhost:80", "http://localhost"),
    ("insurer.lan", "https://insurer.lan"),
    ("insurer.lan:443", "https://insurer.lan"),
])
def test_the_same_origin_passes(host: str, origin: str) -> None:
    assert origin_refusal(scope("POST", host=host, origin=origin)) is None


@pytest.mark.parametrize(("host", "origin"), [
    ("127.0.0.1:8080", "http://127.0.0.1:8081"),
    ("127.0.0.1:8080", "http://localhost:8080"),
    ("127.0.0.1:8080", "http://127.0.0.1"),
    ("localhost", "http://localhost:8080"),
    ("insurer.lan", "http://insurer.lan:443"),
    ("127.0.0.1:8080", "null"),
    ("127.0.0.1:8080", "file://"),
    ("127.0.0.1:8080", "http://127.0.0.1:99999"),
    (None, "http://127.0.0.1:8080"),
])
def test_another_origin_is_refused(host: str | None, origin: str) -> None:
    headers = {"origin": origin} if host is None else {"host": host, "origin": origin}
    assert origin_refusal(scope("POST", **headers)) is not None


@pytest.mark.parametrize(("site", "refused"), [
    ("cross-site", True), ("same-site", True), ("Cross-Site", True),
    ("same-origin", False), ("none", False),
])
def test_sec_fetch_site_without_origin(site: str, refused: bool) -> None:
    refusal = origin_refusal(scope("POST", host="127.0.0.1:8080", sec_fetch_site=site))
    assert (refusal is not None) is refused
    if refusal is not None:
        assert refusal.where == "header.Sec-Fetch-Site"


def test_no_origin_passes() -> None:
    assert origin_refusal(scope("POST", host="127.0.0.1:8080")) is None


def test_normal_host() -> None:
    assert normal_host("[::FFFF:127.0.0.1]") == "127.0.0.1"
    assert normal_host("Example.COM.") == "example.com"
    assert normal_host("0:0:0:0:0:0:0:1") == "::1"
