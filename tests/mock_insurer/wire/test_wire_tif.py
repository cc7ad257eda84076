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


class Timer:
    """A monotonic timer the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


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
    seen = NonceCache(300, Timer())
    assert verify_tif(good(), lookup, NOW, 300, seen) is None
    assert verify_tif(good(), lookup, NOW + 1, 300, seen) == "tif_nonce_reused"
    assert verify_tif(good("other"), lookup, NOW + 1, 300, seen) is None


def test_reasons() -> None:
    seen = NonceCache(300, Timer())
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
    seen = NonceCache(300, Timer())
    assert verify_tif({**good(), "x-tif-signature": "0" * 64}, lookup, NOW, 300,
                      seen) == "tif_bad_signature"
    assert verify_tif(good(), lookup, NOW, 300, seen) is None


def test_nonces_are_remembered_while_their_timestamp_could_be_accepted() -> None:
    timer = Timer()
    seen = NonceCache(300, timer)
    timer.now = 1000.0  # open a while
    assert seen("hosp01", "n", NOW - 300, NOW) is None  # at the window's edge: 1 s more
    timer.now = 1000.5
    assert seen("hosp01", "n", NOW - 300, NOW) == "tif_nonce_reused"
    assert seen("hosp02", "n", NOW - 300, NOW) is None
    timer.now = 1400.0  # past its window (and a sweep): the gateway refuses the skew first
    assert seen("hosp01", "n", NOW + 400, NOW + 400) is None


def test_a_moved_business_clock_does_not_sweep_nonces_the_wall_clock_still_accepts() -> None:
    """Before: the cache swept by whichever clock the latest request followed, so one request
    signed on a business clock a day ahead made every remembered wall-clock nonce usable
    again."""
    timer = Timer()
    seen = NonceCache(300, timer)
    timer.now = 100.0
    assert seen("hosp01", "wall", NOW, NOW) is None
    timer.now = 350.0  # a sweep is due
    business = NOW + 86_400
    assert seen("hosp01", "business", business, business) is None
    timer.now = 360.0
    assert seen("hosp01", "wall", NOW, NOW + 260) == "tif_nonce_reused"


def test_a_timestamp_signed_before_the_cache_opened_is_refused() -> None:
    """A restarted insurer does not know which nonces its previous run took."""
    timer = Timer()
    seen = NonceCache(300, timer)
    timer.now = 5.0
    assert seen("hosp01", "old", NOW - 10, NOW) == "tif_signed_before_start"
    assert seen("hosp01", "new", NOW - 3, NOW) is None  # signed after the start (1 s slack)


def test_the_nearest_clock_is_the_one_a_signature_follows() -> None:
    """The wall clock, or the business clock an operator moved (a simulated HIS follows it);
    the wall clock when the timestamp is missing or not a number."""
    wall, business = NOW, NOW - 86_400 * 30
    assert nearest_clock(good(timestamp=NOW + 5), (wall, business)) == wall
    assert nearest_clock(good(timestamp=business - 5), (wall, business)) == business
    assert nearest_clock({**good(), "x-tif-timestamp": "soon"}, (wall, business)) == wall
    assert nearest_clock({}, (wall, business)) == wall
