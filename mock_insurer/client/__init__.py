"""The insurer's client SDK (the "business component" a hospital embeds): builds envelopes,
msgids and gateway signatures, sends, parses, and raises typed errors that tell a timeout
(effect unknown) apart from a refusal (nothing happened). See docs/client-sdk.md.
"""

from __future__ import annotations

from mock_insurer.client.answer import Answer, output_node
from mock_insurer.client.auth import ApiKeyAuth, Auth, NoAuth, TifAuth
from mock_insurer.client.client import DEFAULT_PATH, InsurerClient
from mock_insurer.client.errors import (
    ClientError,
    ConnectionLost,
    Effect,
    GatewayError,
    InsurerRefusal,
    InsurerTimeout,
    InsurerUnavailable,
    MalformedAnswer,
)

__all__ = [
    "DEFAULT_PATH",
    "Answer",
    "ApiKeyAuth",
    "Auth",
    "ClientError",
    "ConnectionLost",
    "Effect",
    "GatewayError",
    "InsurerClient",
    "InsurerRefusal",
    "InsurerTimeout",
    "InsurerUnavailable",
    "MalformedAnswer",
    "NoAuth",
    "TifAuth",
    "output_node",
]
