/* cardsettle console: text and numbers as a person reads them (docs/console.md) — elements
 * built without HTML, Chinese and English side by side, times, masked person numbers, drill
 * instructions, and yuan kept exactly as the insurer wrote them. */

const MONEY = new Set(["medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay",
  "hosp_part_amt"]); // yuan: kept as the insurer wrote them, never through a float
export const EFFECTS = { // a fault's effect kind in words: [Chinese, English]
  refuse: ["拒绝连接", "connection refused"], close: ["断开连接", "connection closed"],
  delay: ["延迟应答", "slow answer"], http_error: ["HTTP 错误", "HTTP error"],
  business_error: ["业务错误", "business error"], malformed: ["应答损坏", "broken answer"],
  lose_answer: ["应答丢失", "answer lost"], signin_invalidated: ["签到失效", "sign-in invalidated"],
  clock_skew: ["时钟偏差", "clock skew"],
};

export const $ = (id) => document.getElementById(id);

// -- small helpers ---------------------------------------------------------------------
export function el(tag, attrs, ...children) {
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

/** Chinese, then the English half marked as English (a screen reader reads it with an
 * English voice). */
export function both(zh, en) {
  return [zh + " ", el("span", { class: "en", lang: "en" }, en)];
}

export function two(n) {
  return String(n).padStart(2, "0");
}

export function clockText(date) {
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** A wall-clock date-time from the drill runner ("2026-11-23T09:00:00Z", or with a space
 * and no zone: the local time of this browser). */
export function moment(text) {
  if (!text) return null;
  const date = new Date(String(text).replace(" ", "T"));
  return Number.isNaN(date.getTime()) ? null : date;
}

export function hhmm(text) {
  const date = moment(text);
  return date ? `${two(date.getHours())}:${two(date.getMinutes())}` : "…";
}

export function duration(ms) {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const rest = `${two(Math.floor((total % 3600) / 60))}:${two(total % 60)}`;
  return hours ? `${hours}:${rest}` : rest;
}

/** A person number with its middle hidden (1100************0001). */
export function mask(value) {
  const text = value ? String(value) : "";
  if (text.length <= 4) return "*".repeat(text.length);
  if (text.length <= 8) return text.slice(0, 1) + "*".repeat(text.length - 3) + text.slice(-2);
  return text.slice(0, 4) + "*".repeat(text.length - 8) + text.slice(-4);
}

export function shorten(text, limit) {
  const value = text ? String(text) : "";
  return value.length > limit ? value.slice(0, limit - 1) + "…" : value;
}

export function listText(value) {
  return Array.isArray(value) ? value.join(", ") : String(value);
}

const WIDE = /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]/; // CJK characters and punctuation

/** Instructions as written in a drill file, for a block shown with white-space: pre-line:
 * paragraphs (a blank line between them) stay apart; inside one, a line break that only
 * wraps a long line is joined (a space between Latin words, nothing between Chinese
 * characters), and a break between Chinese and English text is kept. */
export function readable(text) {
  return String(text || "").trim().split(/\n[ \t]*\n\s*/).map((paragraph) =>
    paragraph.replace(/(\S)[ \t]*\n[ \t]*(?=(\S))/g, (_, before, after) => {
      const wide = [before, after].filter((c) => WIDE.test(c)).length;
      return before + (wide === 2 ? "" : wide === 1 ? "\n" : " ");
    })).join("\n\n");
}

export function effectKind(effect) {
  return typeof effect === "string" ? effect : (effect && effect.kind) || "";
}

/** JSON.parse's reviver: a money field keeps the decimal text the insurer wrote (1365.60, not
 * the float 1365.6). */
export function keepMoney(key, value, context) {
  if (MONEY.has(key) && typeof value === "number") {
    return context && typeof context.source === "string" ? context.source : value.toFixed(2);
  }
  return value;
}

/** Yuan with two places, from the text kept by keepMoney ("42.5" -> "42.50"); no float
 * arithmetic. */
export function yuan(value) {
  if (value === null || value === undefined || value === "") return "–";
  const text = typeof value === "number" ? value.toFixed(2) : String(value);
  const parts = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
  if (!parts || (parts[3] || "").length > 2) return text;
  return `${parts[1]}${parts[2]}.${((parts[3] || "") + "00").slice(0, 2)}`;
}

/** When a message came in: the time of day, with the date when it was not today (a feed
 * gone back through a long load run). */
export function receivedText(date) {
  const today = new Date().toDateString() === date.toDateString();
  return today ? clockText(date)
    : `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${clockText(date)}`;
}
