/* cardsettle console: the drill, the fault plan, the latest settlements, the counters and the
 * business clock (docs/console.md, "What each panel shows"). */

import {
  $, EFFECTS, both, duration, effectKind, el, hhmm, listText, mask, moment, readable, yuan,
} from "./text.js";
import { AccessError, ApiError, admin, refusalText, state } from "./api.js";

const SETTLEMENT_ROWS = 20; // the latest settlements shown
const COUNTERS = ["settled", "refused", "failed", "reversed", "refunded", "unreconciled",
  "messages"];
/** The counters a screen reader is told about (Chinese, English): the ones that mean trouble.
 * Settled and message counts grow every second in a drill and are read on demand instead. */
const ANNOUNCED = { failed: ["故障", "failed"], refused: ["拒绝", "refused"],
  unreconciled: ["对账不平", "unreconciled"] };
const ANNOUNCE_EVERY_MS = 30000; // increases after the first are summed up at most this often
/** A fault in words: its name from the plan when known, else its effect with its id (two
 * unnamed faults of one effect stay told apart), else its id. */
function faultWords(id) {
  const fault = state.plan[id];
  if (fault && fault.name) return String(fault.name);
  const words = fault ? EFFECTS[effectKind(fault.effect)] : null;
  return words ? `${words[0]} ${words[1]} (${id})` : id;
}

// -- the drill ------------------------------------------------------------------------------
function drillRunning() {
  return state.drill && state.drill.drill !== null && state.drill.drill !== undefined;
}

export async function pollDrill() {
  state.drill = await admin("GET", "/drill");
  renderDrill();
}

function renderDrill() {
  const running = drillRunning();
  $("drill-waiting").hidden = true;
  $("drill-none").hidden = running;
  $("drill-body").hidden = !running;
  if (!running) return;
  const drill = state.drill;
  const phases = Array.isArray(drill.phases) ? drill.phases : [];
  const current = Number.isInteger(drill.current) ? drill.current : null;
  $("drill-title").textContent = drill.title || drill.drill;
  const notes = [];
  if (drill.state === "finished") notes.push(...both("已结束", "finished"));
  else if (drill.state === "aborted") notes.push(...both("已中止", "aborted"));
  else notes.push(...both("进行中", "running"));
  if (drill.accelerate && drill.accelerate !== 1) notes.push(` ×${drill.accelerate}`);
  $("drill-state").replaceChildren(...notes);
  $("drill-state").dataset.state = drill.state;

  const list = $("phases");
  list.replaceChildren(...phases.map((phase, n) => {
    const item = el("li", {
      "data-phase-index": n,
      class: n === current ? "current" : (current !== null && n < current) ? "done" : "",
      id: n === current ? "phase-current" : null,
      "aria-current": n === current ? "step" : null,
    }, el("span", { class: "phase-time" }, `${hhmm(phase.start)}–${hhmm(phase.end)}`),
    el("span", { class: "phase-name" }, phase.name),
    phase.faults && phase.faults.length
      ? el("span", { class: "phase-faults", title: "故障 fault " + phase.faults.join(", ") },
        "故障 faults: " + phase.faults.map((id) => faultWords(String(id))).join("; "))
      : "");
    return item;
  }));

  const phase = current !== null ? phases[current] : null;
  if (drill.state === "aborted") {
    $("phase-name").replaceChildren(...both("演练已中止", "the drill was interrupted"),
      phase ? ` — ${phase.name}` : "");
    $("phase-instructions").textContent = "";
  } else if (phase) {
    $("phase-name").replaceChildren(
      el("span", { class: "label" }, ...both("当前阶段", "current phase")), " ", phase.name);
    $("phase-instructions").textContent = readable(phase.instructions);
  } else if (drill.state === "finished") {
    $("phase-name").replaceChildren(...both("演练结束", "the drill has ended"));
    $("phase-instructions").textContent = "";
  } else {
    $("phase-name").replaceChildren(...both("等待开始", "waiting for the first phase"));
    $("phase-instructions").textContent = "";
  }
  announcePhase(drill, phase);
  updateTimeLeft();
}

/** Says the phase and its instructions once, when the drill moves to another phase (or
 * ends, or is interrupted): an assertive live region, because the coordinator has to tell
 * the cashiers now. The visible panel is not live: its countdown changes every second. */
