"""The codes a policy profile is checked against: institution tiers, and the national insutype
and fund_pay_type tables (``codes.yaml`` beside this module, from the interface reference's
code tables, fact sheet §4.1).

A profile keys its schemes by insutype and labels every fund with a fund_pay_type; a code
outside these tables would load and then be refused at 2206 (an insutype) or label setldetail
rows no HIS knows (a fund). Loading refuses them instead, naming the known codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

import yaml

__all__ = ["CODES_FILE", "FUND_PAY_TYPES", "INSTITUTION_TIERS", "INSUTYPES"]

CODES_FILE = "codes.yaml"

#: The institution tiers of the insurer's institutions (``tier`` of an institutions record,
#: docs/generator.md): 社区卫生服务机构, 一级, 二级, 三级. A profile's ``tier_groups`` must put
#: each in exactly one group.
INSTITUTION_TIERS: tuple[str, ...] = ("community", "1", "2", "3")


def _table(name: str) -> Mapping[str, str]:
    text = (resources.files("mock_insurer.policy") / CODES_FILE).read_text(encoding="utf-8")
    table = yaml.safe_load(text)[name]
    return MappingProxyType({str(code): str(meaning) for code, meaning in table.items()})


#: 险种类型: insutype code -> name.
INSUTYPES: Mapping[str, str] = _table("insutype")
#: 基金支付类型: fund_pay_type code -> name.
FUND_PAY_TYPES: Mapping[str, str] = _table("fund_pay_type")
