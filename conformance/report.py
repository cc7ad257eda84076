"""The certification report: ``report.json`` for machines and ``report.html`` for people.

Per requirement: its outcome (pass, fail, error, skip, untested — with the catalogue's reason —
or not run under ``--only``), the tests that verify it, and for a failure the evidence: what
broke, the rows or visits, and the messages exchanged for the patients involved (personal data
masked), with what the specification says and how to fix it. The verdict: **certified** when
every SHALL requirement passed or is untested with a reason, nothing failed or errored, and the
whole catalogue ran.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from conformance.catalogue import GROUPS, requirements
from conformance.target import Target, message_evidence
from mock_insurer.schemas.catalog import transaction
from scenarios.page import PRINT_CSS
from scenarios.report import CHECK_LABELS, refusal_label
from simulator.masking import mask
from simulator.output import atomic_write

__all__ = ["BADGES", "build_report", "render_html", "write_reports"]

MESSAGES_PER_FAILURE = 12
OUTCOME_ORDER = ("fail", "error", "pass", "skip")


def _version() -> str:
    try:
        return metadata.version("cardsettle")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "0"


def _people(evidence: Sequence[Any], target: Target | None, scenarios: Sequence[str]) -> list[str]:
    found: list[str] = []
    for item in evidence:
        if not isinstance(item, dict):
            continue
        psn = item.get("psn_no")
        if isinstance(psn, str) and psn not in found:
            found.append(psn)
        visit = item.get("visit")
        if target is not None and isinstance(visit, str):
            for name in scenarios:
                run = target.runs.get(name)
                match = next((v for v in run.result.visits if v.id == visit), None) if run else None
                if match is not None and match.psn_no not in found:
                    found.append(match.psn_no)
    return found


def _messages(people: Sequence[str], target: Target | None,
              scenarios: Sequence[str]) -> list[dict[str, Any]]:
    if target is None:
        return []
    shown: list[dict[str, Any]] = []
    for name in scenarios:
        run = target.runs.get(name)
        if run is None:
            continue
        for psn in people:
            for message in run.messages_of(psn):
                shown.append({"scenario": name, **message_evidence(message)})
                if len(shown) >= MESSAGES_PER_FAILURE:
                    return shown
    return shown


def build_report(records: Sequence[Any], target: Target | None, *,
                 only: Sequence[str] = ()) -> dict[str, Any]:
    catalogue = requirements()
    tests = []
    for record in records:
        data = asdict(record)
        data["evidence"] = mask(data["evidence"])
        if record.outcome in ("fail", "error"):
            people = _people(record.evidence, target, record.scenarios)
            data["messages"] = _messages(people, target, record.scenarios)
        tests.append(data)
    by_requirement: dict[str, list[dict[str, Any]]] = {}
    for test in tests:
        for rid in test["requirements"]:
            by_requirement.setdefault(rid, []).append(test)
    only_groups = {g.upper() for g in only}
    rows = []
    for rid, req in catalogue.items():
        cited = by_requirement.get(rid, [])
        outcomes = {t["outcome"] for t in cited}
        if cited:
            outcome = next(o for o in OUTCOME_ORDER if o in outcomes)
        elif only_groups and req.group not in only_groups:
            outcome = "not run"
        else:
            outcome = "untested"
        rows.append({"id": rid, "group": req.group, "level": req.level, "text": req.text,
                     "source": req.source, "fix": req.fix, "untested": req.untested,
                     "text_zh": req.text_zh, "fix_zh": req.fix_zh,
                     "untested_zh": req.untested_zh,
                     "outcome": outcome, "tests": [t["nodeid"] for t in cited]})
    counts = Counter(row["outcome"] for row in rows)
    shall_bad = [r["id"] for r in rows if r["level"] == "SHALL" and (
        r["outcome"] in ("fail", "error", "skip") or (r["outcome"] == "untested" and not r["untested"]))]
    certified = not shall_bad and not only_groups and counts.get("fail", 0) == 0 \
        and counts.get("error", 0) == 0
    scenarios = {}
    if target is not None:
        for name, run in target.runs.items():
            scenarios[name] = {"passed": run.result.passed, "seed": run.result.seed,
                               "outcomes": run.result.outcome_counts(),
                               "messages": len(run.messages), "directory": str(run.directory)}
    return {
        "tool": "cardsettle certify", "version": _version(),
        "profile": None if target is None else asdict(target.profile),
        "his": None if target is None else {"label": target.his_label, "url": target.his_url,
                                             "info": target.his_info},
        "insurer": None if target is None else {"url": target.insurer_url or "embedded"},
        "only": sorted(only_groups), "certified": certified,
        "verdict": "certified" if certified else ("partial run" if only_groups and not shall_bad
                                                  else "not certified"),
        "failing_shall": shall_bad, "counts": dict(counts),
        "seconds": round(sum(t["seconds"] for t in tests), 2),
        "requirements": rows, "tests": tests, "scenarios": scenarios,
    }


def write_reports(directory: Path, records: Sequence[Any], target: Target | None, *,
                  only: Sequence[str] = ()) -> dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    report = build_report(records, target, only=only)
    atomic_write(directory / "report.json", json.dumps(report, ensure_ascii=False, indent=1,
                                                  default=str))
    atomic_write(directory / "report.html", render_html(report))
    return report


# -- HTML ------------------------------------------------------------------------------------
# The page's labels are 中文 English; a requirement's text, fix and reason are shown in Chinese
# (hospital staff) above the English (vendors), the English marked lang="en".
BADGES = {
    "certified": "已认证 certified", "not certified": "未通过认证 not certified",
    "partial run": "部分运行 partial run", "pass": "通过 pass", "fail": "未通过 fail",
    "error": "出错 error", "skip": "跳过 skip", "untested": "未测试 untested",
    "not run": "未运行 not run",
}
"""Each verdict and outcome as the page shows it; report.json keeps the English code."""

FAULTS = {
    "refuse": "拒绝连接 connection refused", "close": "连接中断 connection closed",
    "delay": "延迟 delayed", "http_error": "HTTP 错误 HTTP error",
    "business_error": "业务错误 business error", "malformed": "应答损坏 garbled answer",
    "lose_answer": "应答丢失 answer lost", "signin_invalidated": "签到失效 sign-in invalidated",
    "clock_skew": "时钟偏差 clock skew",
}
"""The fault the harness planted on a message (mock_insurer/faults EFFECT_KINDS)."""

LEVELS = {"SHALL": "必须 SHALL", "SHOULD": "应当 SHOULD"}
COUNT_ORDER = ("fail", "error", "pass", "skip", "untested", "not run")
EVIDENCE_ROWS = 20
"""Evidence rows shown per failed test; the rest are in report.json."""
FINDING_CHARS = 240
"""Characters of a finding in the list at the top of the page (the whole one is below)."""

_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:2em;
color:#222;max-width:1100px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
.badge{display:inline-block;padding:.2em .7em;border-radius:.3em;color:#fff;font-weight:bold;
white-space:nowrap}
.badge.pass,.badge.certified{background:#2e7d32}.badge.fail,.badge.not-certified{background:#c62828}
.badge.error{background:#6a1b9a}.badge.skip,.badge.untested,.badge.not-run{background:#757575}
.badge.partial-run{background:#b34a00}
table{border-collapse:collapse;width:100%}#summary td:first-child,#summary td:nth-child(2),
#summary td:nth-child(3){white-space:nowrap}
td,th{border-bottom:1px solid #eee;padding:.4em;text-align:left;vertical-align:top}
th{background:#f3f3f3}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.85em;white-space:pre-wrap;
max-height:30em;overflow-y:auto}
code{background:#f0f0f0;padding:0 .2em;border-radius:.2em;font-size:.9em}
details{margin:.3em 0}summary{cursor:pointer}
.req{margin:1em 0;padding:.6em 1em;border-left:4px solid #ccc}
.req.pass{border-color:#2e7d32}.req.fail{border-color:#c62828;background:#fff5f5}
.req.error{border-color:#6a1b9a;background:#f9f4fb}
#findings li{margin:.3em 0}
.scroll{overflow-x:auto;max-width:100%}.en-text{color:#444}
table.data{width:auto;font-size:.85em;background:#fff;margin:.3em 0}
table.data td,table.data th{border:1px solid #ddd;padding:.2em .4em}
table.data td{overflow-wrap:anywhere}table.data th{white-space:nowrap}
table.data table.data{margin:0;font-size:1em}
.nowrap{white-space:nowrap}.code{color:#666;font-size:.85em}.more{color:#555;font-style:italic}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _text(value: Any) -> str:
    """Escaped text with each `backticked` name shown as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(value))


