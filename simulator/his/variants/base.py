"""What every deliberately broken HIS variant shares: it is the reference HIS with one part
swapped, and it says so in its ``info`` answer (so a report can never mistake it for the
reference)."""

from __future__ import annotations

from typing import ClassVar

from simulator.his.app import ReferenceHis
from simulator.his.operations import Outcome

__all__ = ["VariantHis"]


class VariantHis(ReferenceHis):
    """The reference HIS with one deliberate defect (docs/his-variants.md). Subclasses set
    :attr:`variant_name` (the registry's name) and swap one component class."""

    variant_name: ClassVar[str] = ""

    def info(self) -> Outcome:
        body = dict(super().info().body)
        body["name"] = f"{body['name']} — variant {self.variant_name} (deliberately broken)"
        body["x_variant"] = self.variant_name
        return Outcome.success(**{k: v for k, v in body.items() if k != "ok"})
