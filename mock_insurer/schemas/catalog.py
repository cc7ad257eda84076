"""The outpatient transactions' messages, field by field (fact sheet §3; lengths, required
flags and code tables as stated there, with the source tags it cites). Rendered into
``<infno>.input.json`` / ``<infno>.output.json`` by :mod:`mock_insurer.schemas.generate`.

Output nodes describe what the mock answers (docs: shared/reference/README.md, "answer"):
every settlement amount is present and a number, never null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_insurer.schemas.model import (
    Direction,
    Field,
    Node,
    Transaction,
    ch,
    code,
    day,
    exp,
    integer,
    moment,
    money,
    num,
    price,
    qty,
    ratio,
    render_node,
)

__all__ = ["TRANSACTIONS", "transaction"]

_NO_OUTPUT = "This transaction answers no output: the mock answers `output: {}`."

# --- shared field groups ---------------------------------------------------------------------
_SETTLE_AMOUNTS = ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt",
                   "inscp_scp_amt", "act_pay_dedc", "hifp_pay", "cvlserv_pay", "hifes_pay",
                   "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay", "fund_pay_sumamt",
                   "psn_part_amt", "acct_pay", "psn_cash_pay", "hosp_part_amt",
                   "acct_mulaid_pay")


def _amounts(names: tuple[str, ...], *, signed: bool) -> tuple[Field, ...]:
    return tuple(money(name, True, signed=signed) for name in names)


def _person_out(required: bool) -> tuple[Field, ...]:
    return (
        ch("psn_name", 50, required), code("psn_cert_type", "psn_cert_type", 6, required),
        ch("certno", 50, required), code("gend", "gend", 6), ch("naty", 3), day("brdy"),
        num("age", 4, 1),
    )


def _setlinfo_2207(*, pre: bool) -> Node:
    """setlinfo of 2206 (pre-settlement: ids and clearing null) and 2207."""
    ids_nullable = {"nullable": True} if pre else {}
    note = ("pre-settlement: setl_id, setl_time, clr_way and clr_optins are null, nothing is "
            "kept" if pre else "")
    return Node("setlinfo", (
        ch("mdtrt_id", 30, True), ch("setl_id", 30, True, **ids_nullable),
        ch("psn_no", 30, True), *_person_out(True),
        code("insutype", "insutype", 6), code("psn_type", "psn_type", 6, True),
        code("cvlserv_flag", "flag", 3, True), moment("setl_time", True, **ids_nullable),
        code("mdtrt_cert_type", "mdtrt_cert_type", 3), code("med_type", "med_type", 6, True),
        *_amounts(_SETTLE_AMOUNTS, signed=False), ratio("pool_prop_selfpay", True),
        money("balc", True),
        ch("medins_setl_id", 30, True,
           note="the sender's msgid of the 2207 request (of the 2206 request for 2206)"),
        ch("clr_optins", 6), code("clr_way", "clr_way", 6), code("clr_type", "clr_type", 6, True),
    ), note=note)


def _setldetail(*, signed: bool) -> Node:
    return Node("setldetail", (
        code("fund_pay_type", "fund_pay_type", 6, True), money("inscp_scp_amt", True, signed=signed),
        money("crt_payb_lmt_amt", signed=signed), money("fund_payamt", True, signed=signed),
        ch("fund_pay_type_name", 200), ch("setl_proc_info", 4000),
    ), many=True, note="one row per fund, including the personal account (310200) and the "
                       "hospital's part (999996)")


_SETTLE_INPUT = (
    ch("psn_no", 30, True), code("mdtrt_cert_type", "mdtrt_cert_type", 3, True),
    ch("mdtrt_cert_no", 50, True), code("med_type", "med_type", 6, True),
    money("medfee_sumamt", True), code("psn_setlway", "psn_setlway", 6, True),
    ch("mdtrt_id", 30, True), ch("chrg_bchno", 30, True),
    code("acct_used_flag", "flag", 1, True), code("insutype", "insutype", 6, True),
)

_MDTRTINFO = Node("mdtrtinfo", (
    ch("mdtrt_id", 30, True), ch("psn_no", 30, True), code("med_type", "med_type", 6, True),
    moment("begntime", True, label="就诊时间"), ch("main_cond_dscr", 1000), ch("dise_codg", 30),
    ch("dise_name", 500), ch("birctrl_type", 6), day("birctrl_matn_date"), ch("matn_type", 6),
    integer("geso_val", 2), exp(),
))
_DISEINFO = Node("diseinfo", (
    code("diag_type", "diag_type", 3, True), integer("diag_srt_no", 2, True),
    ch("diag_code", 20, True), ch("diag_name", 100, True), ch("diag_dept", 50, True),
    ch("dise_dor_no", 30, True), ch("dise_dor_name", 50, True), moment("diag_time", True),
    code("vali_flag", "flag", 3, True),
), many=True)


# --- 3101/3102: nested lists (patients > encounters > orders), rendered here ------------------
def _nested(node: Node, zh: str, direction: Direction,
            children: Mapping[str, tuple[dict[str, Any], bool]] | None = None) -> dict[str, Any]:
    """The schema of *node* with the Chinese title *zh* and the nested lists *children*
    (name → (schema, required)); the interface nests lists three deep in 3101/3102."""
    rendered = render_node(node, direction)
    rendered["title"] = f"{zh} {node.name}"
    row = rendered["items"] if node.many else rendered
    for name, (schema, required) in (children or {}).items():
        row["properties"][name] = schema
        if required:
            row["required"] = [*row.get("required", []), name]
    return rendered


def _inline(rendered: dict[str, Any]) -> dict[str, Any]:
    """The properties and required list of a rendered row, as a :attr:`Node.extra`."""
    row = rendered.get("items", rendered)
    extra: dict[str, Any] = {"properties": row["properties"]}
    if row.get("required"):
        extra["required"] = row["required"]
    return extra


_ORDER = Node("fsi_order_dtos", (
    ch("rx_id", 30, True, label="处方(医嘱)标识", note="order id; answered back in rx_id"),
    ch("rxno", 30), ch("hilist_code", 50, True, label="医保目录编码",
                        note="national catalogue code (as med_list_codg in 2204)"),
    ch("hilist_name", 200, label="医保目录名称", note="catalogue item name"),
    qty("cnt", True), price("pric", True),
    money("sumamt", True, label="明细项目费用总额", note="the order's amount, yuan"),
    num("prd_days", 4, 2, note="our reading of the elided fields: days supplied, as in 2204; "
                               "needed by the days rule"),
    ch("drord_dr_codg", 30, label="开嘱医生编码", note="ordering doctor"),
), many=True)
_DIAGNOSE = Node("fsi_diagnose_dtos", (
    ch("dise_id", 30, label="诊断标识", note="diagnosis id"),
    ch("inout_dise_type", 3, label="出入诊断类别", note="in/out diagnosis type"),
    ch("maindise_flag", 3, label="主诊断标志", note="main diagnosis flag"),
    integer("dias_srt_no", 2, label="诊断排序号", note="diagnosis order"),
    ch("dise_codg", 30, True), ch("dise_name", 500), moment("dise_date", label="诊断日期"),
), many=True)
_ENCOUNTER_FIELDS = (
    ch("mdtrt_id", 30, True), ch("medins_id", 30, label="医药机构编码", note="institution code"),
    ch("medins_name", 200, label="医药机构名称", note="institution name"),
    ch("medins_admdvs", 6, label="医药机构行政区划", note="institution's area code"),
    ch("medins_type", 6, label="医药机构类型", note="institution type"),
    ch("medins_lv", 6, label="医药机构等级", note="institution level"),
    ch("dscg_main_dise_codg", 30, label="主诊断编码", note="main diagnosis code"),
    ch("dscg_main_dise_name", 500, label="主诊断名称", note="main diagnosis name"),
    ch("dr_codg", 30, label="医师编码", note="doctor code"),
    ch("med_mdtrt_type", 6, label="就诊类型", note="encounter type"),
    code("med_type", "med_type", 6), money("medfee_sumamt"),
    money("ownpay_amt", label="自费金额", note="own-pay amount, yuan"),
    money("selfpay_amt", label="自付金额", note="self-pay amount, yuan"),
    money("acct_payamt", label="个人账户支付金额", note="account payment, yuan"),
    money("ma_amt", label="救助金额", note="medical assistance, yuan"),
    money("hifp_payamt", label="统筹基金支付金额", note="pooled fund payment, yuan"),
    integer("setl_totlnum", 6, label="结算总次数", note="number of settlements"),
    code("insutype", "insutype", 6), ch("reim_flag", 3, label="报销标志", note="reimbursed flag"),
    ch("out_setl_flag", 3, label="异地结算标志", note="out-of-area settlement flag"),
)
_PATIENT_FIELDS = (
    ch("patn_id", 30, True, label="患者标识", note="patient id: the insured person's psn_no"),
    ch("patn_name", 50, label="患者姓名", note="patient name"),
    code("gend", "gend", 6, note="used by the gender rule; else the ledger's person"),
    day("brdy", note="used by the age rule; else the ledger's person"),
    ch("poolarea", 6, label="统筹区", note="pooling area"),
    ch("curr_mdtrt_id", 30, label="当前就诊标识", note="current encounter id"),
)


def _rule_check_input() -> Node:
    order = _nested(_ORDER, "处方(医嘱)信息", "in")
    diagnose = _nested(_DIAGNOSE, "诊断信息", "in")
    encounter = _nested(Node("fsi_encounter_dtos", _ENCOUNTER_FIELDS, many=True, min_items=1),
                        "就诊信息", "in", {"fsi_diagnose_dtos": (diagnose, False),
                                           "fsi_order_dtos": (order, True)})
    patient = _nested(Node("patient_dtos", _PATIENT_FIELDS, many=True, min_items=1),
                      "患者信息", "in", {"fsi_encounter_dtos": (encounter, True)})
    data = _nested(Node("data", (
        ch("syscode", 30, label="调用方系统标识", note="caller's system code"),
        Field("rule_ids", "exp", length=4000, label="规则标识集合",
              note="rule ids (a list, or text separated by commas); empty: every rule"),
        ch("trig_scen", 30, label="触发场景", note="trigger scenario; this or rule_ids"),
    )), "交易数据", "in", {"patient_dtos": (patient, True)})
    return Node("data", (), extra=_inline(data))


def _rule_check_output() -> Node:
    detail = _nested(Node("judge_result_detail_dtos", (
        ch("jrd_id", 40, True, label="判断结果明细标识", note="result detail id"),
        ch("patn_id", 30, True, label="患者标识", note="patient id"),
        ch("mdtrt_id", 30, True), ch("rx_id", 30, True, label="处方(医嘱)标识", note="order id"),
        ch("vola_item_type", 3, True, label="违规项目类型",
           note="1 违规项 (the violating order), 2 涉及项 (an order concerned)"),
        money("vola_amt", True, label="违规金额", note="amount concerned, yuan"),
    ), many=True), "违规明细", "out")
    result = _nested(Node("result", (
        ch("jr_id", 40, True, label="判断结果标识", note="result id: msgid-row number"),
        ch("rule_id", 30, True, label="规则标识", note="rule id of the library"),
        ch("rule_name", 100, True, label="规则名称", note="rule name"),
        ch("vola_cont", 500, True, label="违规内容", note="what is wrong, naming item and limit"),
        ch("patn_id", 30, True, label="患者标识", note="patient id"), ch("mdtrt_id", 30, True),
        money("vola_amt", True, label="违规金额", note="the order's sumamt, yuan"),
        ch("vola_amt_stas", 30, label="违规金额统计",
           note="meaning not in the sources; the mock answers null"),
        ch("sev_deg", 3, True, label="严重程度",
           note="1 严重 severe, 2 警告 warning, 3 提示 notice (the mock's scale)"),
        ch("vola_evid", 500, label="违规依据", note="the rule's source"),
        ch("vola_bhvr_type", 30, label="违规行为类别", note="what the rule inspects"),
        ch("task_id", 40, label="任务标识", note="the request's msgid"),
    ), many=True), "审核结果", "out", {"judge_result_detail_dtos": (detail, True)})
    return Node("result", (), many=True, extra=_inline(result),
                note="one row per violation; [] when the orders break no rule")


def _rule_check(infno: str, name_zh: str, name_en: str, when: str) -> Transaction:
    return Transaction(
        infno, name_zh, name_en, (_rule_check_input(),), (_rule_check_output(),),
        "CQ Input_3101.cs/Output_3101.cs; HN InsureDetailAuditServiceImpl",
        note=f"{when} Only the fields the mock uses are required.")


TRANSACTIONS: tuple[Transaction, ...] = (
    Transaction(
        "9001", "签到", "Sign-in",
        (Node("signIn", (ch("opter_no", 20, True), ch("mac", 20), ch("ip", 20, True))),),
        (Node("signinoutb", (moment("sign_time", True), ch("sign_no", 30, True))),),
        "CQ Input_9001.cs/Output_9001.cs; SZ QD9001.cs; JS T9001.cs",
        note="mac is required in Shenzhen only."),
    Transaction(
        "9002", "签退", "Sign-out",
        (Node("signOut", (ch("sign_no", 30), ch("opter_no", 20, True))),),
        (Node("signoutoutb", (moment("sign_time", True, label="签退时间"),)),),
        "JS T9002.cs; SZ QT9002.cs; CQ Input_9002.cs"),
    Transaction(
        "1101", "人员信息获取", "Person information",
        (Node("data", (
            code("mdtrt_cert_type", "mdtrt_cert_type", 3, True), ch("mdtrt_cert_no", 50, True),
            ch("card_sn", 32, note="required when mdtrt_cert_type is 03; length not stated in "
                                   "the sources (32 assumed)"),
            moment("begntime"), code("psn_cert_type", "psn_cert_type", 6), ch("certno", 50),
            ch("psn_name", 50),
        ), extra={"allOf": [{
            "if": {"properties": {"mdtrt_cert_type": {"const": "03"}},
                   "required": ["mdtrt_cert_type"]},
            "then": {"required": ["card_sn"],
                     "properties": {"card_sn": {"type": "string", "minLength": 1}}},
        }]}),),
        (
            Node("baseinfo", (
                ch("psn_no", 30, True), code("psn_cert_type", "psn_cert_type", 6, True),
                ch("certno", 50, True), ch("psn_name", 50, True), code("gend", "gend", 6, True),
                ch("naty", 3), day("brdy"), num("age", 4, 1, True), exp(),
            )),
            Node("insuinfo", (
                money("balc", True), code("insutype", "insutype", 6, True),
                code("psn_type", "psn_type", 6, True),
                code("psn_insu_stas", "psn_insu_stas", 6, True), day("psn_insu_date"),
                day("paus_insu_date"), code("cvlserv_flag", "flag", 3, True),
                code("insuplc_admdvs", "admdvs", 6, True), ch("emp_name", 200),
            ), many=True, min_items=1, note="one row per insured scheme"),
            Node("idetinfo", (
                ch("psn_idet_type", 3, True), ch("psn_type_lv", 3), ch("memo", 500),
                moment("begntime", True), moment("endtime"),
            ), many=True),
        ),
        "CQ Input_1101.cs/Output_1101.cs and ClassHelper samples; JS T1101.cs"),
    Transaction(
        "2201", "门诊挂号", "Outpatient registration",
        (Node("data", (
            ch("psn_no", 30, True), code("insutype", "insutype", 6, True),
            moment("begntime", True, label="挂号时间"),
            code("mdtrt_cert_type", "mdtrt_cert_type", 3, True), ch("mdtrt_cert_no", 50, True),
            ch("ipt_otp_no", 30, True), ch("atddr_no", 30, True), ch("dr_name", 50, True),
            ch("dept_code", 30, True), ch("dept_name", 100, True), ch("caty", 6, True), exp(),
        )),),
        (Node("data", (ch("mdtrt_id", 30, True), ch("psn_no", 30, True),
                       ch("ipt_otp_no", 30, True), exp())),),
        "CQ Input_2201.cs/Output_2201.cs; JS T2201.cs",
        note="Jiangsu adds an optional node psnbaseinfo; extra nodes are ignored."),
    Transaction(
        "2202", "门诊挂号撤销", "Registration cancel",
        (Node("data", (ch("psn_no", 30, True), ch("mdtrt_id", 30, True),
                       ch("ipt_otp_no", 30, True))),),
        (), "CQ; YBHI", output_note=_NO_OUTPUT),
    Transaction(
        "2203", "门诊就诊信息上传", "Outpatient visit information",
        (_MDTRTINFO, _DISEINFO), (), "CQ Input_2203A.cs; JS T2203.cs", output_note=_NO_OUTPUT),
    Transaction(
        "2203A", "门诊就诊信息上传", "Outpatient visit information (A variant)",
        (_MDTRTINFO, _DISEINFO), (), "CQ Input_2203A.cs (same fields as 2203)",
        output_note=_NO_OUTPUT),
    Transaction(
        "2204", "门诊费用明细信息上传", "Fee detail upload",
        (Node("feedetail", (
            ch("feedetl_sn", 30, True, note="unique within one visit"), ch("mdtrt_id", 30, True),
            ch("psn_no", 30, True),
            ch("chrg_bchno", 30, True, note="all rows of one batch carry the same dise_codg"),
            ch("dise_codg", 30), ch("rxno", 30), code("rx_circ_flag", "flag", 3, True),
            moment("fee_ocur_time", True), ch("med_list_codg", 50, True),
            ch("medins_list_codg", 150, True), money("det_item_fee_sumamt", True),
            qty("cnt", True), price("pric", True), ch("sin_dos_dscr", 200),
            ch("used_frqu_dscr", 200), num("prd_days", 4, 2), ch("medc_way_dscr", 200),
            ch("bilg_dept_codg", 30, True), ch("bilg_dept_name", 100, True),
            ch("bilg_dr_codg", 30, True), ch("bilg_dr_name", 50, True),
            ch("acord_dept_codg", 30), ch("acord_dept_name", 100), ch("orders_dr_code", 30),
            ch("orders_dr_name", 50), code("hosp_appr_flag", "hosp_appr_flag", 3, True),
            ch("tcmdrug_used_way", 6), ch("etip_flag", 3), ch("etip_hosp_code", 30),
            ch("dscg_tkdrug_flag", 3), ch("matn_fee_flag", 6), exp(),
        ), many=True, min_items=1),),
        (Node("result", (
            ch("feedetl_sn", 30, True), money("det_item_fee_sumamt", True), qty("cnt", True),
            price("pric", True), price("pric_uplmt_amt", True, note="999999 when no cap"),
            ratio("selfpay_prop", True), money("fulamt_ownpay_amt", True),
            money("overlmt_amt", True), money("preselfpay_amt", True),
            money("inscp_scp_amt", True), code("chrgitm_lv", "chrgitm_lv", 3, True),
            code("med_chrgitm_type", "med_chrgitm_type", 6, True),
            code("bas_medn_flag", "flag", 3), code("hi_nego_drug_flag", "flag", 3),
            code("chld_medc_flag", "flag", 3), code("list_sp_item_flag", "flag", 3),
            code("lmt_used_flag", "flag", 3, True), code("drt_reim_flag", "flag", 3),
            ch("memo", 500),
        ), many=True, note="one row per uploaded detail; the mock always answers the four "
                           "split amounts and selfpay_prop"),),
        "CQ Input_2204.cs and ClassHelper samples; JS T2204.cs"),
    Transaction(
        "2205", "门诊费用明细信息撤销", "Fee detail cancel",
        (Node("data", (ch("mdtrt_id", 30, True),
                       ch("chrg_bchno", 30, True,
                          note='"0000" cancels every unsettled detail of the visit'),
                       ch("psn_no", 30, True), exp())),),
        (), "CQ Input_2205.cs; SZ ZJ2205.cs; JS T2205.cs", output_note=_NO_OUTPUT),
    _rule_check("3101", "明细审核事前分析", "Rule check before (orders saved)",
                "Asked when the doctor saves the orders (事前)."),
    _rule_check("3102", "明细审核事中分析", "Rule check during (before settlement)",
                "Asked before settlement (事中); the mock applies the same rules as 3101."),
    Transaction(
        "2206", "门诊预结算", "Outpatient pre-settlement",
        (Node("data", (*_SETTLE_INPUT, exp())),),
        (_setlinfo_2207(pre=True), _setldetail(signed=False)),
        "CQ Output_2206.cs and ClassHelper sample"),
    Transaction(
        "2207", "门诊结算", "Outpatient settlement",
        (Node("data", (
            *_SETTLE_INPUT, ch("invono", 20), money("fulamt_ownpay_amt"),
            money("overlmt_selfpay"), money("preselfpay_amt"), money("inscp_scp_amt"), exp(),
        )),),
        (_setlinfo_2207(pre=False), _setldetail(signed=False)),
        "CQ Input_2207.cs and ClassHelper sample (Hebei); JS T2207.cs",
        note="The four amounts (fulamt_ownpay_amt … inscp_scp_amt) are what 2206 answered; "
             "Chongqing marks them required, Jiangsu nullable."),
    Transaction(
        "2208", "门诊结算撤销", "Settlement cancel",
        (Node("data", (ch("setl_id", 30, True), ch("mdtrt_id", 30, True),
                       ch("psn_no", 30, True), exp())),),
        (Node("setlinfo", (
            ch("mdtrt_id", 30, True), ch("setl_id", 30, True), ch("clr_optins", 6),
            moment("setl_time", True), *_amounts(_SETTLE_AMOUNTS, signed=True),
            ratio("pool_prop_selfpay", True, signed=True), money("balc", True),
            ch("medins_setl_id", 30, True), ch("psn_no", 30), *_person_out(False),
            code("insutype", "insutype", 6), code("psn_type", "psn_type", 6),
            code("cvlserv_flag", "flag", 3), code("mdtrt_cert_type", "mdtrt_cert_type", 3),
            code("med_type", "med_type", 6), code("clr_way", "clr_way", 6),
            code("clr_type", "clr_type", 6),
        ), note="the cancelled settlement with every amount negated, a new setl_id, and balc "
                "the balance after the refund"),
         _setldetail(signed=True)),
        "CQ Input_2208.cs/Output_2208.cs and ClassHelper sample; JS T2208.cs"),
    Transaction(
        "2601", "冲正交易", "Reversal",
        (Node("data", (ch("psn_no", 30, True), ch("omsgid", 30, True),
                       code("oinfno", "infno", 6, True,
                            note="reversible: 2102, 2103, 2207, 2208, 2304, 2305, 2401"))),),
        (), "CQ Input_2601.cs; SZ CZ2601.cs; JS T2601.cs; HN", output_note=_NO_OUTPUT),
    Transaction(
        "5203", "结算信息查询", "Settlement query",
        (Node("data", (ch("psn_no", 30, True),
                       # required in the specification; may be empty: a HIS that lost the 2207
                       # answer asks by mdtrt_id (the handler's documented choice)
                       ch("setl_id", 30),
                       ch("mdtrt_id", 30, True))),),
        (Node("setlinfo", (
            ch("setl_id", 30, True), ch("mdtrt_id", 30, True), ch("psn_no", 30, True),
            *_person_out(True), code("insutype", "insutype", 6, True),
            code("psn_type", "psn_type", 6, True), code("cvlserv_flag", "flag", 3),
            code("flxempe_flag", "flag", 3), code("nwb_flag", "flag", 3),
            ch("insu_optins", 6), ch("emp_name", 200), code("pay_loc", "pay_loc", 6, True),
            ch("fixmedins_code", 30), ch("fixmedins_name", 200), ch("hosp_lv", 6),
            ch("fixmedins_poolarea", 6), ch("lmtpric_hosp_lv", 6), ch("dedc_hosp_lv", 6),
            day("begndate"), day("enddate"), moment("setl_time", True),
            code("mdtrt_cert_type", "mdtrt_cert_type", 3), code("med_type", "med_type", 6, True),
            code("clr_type", "clr_type", 6, True), code("clr_way", "clr_way", 6),
            ch("clr_optins", 6),
            *_amounts(("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay",
                       "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc", "hifp_pay"),
                      signed=True),
            ratio("pool_prop_selfpay", True, signed=True),
            *_amounts(("cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay",
                       "oth_pay", "fund_pay_sumamt", "psn_pay", "acct_pay", "cash_payamt"),
                      signed=True),
            money("balc", True), money("acct_mulaid_pay", True, signed=True),
            ch("medins_setl_id", 30, True), code("refd_setl_flag", "flag", 3, True),
            ch("year", 4), ch("dise_codg", 30), ch("dise_name", 500), ch("invono", 20),
            ch("opter_id", 30), ch("opter_name", 50), moment("opt_time"),
        ), note="note the names psn_pay / cash_payamt (2207 says psn_part_amt / psn_cash_pay); "
                "a cancellation (refd_setl_flag 1) has negative amounts"),
         _setldetail(signed=True)),
        "SZ JS5203.cs; HN commented 5261 sample"),
    Transaction(
        "5206", "人员累计信息查询", "Person's accumulators",
        (Node("data", (ch("psn_no", 30, True),
                       ch("cum_ym", 6, note="yyyyMM")),),),
        (Node("cuminfo", (code("insutype", "insutype", 6), ch("year", 4), ch("cum_ym", 6),
                          ch("cum_type_code", 10, True), money("cum", True, signed=True)),
              many=True),),
        "JS T5206.cs; SZ RY5206.cs"),
    Transaction(
        "3201", "医药机构费用结算对总账", "Totals reconciliation",
        (Node("data", (
            code("insutype", "insutype", 6, True), code("clr_type", "clr_type", 6, True),
            ch("setl_optins", 6, True), day("stmt_begndate", True), day("stmt_enddate", True),
            money("medfee_sumamt", True, signed=True), money("fund_pay_sumamt", True, signed=True),
            money("acct_pay", True, signed=True), integer("fixmedins_setl_cnt", 10, True),
            code("refd_setl_flag", "flag", 3),
        )),),
        (Node("stmtinfo", (ch("setl_optins", 6), code("stmt_rslt", "stmt_rslt", 6, True),
                           ch("stmt_rslt_dscr", 200))),),
        "CQ Input_3201.cs/Output_3201.cs; SZ JS3201.cs; JS T3201.cs; HN; ZB; CQday"),
    Transaction(
        "3202", "医药机构费用结算对明细账", "Detail reconciliation",
        (Node("data", (
            ch("setl_optins", 6, True), ch("file_qury_no", 30, True, note="from 9101"),
            day("stmt_begndate", True), day("stmt_enddate", True),
            money("medfee_sumamt", True, signed=True), money("fund_pay_sumamt", True, signed=True),
            money("cash_payamt", True, signed=True), integer("fixmedins_setl_cnt", 10, True),
            code("clr_type", "clr_type", 6), code("refd_setl_flag", "flag", 3),
            ch("fixmedins_code", 30),
        )),),
        (Node("fileinfo", (ch("file_qury_no", 30, True), ch("filename", 200, True),
                           moment("dld_endtime", True))),),
        "CQ Input/Output_3202.cs; SZ JGDZ3202.cs; ZB",
        note="The result file (download with 9102) is result.txt in a zip: UTF-8, "
             "tab-separated, no header: psn_no, mdtrt_id, setl_id, msgid, stmt_rslt, "
             "refd_setl_flag, memo, medfee_sumamt, fund_pay_sumamt, acct_pay."),
    Transaction(
        "9101", "文件上传", "File upload",
        (Node("fsUploadIn", (Field("in", "bytes", required=True), ch("filename", 200, True),
                             ch("fixmedins_code", 30, True))),),
        (Node("fileinfo", (ch("file_qury_no", 30, True), ch("filename", 200, True),
                           moment("dld_endtime")), flat=True),),
        "CQ Input/Output_9101.cs; CQcfg FsUploadIn_9101",
        note="Also sent as multipart (a text part jsonStr with the envelope, a binary part "
             "file).", output_note="The fields sit directly in output (no node name)."),
    Transaction(
        "9102", "文件下载", "File download",
        (Node("fsDownloadIn", (ch("file_qury_no", 30, True), ch("filename", 200, True),
                               ch("fixmedins_code", 30, True))),),
        (), "CQ Input_9102.cs; DEMO; JS CSBHelper.cs",
        output_note="On success the answer is the file itself (Content-Type "
                    "application/octet-stream, a zip), not an envelope; this schema covers the "
                    "output of a refusal, {}."),
)
"""Every transaction with a schema, in the order of the outpatient flow."""


def transaction(infno: str) -> Transaction:
    """The transaction numbered *infno* (KeyError when there is none)."""
    for item in TRANSACTIONS:
        if item.infno == infno:
            return item
    raise KeyError(infno)