function announcePhase(drill, phase) {
  const key = [drill.drill, drill.state, drill.current].join("|");
  if (key === state.phaseSaid) return;
  state.phaseSaid = key;
  let text;
  if (drill.state === "aborted") text = "演练已中止 / the drill was interrupted";
  else if (drill.state === "finished" && !phase) text = "演练结束 / the drill has ended";
  else if (phase) {
    const instructions = readable(phase.instructions).trim();
    text = `当前阶段 current phase: ${phase.name}` + (instructions ? `。\n${instructions}` : "");
  } else text = "等待开始 / waiting for the first phase";
  $("phase-announce").textContent = text;
}

export function updateTimeLeft() {
  const target = $("phase-left");
  if (!drillRunning() || state.drill.state === "finished" || state.drill.state === "aborted") {
    target.textContent = "";
    return;
  }
  const drill = state.drill;
  const phases = Array.isArray(drill.phases) ? drill.phases : [];
  const phase = Number.isInteger(drill.current) ? phases[drill.current] : null;
  const end = phase ? moment(phase.end) : null;
  if (!end) {
    target.textContent = "";
    return;
  }
  const left = end.getTime() - Date.now();
  target.dataset.over = left < 0 ? "true" : "false";
  target.replaceChildren(...(left >= 0
    ? both("剩余 " + duration(left), "left")
    : both("已超出 " + duration(-left), "over time")));
}

// -- the fault plan -------------------------------------------------------------------------
export async function pollFaults() {
  renderFaults(await admin("GET", "/faults"));
}

function selectorText(match) {
  const parts = [];
  const m = match || {};
  if (m.infno !== undefined && m.infno !== null) parts.push("交易 infno " + listText(m.infno));
  if (m.fixmedins_code) parts.push("机构 institution " + listText(m.fixmedins_code));
  if (m.psn_no) parts.push("人员 person " + listText(m.psn_no));
  if (m.window) parts.push(`时段 window ${m.window.start || "…"} – ${m.window.end || "…"}`);
  if (m.probability !== undefined && m.probability !== null) {
    parts.push("概率 probability " + m.probability);
  }
  if (m.first !== undefined && m.first !== null) parts.push("前 first " + m.first);
  return parts.length ? parts.join(" · ") : "所有交易 every message";
}

function effectText(effect) {
  const e = typeof effect === "string" ? { kind: effect } : (effect || {});
  const rest = Object.entries(e).filter(([key]) => key !== "kind").map(([key, value]) =>
    `${key}: ${typeof value === "object" ? JSON.stringify(value) : value}`);
  const name = EFFECTS[e.kind] ? EFFECTS[e.kind][0] + " " : "";
  return `${name}${e.kind}${rest.length ? " (" + rest.join(", ") + ")" : ""}`;
}

function faultRow(fault) {
  const id = String(fault.id);
  // the button's name says which fault it starts or stops ("启动 Start 故障 fault down"), for
  // a screen reader tabbing through the plan; the fault's name is read, not shown twice
  const button = (action, zh, en) => el("button", {
    type: "button", "data-fault-id": id, "data-action": action, class: action,
  }, ...both(zh, en), el("span", { class: "sr-only" },
    ` 故障 fault ${fault.name ? String(fault.name) : id}`));
  return el("tr", { "data-fault-id": id },
    el("td", { class: "fault-name" }, el("code", {}, id), fault.name ? " " + fault.name : ""),
    el("td", { class: "fault-selector" }, selectorText(fault.match)),
    el("td", { class: "fault-effect" }, effectText(fault.effect)),
    el("td", { class: "fault-armed" }),
    el("td", { class: "fault-hits" }),
    el("td", { class: "fault-actions" },
      button("start", "启动", "Start"), " ", button("stop", "停止", "Stop")));
}

