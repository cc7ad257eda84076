"""Deliberately broken HIS variants ("mutants"): the reference HIS with exactly one defect each,
for proving that the scenarios and the conformance suite catch what they claim to
(docs/his-variants.md).

>>> from simulator.his.variants import VARIANTS, variant
>>> his = variant("blind-resend").his_class(config)     # doctest: +SKIP

Serve one with ``cardsettle his serve --variant NAME``. Never certify a real HIS against one.
"""

from simulator.his.variants.base import VariantHis
from simulator.his.variants.registry import CONCERNS, VARIANTS, Concern, Variant, variant

__all__ = ["CONCERNS", "VARIANTS", "Concern", "Variant", "VariantHis", "variant"]
