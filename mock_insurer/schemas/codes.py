"""Code tables used by the schemas (fact sheet §4.1). A closed table becomes an ``enum``; a
table that provinces extend (insurance types, medical categories, clearing types, fund
types …) becomes a ``pattern``, with the national values named in the description.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["CODE_TABLES", "CodeTable"]


@dataclass(frozen=True, slots=True)
class CodeTable:
    """One code table: closed (``values``) or open (``pattern``), with its meaning."""

    name_zh: str
    values: tuple[str, ...] = ()
    pattern: str = ""
    meaning: str = ""


CODE_TABLES: Mapping[str, CodeTable] = MappingProxyType({
    "mdtrt_cert_type": CodeTable(
        "就诊凭证类型", ("01", "02", "03"),
        meaning="01 医保电子凭证 (e-certificate token); 02 居民身份证 (ID number); "
                "03 社会保障卡 (card number, with card_sn)"),
    "psn_cert_type": CodeTable(
        "人员证件类型",
        ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14",
         "15", "16", "17", "90", "91", "99"),
        meaning="01 居民身份证(户口簿); 02 军官证; … 17 港澳台居民居住证; 90 社会保障卡; "
                "91 保密人员证件 (Hebei); 99 其他身份证件"),
    "gend": CodeTable("性别", ("0", "1", "2", "9"),
                      meaning="0 未知的性别; 1 男; 2 女; 9 未说明性别"),
    "psn_insu_stas": CodeTable(
        "人员参保状态", ("0", "1", "2", "3", "4"),
        meaning="0 未参保; 1 正常参保; 2 暂停参保; 3 无效参保; 4 终止参保"),
    "flag": CodeTable("标志", ("0", "1"), meaning="0 否; 1 是"),
    "chrgitm_lv": CodeTable("收费项目等级", ("01", "02", "03"),
                            meaning="01 甲类; 02 乙类; 03 丙类"),
    "med_chrgitm_type": CodeTable(
        "医疗收费项目类别",
        ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14"),
        meaning="01 床位费; 02 诊察费; 03 检查费; 04 化验费; 05 治疗费; 06 手术费; 07 护理费; "
                "08 卫生材料费; 09 西药费; 10 中药饮片费; 11 中成药费; 12 一般诊疗费; "
                "13 挂号费; 14 其他费"),
    "hosp_appr_flag": CodeTable("医院审批标志", ("0", "1", "2"),
                                meaning="0 无须审批; 1 审批通过; 2 审批不通过"),
    "diag_type": CodeTable("诊断类别", ("1", "2", "3"),
                           meaning="1 西医诊断; 2 中医主病诊断; 3 中医主证诊断"),
    "stmt_rslt": CodeTable("对账结果", ("0", "1", "2", "3"),
                           meaning="0 对平; 1 中心多; 2 医药机构多; 3 数据不一致"),
    "pay_loc": CodeTable("支付地点类别", ("1", "2", "3", "4", "5"),
                         meaning="1 中心; 2 医疗机构; 3 省内异地; 4 跨省异地; 5 互联网医院"),
    "opter_type": CodeTable("经办人类别", ("1", "2", "3"),
                            meaning="1 经办人; 2 自助终端; 3 移动终端"),
    "insutype": CodeTable(
        "险种类型", pattern=r"^\d{3,6}$",
        meaning="310 职工基本医疗保险; 320 公务员医疗补助; 330 大额医疗费用补助; "
                "340 离休人员医疗保障; 390 城乡居民基本医疗保险; 392 城乡居民大病医疗保险; "
                "510 生育保险; … (local extensions such as 39902 occur)"),
    "med_type": CodeTable(
        "医疗类别", pattern=r"^\d{2,6}$",
        meaning="11 普通门诊; 12 门诊挂号; 13 急诊; 14 门诊慢特病; 15 特药; 16 中医特色门诊; "
                "19 意外伤害门诊; 41 定点药店购药; 51 生育门诊; … (local 99xx, 140104 occur)"),
    "psn_type": CodeTable(
        "人员类别", pattern=r"^\d{2,6}$",
        meaning="1101 职工在职; 1201 职工退休; 1300 离休人员; 1401–1405 未成年居民; "
                "1501 普通居民(成年); older 2-digit codes and local 6-digit codes occur"),
    "psn_setlway": CodeTable("个人结算方式", pattern=r"^\d{2,4}$",
                             meaning="01 按项目结算; 02 按定额结算 (Hebei: 0201, 0202)"),
    "clr_type": CodeTable("清算类别", pattern=r"^\d{2,6}$",
                          meaning="11 门诊; 21 住院; 41 药店购药; 99 其他 (local second-level "
                                  "codes occur)"),
    "clr_way": CodeTable("清算方式", pattern=r"^\d{1,2}$",
                         meaning="01 按项目; 02 单病种; 03 按床日; 04 按人头; 05 DRGs点数法; "
                                 "99 其他 (single digits also seen)"),
    "fund_pay_type": CodeTable(
        "基金支付类型", pattern=r"^\d{6}$",
        meaning="310100 职工统筹基金; 310200 职工个人账户; 320100 公务员医疗补助; "
                "330100 大额医疗费用补助; 390100 城乡居民基本医疗保险基金; 390200 城乡居民大病; "
                "610100 医疗救助; 999996 医院垫付 (hosp_part_amt); …"),
    "admdvs": CodeTable("医保区划", pattern=r"^\d{6}$", meaning="6-digit area code"),
    "infno": CodeTable("交易编号", pattern=r"^\d{4}[A-Z]?$",
                       meaning="4 digits, provinces add a letter (2203A)"),
})
"""Code tables by name."""
