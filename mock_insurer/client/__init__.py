"""The insurer's client SDK (the "business component" a hospital embeds): builds envelopes,
msgids and gateway signatures, sends, parses, and raises typed errors that tell a timeout
(effect unknown) apart from a refusal (nothing happened). See docs/client-sdk.md.

Every error a client raises is a :class:`ClientError`, itself an :class:`InsurerError` (the
project's root, re-exported here so that an embedder imports from one place).
"""

from __future__ import annotations

from mock_insurer.client.answer import Answer, output_node
from mock_insurer.client.auth import ApiKeyAuth, Auth, NoAuth, TifAuth
from mock_insurer.client.client import DEFAULT_PATH, InsurerClient, default_msgid_factory
from mock_insurer.client.errors import (
    ClientError,
    ConnectionLost,
    Effect,
    GatewayError,
    InsurerRefusal,
    InsurerTimeout,
    InsurerUnavailable,
    MalformedAnswer,
    RequestNotSent,
)
from mock_insurer.errors import InsurerError

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
    "InsurerError",
    "InsurerRefusal",
    "InsurerTimeout",
    "InsurerUnavailable",
    "MalformedAnswer",
    "NoAuth",
    "RequestNotSent",
    "TifAuth",
    "default_msgid_factory",
    "output_node",
]
