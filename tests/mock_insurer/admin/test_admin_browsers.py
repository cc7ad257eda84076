"""What a web page in a browser on the insurer's machine could send to the admin API is
refused (security review, finding 2): a cross-origin state-changing request (CSRF), and a
request addressed to a DNS name of the page's own (DNS rebinding). Same-origin requests (the
console) and requests naming no origin (curl, requests, the client SDK) still pass."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
import requests
from starlette.testclient import TestClient

from mock_insurer.admin.auth import check_access
from mock_insurer.admin.errors import Forbidden
from mock_insurer.gateway import Insurer
from mock_insurer.server import RunningServer, start_in_thread

from .conftest import AUTH, make_insurer

EVIL = "http://evil.example.com"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """Access checks do not depend on the ledger: SQLite only."""
    return f"sqlite:///{tmp_path}/l.db"


@pytest.fixture
def open_insurer(tmp_path: Path) -> Iterator[Insurer]:
    made = make_insurer(tmp_path, token=None)
    yield made
    made.close()


@pytest.fixture
def served(open_insurer: Insurer) -> Iterator[RunningServer]:
    """The insurer without an admin token (loopback only) on 127.0.0.1."""
    with start_in_thread(open_insurer) as server:
        yield server


@pytest.fixture
def served_with_token(insurer: Insurer) -> Iterator[RunningServer]:
    with start_in_thread(insurer) as server:
        yield server


def own(server: RunningServer) -> str:
    """The server's own origin, as a browser showing its console would send it."""
    return f"http://127.0.0.1:{server.port}"


def refused(answer: requests.Response, where: str) -> None:
    assert answer.status_code == 403, answer.text
    error = answer.json()["error"]
    assert error["code"] == "forbidden"
    assert error["where"] == where
    assert error["message"]


# -- the review's reproductions -------------------------------------------------------------
def test_a_foreign_origin_cannot_reset_the_ledger(served: RunningServer,
                                                   open_insurer: Insurer) -> None:
    before = open_insurer.counts()
    answer = requests.post(f"{served.url}/admin/reset", data="{}", timeout=10,
                           headers={"Origin": EVIL, "Content-Type": "text/plain"})
    refused(answer, "header.Origin")
    assert "evil.example.com" in answer.json()["error"]["message"]
    assert open_insurer.counts() == before
    assert before["persons"] > 0


def test_a_foreign_origin_cannot_replace_the_institutions(served: RunningServer,
                                                          open_insurer: Insurer) -> None:
    assert open_insurer.config.institutions is not None
    lines = open_insurer.config.institutions.read_bytes().splitlines()
    records = [orjson.loads(line) for line in lines if line.strip()]
    code = records[0]["fixmedins_code"]
    records[0]["apikey"] = "ATTACKERKEY"
    body = b"".join(orjson.dumps(r) + b"\n" for r in records)
    answer = requests.post(f"{served.url}/admin/institutions", data=body, timeout=10,
                           headers={"Origin": EVIL, "Content-Type": "text/plain"})
    refused(answer, "header.Origin")
    shown = requests.get(f"{served.url}/admin/institutions/{code}", timeout=10)
    assert shown.status_code == 200
    assert "ATTACKERKEY" not in shown.text


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:80",
                                  "127.0.0.1.evil.example.com", "localhost.evil.example.com",
                                  "attacker.example:{port}"])
def test_a_rebound_dns_name_cannot_read_the_credentials(served: RunningServer,
                                                        host: str) -> None:
    answer = requests.get(f"{served.url}/admin/institutions", timeout=10,
                          headers={"Host": host.format(port=served.port)})
    refused(answer, "header.Host")
    assert "apikey" not in answer.text


def test_a_rebound_dns_name_cannot_reset_either(served: RunningServer,
                                                open_insurer: Insurer) -> None:
    before = open_insurer.counts()
    answer = requests.post(f"{served.url}/admin/reset", timeout=10,
                           headers={"Host": f"evil.example.com:{served.port}",
                                    "Origin": f"http://evil.example.com:{served.port}"})
    refused(answer, "header.Host")
    assert open_insurer.counts() == before


# -- what still passes -----------------------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "127.0.0.1", "localhost:{port}",
                                  "LOCALHOST", "localhost.:{port}", "[::1]:{port}", "127.1.2.3",
                                  "[::ffff:127.0.0.1]:{port}"])
def test_loopback_names_pass(served: RunningServer, host: str) -> None:
    answer = requests.get(f"{served.url}/admin/clock", timeout=10,
                          headers={"Host": host.format(port=served.port)})
    assert answer.status_code == 200, answer.text


def test_requests_without_an_origin_pass(served: RunningServer) -> None:
    answer = requests.put(f"{served.url}/admin/clock", json={"business_date": "2026-03-03"},
                          timeout=10)
    assert answer.status_code == 200, answer.text
    assert requests.post(f"{served.url}/admin/reset", timeout=10).status_code == 200


@pytest.mark.parametrize("origin", ["http://127.0.0.1:{port}", "http://127.0.0.1:{port}/"])
def test_a_same_origin_write_passes(served: RunningServer, origin: str) -> None:
    answer = requests.post(f"{served.url}/admin/reset", json={}, timeout=10,
                           headers={"Origin": origin.format(port=served.port),
                                    "Sec-Fetch-Site": "same-origin"})
    assert answer.status_code == 200, answer.text
    assert "emptied" in answer.json()


