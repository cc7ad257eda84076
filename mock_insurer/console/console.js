/* cardsettle drill console (docs/console.md). Plain JavaScript modules, no build step, no library;
 * this file is the page's entry: the status line, the admin token, the loop.
 *
 * Polls the insurer's admin API on this page's own origin once a second: the drill
 * (/admin/drill), the fault plan (/admin/faults), the business clock (/admin/clock), new
 * messages (/admin/messages?after_id=) and the counters (/admin/counters?after_id=). The admin
 * token, when the insurer has one, is typed once and kept in this tab's sessionStorage. Every
 * text from the insurer is put in the page as text (textContent), never as HTML.
 *
 * When the insurer cannot be reached the page says so above the panels and greys them (what
 * they show is from the last good update, with its time); when the insurer's message log went
 * back (restarted on a fresh ledger, or POST /admin/reset) the feed and counters start again
 * and the feed says why.
 */
import { $, both, clockText, el } from "./text.js";
import {
  AccessError, ApiError, Unreachable, admin, keepToken, refusalText, state, token,
} from "./api.js";
import {
  onClearPlan, onFaultButton, onLoadPlan, pollClock, pollCounters, pollDrill, pollFaults,
  pollSettlements, setClock, updateTimeLeft,
} from "./panels.js";
import { fillInfnoChoices, onOlder, pollFeed, readFilter, reloadFeed } from "./feed.js";

const TICK_MS = 1000;
const END_OF_LOG = "999999999999999999"; // counters after this: none, and where the log ends
/** The status line: the connection's state (a polite live region, rewritten only when the
 * state changes, so a screen reader says "connected" once, not every second) and a detail
 * beside it (the time of the last update: shown, never announced). */
function setStatus(kind, zh, en, detail) {
  const status = $("status");
  status.dataset.state = kind;
  const words = $("status-words");
  const said = `${kind}|${zh}|${en}`;
  if (words.dataset.said !== said) {
    words.dataset.said = said;
    words.replaceChildren(...both(zh, en));
  }
  $("status-detail").textContent = detail || "";
}

function askForToken(reason) {
  const form = $("token-form");
  form.hidden = false;
  $("token-error").textContent = reason || "";
  $("token").focus();
}

function onAccessError(error) {
  clearStale();
  document.body.dataset.locked = "true"; // what is shown is no longer updated
  if (error.status === 403) {
    setStatus("error", "无权访问", "forbidden",
      "医保中心拒绝了本页的访问 / the insurer refused this page: " + error.message +
      " — open the console on the insurer's own machine (127.0.0.1:PORT/console), or " +
      "start the insurer with --admin-token");
    return;
  }
  if (token()) {
    setStatus("error", "管理令牌错误", "the admin token is wrong");
    askForToken("令牌不对，请重新输入医保中心启动时的 --admin-token / wrong token: type the " +
      "--admin-token the insurer was started with");
  } else {
    setStatus("error", "需要管理令牌", "admin token needed");
    askForToken("");
  }
}

// -- the loop -------------------------------------------------------------------------------
function markStale(error) {
  state.stale = true;
  document.body.dataset.stale = "true";
  const when = state.lastGood ? clockText(state.lastGood) : null;
  const detail = error instanceof Unreachable ? error.detail
    : error instanceof ApiError ? refusalText(error) : "";
  setStatus("error", "连接中断", "connection problem", "每秒重试 retrying every second");
  const banner = $("stale");
  banner.replaceChildren(
    el("strong", {}, "无法连接医保中心"), " ",
    "（医保中心已停止、正在重启，或网络中断）。页面每秒自动重试；" +
    (when ? `下面是 ${when} 的数据，可能已经过时。` : "还没有取到任何数据。") +
    "请检查医保中心是否在运行（cardsettle insurer serve）。",
    el("br"),
    el("span", { class: "en" }, "Cannot reach the insurer (stopped, restarting, or the " +
      "network is down). This page retries every second; " +
      (when ? `what you see below is from ${when} and may be out of date. `
        : "nothing has been shown yet. ") +
      "Check that the insurer is running (cardsettle insurer serve)."),
    detail ? el("small", { class: "detail" }, " " + detail) : "");
  banner.hidden = false;
}

