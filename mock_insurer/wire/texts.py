"""The wire's error texts, in one table (shared/reference/README.md, "error text").

Every refusal the wire produces answers ``FSI-<words a cashier can act on>[<where>]``
(the format seen from the real platform, fact sheet §5: ``FSI-文件查询号不能为空[fileBO_156]``).
No public source gives the platform's own wording for these cases (fact sheet §5, "Gap"), so
the texts are ours; keep them here so they can be replaced when real ones are known.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["ERR_MSG_MAX", "FIELD_TEXTS", "MSGID_TEXTS", "PADDING", "WIRE_TEXTS", "bounded_err_msg",
           "fsi"]

PADDING = " \t\r\n\v\f\x00\xa0\u3000"
"""What pads a value read from a ``CHAR`` column or a card reader's fixed buffer: spaces (also
the full-width ``\u3000`` of a Chinese input method and ``\xa0``), tabs, line ends and NULs
(``\x00``, which .NET's ``Trim()`` leaves)."""

ERR_MSG_MAX = 200
"""``err_msg`` is char 200 (fact sheet §2.2): a HIS stores it in a column of that size."""

_LONG_RUN = re.compile(r"[0-9A-Za-z_.\-]{65,}")  # longer than any identifier of the interface
_LOCATOR_MAX = 60

WIRE_TEXTS: Mapping[str, str] = MappingProxyType({
    # envelope refusals (ParseOutcome.refusal_code)
    "empty_body": "报文为空，请发送交易报文",
    "body_too_large": "报文长度超过上限{limit}字节，请分批上传",
    "bad_encoding": "报文不是UTF-8编码，请使用UTF-8发送",
    "malformed_json": "报文格式错误，不是合法的JSON",
    "not_an_object": "报文格式错误，报文应为JSON对象",
    "missing_field": "报文缺少必填项：{fields}",
    "missing_insuplc": "报文缺少参保地医保区划(insuplc_admdvs)：交易含人员编号(psn_no)时必填，"
                       "请按1101返回的insuinfo.insuplc_admdvs上传",
    "bad_field_type": "报文字段类型错误：{fields}应为字符串",
    "field_too_long": "报文字段超长：{fields}",
    "whitespace": "报文字段首尾含空格或不可见字符：{fields}，请去除后重发",
    "bad_infno": "交易编号(infno)格式错误：{value}",
    "unknown_infno": "交易编号(infno)不存在：{value}",
    "msgid_format": "发送方报文ID(msgid)格式错误：{detail}，应为定点医药机构编号+yyyyMMddHHmmss+4位顺序号，共30位",
    "time_format": "交易时间(inf_time)格式错误：{value}，应为yyyy-MM-dd HH:mm:ss",
    "bad_code": "报文字段取值不在代码表中：{fields}",
    "admdvs_format": "医保区划应为6位数字：{fields}",
    "input_malformed_json": "交易输入(input)不是合法的JSON",
    "input_not_object": "交易输入(input)应为JSON对象",
    "input_too_long": "交易输入(input)长度超过{limit}字符，请分批上传",
    "input_too_deep": "交易输入(input)嵌套超过{limit}层，请检查报文结构",
})
"""Texts of the envelope refusals, by refusal code (``{name}`` placeholders are filled in)."""

MSGID_TEXTS: Mapping[str, str] = MappingProxyType({
    "msgid_length": "长度为{length}位",
    "msgid_charset": "含有字母和数字以外的字符",
    "msgid_prefix": "不以定点医药机构编号{code}开头",
    "msgid_time": "机构编号后的14位不是yyyyMMddHHmmss时间",
    "msgid_sequence": "末4位不是数字顺序号",
})
"""What is wrong with a msgid, by the deviation code of :func:`~mock_insurer.wire.msgid.check_msgid`
(fills ``{detail}`` of ``msgid_format``)."""

FIELD_TEXTS: Mapping[str, str] = MappingProxyType({
    # business field problems (FieldProblem.code); {subject} = "费用明细第3条 数量(cnt)"
    "node_missing": "缺少交易输入节点{subject}",
    "node_not_object": "{subject}应为JSON对象",
    "node_not_list": "{subject}应为JSON数组",
    "missing": "{subject}不能为空",
    "bad_type": "{subject}类型错误，应为{expected}",
    "too_long": "{subject}长度超过{max_len}位",
    "whitespace": "{subject}首尾含空格或不可见字符，请去除后重新上传",
    "not_number": "{subject}不是有效数字",
    "not_ascii_number": "{subject}含全角或非ASCII字符（“{value}”），数值应为半角数字0-9和小数点",
    "negative_zero": "{subject}为“{value}”：该字段不能带负号，零请上传0或0.00",
    "too_many_places": "{subject}最多{places}位小数",
    "too_large": "{subject}数值超出范围",
    "negative": "{subject}不能为负数",
    "out_of_range": "{subject}应在{low}到{high}之间",
    "not_integer": "{subject}应为整数",
    "bad_date": "{subject}不是有效日期，应为yyyy-MM-dd",
    "bad_datetime": "{subject}不是有效时间，应为yyyy-MM-dd HH:mm:ss",
    "bad_code": "{subject}的值“{value}”不在代码表中",
    "bad_json": "{subject}不是合法的JSON",
})
"""Texts of the business field problems, by :class:`FieldProblem` code."""


def fsi(text: str, where: str) -> str:
    """``FSI-<text>[<where>]``; the bracket is left out when *where* is empty."""
    return f"FSI-{text}[{where}]" if where else f"FSI-{text}"


def _elide(match: re.Match[str]) -> str:
    run = match.group()
    return f"{run[:24]}…(共{len(run)}位)"


def bounded_err_msg(err_msg: str, limit: int = ERR_MSG_MAX) -> str:
    """*err_msg* within *limit* characters: a value echoed from the request that is longer than
    any identifier is shortened to its start and its length; if the text is still too long its
    middle is cut, keeping the ``[where]`` locator at the end."""
    if len(err_msg) <= limit:
        return err_msg
    text = _LONG_RUN.sub(_elide, err_msg)
    if len(text) <= limit:
        return text
    start = text.find("[", len(text) - _LOCATOR_MAX) if text.endswith("]") else -1
    locator = text[start:] if start > 0 else ""
    return text[:limit - len(locator) - 1] + "…" + locator
