"""A server started to listen beyond this machine says what that exposes (stderr): the
insurer without gateway auth or with seed-derived credentials, the reference HIS's driver API
(which has no authentication). Listening on loopback says nothing."""

from __future__ import annotations

import pytest

from cardsettle.cli.insurer import _warn_if_open
from cardsettle.cli.servers import open_to_the_network


@pytest.mark.parametrize(("host", "open_"), [
    ("127.0.0.1", False), ("localhost", False), ("::1", False), ("127.0.0.2", False),
    ("0.0.0.0", True), ("::", True),
])
def test_which_hosts_are_open_to_the_network(host: str, open_: bool) -> None:
    assert open_to_the_network(host) is open_


def test_the_insurer_warns_when_its_gateway_is_open(capsys: pytest.CaptureFixture[str]) -> None:
    _warn_if_open("0.0.0.0", "none", generated_institutions=False, seed=1)
    assert "WARNING: listening on 0.0.0.0 with --auth none" in capsys.readouterr().err
    _warn_if_open("0.0.0.0", "tif", generated_institutions=True, seed=7)
    assert "generated from --seed 7" in capsys.readouterr().err
    _warn_if_open("0.0.0.0", "apikey", generated_institutions=False, seed=1)
    _warn_if_open("127.0.0.1", "none", generated_institutions=True, seed=1)
    assert capsys.readouterr() == ("", "")
