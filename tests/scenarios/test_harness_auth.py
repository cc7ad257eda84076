"""A HIS started by the harness against an insurer given by URL signs as that insurer asks:
the gateway auth mode and the institution's credentials come from the insurer's admin API,
and what cannot be learned there is one clear error before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from scenarios.errors import HarnessError
from scenarios.harness import gateway_auth

URL = "http://127.0.0.1:9"
CODE = "H11010500001"


class StubAdmin:
    def __init__(self, settings: dict[str, Any], institution: dict[str, Any] | None) -> None:
        self._settings = settings
        self._institution = institution

    def settings(self) -> dict[str, Any]:
        return self._settings

    def institution(self, code: str) -> dict[str, Any] | None:
        assert code == CODE
        return self._institution


def learn(settings: dict[str, Any], institution: dict[str, Any] | None = None,
          fallback: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    admin: Any = StubAdmin(settings, institution)
    return gateway_auth(admin, URL, CODE, fallback)


def test_the_insurers_mode_and_credentials_are_used() -> None:
    mode, credentials = learn(
        {"gateway_auth": "tif"},
        {"credentials": {"paasid": "paas1", "token": "tok1", "apikey": "key1"}},
        {"paasid": "stale", "token": "stale"})
    assert mode == "tif" and credentials["paasid"] == "paas1" and credentials["token"] == "tok1"
    assert learn({"gateway_auth": "apikey"}, {"credentials": {"apikey": "key1"}})[1]["apikey"] \
        == "key1"
    assert learn({"gateway_auth": "none"}, None, {"paasid": "p"}) == ("none", {"paasid": "p"})


@pytest.mark.parametrize(("settings", "institution", "words"), [
    ({}, None, "does not say its gateway authentication"),
    ({"gateway_auth": "kerberos"}, None, "does not say its gateway authentication"),
    ({"gateway_auth": "tif"}, None, f"does not serve institution {CODE}"),
    ({"gateway_auth": "tif"}, {"credentials": {"paasid": "p"}}, "shows no token"),
    ({"gateway_auth": "apikey"}, {"credentials": {}}, "shows no apikey"),
])
def test_what_cannot_be_learned_is_one_line_saying_what_to_pass(
        settings: dict[str, Any], institution: dict[str, Any] | None, words: str) -> None:
    with pytest.raises(HarnessError) as caught:
        learn(settings, institution)
    message = str(caught.value)
    assert words in message and "--his-url" in message and "\n" not in message
