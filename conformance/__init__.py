"""The certification suite: a pytest plugin, a requirement catalogue with stable IDs, checks
that drive a HIS through the driver API and judge what the HIS reports and what the insurer
received, and the report writer.

Not built yet: arrives with the issue "The conformance suite and the certification report".
"""

__all__: list[str] = []
