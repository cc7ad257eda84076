/* cardsettle console: the admin API (docs/admin-api.md) on this page's own origin, the admin
 * token kept in this tab's sessionStorage, and the page's shared state. */

import { keepMoney } from "./text.js";

const TOKEN_KEY = "cardsettle.console.adminToken";
export const state = {
  token: "", // the admin token when sessionStorage cannot be used
  generation: 0, // a new loop (after a token is typed) stops the old one
  names: {}, // infno -> {zh, en}
  after: null, // the feed's last message id; null until the first tick
  startId: 0, // the newest message id when the page opened
  drill: null, // the last /admin/drill answer
  faultsShape: "", // the plan's faults as last drawn (rows are redrawn only when it changes)
  plan: {}, // fault id -> the fault of the plan as last read (its name and effect)
  lastId: 0, // the newest message id of the insurer's log at the last tick
  oldest: 1, // going back asks for ids below this one (1: back to the first message)
  paged: false, // the person went back to older messages: the feed is not trimmed to 200
  feedEpoch: 0, // a new filter (or an emptied log) makes answers still on their way moot
  filter: { result: "", infno: "", institution: "" },
  lastGood: null, // when the last update came through
  stale: false, // the last update failed: what the panels show is from lastGood
  clockTouched: false, // the person is choosing a date: the field is not overwritten
  settlementsShape: "", // the settlements as last drawn
  logEmptied: false, // the log went back while the page was open: counting from its start
  phaseSaid: "", // the drill, state and phase last announced to screen readers
  countersSaid: null, // the trouble counters last announced ({after, at, failed, ...})
  denied: (_error) => {}, // set by console.js: the admin token was refused (401/403)
  lost: (_error) => {}, // set by console.js: the insurer did not answer
};

export class AccessError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The admin API refused what was asked (4xx other than 401/403): its message and where. */
export class ApiError extends Error {
  constructor(status, message, where) {
    super(message);
    this.status = status;
    this.where = where || "";
  }
}

/** The insurer did not answer, or answered something that is not the admin API. */
export class Unreachable extends Error {
  constructor(detail) {
    super(detail || "");
    this.detail = detail || "";
  }
}

// -- the admin API ------------------------------------------------------------------------
export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return state.token; // no sessionStorage (a locked-down browser): kept until the page closes
  }
}

export function keepToken(value) {
  state.token = value;
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // kept in state.token only
  }
}

export async function admin(method, path, data, contentType) {
  const headers = { Accept: "application/json" };
  const given = token();
  if (given) headers.Authorization = "Bearer " + given;
  const init = { method, headers, cache: "no-store" };
  if (data !== undefined) {
    headers["Content-Type"] = contentType || "application/json";
    init.body = typeof data === "string" ? data : JSON.stringify(data);
  }
  let response;
  try {
    response = await fetch("/admin" + path, init);
  } catch {
    throw new Unreachable(""); // no answer at all: stopped, restarting, network down
  }
  let body = null;
  try {
    body = JSON.parse(await response.text(), keepMoney);
  } catch {
    body = null;
  }
  const error = body && body.error && typeof body.error === "object" ? body.error : null;
  const message = error && error.message ? String(error.message) : response.statusText;
  if (response.status === 401 || response.status === 403) {
    throw new AccessError(response.status, message);
  }
  if (response.status >= 400 && response.status < 500 && error) {
    throw new ApiError(response.status, message, error.where);
  }
  if (!response.ok || body === null) {
    // a 5xx, or a page of something in between (a proxy): not the admin API answering
    throw new Unreachable(`HTTP ${response.status}`);
  }
  return body;
}

/** An admin API refusal for a person: what it said, and where (a field) when it says. */
export function refusalText(error) {
  if (error instanceof Unreachable) {
    return "医保中心无应答 / the insurer does not answer" +
      (error.detail ? ` (${error.detail})` : "");
  }
  const where = error.where ? ` [${error.where}]` : "";
  return `${error.message}${where}`;
}
