"""The TIF gateway signature: a known vector, and every reason a request is turned away."""

from __future__ import annotations

from datetime import UTC, datetime

from mock_insurer.wire.tif import (
    NonceCache,
    nearest_clock,
    tif_headers,
    tif_signature,
    verify_tif,
)

TOKEN = "s3cr3t-token"
NOW = 1700000000
# sha256("1700000000" + "s3cr3t-token" + "n0nce-42" + "1700000000"), computed independently
KNOWN = "ffdf6d794941f02f3203442834a6d7f0ca6986aa7c848f2b9363034a4ed61ca8"


def lookup(paasid: str) -> str | None:
    return TOKEN if paasid == "hosp01" else None


def test_known_vector() -> None:
    assert tif_signature("1700000000", TOKEN, "n0nce-42") == KNOWN


def test_headers_are_signed_at_the_clock_in_seconds() -> None:
    moment = datetime.fromtimestamp(NOW, tz=UTC)
    headers = tif_headers("hosp01", TOKEN, lambda: moment, "n0nce-42")
    assert headers == {"x-tif-paasid": "hosp01", "x-tif-timestamp": "1700000000",
                       "x-tif-nonce": "n0nce-42", "x-tif-signature": KNOWN}


def good(nonce: str = "n0nce-42", timestamp: int = NOW) -> dict[str, str]:
    return {"X-TIF-PaasId": "hosp01", "x-tif-timestamp": str(timestamp), "x-tif-nonce": nonce,
            "x-tif-signature": tif_signature(str(timestamp), TOKEN, nonce)}


def test_a_good_request_passes_once_per_nonce() -> None:
    seen = NonceCache(300)
    assert verify_tif(good(), lookup, NOW, 300, seen) is None
    assert verify_tif(good(), lookup, NOW + 1, 300, seen) == "tif_nonce_reused"
    assert verify_tif(good("other"), lookup, NOW + 1, 300, seen) is None


def test_reasons() -> None:
    seen = NonceCache(300)
    missing = good()
    del missing["x-tif-nonce"]
    assert verify_tif(missing, lookup, NOW, 300, seen) == "tif_missing_header"
    assert verify_tif({**good(), "X-TIF-PaasId": "nobody"}, lookup, NOW, 300,
                      seen) == "tif_unknown_paasid"
    assert verify_tif({**good(), "x-tif-timestamp": "soon"}, lookup, NOW, 300,
                      seen) == "tif_bad_timestamp"
    assert verify_tif(good(timestamp=NOW - 301), lookup, NOW, 300, seen) == "tif_timestamp_skew"
    assert verify_tif(good(timestamp=NOW * 1000), lookup, NOW, 300,
                      seen) == "tif_timestamp_millis"
    assert verify_tif({**good(), "x-tif-signature": "0" * 64}, lookup, NOW, 300,
                      seen) == "tif_bad_signature"


def test_a_forged_request_does_not_burn_the_nonce() -> None:
    seen = NonceCache(300)
    assert verify_tif({**good(), "x-tif-signature": "0" * 64}, lookup, NOW, 300,
                      seen) == "tif_bad_signature"
    assert verify_tif(good(), lookup, NOW, 300, seen) is None


def test_nonces_are_remembered_for_twice_the_skew_then_forgotten() -> None:
    seen = NonceCache(300)
    assert not seen("hosp01", "n", NOW)
    assert seen("hosp01", "n", NOW + 600)  # timestamp NOW-300 first, NOW+300 replayed
    assert not seen("hosp01", "n", NOW + 1300)
    assert not seen("hosp02", "n", NOW + 1300)


def test_the_nearest_clock_is_the_one_a_signature_follows() -> None:
    """The wall clock, or the business clock an operator moved (a simulated HIS follows it);
    the wall clock when the timestamp is missing or not a number."""
    wall, business = NOW, NOW - 86_400 * 30
    assert nearest_clock(good(timestamp=NOW + 5), (wall, business)) == wall
    assert nearest_clock(good(timestamp=business - 5), (wall, business)) == business
    assert nearest_clock({**good(), "x-tif-timestamp": "soon"}, (wall, business)) == wall
    assert nearest_clock({}, (wall, business)) == wall
