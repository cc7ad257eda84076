/* cardsettle console: the live transactions — newest on top, filters, going back through the
 * log (docs/console.md, "Live transactions"). */

import { $, EFFECTS, both, effectKind, el, mask, receivedText, shorten } from "./text.js";
import { AccessError, admin, state } from "./api.js";

const FEED_ROWS = 200; // rows kept in the feed, newest on top; also one "older" page
const PAGE = 200; // messages asked for per request
const PAGES_PER_TICK = 5; // a burst larger than PAGE * PAGES_PER_TICK is caught up next tick
const MAX_ROWS = 2000; // rows kept once the person has gone back to older messages
const NO_ANSWER_EFFECTS = ["lose_answer"]; // handled, but the caller never heard back
const RESULTS = {
  ok: ["成功", "success"],
  refused: ["拒绝", "refused"],
  failed: ["故障", "failed"],
  pending: ["处理中", "in progress"],
  tombstone: ["冲正占位", "reversal placeholder"],
};

// -- the feed -------------------------------------------------------------------------------
/** What a message came to, as the admin API's result filter says it (docs/admin-api.md):
 * failed, else refused, else ok; a 2601's placeholder for an unknown msgid is none of them. */
function outcome(message) {
  const effect = message.fault ? message.fault.effect : null;
  if (message.status === "faulted" || NO_ANSWER_EFFECTS.includes(effect)) return "failed";
  if (message.status === "tombstone") return "tombstone";
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
    received && !Number.isNaN(received.getTime()) ? receivedText(received) : message.biz_time),
  el("td", { class: "infno" }, el("code", {}, message.infno || "?"),
    name ? el("span", { class: "infno-name", title: name.en }, " " + name.zh) : ""),
  el("td", { class: "institution" }, message.fixmedins_code || ""),
  el("td", { class: "person" }, mask(message.psn_no)),
  el("td", { class: "result" }, ...both(zh, en)),
  el("td", { class: "message", title: text }, code ? el("code", {}, code) : "",
    code && text ? " " : "", shorten(text, 120)),
  faultCell(message));
}

function filtered() {
  const f = state.filter;
  return Boolean(f.result || f.infno || f.institution);
}

/** The filters, as the admin API's query: it finds the matching messages itself, however
 * far back they are. ``result`` is the admin API's (ok, refused, failed, refused,failed). */
function serverFilter() {
  const f = state.filter;
  let query = "";
  if (f.result) query += "&result=" + encodeURIComponent(f.result);
  if (f.infno) query += "&infno=" + encodeURIComponent(f.infno);
  if (f.institution) query += "&fixmedins_code=" + encodeURIComponent(f.institution);
  return query;
}

function feedBody() {
  return $("feed").tBodies[0];
}

/** Rows beyond the limit go (200 live, 2000 once the person went back); going back then
 * continues below the oldest row still shown. */
function trimFeed() {
  const body = feedBody();
  const limit = state.paged ? MAX_ROWS : FEED_ROWS;
  if (body.rows.length <= limit) return;
  while (body.rows.length > limit) body.deleteRow(body.rows.length - 1);
  state.oldest = Number(body.rows[body.rows.length - 1].dataset.messageId) || state.oldest;
}

function describeFeed() {
  const rows = feedBody().rows.length;
  const more = state.oldest > 1;
  $("feed-count").textContent = filtered()
    ? `(筛选后 ${rows} 条 / ${rows} matching)` : `(${rows})`;
  $("feed-older").hidden = !more;
  $("feed-reach").textContent = !more
    ? (rows ? "已到最早的报文 / back to the first message" : "")
    : `已查看到第 ${state.oldest} 条报文 / looked back to message ${state.oldest}`;
  const empty = $("feed-empty");
  empty.hidden = rows > 0;
  if (rows > 0) return;
  if (filtered()) {
    empty.replaceChildren(...both("没有符合筛选条件的交易", "no message matches the filter"));
  } else {
    empty.replaceChildren(...both("医保中心还没有收到交易",
      "the insurer has not received any message yet"));
  }
}

/** New messages that match the filter, on top. */
export async function pollFeed() {
  const epoch = state.feedEpoch;
  const body = feedBody();
  const seen = state.lastId; // the log's end when this tick began
  for (let n = 0; n < PAGES_PER_TICK; n += 1) {
    const page = await admin("GET", `/messages?after_id=${state.after}&limit=${PAGE}` +
      serverFilter());
    if (epoch !== state.feedEpoch) return;
    const items = Array.isArray(page.items) ? page.items : [];
    for (const message of items) body.prepend(feedRow(message));
    state.after = Math.max(state.after, Number(page.next_after_id) || 0);
    if (items.length < PAGE) {
      // nothing else matched up to the end of the log: a rare filter is not looked for again
      // from where it last matched
      state.after = Math.max(state.after, seen);
      break;
    }
  }
  trimFeed();
  describeFeed();
}

/** Older messages that match the filter, newest first, below the rows shown: one page of the
 * admin API going back (``before_id``), however far back they are. */
async function fillOlder(wanted) {
  if (state.oldest <= 1) return describeFeed();
  const epoch = state.feedEpoch;
  const page = await admin("GET", `/messages?before_id=${state.oldest}&limit=${wanted}` +
    serverFilter());
  if (epoch !== state.feedEpoch) return;
  const items = Array.isArray(page.items) ? page.items : [];
  const body = feedBody();
  for (const message of items) body.append(feedRow(message));
  // fewer than asked for: nothing older matches, back to the first message
  state.oldest = items.length < wanted ? 1 : Number(page.next_before_id) || 1;
  describeFeed();
}

/** The feed from the newest message back, as the filter says (a new filter, an emptied log,
 * the first tick). */
export async function reloadFeed() {
  state.feedEpoch += 1;
  feedBody().replaceChildren();
  state.after = state.lastId;
  state.oldest = state.lastId + 1;
  state.paged = false;
  await fillOlder(FEED_ROWS);
}

export async function onOlder() {
  if (state.stale) return;
  const button = $("feed-older");
  button.disabled = true;
  state.paged = true;
  try {
    await fillOlder(FEED_ROWS);
  } catch (error) {
    if (error instanceof AccessError) state.denied(error);
    else state.lost(error);
  } finally {
    button.disabled = false;
  }
}

export function readFilter() {
  state.filter = {
    result: $("filter-result").value,
    infno: $("filter-infno").value,
    institution: $("filter-institution").value.trim().toUpperCase(),
  };
  $("feed-filter").dataset.active = filtered() ? "true" : "false";
  if (state.after === null) return; // the first tick reads it
  reloadFeed().catch((error) => {
    if (error instanceof AccessError) state.denied(error);
    else state.lost(error);
  });
}

export function fillInfnoChoices() {
  const select = $("filter-infno");
  const codes = Object.keys(state.names).sort();
  select.replaceChildren(el("option", { value: "" }, "全部 all"), ...codes.map((code) =>
    el("option", { value: code, title: state.names[code].en || "" },
      `${code} ${state.names[code].zh || ""}`)));
}