def _both(chinese: Any, english: Any) -> str:
    """A catalogue text in Chinese, then in English on its own line marked as English (only the
    English when a report.json written before the Chinese texts is rendered again)."""
    if not chinese:
        return _text(english)
    return f'{_text(chinese)}<br><span class="en-text" lang="en">{_text(english)}</span>'


def _badge(outcome: str) -> str:
    css = outcome.replace(" ", "-")
    return f'<span class="badge {css}" title="{_e(outcome)}">{_e(BADGES.get(outcome, outcome))}</span>'


def _pretty(value: Any) -> str:
    return _e(json.dumps(value, ensure_ascii=False, indent=1, default=str))


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _flat(value: Any) -> bool:
    return isinstance(value, dict) and all(_scalar(v) for v in value.values())


def _cell_ok(value: Any) -> bool:
    return _scalar(value) or _flat(value) or (
        isinstance(value, dict) and all(_scalar(v) or _flat(v) for v in value.values())) or (
        isinstance(value, list) and all(_flat(v) or _scalar(v) for v in value))


def _tabular(items: Sequence[Any]) -> bool:
    """A list of objects whose values are plain, or one level of plain objects (a row's
    settlements): shown as a table."""
    return bool(items) and all(isinstance(i, dict) and all(_cell_ok(v) for v in i.values())
                               for i in items)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str) and (_DATE.match(value) or (" " not in value and len(value) <= 30)):
        return f'<span class="nowrap">{_e(value)}</span>'
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if _scalar(value):
        return _e(value)
    if isinstance(value, dict):
        return "<br>".join(f"{_e(k)}: " + (" · ".join(f"{_e(a)} {_cell(b)}" for a, b in v.items())
                                          if isinstance(v, dict) else _cell(v))
                           for k, v in value.items())
    if not value:
        return "—"
    if value and all(_flat(v) for v in value):
        return _table(value)
    return "<br>".join(_e(v) for v in value)


