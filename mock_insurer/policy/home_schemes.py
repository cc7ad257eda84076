"""Which profile's benefits a patient gets: the home scheme of a patient insured elsewhere.

异地就医直接结算: a patient insured in another province is treated under the treatment place's
catalogue and prices and paid under the benefits of the scheme where they are insured (fact
sheet §2.1 ``insuplc_admdvs``; code table ``pay_loc`` 3 省内异地 / 4 跨省异地, §4.1). The map
from insured place to profile is data (``home_schemes.yaml`` beside this module); docs/policy.md
"Patients insured elsewhere" explains it.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from threading import Lock
from typing import Any

import yaml

from mock_insurer.policy.errors import ProfileError
from mock_insurer.policy.parameters import Profile, available_profiles, load_profile

__all__ = ["HOME_SCHEMES_FILE", "PAY_LOC_CROSS_PROVINCE", "PAY_LOC_IN_PROVINCE", "PAY_LOC_LOCAL",
           "HomeSchemes", "pay_loc"]

HOME_SCHEMES_FILE = "home_schemes.yaml"
#: ``pay_loc`` (支付地点类别, fact sheet §4.1): 2 医疗机构 (local), 3 省内异地, 4 跨省异地.
PAY_LOC_LOCAL, PAY_LOC_IN_PROVINCE, PAY_LOC_CROSS_PROVINCE = "2", "3", "4"


def pay_loc(insured_place: str, treatment_area: str) -> str:
    """The ``pay_loc`` code of a settlement: 4 when the insured place (6-digit admdvs) is in
    another province than the treatment area, 3 when in the same province but another
    prefecture (both named at prefecture level, i.e. not ``xx0000``), else 2 (local)."""
    if not insured_place or not treatment_area:
        return PAY_LOC_LOCAL
    if insured_place[:2] != treatment_area[:2]:
        return PAY_LOC_CROSS_PROVINCE
    prefectures = {insured_place[:4], treatment_area[:4]}
    if len(prefectures) == 2 and all(p[2:] != "00" for p in prefectures):
        return PAY_LOC_IN_PROVINCE
    return PAY_LOC_LOCAL


class HomeSchemes:
    """The map from insured place to the profile of its home scheme.

    ``provinces`` maps a province code (the first two digits of ``insuplc_admdvs``) to a
    packaged profile name; ``default`` names the profile for any other province. A patient
    insured in the treatment area's own province gets the treatment place's profile (the one the
    insurer runs with). Profiles are loaded on first use and kept."""

    def __init__(self, provinces: Mapping[str, str], default: str, source: str) -> None:
        self.provinces = dict(provinces)
        self.default = default
        self.source = source
        self._loaded: dict[str, Profile] = {}
        self._lock = Lock()

    def __repr__(self) -> str:
        return f"HomeSchemes(default={self.default!r}, provinces={self.provinces!r})"

    @classmethod
    def packaged(cls) -> HomeSchemes:
        """The map shipped in ``mock_insurer/policy/home_schemes.yaml``."""
        text = (resources.files("mock_insurer.policy") / HOME_SCHEMES_FILE).read_text(
            encoding="utf-8")
        return cls.from_mapping(yaml.safe_load(text), source=f"policy/{HOME_SCHEMES_FILE}")

    @classmethod
    def from_mapping(cls, data: Any, *, source: str) -> HomeSchemes:
        """Build from parsed YAML (``default``, ``provinces``); every profile named must be
        packaged. Raises :class:`ProfileError` naming the file and the key otherwise."""
        if not isinstance(data, Mapping) or set(map(str, data)) != {"default", "provinces"}:
            raise ProfileError(f"{source}: expected exactly the keys default and provinces")
        provinces = data["provinces"]
        if not isinstance(provinces, Mapping):
            raise ProfileError(f"{source}: provinces: expected a mapping province -> profile")
        named = {"default": str(data["default"]),
                 **{f"provinces.{k}": str(v) for k, v in provinces.items()}}
        packaged = available_profiles()
        for where, name in named.items():
            if name not in packaged:
                raise ProfileError(f"{source}: {where}: unknown profile {name!r} (packaged: "
                                   f"{', '.join(packaged)})")
        for key in provinces:
            if len(str(key)) != 2 or not str(key).isdigit():
                raise ProfileError(f"{source}: provinces.{key}: expected a 2-digit province code")
        return cls({str(k): str(v) for k, v in provinces.items()}, str(data["default"]), source)

    def name_for(self, insured_place: str) -> str:
        """The home profile's name for a patient insured in ``insured_place``."""
        return self.provinces.get(insured_place[:2], self.default)

    def profile_for(self, insured_place: str, treatment_area: str, local: Profile) -> Profile:
        """The profile whose benefits apply: ``local`` (the treatment place's) when the insured
        place is empty or in the treatment area's province, else the home scheme's."""
        if not insured_place or insured_place[:2] == treatment_area[:2]:
            return local
        name = self.name_for(insured_place)
        with self._lock:
            found = self._loaded.get(name)
            if found is None:
                found = self._loaded[name] = load_profile(name)
        return found
