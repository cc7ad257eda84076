"""The fault layer: a fault plan (:mod:`.plan`), the engine that matches messages against it
(:mod:`.engine`), and the effects that touch the HTTP connection (:mod:`.effects`).

The gateway asks :meth:`FaultEngine.match` for every message (when
:attr:`FaultEngine.has_active`) and applies the :class:`Hit`'s effect. A fault never changes
what was committed, only what the caller sees. Format and guidance: ``docs/faults.md``.
"""

from mock_insurer.faults.effects import (
    TRANSPORT_EXTENSION,
    TransportControl,
    TransportUnavailable,
    close_without_answer,
    http_error,
    lose_answer,
    refuse,
    send_truncated,
    transport_of,
)
from mock_insurer.faults.engine import FaultEngine, Hit, MessageFacts
from mock_insurer.faults.plan import (
    EFFECT_KINDS,
    BusinessError,
    ClockSkew,
    Close,
    Delay,
    DelayDistribution,
    Effect,
    Fault,
    FaultPlan,
    FaultPlanError,
    HttpError,
    LoseAnswer,
    Malformed,
    Refuse,
    Selector,
    SigninInvalidated,
    Window,
)

__all__ = [
    "EFFECT_KINDS",
    "TRANSPORT_EXTENSION",
    "BusinessError",
    "ClockSkew",
    "Close",
    "Delay",
    "DelayDistribution",
    "Effect",
    "Fault",
    "FaultEngine",
    "FaultPlan",
    "FaultPlanError",
    "Hit",
    "HttpError",
    "LoseAnswer",
    "Malformed",
    "MessageFacts",
    "Refuse",
    "Selector",
    "SigninInvalidated",
    "TransportControl",
    "TransportUnavailable",
    "Window",
    "close_without_answer",
    "http_error",
    "lose_answer",
    "refuse",
    "send_truncated",
    "transport_of",
]
