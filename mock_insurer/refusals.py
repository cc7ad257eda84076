"""Every real-time refusal the mock insurer gives: a stable code, and the ``err_msg`` text a
cashier can act on, in one table.

Texts follow the platform's observed format ``FSI-<what is wrong>[<where>]`` (Hunan sample in
the fact sheet §5). The platform's exact wording for most refusals is not public; these texts are
ours and live only here so that they can be replaced when real ones are known. The stable code is
what the message record, tests and reports use.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CASHIER_INFNOS", "LABELS", "LATE_REFUSALS", "TEXTS", "Refusal", "refuse"]

#: Transactions whose refusal the cashier sees at the window: reading the card, registering,
#: uploading the items, pre-settling, settling, refunding. A refusal of anything else (a 5203
#: that finds no settlement, a refused 2601, a 3201) is the HIS's business, not a refused
#: patient. The drill console's counter and the drill debrief count refusals by this.
CASHIER_INFNOS = frozenset({"1101", "2201", "2204", "2206", "2207", "2207A", "2208"})
#: Refusal codes answered to a message the HIS had already given up and reversed (a late 2207
#: after a timeout): nobody at the window saw them.
LATE_REFUSALS = frozenset({"msgid_reversed"})

TEXTS: dict[str, str] = {
    # gateway and envelope
    "unknown_infno": "交易编号{infno}不存在或未开通",
    "unknown_institution": "定点医药机构编号{code}不存在或未备案",
    "institution_blacklisted": "定点医药机构{code}已被暂停医保结算服务，请联系医保经办机构",
    "auth_failed": "{reason}",
    "no_signin": "签到信息不存在或已失效，请重新签到(9001)后再试",
    "signin_other_day": "签到编号不是本机构当日的签到，请重新签到(9001)",
    "signin_other_institution": "签到编号{sign_no}是定点医药机构{owner}的签到，不是本机构{code}的："
                                "每个机构编号须用本机构编号签到(9001)，使用自己的签到编号",
    "duplicate_msgid": "发送方报文ID重复且报文内容与原报文不同，请使用新的报文ID",
    "msgid_reversed": "该报文ID的交易已被冲正，不能再生效，请使用新的报文ID重新办理",
    "msgid_too_long": "发送方报文ID(msgid)共{length}位，超过30位：结算类交易的报文ID即医药机构结算ID"
                      "(medins_setl_id)，冲正(2601)时按它查找，请按“机构编号+yyyyMMddHHmmss+4位流水号”生成后重发",
    "input_invalid": "{detail}",
    "fault_business_error": "{detail}",
    "ledger_unavailable": "医保中心数据库暂时不可用，本笔交易可能未完成：请稍后用同一报文ID(msgid)重发，"
                          "已完成的交易会原样返回结果",
    # person and certificate
    "person_not_found": "未查询到人员参保信息，请核对{what}",
    "card_not_found": "社会保障卡{card_no}不存在，请核对卡号或改用身份证/医保电子凭证",
    "card_sn_missing": "社会保障卡就诊须上传卡识别码(card_sn)",
    "card_sn_mismatch": "卡识别码与社会保障卡卡号不符，请重新读卡",
    "card_lost": "社会保障卡{card_no}已挂失，请患者使用新卡、身份证或医保电子凭证",
    "card_replaced": "社会保障卡{card_no}已换发新卡作废，请患者使用新卡",
    "ec_token_invalid": "医保电子凭证无效或已过期，请患者重新出示二维码",
    "identity_mismatch": "就诊凭证与人员信息不一致：{field}与医保登记信息不符(医保登记为{held})",
    "cert_type_unsupported": "就诊凭证类型{value}不支持，应为01电子凭证、02身份证或03社会保障卡",
    "not_insured": "人员未参加险种{insutype}，请按1101返回的参保信息选择险种",
    "insurance_suspended": "人员险种{insutype}参保状态为暂停参保，不能享受医保待遇，请按自费结算",
    "insurance_terminated": "人员险种{insutype}参保状态为终止参保，不能享受医保待遇，请按自费结算",
    "insurance_invalid": "人员险种{insutype}参保状态无效({stas})，不能享受医保待遇，请按自费结算",
    "person_deceased": "该人员已登记死亡，不能享受医保待遇，请核实身份",
    "person_blacklisted": "该人员已被列入医保限制名单，不能在窗口直接结算，请到医保办处理",
    "psn_no_mismatch": "人员编号{psn_no}与就诊凭证不一致",
    "insuplc_mismatch": "参保地医保区划{sent}与参保人参保地{held}不符，请按1101返回的参保地(insuplc_admdvs)上传",
    # visits
    "visit_not_found": "就诊ID{mdtrt_id}不存在",
    "visit_cancelled": "就诊{mdtrt_id}已撤销挂号，不能继续办理",
    "visit_other_institution": "就诊{mdtrt_id}不属于本机构",
    "visit_person_mismatch": "就诊{mdtrt_id}的人员编号与上传的人员编号{psn_no}不一致",
    "visit_has_settlement": "就诊{mdtrt_id}已有结算，不能撤销挂号，请先撤销结算(2208)",
    "ipt_otp_no_mismatch": "门诊号{given}与就诊{mdtrt_id}挂号时上传的门诊号{held}不一致，请核对后撤销",
    "ipt_otp_no_in_use": "门诊号{ipt_otp_no}已用于就诊{mdtrt_id}，请使用该就诊或先撤销挂号(2202)",
    "diagnosis_missing": "就诊信息须至少包含一条诊断",
    # fee details
    "no_fee_rows": "费用明细为空",
    "feedetl_sn_duplicate": "费用明细流水号{feedetl_sn}在本次就诊中重复",
    "batch_disease_mismatch": "同一收费批次{chrg_bchno}的病种编码必须一致",
    "item_not_mapped": "医疗目录编码{code}未对照或不在医保目录内，请维护医保对码",
    "item_mapping_mismatch": "医药机构目录编码{hosp_code}的医保对照应为{filed}，上传为{code}",
    "det_amount_mismatch": "明细金额{given}不等于数量×单价{computed}",
    "visit_total_too_large": "就诊{mdtrt_id}待结算费用明细合计将达{total}，超过医疗费总额(16,2)"
                             "上限{limit}，无法结算，请核对数量和单价",
    # the line checks name the rule of the library 3101/3102 warn with (policy/rules.yaml)
    "over_quantity": "{detail}（规则 {rule_id}）",
    "over_days": "{detail}（规则 {rule_id}）",
    "cumulative_over_supply": "{detail}（规则 {rule_id}）",
    "gender_restricted": "{detail}（规则 {rule_id}）",
    "age_restricted": "{detail}（规则 {rule_id}）",
    "details_settled": "收费批次{chrg_bchno}的费用明细已结算，不能撤销，请先撤销结算(2208)",
    "nothing_to_cancel": "没有可撤销的费用明细(收费批次{chrg_bchno})",
    # settlement
    "no_unsettled_details": "收费批次{chrg_bchno}没有待结算的费用明细，请先上传费用明细(2204)",
    "details_already_settled": "收费批次{chrg_bchno}的费用明细已结算(结算ID{setl_id})，请勿重复结算；"
                               "结果可用结算查询(5203)查看",
    "medfee_mismatch": "医疗费总额{given}与上传的费用明细合计{computed}不一致",
    "amounts_mismatch": "{field}为{given}，与医保中心计算结果{computed}不一致，请重新预结算(2206)",
    "scheme_not_covered": "险种{insutype}在本统筹区医保政策中未配置待遇，不能医保结算，请按自费结算",
    "policy_not_in_force": "业务日期{day}没有生效的医保政策参数，请核对结算日期",
    "policy_misconfigured": "医保政策参数不能用于本次结算，请联系医保经办机构核对政策配置：{detail}",
    "insutype_mismatch": "结算险种{insutype}与挂号险种{visit_insutype}不一致",
    "settlement_not_found": "结算ID{setl_id}不存在",
    "settlement_cancelled": "结算{setl_id}已撤销，不能重复撤销",
    "settlement_is_cancellation": "结算{setl_id}是撤销记录，不能再撤销",
    "settlement_is_reversal_row": "结算{setl_id}是冲正(2601)留下的记账记录，不能撤销；"
                                  "要撤销请对原结算{orig_setl_id}办理(2208)",
    "settlement_other_institution": "结算{setl_id}不是本机构办理的，不能撤销",
    "settlement_mismatch": "结算{setl_id}与就诊ID或人员编号不一致",
    # reversal
    "reversal_not_allowed": "交易{oinfno}不允许冲正，可冲正交易为2207、2208",
    "reversal_window_passed": "原交易{omsgid}已超过冲正时限({window})，不能冲正，请走撤销流程",
    "reversal_person_mismatch": "原交易{omsgid}的人员编号与冲正请求不一致",
    "reversal_infno_mismatch": "原交易{omsgid}的交易编号为{actual}，不是{oinfno}",
    "reversal_blocked": "原交易{omsgid}之后已有后续结算撤销，不能冲正",
    "reversal_account_spent": "原交易{omsgid}退回个人账户的{acct_pay}元已被使用(余额{balc}元)，不能冲正",
    "reversal_rows_changed": "原交易{omsgid}撤销的结算{setl_id}的费用明细之后已重新结算或撤销，不能冲正；"
                             "如需结算请按现有明细重新结算(2207)",
    # queries, reconciliation and files
    "cum_month_invalid": "累计年月{value}格式错误，应为yyyyMM",
    "stmt_dates_invalid": "对账开始日期{begin}晚于结束日期{end}",
    "file_not_found": "文件查询号{file_qury_no}不存在",
    "file_expired": "文件{file_qury_no}已超过下载截止时间{dld_endtime}",
    "file_other_institution": "文件{file_qury_no}不属于本机构",
    "file_bad_content": "对账明细文件无法读取：{detail}",
}


LABELS: dict[str, tuple[str, str]] = {
    # gateway and envelope
    "unknown_infno": ("交易未开通", "transaction not enabled"),
    "ledger_unavailable": ("医保数据库不可用", "insurer database unavailable"),
    "unknown_institution": ("机构未备案", "institution not registered"),
    "institution_blacklisted": ("机构暂停结算", "institution suspended"),
    "auth_failed": ("网关鉴权失败", "gateway authentication failed"),
    "no_signin": ("未签到", "not signed in"),
    "signin_other_day": ("签到已过期", "sign-in of another day"),
    "signin_other_institution": ("非本机构签到", "sign-in of another institution"),
    "duplicate_msgid": ("报文ID重复", "message ID reused"),
    "msgid_reversed": ("报文已冲正", "message reversed"),
    "msgid_too_long": ("报文ID超长", "msgid too long for a settlement"),
    "input_invalid": ("报文内容有误", "invalid message"),
    "fault_business_error": ("医保中心业务错误", "insurer business error"),
    # person and certificate
    "person_not_found": ("查无参保信息", "person not found"),
    "card_not_found": ("社保卡不存在", "card not found"),
    "card_sn_missing": ("缺少卡识别码", "card_sn missing"),
    "card_sn_mismatch": ("卡识别码不符", "card_sn mismatch"),
    "card_lost": ("社保卡已挂失", "card lost"),
    "card_replaced": ("社保卡已换发", "card replaced"),
    "ec_token_invalid": ("电子凭证无效", "e-certificate invalid"),
    "identity_mismatch": ("身份信息不符", "identity mismatch"),
    "cert_type_unsupported": ("凭证类型不支持", "certificate type unsupported"),
    "not_insured": ("未参加该险种", "not insured in this scheme"),
    "insurance_suspended": ("暂停参保", "insurance suspended"),
    "insurance_terminated": ("终止参保", "insurance terminated"),
    "insurance_invalid": ("参保状态无效", "insurance not valid"),
    "person_deceased": ("已登记死亡", "registered deceased"),
    "person_blacklisted": ("限制名单", "on the restricted list"),
    "psn_no_mismatch": ("人员编号不符", "person number mismatch"),
    "insuplc_mismatch": ("参保地不符", "insured place mismatch"),
    # visits
    "visit_not_found": ("就诊不存在", "visit not found"),
    "visit_cancelled": ("已撤销挂号", "registration cancelled"),
    "visit_other_institution": ("非本机构就诊", "visit of another institution"),
    "visit_person_mismatch": ("就诊人员不符", "visit person mismatch"),
    "visit_has_settlement": ("就诊已结算", "visit already settled"),
    "ipt_otp_no_mismatch": ("门诊号不一致", "outpatient number mismatch"),
    "ipt_otp_no_in_use": ("门诊号已占用", "outpatient number in use"),
    "diagnosis_missing": ("缺少诊断", "diagnosis missing"),
    # fee details and the insurer's line checks
    "no_fee_rows": ("费用明细为空", "no fee lines"),
    "feedetl_sn_duplicate": ("明细流水号重复", "fee line number reused"),
    "batch_disease_mismatch": ("病种编码不一致", "disease code differs in batch"),
    "item_not_mapped": ("目录未对照", "item not mapped"),
    "item_mapping_mismatch": ("目录对照不符", "item mapping mismatch"),
    "det_amount_mismatch": ("明细金额不符", "line amount mismatch"),
    "visit_total_too_large": ("费用合计超限", "visit total over the field's limit"),
    "over_quantity": ("超量", "over quantity"),
    "over_days": ("超天数", "over days"),
    "cumulative_over_supply": ("累计超量", "cumulative over supply"),
    "gender_restricted": ("限性别用药", "gender limit"),
    "age_restricted": ("限年龄用药", "age limit"),
    # settlement
    "details_settled": ("明细已结算", "details already settled"),
    "nothing_to_cancel": ("无可撤销明细", "nothing to cancel"),
    "no_unsettled_details": ("无待结算明细", "no details to settle"),
    "details_already_settled": ("明细已结算", "details already settled"),
    "medfee_mismatch": ("医疗费总额不符", "total differs from lines"),
    "amounts_mismatch": ("结算金额不符", "amounts differ from insurer"),
    "scheme_not_covered": ("险种无待遇", "scheme not covered"),
    "policy_not_in_force": ("无生效政策", "no policy in force"),
    "policy_misconfigured": ("政策配置有误", "policy misconfigured"),
    "insutype_mismatch": ("险种不一致", "scheme mismatch"),
    "settlement_not_found": ("结算不存在", "settlement not found"),
    "settlement_cancelled": ("结算已撤销", "settlement already cancelled"),
    "settlement_is_cancellation": ("撤销记录不能撤销", "row is a cancellation"),
    "settlement_is_reversal_row": ("冲正记录不能撤销", "row is a reversal"),
    "settlement_other_institution": ("非本机构结算", "settlement of another institution"),
    "settlement_mismatch": ("结算信息不符", "settlement mismatch"),
    # reversal
    "reversal_not_allowed": ("不允许冲正", "reversal not allowed"),
    "reversal_window_passed": ("超过冲正时限", "reversal window passed"),
    "reversal_person_mismatch": ("冲正人员不符", "reversal person mismatch"),
    "reversal_infno_mismatch": ("冲正交易不符", "reversal transaction mismatch"),
    "reversal_blocked": ("已有后续撤销", "reversal blocked"),
    "reversal_account_spent": ("退回余额已使用", "refunded account money spent"),
    "reversal_rows_changed": ("明细已变更", "details changed since"),
    # queries, reconciliation and files
    "cum_month_invalid": ("累计年月有误", "bad accumulation month"),
    "stmt_dates_invalid": ("对账日期有误", "bad statement dates"),
    "file_not_found": ("文件不存在", "file not found"),
    "file_expired": ("文件已过期", "file expired"),
    "file_other_institution": ("非本机构文件", "file of another institution"),
    "file_bad_content": ("文件无法读取", "file unreadable"),
}
"""A short 中文 / English phrase for each code of :data:`TEXTS`, for tables and summaries that
name a refusal in a word or two (the full text a cashier reads is the ``err_msg``)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused message: the stable ``code`` for records and the ``err_msg`` for the cashier."""

    code: str
    err_msg: str


def refuse(code: str, where: str = "", /, **params: object) -> Refusal:
    """Build the refusal ``code`` with its text, the parameters filled in, and the locator."""
    text = TEXTS[code].format(**params)
    locator = f"[{where}]" if where else ""
    return Refusal(code, f"FSI-{text}{locator}")