def _table(rows: Sequence[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns) + "</tr>"
                   for row in rows)
    return f'<table class="data"><tr>{head}</tr>{body}</table>'


def _more(hidden: int) -> str:
    return (f'<p class="more">另有 {hidden:,} 条未显示 and {hidden:,} more — '
            "完整数据见 full data in report.json</p>" if hidden > 0 else "")


def _evidence(items: Sequence[Any]) -> str:
    """The evidence of a test: a table of its rows when they are objects, else JSON; at most
    ``EVIDENCE_ROWS`` of them."""
    shown = list(items[:EVIDENCE_ROWS])
    if not _tabular(shown):
        return (f"<p>证据 evidence ({len(items):,}):</p><pre>{_pretty(shown)}</pre>"
                + _more(len(items) - len(shown)))
    common = {k: v for k, v in shown[0].items() if _scalar(v) and len(shown) > 1
              and all(k in row and row[k] == v for row in items)}
    said = []
    for key, value in common.items():
        if value is None or value == "":
            continue
        if key == "check" and value in CHECK_LABELS:
            said.append(f'检查 check: {_e(CHECK_LABELS[value])} <span class="code">{_e(value)}'
                        "</span>")
        else:
            said.append(f"{_e(key)}: {_cell(value)}")
    rows = [{k: v for k, v in row.items() if k not in common} for row in shown]
    return (f"<p>证据 evidence ({len(items):,} 条 rows{'; ' if said else ''}"
            + " · ".join(said) + f"):</p><div class=\"scroll\">{_table(rows)}</div>"
            + _more(len(items) - len(shown)))


