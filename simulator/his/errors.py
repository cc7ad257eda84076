"""The reference HIS's errors, and the ones a driver raises.

Every class here is a :class:`simulator.errors.SimulatorError`, so the CLI prints it as one line.
Outcomes a cashier sees (a refused card, a refused settlement) are *not* errors: they are
:class:`simulator.his.driver.Outcome` values with ``ok`` false. These exceptions are for bad
driver input (the caller's mistake, answered with HTTP 4xx), bad configuration, and a driver
that cannot reach or understand a HIS.
"""

from __future__ import annotations

from simulator.errors import DataFileError, InvalidArgumentError, SimulatorError

__all__ = [
    "CatalogueFileError",
    "DriverError",
    "DriverInputError",
    "HisConfigError",
    "HisError",
    "UnknownRecord",
]


class HisError(SimulatorError):
    """Root of the HIS's and the driver's errors."""


class DriverInputError(HisError, InvalidArgumentError):
    """A driver call with bad input: ``field`` names the offending field (``items[2].qty``),
    the message says what is wrong. The driver API answers it with HTTP ``status`` (400 for a
    body that cannot be read, 422 for a field that is wrong, 404 for an unknown record)."""

    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class UnknownRecord(DriverInputError):
    """A driver call names a patient or visit the HIS does not know (HTTP 404)."""

    status = 404


class HisConfigError(HisError, InvalidArgumentError):
    """The HIS cannot start as configured (the message says which setting and why)."""


class CatalogueFileError(HisError, DataFileError):
    """The catalogue file cannot be read or holds no item mapping for the institution."""


class DriverError(HisError):
    """A driver could not get a driver-API answer from a HIS (no connection, an answer that is
    not JSON, an HTTP status the API does not use). The harness broke, not the HIS's logic."""
