"""The insurer's end-to-end fixtures (a fresh insurer on both ledgers, served on 127.0.0.1, a
signed-in client SDK and a cashier window), shared with the gateway's tests."""

from __future__ import annotations

from tests.mock_insurer.gateway.conftest import (  # noqa: F401 (fixtures)
    backend_url,
    client,
    insurer,
    make_insurer,
    server,
    window,
)

TOKEN = "secret"
"""The admin token of the insurers those fixtures make."""
AUTH = {"Authorization": f"Bearer {TOKEN}"}