function renderFaults(data) {
  const faults = (data && data.plan && Array.isArray(data.plan.faults)) ? data.plan.faults : [];
  const stats = (data && data.stats) || {};
  state.plan = Object.fromEntries(faults.map((fault) => [String(fault.id), fault]));
  const body = $("faults").tBodies[0];
  const shape = JSON.stringify(faults.map((f) => [f.id, f.name, f.match, f.effect]));
  if (shape !== state.faultsShape) {
    body.replaceChildren(...faults.map(faultRow));
    state.faultsShape = shape;
  }
  faults.forEach((fault, n) => {
    const row = body.rows[n];
    const armed = fault.active !== false;
    row.dataset.armed = armed ? "true" : "false";
    row.querySelector(".fault-armed").replaceChildren(
      ...(armed ? both("已启动", "armed") : both("未启动", "off")));
    row.querySelector(".fault-hits").textContent = String(stats[String(fault.id)] || 0);
    row.querySelector("button[data-action=start]").disabled = armed;
    row.querySelector("button[data-action=stop]").disabled = !armed;
  });
  $("faults-none").hidden = faults.length > 0;
  $("faults").hidden = faults.length === 0;
  $("faults-clear").disabled = faults.length === 0;
  $("faults-armed").replaceChildren(
    ...(data && data.armed ? both("有故障启动中", "faults armed") : both("无故障启动", "none armed")));
  $("faults-armed").dataset.armed = data && data.armed ? "true" : "false";
}

function faultsMessage(kind, text) {
  const target = $("faults-message");
  target.dataset.kind = kind;
  target.textContent = text;
}

export async function onFaultButton(event) {
  const button = event.target.closest("button[data-fault-id][data-action]");
  if (!button || state.stale) return;
  const row = button.closest("tr");
  row.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  const action = button.dataset.action;
  const id = button.dataset.faultId;
  try {
    renderFaults(await admin("POST", `/faults/${encodeURIComponent(id)}/${action}`));
    faultsMessage("ok", "");
  } catch (error) {
    if (error instanceof AccessError) state.denied(error);
    else {
      faultsMessage("error", (action === "start" ? "未能启动" : "未能停止") + ` ${id}: ` +
        (error instanceof ApiError && error.status === 404
          ? "故障计划已被替换，没有这个故障 / the plan was replaced and has no such fault"
          : refusalText(error)));
    }
    pollFaults().catch(() => {});
  }
}

export async function onClearPlan() {
  if (state.stale) return;
  const sure = window.confirm("清空故障计划？所有故障都将删除（演练会在下一阶段设置自己的计划）。\n" +
    "Clear the fault plan? Every fault is removed (a running drill sets its own at its next phase).");
  if (!sure) return;
  try {
    renderFaults(await admin("DELETE", "/faults"));
    faultsMessage("ok", "故障计划已清空 / the fault plan was cleared");
  } catch (error) {
    if (error instanceof AccessError) state.denied(error);
    else faultsMessage("error", "未能清空 / not cleared: " + refusalText(error));
  }
}

export async function onLoadPlan(event) {
  event.preventDefault();
  if (state.stale) return;
  const text = $("plan-text").value.trim();
  const problem = $("plan-error");
  if (!text) {
    problem.textContent = "请先粘贴故障计划 / paste a fault plan first";
    return;
  }
  const json = text.startsWith("{");
  try {
    const data = await admin("PUT", "/faults", text,
      json ? "application/json" : "application/yaml");
    renderFaults(data);
    const count = data.plan && Array.isArray(data.plan.faults) ? data.plan.faults.length : 0;
    problem.textContent = "";
    $("plan-text").value = "";
    $("plan-load").open = false;
    faultsMessage("ok", `已载入故障计划，${count} 个故障 / the fault plan was loaded: ${count} ` +
      (count === 1 ? "fault" : "faults"));
  } catch (error) {
    if (error instanceof AccessError) state.denied(error);
    else {
      problem.textContent = "计划有误，未载入，原计划不变 / not loaded, the old plan stays: " +
        refusalText(error);
    }
  }
}

// -- the settlements ----------------------------------------------------------------------
function settlementState(row) {
  if (String(row.refd_setl_flag) === "1") {
    return ["refund", "撤销记录", "refund of " + (row.orig_setl_id || "?")];
  }
  if (row.cancelled_by) return ["cancelled", "已撤销", "refunded by " + row.cancelled_by];
  return ["settled", "有效", "in effect"];
}

function settlementRow(row) {
  const [kind, zh, en] = settlementState(row);
  return el("tr", { "data-setl-id": row.setl_id, "data-state": kind },
    el("td", { class: "time" }, row.setl_time || ""),
    el("td", {}, el("code", {}, row.setl_id || "")),
    el("td", {}, row.fixmedins_code || ""),
    el("td", { class: "person" }, mask(row.psn_no)),
    el("td", { class: "money medfee" }, yuan(row.medfee_sumamt)),
    el("td", { class: "money fund" }, yuan(row.fund_pay_sumamt)),
    el("td", { class: "money account" }, yuan(row.acct_pay)),
    el("td", { class: "money cash" }, yuan(row.psn_cash_pay)),
    el("td", { class: "setl-state" }, ...both(zh, en)));
}

