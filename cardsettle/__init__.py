"""cardsettle: simulation and conformance test harness for card-based real-time outpatient
insurance settlement between a hospital information system (HIS) and an insurer center.

This package holds only the command line; the parts live in the top-level packages
``simulator``, ``mock_insurer``, ``scenarios``, ``conformance`` and ``loadtests``.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
