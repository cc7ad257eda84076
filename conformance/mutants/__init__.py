"""Conformance mutants: the reference HIS with one realistic defect each, which the conformance
suite must fail on the requirements they name (docs/his-variants.md, "Mutants").

>>> from conformance.mutants import MUTANTS, mutant
>>> m = mutant("charges-total")
>>> m.fails[0]
'SPLIT-002'
>>> his = m.his_class(config)                        # doctest: +SKIP

Never certify a real HIS against one: each says what it is in its ``info`` answer
(``x_variant``).
"""

from conformance.mutants.registry import MUTANTS, Mutant, mutant

__all__ = ["MUTANTS", "Mutant", "mutant"]
