"""Everything synthetic: insured persons and their cards, institutions, the catalogue of
chargeable items with each institution's item mapping (对码), diagnoses; later the reference HIS,
the SimPy model of cashier windows and the capacity planner.
"""

__all__: list[str] = []
