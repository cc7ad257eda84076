"""The insurer's HTTP edge: the gateway for the national interface and the app around it."""

from mock_insurer.gateway.app import Insurer, InsurerConfig
from mock_insurer.gateway.clock import BusinessClock, FixedClock
from mock_insurer.gateway.service import Auth, InsurerService

__all__ = ["Auth", "BusinessClock", "FixedClock", "Insurer", "InsurerConfig", "InsurerService"]