def test_a_same_origin_by_name_passes(served: RunningServer) -> None:
    answer = requests.put(f"{served.url}/admin/clock", json={"business_date": "2026-03-04"},
                          timeout=10, headers={"Host": f"localhost:{served.port}",
                                               "Origin": f"http://localhost:{served.port}"})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("origin", [
    "null",                                  # a sandboxed frame, a file:// page
    "http://127.0.0.1:1",                    # another server on this machine
    "http://localhost:{port}",               # the same port under another name: another origin
    "http://127.0.0.1",                      # port 80
    "ftp://127.0.0.1:{port}",
    "not an origin",
])
def test_other_origins_are_refused(served: RunningServer, open_insurer: Insurer,
                                   origin: str) -> None:
    before = open_insurer.counts()
    answer = requests.post(f"{served.url}/admin/reset", data="{}", timeout=10,
                           headers={"Origin": origin.format(port=served.port),
                                    "Content-Type": "text/plain"})
    refused(answer, "header.Origin")
    assert open_insurer.counts() == before


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_without_an_origin_a_foreign_fetch_site_is_refused(served: RunningServer,
                                                           site: str) -> None:
    answer = requests.put(f"{served.url}/admin/faults", json={"faults": []}, timeout=10,
                          headers={"Sec-Fetch-Site": site})
    refused(answer, "header.Sec-Fetch-Site")


@pytest.mark.parametrize("site", ["same-origin", "none"])
def test_a_fetch_site_of_this_origin_passes(served: RunningServer, site: str) -> None:
    answer = requests.put(f"{served.url}/admin/faults", json={"faults": []}, timeout=10,
                          headers={"Sec-Fetch-Site": site})
    assert answer.status_code == 200, answer.text


def test_a_foreign_origin_may_still_read(served: RunningServer) -> None:
    """A read sends nothing to change; the browser keeps its answer from the page (no CORS
    headers), and the Host check stops a rebound name."""
    answer = requests.get(f"{served.url}/admin/clock", timeout=10, headers={"Origin": EVIL})
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers


def test_the_public_documents_need_no_check(served: RunningServer) -> None:
    answer = requests.get(f"{served.url}/admin/openapi.json", timeout=10,
                          headers={"Host": "evil.example.com"})
    assert answer.status_code == 200


def test_the_address_the_server_listens_on_passes() -> None:
    """An insurer listening on another address (``--host``) is addressed by it: the address
    the connection arrived on, and the names given, are this machine."""
    scope = {"type": "http", "method": "POST", "client": ("127.0.0.1", 5000),
             "server": ("10.1.2.3", 8080),
             "headers": [(b"host", b"10.1.2.3:8080"), (b"origin", b"http://10.1.2.3:8080")]}
    check_access(scope, None)
    named = {**scope, "headers": [(b"host", b"insurer.lan:8080")]}
    with pytest.raises(Forbidden):
        check_access(named, None)
    check_access(named, None, hosts=("insurer.lan",))


# -- with an admin token -----------------------------------------------------------------------
def test_with_a_token_any_host_name_passes(served_with_token: RunningServer) -> None:
    """With a token the insurer is meant to be reached from other machines by any name (a
    reverse proxy too); a page cannot send the bearer header, so a rebound name gets 401."""
    url = f"{served_with_token.url}/admin/clock"
    assert requests.get(url, timeout=10, headers={**AUTH, "Host": "insurer.example.org"}
                        ).status_code == 200
    assert requests.get(url, timeout=10, headers={"Host": "evil.example.com"}
                        ).status_code == 401


def test_with_a_token_a_foreign_origin_is_still_refused(served_with_token: RunningServer,
                                                        insurer: Insurer) -> None:
    before = insurer.counts()
    answer = requests.post(f"{served_with_token.url}/admin/reset", data="{}", timeout=10,
                           headers={**AUTH, "Origin": EVIL, "Content-Type": "text/plain"})
    refused(answer, "header.Origin")
    assert insurer.counts() == before
    same = requests.put(f"{served_with_token.url}/admin/clock", timeout=10,
                        json={"business_date": "2026-03-05"},
                        headers={**AUTH, "Origin": own(served_with_token)})
    assert same.status_code == 200, same.text


def test_the_test_client_still_passes(open_insurer: Insurer) -> None:
    """Starlette's TestClient addresses ``testserver``, the server it says it is."""
    client = TestClient(open_insurer, client=("127.0.0.1", 5000))
    assert client.post("/admin/reset").status_code == 200
    assert client.get("/admin/clock", headers={"Host": "evil.example.com"}).status_code == 403


def test_the_name_the_insurer_was_told_to_listen_on_passes(tmp_path: Path) -> None:
    """`insurer serve --host insurer.local` (a name for this machine in /etc/hosts): a request
    naming it passes the Host check; any other name is still refused."""
    plain = make_insurer(tmp_path, token=None)
    plain.close()
    named = Insurer.open(replace(plain.config, host_names=("insurer.local",), fresh=False))
    try:
        with start_in_thread(named) as server:
            url = f"http://127.0.0.1:{server.port}/admin/institutions"
            assert requests.get(url, headers={"Host": f"insurer.local:{server.port}"},
                                timeout=5).status_code == 200
            refused(requests.get(url, headers={"Host": "evil.example.com"}, timeout=5),
                    "header.Host")
    finally:
        named.close()