def _infno(infno: Any) -> str:
    try:
        found = transaction(str(infno))
    except KeyError:
        return _e(infno)
    return f'{_e(infno)} {_e(found.name_zh)} <span class="code">{_e(found.name_en)}</span>'


def _answer(message: dict[str, Any]) -> str:
    fault = message.get("fault") or {}
    if fault:
        effect = str(fault.get("effect") if isinstance(fault, dict) else fault)
        return (f"注入故障 planted fault: {_e(FAULTS.get(effect, effect))} "
                f'<span class="code">{_e(effect)}</span>')
    if message.get("infcode") == 0:
        return "成功 ok"
    code = message.get("rejection_code")
    label = f'{_e(refusal_label(code))} <span class="code">{_e(code)}</span> ' if code else ""
    return f"拒绝 refused: {label}{_e(message.get('err_msg') or '')}"


def _messages_html(messages: Sequence[dict[str, Any]]) -> str:
    """The messages exchanged for the patients involved, folded: one line each, the bodies
    behind a click."""
    rows = []
    for message in messages:
        rows.append(
            f"<tr><td class=\"nowrap\">{_e(message.get('biz_time'))}</td>"
            f"<td class=\"nowrap\">{_infno(message.get('infno'))}</td>"
            f"<td>{_answer(message)}</td><td><code class=\"nowrap\">{_e(message.get('msgid'))}</code>"
            f"<details><summary>报文内容 input / output</summary><pre>"
            + _pretty({k: message.get(k) for k in ("input", "output", "deviations")})
            + "</pre></details></td></tr>")
    return (f"<details class=\"messages\"><summary>相关报文 messages exchanged "
            f"({len(messages):,}; 个人信息已脱敏 personal data masked)</summary>"
            "<div class=\"scroll\"><table class=\"data\"><tr><th>时间 time</th>"
            "<th>交易 transaction</th><th>应答 answer</th><th>报文ID msgid</th></tr>"
            + "".join(rows) + "</table></div></details>")


def _counts(counts: dict[str, int]) -> str:
    order = [k for k in COUNT_ORDER if k in counts] + sorted(set(counts) - set(COUNT_ORDER))
    return " ".join(f"{_badge(k)} {counts[k]:,}" for k in order)