export async function pollSettlements() {
  // the latest first, through the ledger's index: as quick in a long day as at its start
  const page = await admin("GET", `/settlements?limit=${SETTLEMENT_ROWS}&order=newest`);
  const total = Number(page.total) || 0;
  const items = Array.isArray(page.items) ? page.items : [];
  const shape = JSON.stringify(items.map((r) => [r.setl_id, r.cancelled_by]));
  if (shape !== state.settlementsShape) {
    $("settlements").tBodies[0].replaceChildren(...items.map(settlementRow));
    state.settlementsShape = shape;
  }
  $("settlements").hidden = total === 0;
  $("settlements-none").hidden = total > 0;
  $("settlements-count").textContent = total
    ? `(共 ${total} 笔，显示最近 ${items.length} 笔 / ${total} in all, the latest ${items.length})`
    : "";
}

// -- the counters ---------------------------------------------------------------------------
export async function pollCounters() {
  const after = drillRunning() ? Number(state.drill.message_id_at_start) || 0 : state.startId;
  const counts = await admin("GET", `/counters?after_id=${after}`);
  announceCounters(after, counts);
  for (const key of COUNTERS) {
    const value = $("counter-" + key);
    const count = Number.isInteger(counts[key]) ? counts[key] : null; // never "undefined"
    value.textContent = count === null ? "–" : String(count);
    value.closest(".counter").dataset.zero = count === 0 ? "true" : "false";
  }
  const scope = $("counters-scope");
  scope.textContent = drillRunning() ? "自演练开始 since the drill started"
    : state.logEmptied ? "自交易记录清空 since the log was emptied"
      : "自打开本页 since this page opened";
  scope.title = `从第 ${after} 条报文之后计数 / counting the messages after message ${after}`;
  $("counters").dataset.after = String(after);
}

/** Tells a screen reader about trouble in the counters, not about every tick: the first
 * failure, refusal or mismatch at once (politely); later increases summed up at most every
 * ANNOUNCE_EVERY_MS. What the counters were when the page opened (or the drill began) is
 * taken as known, not announced. */
function announceCounters(after, counts) {
  const now = {};
  for (const key of Object.keys(ANNOUNCED)) {
    now[key] = Number.isInteger(counts[key]) ? counts[key] : 0;
  }
  const said = state.countersSaid;
  if (!said || said.after !== after || Object.keys(ANNOUNCED).some((k) => now[k] < said[k])) {
    state.countersSaid = { after, at: Date.now(), ...now }; // a new count: start from here
    return;
  }
  const grown = Object.keys(ANNOUNCED).filter((key) => now[key] > said[key]);
  if (!grown.length) return;
  const first = grown.some((key) => said[key] === 0);
  if (!first && Date.now() - said.at < ANNOUNCE_EVERY_MS) return;
  $("counters-announce").textContent = "计数 counters: " + grown.map((key) =>
    `${ANNOUNCED[key][0]} ${ANNOUNCED[key][1]} ${now[key]} (+${now[key] - said[key]})`).join("; ");
  state.countersSaid = { after, at: Date.now(), ...now };
}

// -- the business clock -------------------------------------------------------------------
export async function pollClock() {
  const clock = await admin("GET", "/clock");
  $("clock-now").textContent = clock.business_time || "–";
  if (!state.clockTouched && document.activeElement !== $("clock-date")) {
    $("clock-date").value = clock.business_date || "";
  }
}

function clockMessage(kind, text) {
  const target = $("clock-message");
  target.dataset.kind = kind;
  target.textContent = text;
}

export async function setClock(data, done) {
  if (state.stale) return;
  try {
    const clock = await admin("PUT", "/clock", data);
    state.clockTouched = false;
    $("clock-now").textContent = clock.business_time;
    $("clock-date").value = clock.business_date;
    clockMessage("ok", done(clock));
  } catch (error) {
    if (error instanceof AccessError) state.denied(error);
    else clockMessage("error", "未能修改业务时钟 / the clock was not changed: " +
      refusalText(error));
  }
}