function clearStale() {
  state.stale = false;
  document.body.dataset.stale = "false";
  $("stale").hidden = true;
}

async function tick() {
  const end = await admin("GET", `/counters?after_id=${END_OF_LOG}`);
  const lastId = Number(end.last_id) || 0;
  if (state.after === null) {
    state.startId = lastId;
    state.lastId = lastId;
    await reloadFeed();
  } else if (lastId < state.lastId) {
    // the log went back: a fresh ledger after a restart, or POST /admin/reset
    state.startId = 0;
    state.lastId = lastId;
    state.logEmptied = true;
    const notice = $("feed-notice");
    notice.textContent = `${clockText(new Date())} 医保中心的交易记录已清空（重启为新账本或被重置），` +
      "交易和计数从头开始 / the insurer's message log was emptied (restarted on a fresh " +
      "ledger, or reset): the feed and the counters start again";
    notice.hidden = false;
    await reloadFeed();
  }
  state.lastId = lastId;
  await pollDrill();
  await Promise.all([pollFaults(), pollFeed(), pollCounters(), pollClock(),
    pollSettlements()]);
}

async function loop(generation) {
  if (generation !== state.generation) return;
  try {
    await tick();
    if (generation !== state.generation) return;
    state.lastGood = new Date();
    clearStale();
    document.body.dataset.locked = "false";
    $("token-form").hidden = true;
    $("token-error").textContent = "";
    $("token-forget").hidden = !token();
    setStatus("ok", "已连接", "connected", "更新 updated " + clockText(state.lastGood));
  } catch (error) {
    if (error instanceof AccessError) {
      onAccessError(error);
      return; // stopped until a token is typed
    }
    if (!(error instanceof Unreachable) && !(error instanceof ApiError)) {
      console.error(error); // a bug of this page: say so plainly, keep trying
    }
    markStale(error);
  }
  setTimeout(() => loop(generation), TICK_MS);
}

function restart() {
  state.generation += 1;
  loop(state.generation);
}

async function start() {
  state.denied = onAccessError; // how the panels report a refused token
  state.lost = markStale; // ... and an insurer that does not answer
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
    document.body.dataset.locked = "true";
    setStatus("error", "需要管理令牌", "admin token needed");
    askForToken("");
  });
  $("faults").addEventListener("click", onFaultButton);
  $("faults-clear").addEventListener("click", onClearPlan);
  $("plan-form").addEventListener("submit", onLoadPlan);
  $("clock-date").addEventListener("input", () => { state.clockTouched = true; });
  $("clock-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const day = $("clock-date").value;
    setClock({ business_date: day }, (clock) =>
      `业务日期已改为 ${clock.business_date} / the business date is now ${clock.business_date}`);
  });
  $("clock-reset").addEventListener("click", () => setClock({ reset: true }, (clock) =>
    `已恢复为实际时间 ${clock.business_time} / back to real time: ${clock.business_time}`));
  $("feed-older").addEventListener("click", onOlder);
  $("filter-result").addEventListener("change", readFilter);
  $("filter-infno").addEventListener("change", readFilter);
  let typing = null;
  $("filter-institution").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(readFilter, 400);
  });
  $("feed-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    readFilter();
  });
  $("filter-clear").addEventListener("click", () => {
    $("filter-result").value = "";
    $("filter-infno").value = "";
    $("filter-institution").value = "";
    readFilter();
  });
  setInterval(updateTimeLeft, 1000);
  try {
    const response = await fetch("/console/transactions.json", { cache: "no-store" });
    state.names = response.ok ? await response.json() : {};
  } catch {
    state.names = {};
  }
  fillInfnoChoices();
  restart();
}


document.addEventListener("DOMContentLoaded", start);