def render_html(report: dict[str, Any]) -> str:
    """report.html: the verdict, every requirement in one table, then per group each
    requirement with its tests; a failure shows its finding, how to fix it, its evidence
    (capped) and the messages exchanged (folded)."""
    his = report.get("his") or {}
    prof = report.get("profile") or {}
    tests = {t["nodeid"]: t for t in report["tests"]}
    parts = [f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
             f"<title>认证报告 / certification report — {_e(his.get('label', ''))}</title>"
             f"<style>{_STYLE}{PRINT_CSS}</style></head><body>",
             "<h1>医保接口认证报告 / Conformance certification report</h1>",
             f"<p id=\"verdict\">{_badge(report['verdict'])} "
             f"送检系统 HIS: <b>{_e(his.get('label'))}</b> "
             f"{_e((his.get('info') or {}).get('name', ''))}"
             f" · 认证配置 profile <b>{_e(prof.get('name'))}</b> · cardsettle "
             f"{_e(report['version'])} · 用时 duration {_e(report['seconds'])} s</p>",
             f"<p>{_counts(report['counts'])}</p>"]
    if report["only"]:
        parts.append("<p>只运行了 only these groups ran: <b>"
                     + ", ".join(_e(g) for g in report["only"]) + "</b></p>")
    if report["failing_shall"]:
        parts.append("<p>必须满足但未通过 / SHALL requirements not met: <b>"
                     + ", ".join(f'<a href="#{_e(r)}">{_e(r)}</a>'
                                 for r in report["failing_shall"]) + "</b></p>")
    findings = []
    for row in report["requirements"]:  # what to look at first, before the long table
        if row["outcome"] not in ("fail", "error"):
            continue
        test = next((tests[n] for n in row["tests"] if tests[n]["outcome"] == row["outcome"]),
                    None)
        message = " ".join(str((test or {}).get("message", "")).split())
        if len(message) > FINDING_CHARS:
            message = message[:FINDING_CHARS - 1] + "…"
        said = f"{_text(row['text_zh'])}<br>" if row.get("text_zh") else ""
        findings.append(f'<li><a href="#{_e(row["id"])}">{_e(row["id"])}</a> '
                        f"{_badge(row['outcome'])} {said}{_text(message)}</li>")
    if findings:
        parts.append("<h2>需要处理 / Findings</h2><ul id=\"findings\">" + "".join(findings)
                     + "</ul>")
    summary = ["<div class=\"scroll\" role=\"region\" tabindex=\"0\" "
               "aria-label=\"全部要求 every requirement\"><table id=\"summary\"><tr><th>编号 ID</th><th>级别 level</th>"
               "<th>结果 outcome</th><th>要求 requirement</th></tr>"]
    for row in report["requirements"]:
        summary.append(f"<tr><td><a href=\"#{_e(row['id'])}\">{_e(row['id'])}</a></td>"
                       f"<td>{_e(LEVELS.get(row['level'], row['level']))}</td>"
                       f"<td>{_badge(row['outcome'])}</td>"
                       f"<td>{_both(row.get('text_zh'), row['text'])}</td></tr>")
    summary.append("</table></div>")
    parts.extend(summary)
    for group, title in GROUPS.items():
        rows = [r for r in report["requirements"] if r["group"] == group]
        if not rows:
            continue
        parts.append(f"<h2>{_e(group)} — {_e(title)}</h2>")
        for row in rows:
            parts.append(f"<div class=\"req {_e(row['outcome'].replace(' ', '-'))}\" "
                         f"id=\"{_e(row['id'])}\"><p><b>{_e(row['id'])}</b> "
                         f"{_badge(row['outcome'])} "
                         f"<i>{_e(LEVELS.get(row['level'], row['level']))}</i> "
                         f"{_both(row.get('text_zh'), row['text'])}</p>"
                         f"<p>依据 source: {_text(row['source'])}</p>")
            if row["outcome"] == "untested":
                parts.append("<p>未测试原因 not tested because: "
                             f"{_both(row.get('untested_zh'), row['untested'] or '—')}</p>")
            for nodeid in row["tests"]:
                test = tests[nodeid]
                parts.append(f"<details{' open' if test['outcome'] in ('fail', 'error') else ''}>"
                             f"<summary>{_badge(test['outcome'])} 测试 test "
                             f"<code>{_e(test['name'])}</code> · 场景 scenario "
                             f"{_e(', '.join(test['scenarios']) or '—')}</summary>")
                if test["message"]:
                    parts.append(f"<p class=\"message\">结果 finding: {_text(test['message'])}</p>")
                if test["outcome"] == "fail" and row["fix"]:
                    parts.append("<p class=\"fix\">如何修复 how to fix: "
                                 f"{_both(row.get('fix_zh'), row['fix'])}</p>")
                elif test["outcome"] == "error":
                    parts.append("<p class=\"fix\">未能判定 not judged: 本要求未能检验，请先处理上述"
                                 "问题后重新运行 / the suite could not judge this requirement: "
                                 "fix what the finding names, then run again</p>")
                if test["evidence"]:
                    parts.append(_evidence(test["evidence"]))
                if test.get("messages"):
                    parts.append(_messages_html(test["messages"]))
                parts.append("</details>")
            parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)
