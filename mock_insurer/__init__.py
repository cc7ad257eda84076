"""The mock insurer center: speaks the national medical-insurance platform interface
(``POST /fsi/api/rsfComIfsService/callService``, infno-enveloped JSON), with a policy engine,
a durable ledger, faults, an admin API and the client SDK that a hospital embeds.

mock_insurer imports nothing of the other cardsettle packages.
"""

__all__: list[str] = []
