"""What never leaves the client: bad settings refused when the client is made, and input that
cannot be sent exactly (floats, NaN) refused before sending — a ClientError of effect "none"
that names the setting or the field, so the documented recovery never reverses a message that
was never sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from mock_insurer.client import (
    ApiKeyAuth,
    ClientError,
    InsurerClient,
    RequestNotSent,
    TifAuth,
)
from mock_insurer.wire.jsonio import loads
from tests.mock_insurer.client.fake_insurer import FakeInsurer
from tests.mock_insurer.client.test_client import CODE, client_for

TOKEN = "10a7d32c23eb966321585d461d6f1aed"


@pytest.fixture
def insurer() -> Iterator[FakeInsurer]:
    fake = FakeInsurer()
    yield fake
    fake.close()


def _not_sent(make: Callable[[], object]) -> RequestNotSent:
    with pytest.raises(RequestNotSent) as caught:
        make()
    error = caught.value
    assert isinstance(error, ClientError)
    assert error.effect == "none" and not error.effect_unknown
    return error


# --- settings, at start-up ----------------------------------------------------------------------
@pytest.mark.parametrize(("make", "field", "says"), [
    (lambda: ApiKeyAuth(" RfpiDgoogHnQihyns "), "auth.key", "spaces at the start or end"),
    (lambda: ApiKeyAuth("RfpiDgoogHnQihyns\n"), "auth.key", "spaces at the start or end"),
    (lambda: ApiKeyAuth(""), "auth.key", "empty"),
    (lambda: ApiKeyAuth("密钥"), "auth.key", "printable ASCII"),
    (lambda: TifAuth("帐号", TOKEN), "auth.paasid", "printable ASCII"),
    (lambda: TifAuth(" paas01", TOKEN), "auth.paasid", "spaces at the start or end"),
    (lambda: TifAuth("paas01", ""), "auth.token", "empty"),
], ids=["key-padded", "key-newline", "key-empty", "key-chinese", "paasid-chinese",
        "paasid-padded", "token-empty"])
def test_an_auth_that_cannot_be_sent_is_refused_when_made(make: Callable[[], object],
                                                          field: str, says: str) -> None:
    error = _not_sent(make)
    assert error.field == field and field in str(error) and says in str(error)
    assert "RfpiDgoogHnQihyns" not in str(error)  # a secret is not repeated


@pytest.mark.parametrize(("base_url", "says"), [
    ("127.0.0.1:18300", "no scheme"),
    ("htp://127.0.0.1:18300", "scheme 'htp'"),
    ("", "empty"),
    ("http://", "no host"),
    ("http://127.0.0.1:80a", "bad port"),
    (" http://127.0.0.1:8080", "spaces"),
])
def test_a_base_url_that_cannot_be_used_is_refused_when_the_client_is_made(
        base_url: str, says: str) -> None:
    error = _not_sent(lambda: client_for(base_url))
    assert error.field == "base_url" and says in str(error) and "http://host:port" in str(error)
    assert error.request is None and error.msgid == ""


@pytest.mark.parametrize(("settings", "field"), [
    ({"timeout": 0}, "timeout"), ({"timeout": float("nan")}, "timeout"),
    ({"fixmedins_code": ""}, "fixmedins_code"),
])
def test_other_settings_are_checked_when_the_client_is_made(insurer: FakeInsurer,
                                                            settings: dict[str, Any],
                                                            field: str) -> None:
    assert _not_sent(lambda: client_for(insurer.url, **settings)).field == field


def test_a_good_configuration_is_accepted(insurer: FakeInsurer) -> None:
    client = client_for(insurer.url, auth=TifAuth("paas01", TOKEN))
    assert client.url == insurer.url + "/fsi/api/rsfComIfsService/callService"
    client_for("https://insurer.example:8443/", auth=ApiKeyAuth("RfpiDgoog-HnQi_hyns"))


def test_a_timeout_spoiled_after_start_up_sends_nothing(insurer: FakeInsurer) -> None:
    client = client_for(insurer.url)
    client.timeout = -1
    assert _not_sent(lambda: client.call("1101", {"data": {}})).field == "timeout"
    assert insurer.requests == []


def test_a_custom_auth_with_a_bad_header_sends_nothing(insurer: FakeInsurer) -> None:
    class Padded:
        def headers(self, clock: Callable[[], datetime],
                    nonce: Callable[[], str]) -> dict[str, str]:
            return {"apikey": " k-123 "}

    client = client_for(insurer.url, auth=Padded())
    error = _not_sent(lambda: client.call("1101", {"data": {}}))
    assert error.field == "header:apikey" and "k-123" not in str(error)
    assert insurer.requests == [] and client.last_request is None


# --- input that cannot be sent exactly -----------------------------------------------------------
FEE_ROW: dict[str, Any] = {"feedetl_sn": "MZ1-1-1", "cnt": Decimal("3"), "pric": Decimal("7.05"),
                           "det_item_fee_sumamt": Decimal("21.15")}


@pytest.mark.parametrize(("row", "path", "says"), [
    ({"pric": 7.05}, "input.feedetail[1].pric", "is a float (7.05)"),
    ({"det_item_fee_sumamt": 4.52 * 3}, "input.feedetail[1].det_item_fee_sumamt",
     "13.559999999999999"),
    ({"cnt": 3.0}, "input.feedetail[1].cnt", "is a float"),
    ({"pric": Decimal("NaN")}, "input.feedetail[1].pric", "not a finite number"),
    ({"det_item_fee_sumamt": Decimal("-Infinity")}, "input.feedetail[1].det_item_fee_sumamt",
     "not a finite number"),
    ({"memo": "\ud800"}, "input.feedetail[1].memo", "lone surrogate"),
    ({1: "x"}, "input.feedetail[1].1", "not text"),
], ids=["float", "float-product", "float-whole", "nan", "infinity", "surrogate", "int-key"])
def test_input_that_cannot_be_sent_exactly_is_refused_naming_the_field(
        insurer: FakeInsurer, row: dict[Any, Any], path: str, says: str) -> None:
    client = client_for(insurer.url)
    client.call("1101", {"data": {}})
    before = client.last_request
    rows = [FEE_ROW, {**FEE_ROW, **row}]
    error = _not_sent(lambda: client.call("2204", {"feedetail": rows}))
    assert error.field == path and path in str(error) and says in str(error)
    assert (error.infno, error.msgid[:len(CODE)]) == ("2204", CODE)
    assert len(insurer.requests) == 1  # the 1101 only
    assert client.last_request is before  # nothing to resend or reverse


def test_a_float_anywhere_in_the_envelope_is_refused(insurer: FakeInsurer) -> None:
    client = client_for(insurer.url)
    envelope = client.build("2207", {"data": {"medfee_sumamt": Decimal("4.52")}})
    assert _not_sent(lambda: client.send_raw({**envelope, "infver": 1.0})).field == "infver"
    assert insurer.requests == []


def test_a_value_json_cannot_carry_is_refused(insurer: FakeInsurer) -> None:
    client = client_for(insurer.url)
    error = _not_sent(lambda: client.call("1101", {"data": {"psn_no": object()}}))
    assert error.field == "envelope" and "cannot be written as JSON" in str(error)
    assert insurer.requests == []


def test_exact_amounts_are_sent_as_they_read(insurer: FakeInsurer) -> None:
    client = client_for(insurer.url)
    client.call("2204", {"feedetail": [{**FEE_ROW, "cnt": 3, "pric": "7.05"}]})
    sent = loads(insurer.requests[-1][1])["input"]["feedetail"][0]
    assert sent == {"feedetl_sn": "MZ1-1-1", "cnt": 3, "pric": "7.05",
                    "det_item_fee_sumamt": Decimal("21.15")}
    assert b'"det_item_fee_sumamt":21.15' in insurer.requests[-1][1]


def test_the_documented_recovery_never_reverses_what_was_not_sent(insurer: FakeInsurer) -> None:
    """docs/client-sdk.md: "if error.effect_unknown: reverse". A float price must not lead
    there — the cashier fixes the input instead."""
    client: InsurerClient = client_for(insurer.url)
    reversed_msgids: list[str] = []
    try:
        client.call("2207", {"data": {"medfee_sumamt": 4.52}})
    except ClientError as error:
        if error.effect_unknown:
            reversed_msgids.append(error.msgid)
    assert reversed_msgids == [] and insurer.requests == []
