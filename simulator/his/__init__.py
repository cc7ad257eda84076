"""The reference HIS and the HIS driver API (docs/his-driver.md, docs/reference-his.md).

- :class:`HisDriver` — the operations a cashier performs, as a Python base class; the scenario
  runner, the conformance suite and the load tests drive every HIS through it.
- :class:`HttpHisDriver` — its client for any HIS serving the HTTP driver API (``/his/v1/``).
- :func:`driver_app` — serves any :class:`HisDriver` as the HTTP driver API.
- :class:`ReferenceHis` — an outpatient charging system that integrates correctly.
"""

from simulator.his.api import driver_app
from simulator.his.app import ReferenceHis
from simulator.his.catalogue import HospitalItem, ItemTable
from simulator.his.config import HisConfig
from simulator.his.driver import HisDriver, HttpHisDriver
from simulator.his.errors import (
    CatalogueFileError,
    DriverError,
    DriverInputError,
    HisConfigError,
    HisError,
    UnknownRecord,
)
from simulator.his.operations import (
    API_VERSION,
    ChargeInput,
    ChargeItem,
    DayEndInput,
    IdentifyInput,
    Outcome,
    RefundInput,
    Refusal,
    RegisterInput,
    SettleInput,
    VisitInput,
)

__all__ = [
    "API_VERSION",
    "CatalogueFileError",
    "ChargeInput",
    "ChargeItem",
    "DayEndInput",
    "DriverError",
    "DriverInputError",
    "HisConfig",
    "HisConfigError",
    "HisDriver",
    "HisError",
    "HospitalItem",
    "HttpHisDriver",
    "IdentifyInput",
    "ItemTable",
    "Outcome",
    "ReferenceHis",
    "RefundInput",
    "Refusal",
    "RegisterInput",
    "SettleInput",
    "UnknownRecord",
    "VisitInput",
    "driver_app",
]
