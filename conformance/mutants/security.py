"""A mutant that breaks the gateway's authentication (national interface, TIF headers: Unix
time in **seconds**; fact sheet §2).

- ``tif-millis``: the HIS stamps ``x-tif-timestamp`` in milliseconds (and signs that), a common
  slip with ``System.currentTimeMillis()``; the gateway refuses every message
  (``tif_timestamp_millis``). Without gateway authentication the HIS works as the reference.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from mock_insurer.client import TifAuth
from mock_insurer.wire.tif import tif_signature
from simulator.his.config import HisConfig
from simulator.his.variants import VariantHis

__all__ = ["MillisTifAuth", "TifMillisHis"]


@dataclass(frozen=True)
class MillisTifAuth:
    """Defect: the TIF timestamp in milliseconds."""

    paasid: str
    token: str = field(repr=False)

    def headers(self, clock: Callable[[], datetime],
                nonce: Callable[[], str]) -> dict[str, str]:
        stamp = str(int(clock().timestamp() * 1000))
        once = nonce() or secrets.token_hex(8)
        return {"x-tif-paasid": self.paasid, "x-tif-timestamp": stamp, "x-tif-nonce": once,
                "x-tif-signature": tif_signature(stamp, self.token, once)}


class TifMillisHis(VariantHis):
    variant_name = "tif-millis"

    def __init__(self, config: HisConfig) -> None:
        if isinstance(config.auth, TifAuth):
            config = replace(config, auth=MillisTifAuth(config.auth.paasid, config.auth.token))
        super().__init__(config)
