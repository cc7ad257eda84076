"""The mock insurer's exception root.

Refusals of messages are *outcomes* (values with a code and a text, see
``mock_insurer.refusals``), never exceptions. Exceptions derived from :class:`InsurerError`
are for bad configuration or bad files given to the insurer (a population file that does not
parse, an unknown policy profile), and are shown to the user as one line.
"""

from __future__ import annotations

__all__ = ["InsurerError"]


class InsurerError(Exception):
    """Root of every error the mock insurer raises on purpose."""
