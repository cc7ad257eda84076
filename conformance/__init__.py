"""The certification suite (docs/conformance.md): the requirement catalogue
(``requirements.yaml``, :mod:`conformance.catalogue`), the tests in ``conformance/suite`` that
drive a HIS through the driver API and judge what the HIS reported and what the insurer
recorded, the pytest plugin that runs them (:mod:`conformance.plugin`), the report writer
(:mod:`conformance.report`), and the mutants that prove the suite (:mod:`conformance.mutants`).

Run it with ``cardsettle certify`` or ``pytest --pyargs conformance.suite``.
"""

__all__: list[str] = []
