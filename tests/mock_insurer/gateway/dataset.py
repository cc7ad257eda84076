"""A small hand-made dataset for the insurer's HTTP tests: every person and item here exists to
exercise one rule, and its numbers are easy to check by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

HOSPITAL = "H11010500003"  # tier 3
COMMUNITY = "H11010500001"  # community
BLACKLISTED_HOSPITAL = "H11010500009"
YEAR = 2026


def _scheme(insutype: str, psn_type: str, stas: str = "1", cvlserv: str = "0") -> dict[str, Any]:
    return {"insutype": insutype, "psn_type": psn_type, "psn_insu_stas": stas,
            "psn_insu_date": "2010-01-01", "paus_insu_date": "2025-06-01" if stas != "1" else None,
            "cvlserv_flag": cvlserv, "emp_name": "北京测试科技有限公司"}


def _person(n: int, name: str, certno: str, gend: str, brdy: str, schemes: list[dict[str, Any]],
            balc: str = "0.00", **extra: Any) -> dict[str, Any]:
    rec = {
        "psn_no": f"1100000000000000{n:04d}", "psn_cert_type": "01", "certno": certno,
        "psn_name": name, "gend": gend, "brdy": brdy, "naty": "01", "insuplc_admdvs": "110000",
        "insuinfo": schemes, "balc": balc, "cum": [], "maf_eligible": False, "deceased": False,
        "blacklisted": False,
        "cards": [{"card_no": f"A{n:08d}", "card_sn": f"110100D156000005{n:016X}",
                   "status": "active", "issued": "2020-01-01"}],
        "ec_token": f"110000ec{n:028d}", "typed": {}, "edge_cases": [],
    }
    rec.update(extra)
    return rec


PERSONS = [
    _person(1, "张伟", "110105198001010016", "1", "1980-01-01", [_scheme("310", "1101")],
            balc="1378.15"),
    _person(2, "王秀英", "11010519550303002X", "2", "1955-03-03", [_scheme("310", "1201")],
            balc="5000.00"),
    _person(3, "李娜", "110105199005050027", "2", "1990-05-05", [_scheme("390", "1501")]),
    _person(4, "赵强", "110105198502020033", "1", "1985-02-02", [_scheme("310", "1101", "2")],
            balc="100.00"),
    _person(5, "刘洋", "110105198603030019", "1", "1986-03-03", [_scheme("310", "1101", "4")]),
    _person(6, "陈静", "110105196004040028", "2", "1960-04-04", [_scheme("310", "1201")],
            deceased=True),
    _person(7, "杨磊", "110105197507070015", "1", "1975-07-07", [_scheme("310", "1101")],
            blacklisted=True),
    _person(8, "欧阳明", "11010519700808001X", "1", "1970-08-08", [_scheme("310", "1101")],
            balc="20.00",
            cards=[{"card_no": "A90000008", "card_sn": "110100D1560000050000000000000008",
                    "status": "lost", "issued": "2015-01-01"},
                   {"card_no": "A00000008", "card_sn": "110100D1560000050000000000000018",
                    "status": "active", "issued": "2022-01-01"}]),
    _person(9, "周敏", "110105198809090024", "2", "1988-09-09",
            [_scheme("310", "1102", cvlserv="1"), _scheme("320", "1102", cvlserv="1")],
            balc="300.00"),
    # names a legacy HIS field cannot hold: six characters (a Tibetan name), and a character
    # outside GBK (CJK Extension B)
    _person(10, "扎西次仁多吉", "540102198101010014", "1", "1981-01-01",
            [_scheme("310", "1101")], balc="800.00", naty="04"),
    _person(11, "马\U0002a7dd", "110105199202020012", "1", "1992-02-02",
            [_scheme("310", "1101")], balc="600.00"),
]

ITEMS = [
    # 甲类 consultation (诊察费): price 30, no cap
    {"med_list_codg": "001102000010000", "med_list_name": "门诊诊查费", "list_type": "service",
     "chrgitm_lv": "01", "med_chrgitm_type": "02", "spec": "", "unit": "次", "pric": "30.00",
     "pric_uplmt_amt": "999999.00", "selfpay_prop": "0.0000"},
    # 乙类 drug, 5 % first self-pay (the Hebei sample)
    {"med_list_codg": "XJ01CAA040A001010100568", "med_list_name": "阿莫西林胶囊",
     "list_type": "western", "chrgitm_lv": "02", "med_chrgitm_type": "09", "spec": "0.25g*24粒",
     "unit": "盒", "pric": "4.52", "pric_uplmt_amt": "999999.00", "selfpay_prop": "0.0500",
     "max_cnt_per_rx": "20", "max_days_per_rx": 7},
    # 丙类 item: all self-pay
    {"med_list_codg": "ZA01AAA0001010101234", "med_list_name": "某保健口服液",
     "list_type": "patent", "chrgitm_lv": "03", "med_chrgitm_type": "11", "spec": "10ml*10支",
     "unit": "盒", "pric": "58.00", "pric_uplmt_amt": "999999.00", "selfpay_prop": "1.0000"},
    # 甲类 material with a price cap of 10
    {"med_list_codg": "C01010101001000001234", "med_list_name": "一次性输液器",
     "list_type": "material", "chrgitm_lv": "01", "med_chrgitm_type": "08", "spec": "",
     "unit": "套", "pric": "10.00", "pric_uplmt_amt": "10.00", "selfpay_prop": "0.0000"},
    # 乙类 drug reimbursed only for diabetes (E11.900)
    {"med_list_codg": "XA10BAA001A001010101234", "med_list_name": "二甲双胍缓释片",
     "list_type": "western", "chrgitm_lv": "02", "med_chrgitm_type": "09", "spec": "0.5g*30片",
     "unit": "盒", "pric": "25.00", "pric_uplmt_amt": "999999.00", "selfpay_prop": "0.1000",
     "indications": ["E11.900"]},
    # 甲类 item for women only
    {"med_list_codg": "XG03AAA001A001010101234", "med_list_name": "某妇科用药",
     "list_type": "western", "chrgitm_lv": "01", "med_chrgitm_type": "09", "spec": "",
     "unit": "盒", "pric": "40.00", "pric_uplmt_amt": "999999.00", "selfpay_prop": "0.0000",
     "gend_limit": "2"},
    # 甲类 expensive examination, to get above deductibles
    {"med_list_codg": "002203000010000", "med_list_name": "磁共振平扫", "list_type": "service",
     "chrgitm_lv": "01", "med_chrgitm_type": "03", "spec": "", "unit": "次", "pric": "3000.00",
     "pric_uplmt_amt": "999999.00", "selfpay_prop": "0.0000"},
    # registration fee (挂号费)
    {"med_list_codg": "001101000010000", "med_list_name": "普通门诊挂号费", "list_type": "service",
     "chrgitm_lv": "01", "med_chrgitm_type": "13", "spec": "", "unit": "次", "pric": "1.00",
     "pric_uplmt_amt": "999999.00", "selfpay_prop": "0.0000"},
]

HOSP_CODES = {  # the hospital's own code of each national code
    item["med_list_codg"]: f"HOSP{index:04d}" for index, item in enumerate(ITEMS)
}


def _item(rec: dict[str, Any]) -> dict[str, Any]:
    base = {"kind": "item", "max_cnt_per_rx": None, "max_days_per_rx": None, "indications": [],
            "gend_limit": None, "age_min": None, "age_max": None, "lmt_used_flag": "0",
            "bas_medn_flag": "0", "hi_nego_drug_flag": "0", "chld_medc_flag": "0",
            "list_sp_item_flag": "0"}
    base.update(rec)
    if base["indications"]:
        base["lmt_used_flag"] = "1"
    return base


def catalogue_records() -> list[dict[str, Any]]:
    records = [_item(rec) for rec in ITEMS]
    records += [{"kind": "diagnosis", "diag_code": code, "diag_name": name} for code, name in
                [("J06.900", "急性上呼吸道感染"), ("E11.900", "2型糖尿病"),
                 ("I10.x00", "原发性高血压")]]
    for code in (HOSPITAL, COMMUNITY):
        for national, hosp in HOSP_CODES.items():
            records.append({"kind": "mapping", "fixmedins_code": code, "medins_list_codg": hosp,
                            "medins_list_name": hosp, "med_list_codg": national,
                            "mapping": "ok", "intended_med_list_codg": national,
                            "hosp_pric": "1.00"})
    return records


INSTITUTIONS = [
    {"fixmedins_code": COMMUNITY, "fixmedins_name": "北京市朝阳区测试社区卫生服务中心",
     "tier": "community", "admdvs": "110105",
     "credentials": {"paasid": "paas01", "token": "token01", "apikey": "key01",
                     "portal": "portal-of-the-community-centre"},
     "blacklisted": False},
    {"fixmedins_code": HOSPITAL, "fixmedins_name": "北京测试第三医院", "tier": "3",
     "admdvs": "110105",
     "credentials": {"paasid": "paas03", "token": "token03", "apikey": "key03",
                     "portal": "portal-of-the-third-hospital"},
     "blacklisted": False},
    {"fixmedins_code": BLACKLISTED_HOSPITAL, "fixmedins_name": "北京测试暂停医院", "tier": "2",
     "admdvs": "110105", "credentials": {"paasid": "p9", "token": "t9", "apikey": "k9"},
     "blacklisted": True},
]


def write(directory: Path) -> dict[str, Path]:
    """Write the three JSONL files; returns their paths."""
    paths = {"population": directory / "persons.jsonl",
             "catalogue": directory / "catalogue.jsonl",
             "institutions": directory / "institutions.jsonl"}
    for key, records in (("population", PERSONS), ("catalogue", catalogue_records()),
                         ("institutions", INSTITUTIONS)):
        paths[key].write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return paths
