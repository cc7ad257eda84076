"""The conformance suite's tests: each marked with the requirement IDs it verifies
(conformance/requirements.yaml), driving the HIS through the driver API (``cert.run``) and
judging what the HIS reported and what the insurer recorded. Run with ``cardsettle certify`` or
``pytest --pyargs conformance.suite``."""
