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
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from conformance.catalogue import GROUPS, requirements
from conformance.masking import mask
from conformance.target import Target, message_evidence
from scenarios.report import atomic_write

__all__ = ["build_report", "write_reports"]

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
_STYLE = """
body{font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:2em;
color:#222;max-width:1100px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
.badge{display:inline-block;padding:.2em .7em;border-radius:.3em;color:#fff;font-weight:bold}
.pass{background:#2e7d32}.fail{background:#c62828}.error{background:#6a1b9a}
.skip,.untested,.not-run{background:#757575}.certified{background:#2e7d32}
.not-certified{background:#c62828}.partial-run{background:#ef6c00}
table{border-collapse:collapse;width:100%}#summary td:first-child{white-space:nowrap}td,th{border-bottom:1px solid #eee;padding:.4em;
text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:.6em;overflow-x:auto;
font-size:.85em;white-space:pre-wrap}details{margin:.3em 0}
.req{margin:1em 0;padding:.6em 1em;border-left:4px solid #ccc}
.req.fail{border-color:#c62828;background:#fff5f5}.req.error{border-color:#6a1b9a}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _badge(outcome: str) -> str:
    css = outcome.replace(" ", "-")
    return f'<span class="badge {css}">{_e(outcome)}</span>'


def _pretty(value: Any) -> str:
    return _e(json.dumps(value, ensure_ascii=False, indent=1, default=str))


def render_html(report: dict[str, Any]) -> str:
    his = report.get("his") or {}
    prof = report.get("profile") or {}
    tests = {t["nodeid"]: t for t in report["tests"]}
    parts = [f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
             f"<title>认证报告 / certification report — {_e(his.get('label', ''))}</title>"
             f"<style>{_STYLE}</style></head><body>",
             "<h1>医保接口认证报告 / Conformance certification report</h1>",
             f"<p id=\"verdict\">{_badge(report['verdict'])} "
             f"HIS: <b>{_e(his.get('label'))}</b> {_e((his.get('info') or {}).get('name', ''))}"
             f" · profile <b>{_e(prof.get('name'))}</b> · cardsettle {_e(report['version'])}"
             f" · {_e(report['seconds'])} s</p>"]
    counts = report["counts"]
    parts.append("<p>" + " ".join(f"{_badge(k)} {v}" for k, v in sorted(counts.items())) + "</p>")
    if report["failing_shall"]:
        parts.append("<p>必须满足但未通过 / SHALL requirements not met: <b>"
                     + ", ".join(_e(r) for r in report["failing_shall"]) + "</b></p>")
    summary = ["<table id=\"summary\"><tr><th>ID</th><th>级别 level</th><th>结果 outcome</th>"
               "<th>要求 requirement</th></tr>"]
    for row in report["requirements"]:
        summary.append(f"<tr><td><a href=\"#{_e(row['id'])}\">{_e(row['id'])}</a></td>"
                       f"<td>{_e(row['level'])}</td><td>{_badge(row['outcome'])}</td>"
                       f"<td>{_e(row['text'])}</td></tr>")
    summary.append("</table>")
    parts.extend(summary)
    for group, title in GROUPS.items():
        rows = [r for r in report["requirements"] if r["group"] == group]
        if not rows:
            continue
        parts.append(f"<h2>{_e(group)} — {_e(title)}</h2>")
        for row in rows:
            parts.append(f"<div class=\"req {_e(row['outcome'].replace(' ', '-'))}\" "
                         f"id=\"{_e(row['id'])}\"><p><b>{_e(row['id'])}</b> "
                         f"{_badge(row['outcome'])} <i>{_e(row['level'])}</i> {_e(row['text'])}</p>"
                         f"<p>依据 source: {_e(row['source'])}</p>")
            if row["outcome"] == "untested":
                parts.append(f"<p>未测试原因 not tested because: {_e(row['untested'] or '—')}</p>")
            for nodeid in row["tests"]:
                test = tests[nodeid]
                parts.append(f"<details{' open' if test['outcome'] in ('fail', 'error') else ''}>"
                             f"<summary>{_badge(test['outcome'])} {_e(test['name'])} "
                             f"({_e(', '.join(test['scenarios']))})</summary>")
                if test["message"]:
                    parts.append(f"<p class=\"message\">{_e(test['message'])}</p>")
                if test["outcome"] in ("fail", "error") and row["fix"]:
                    parts.append(f"<p class=\"fix\">如何修复 how to fix: {_e(row['fix'])}</p>")
                if test["evidence"]:
                    parts.append("<p>证据 evidence:</p><pre>" + _pretty(test["evidence"][:20])
                                 + "</pre>")
                if test.get("messages"):
                    parts.append("<p>相关报文 messages exchanged (personal data masked):</p><pre>"
                                 + _pretty(test["messages"]) + "</pre>")
                parts.append("</details>")
            parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)
