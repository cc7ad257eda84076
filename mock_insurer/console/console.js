/* cardsettle drill console (docs/console.md). Plain JavaScript, no build step, no library.
 *
 * Polls the insurer's admin API on this page's own origin once a second: the drill
 * (/admin/drill), the fault plan (/admin/faults), new messages (/admin/messages?after_id=)
 * and the counters (/admin/counters?after_id=). The admin token, when the insurer has one, is
 * typed once and kept in this tab's sessionStorage. Every text from the insurer is put in the
 * page as text (textContent), never as HTML.
 */
"use strict";

(() => {
  const TOKEN_KEY = "cardsettle.console.adminToken";
  const TICK_MS = 1000;
  const FEED_ROWS = 200; // rows kept in the feed, newest on top
  const PAGE = 200; // messages asked for per request
  const PAGES_PER_TICK = 5; // a burst larger than PAGE * PAGES_PER_TICK is caught up next tick
  const END_OF_LOG = "999999999999999999"; // counters after this: none, and where the log ends
  const COUNTERS = ["settled", "refused", "failed", "reversed", "refunded", "unreconciled",
    "messages"];
  const NO_ANSWER_EFFECTS = ["lose_answer"]; // handled, but the caller never heard back
  const RESULTS = {
    ok: ["成功", "success"],
    refused: ["拒绝", "refused"],
    failed: ["故障", "failed"],
    pending: ["处理中", "in progress"],
  };
  const EFFECTS = { // a fault's effect kind in words: [Chinese, English]
    refuse: ["拒绝连接", "connection refused"], close: ["断开连接", "connection closed"],
    delay: ["延迟应答", "slow answer"], http_error: ["HTTP 错误", "HTTP error"],
    business_error: ["业务错误", "business error"], malformed: ["应答损坏", "broken answer"],
    lose_answer: ["应答丢失", "answer lost"], signin_invalidated: ["签到失效", "sign-in invalidated"],
    clock_skew: ["时钟偏差", "clock skew"],
  };

  const $ = (id) => document.getElementById(id);
  const state = {
    token: "", // the admin token when sessionStorage cannot be used
    generation: 0, // a new loop (after a token is typed) stops the old one
    names: {}, // infno -> {zh, en}
    after: null, // the feed's last message id; null until the first tick
    startId: 0, // the newest message id when the page opened
    drill: null, // the last /admin/drill answer
    faultsShape: "", // the plan's faults as last drawn (rows are redrawn only when it changes)
    plan: {}, // fault id -> the fault of the plan as last read (its name and effect)
  };

  class AccessError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // -- small helpers ---------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === "") continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function both(zh, en) {
    return [zh + " ", el("span", { class: "en" }, en)];
  }

  function two(n) {
    return String(n).padStart(2, "0");
  }

  function clockText(date) {
    return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  }

  /** A wall-clock date-time from the drill runner ("2026-11-23T09:00:00Z", or with a space
   * and no zone: the local time of this browser). */
  function moment(text) {
    if (!text) return null;
    const date = new Date(String(text).replace(" ", "T"));
    return Number.isNaN(date.getTime()) ? null : date;
  }

  function hhmm(text) {
    const date = moment(text);
    return date ? `${two(date.getHours())}:${two(date.getMinutes())}` : "…";
  }

  function duration(ms) {
    const total = Math.max(0, Math.round(ms / 1000));
    const hours = Math.floor(total / 3600);
    const rest = `${two(Math.floor((total % 3600) / 60))}:${two(total % 60)}`;
    return hours ? `${hours}:${rest}` : rest;
  }

  /** A person number with its middle hidden (1100************0001). */
  function mask(value) {
    const text = value ? String(value) : "";
    if (text.length <= 4) return "*".repeat(text.length);
    if (text.length <= 8) return text.slice(0, 1) + "*".repeat(text.length - 3) + text.slice(-2);
    return text.slice(0, 4) + "*".repeat(text.length - 8) + text.slice(-4);
  }

  function shorten(text, limit) {
    const value = text ? String(text) : "";
    return value.length > limit ? value.slice(0, limit - 1) + "…" : value;
  }

  function listText(value) {
    return Array.isArray(value) ? value.join(", ") : String(value);
  }

  const WIDE = /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]/; // CJK characters and punctuation

  /** Instructions as written in a drill file, for a block shown with white-space: pre-line:
   * paragraphs (a blank line between them) stay apart; inside one, a line break that only
   * wraps a long line is joined (a space between Latin words, nothing between Chinese
   * characters), and a break between Chinese and English text is kept. */
  function readable(text) {
    return String(text || "").trim().split(/\n[ \t]*\n\s*/).map((paragraph) =>
      paragraph.replace(/(\S)[ \t]*\n[ \t]*(?=(\S))/g, (_, before, after) => {
        const wide = [before, after].filter((c) => WIDE.test(c)).length;
        return before + (wide === 2 ? "" : wide === 1 ? "\n" : " ");
      })).join("\n\n");
  }

  function effectKind(effect) {
    return typeof effect === "string" ? effect : (effect && effect.kind) || "";
  }

  /** A fault in words: its name from the plan when known, else its effect, else its id. */
  function faultWords(id) {
    const fault = state.plan[id];
    if (fault && fault.name) return String(fault.name);
    const words = fault ? EFFECTS[effectKind(fault.effect)] : null;
    return words ? `${words[0]} ${words[1]}` : id;
  }

  // -- the admin API ------------------------------------------------------------------------
  function token() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || "";
    } catch {
      return state.token; // no sessionStorage (a locked-down browser): kept until the page closes
    }
  }

  function keepToken(value) {
    state.token = value;
    try {
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // kept in state.token only
    }
  }

  async function admin(method, path) {
    const headers = { Accept: "application/json" };
    const given = token();
    if (given) headers.Authorization = "Bearer " + given;
    const response = await fetch("/admin" + path, { method, headers, cache: "no-store" });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    const message = body && body.error ? body.error.message : response.statusText;
    if (response.status === 401 || response.status === 403) {
      throw new AccessError(response.status, message);
    }
    if (!response.ok) throw new Error(`${method} /admin${path}: ${response.status} ${message}`);
    return body;
  }

  function setStatus(kind, zh, en, detail) {
    const status = $("status");
    status.dataset.state = kind;
    status.replaceChildren(...both(zh, en), detail ? el("span", { class: "detail" }, detail) : "");
  }

  function askForToken(reason) {
    const form = $("token-form");
    form.hidden = false;
    $("token-error").textContent = reason || "";
    $("token").focus();
  }

  function onAccessError(error) {
    if (error.status === 403) {
      setStatus("error", "无权访问", "forbidden",
        "医保中心未设置管理令牌，只接受本机访问 / the insurer has no admin token and answers " +
        "only its own machine: open the console there, or start it with --admin-token");
      return;
    }
    if (token()) {
      setStatus("error", "管理令牌错误", "the admin token is wrong");
      askForToken("令牌错误 / wrong token: " + error.message);
    } else {
      setStatus("error", "需要管理令牌", "admin token needed");
      askForToken("");
    }
  }

  // -- the drill ------------------------------------------------------------------------------
  function drillRunning() {
    return state.drill && state.drill.drill !== null && state.drill.drill !== undefined;
  }

  async function pollDrill() {
    state.drill = await admin("GET", "/drill");
    renderDrill();
  }

  function renderDrill() {
    const running = drillRunning();
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
    updateTimeLeft();
  }

  function updateTimeLeft() {
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
  async function pollFaults() {
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
    const button = (action, zh, en) => el("button", {
      type: "button", "data-fault-id": id, "data-action": action, class: action,
    }, ...both(zh, en));
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
    $("faults-armed").replaceChildren(
      ...(data && data.armed ? both("有故障启动中", "faults armed") : both("无故障启动", "none armed")));
    $("faults-armed").dataset.armed = data && data.armed ? "true" : "false";
  }

  async function onFaultButton(event) {
    const button = event.target.closest("button[data-fault-id][data-action]");
    if (!button) return;
    const row = button.closest("tr");
    row.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    const id = encodeURIComponent(button.dataset.faultId);
    try {
      renderFaults(await admin("POST", `/faults/${id}/${button.dataset.action}`));
    } catch (error) {
      if (error instanceof AccessError) onAccessError(error);
      else setStatus("error", "操作失败", "the action failed", error.message);
      pollFaults().catch(() => {});
    }
  }

  // -- the feed -------------------------------------------------------------------------------
  function outcome(message) {
    const effect = message.fault ? message.fault.effect : null;
    if (message.status === "faulted" || NO_ANSWER_EFFECTS.includes(effect)) return "failed";
    if (message.infcode === -1) return "refused";
    if (message.infcode === 0) return "ok";
    return message.status === "processing" ? "pending" : "failed";
  }

  function note(message, result) {
    const effect = message.fault ? message.fault.effect : null;
    if (NO_ANSWER_EFFECTS.includes(effect) && message.infcode === 0) {
      return "已入账，应答丢失 / committed, answer lost";
    }
    if (message.status === "faulted") {
      return message.http_status ? `HTTP ${message.http_status}` : "无应答 / no answer";
    }
    if (message.status === "replayed") return "重复报文，原应答重发 / repeat, answer replayed";
    if (result === "ok" && message.err_msg) return message.err_msg;
    return "";
  }

  /** The feed's fault cell: what the fault did, in words ("拒绝连接 connection refused"); the
   * fault's id, name and effect code on hover. */
  function faultCell(message) {
    const fault = message.fault || {};
    const id = fault.id ? String(fault.id) : "";
    const kind = fault.effect || effectKind(state.plan[id] && state.plan[id].effect);
    if (!id && !kind) return el("td", { class: "fault" });
    const named = state.plan[id] && state.plan[id].name ? String(state.plan[id].name) : "";
    const words = EFFECTS[kind];
    const title = ["故障 fault " + (id || "?"), named, kind].filter(Boolean).join(" · ");
    return el("td", { class: "fault", title, "data-effect": kind || null },
      ...(words ? both(words[0], words[1]) : [el("code", {}, kind || id)]));
  }

  function feedRow(message) {
    const result = outcome(message);
    const received = message.received_at ? new Date(message.received_at) : null;
    const name = state.names[message.infno];
    const fault = message.fault && message.fault.id ? String(message.fault.id) : "";
    const code = result === "refused" ? (message.rejection_code || "") : "";
    const text = result === "refused" ? (message.err_msg || "") : note(message, result);
    const [zh, en] = RESULTS[result];
    return el("tr", {
      "data-message-id": message.id, "data-infno": message.infno || "",
      "data-result": result, "data-fault-id": fault || null, class: "result-" + result,
    },
    el("td", { class: "time", title: "业务时间 business time " + (message.biz_time || "") },
      received && !Number.isNaN(received.getTime()) ? clockText(received) : message.biz_time),
    el("td", { class: "infno" }, el("code", {}, message.infno || "?"),
      name ? el("span", { class: "infno-name", title: name.en }, " " + name.zh) : ""),
    el("td", { class: "institution" }, message.fixmedins_code || ""),
    el("td", { class: "person" }, mask(message.psn_no)),
    el("td", { class: "result" }, ...both(zh, en)),
    el("td", { class: "message", title: text }, code ? el("code", {}, code) : "",
      code && text ? " " : "", shorten(text, 120)),
    faultCell(message));
  }

  async function pollFeed() {
    const body = $("feed").tBodies[0];
    for (let n = 0; n < PAGES_PER_TICK; n += 1) {
      const page = await admin("GET", `/messages?after_id=${state.after}&limit=${PAGE}`);
      const items = Array.isArray(page.items) ? page.items : [];
      for (const message of items) body.prepend(feedRow(message));
      state.after = page.next_after_id;
      if (items.length < PAGE) break;
    }
    while (body.rows.length > FEED_ROWS) body.deleteRow(body.rows.length - 1);
    $("feed-count").textContent = `(${body.rows.length})`;
  }

  // -- the counters ---------------------------------------------------------------------------
  async function pollCounters() {
    const after = drillRunning() ? Number(state.drill.message_id_at_start) || 0 : state.startId;
    const counts = await admin("GET", `/counters?after_id=${after}`);
    for (const key of COUNTERS) {
      const value = $("counter-" + key);
      value.textContent = String(counts[key]);
      value.closest(".counter").dataset.zero = Number(counts[key]) === 0 ? "true" : "false";
    }
    const scope = $("counters-scope");
    scope.textContent = drillRunning() ? "自演练开始 since the drill started"
      : "自打开本页 since this page opened";
    scope.title = `从第 ${after} 条报文之后计数 / counting the messages after message ${after}`;
    $("counters").dataset.after = String(after);
  }

  // -- the loop -------------------------------------------------------------------------------
  async function tick() {
    if (state.after === null) {
      const end = await admin("GET", `/counters?after_id=${END_OF_LOG}`);
      state.startId = Number(end.last_id) || 0;
      state.after = Math.max(0, state.startId - FEED_ROWS);
    }
    await pollDrill();
    await Promise.all([pollFaults(), pollFeed(), pollCounters()]);
  }

  async function loop(generation) {
    if (generation !== state.generation) return;
    try {
      await tick();
      $("token-form").hidden = true;
      $("token-forget").hidden = !token();
      setStatus("ok", "已连接", "connected", "更新 updated " + clockText(new Date()));
    } catch (error) {
      if (error instanceof AccessError) {
        onAccessError(error);
        return; // stopped until a token is typed
      }
      setStatus("error", "连接中断", "connection problem", error.message);
    }
    setTimeout(() => loop(generation), TICK_MS);
  }

  function restart() {
    state.generation += 1;
    loop(state.generation);
  }

  async function start() {
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      keepToken($("token").value.trim());
      $("token").value = "";
      $("token-form").hidden = true;
      setStatus("connecting", "连接中…", "connecting…");
      restart();
    });
    $("token-forget").addEventListener("click", () => {
      keepToken("");
      $("token-forget").hidden = true;
      state.generation += 1; // stop polling
      setStatus("error", "需要管理令牌", "admin token needed");
      askForToken("");
    });
    $("faults").addEventListener("click", onFaultButton);
    setInterval(updateTimeLeft, 1000);
    try {
      const response = await fetch("/console/transactions.json", { cache: "no-store" });
      state.names = response.ok ? await response.json() : {};
    } catch {
      state.names = {};
    }
    restart();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
