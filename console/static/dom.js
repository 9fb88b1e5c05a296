// dom.js: the only way the console builds its page. Text always goes in as
// text nodes; there is no markup parser anywhere in the console (a test
// checks that no file uses one).

/**
 * h builds an element. attrs: class, text, dataset (object), on (object of
 * listeners), href (http(s) only, see safeURL), and other attributes set
 * verbatim. children: nodes or strings (strings become text nodes); null
 * and false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** svg builds an SVG element the same way. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.setAttribute("class", v);
    else if (k === "text") el.textContent = String(v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === "href") {
      const u = safeURL(v);
      if (u) el.setAttribute("href", u);
    } else el.setAttribute(k, v === true ? "" : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** clear removes every child of el. */
export function clear(el) {
  el.replaceChildren();
  return el;
}

/**
 * safeURL returns u resolved against base when it is an http(s) URL, else
 * null: links never carry a script, data or any other scheme.
 */
export function safeURL(u, base = location.origin) {
  if (typeof u !== "string" || u === "") return null;
  try {
    const url = new URL(u, base);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** initials of a display name, for avatars. */
export function initials(name) {
  const parts = String(name || "?").replace(/^[a-z]+:/i, "").split(/[\s._-]+/).filter(Boolean);
  if (parts.length > 1) return (parts[0][0] + parts[1][0]).toUpperCase();
  const w = parts[0] || "?";
  // An acronym stays whole (CI, QA); any other single word gives its first letter.
  return /^[A-Z0-9]{2,3}$/.test(w) ? w : w[0].toUpperCase();
}

/** hue of a string, for avatar colours (stable per name). */
export function hue(s) {
  let x = 0;
  for (const ch of String(s)) x = (x * 31 + ch.codePointAt(0)) % 360;
  return x;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

/** when formats an ISO timestamp for people: "just now", "5 min ago", "14:02", "Dec 1, 14:02". */
export function when(ts, now = Date.now()) {
  const t = Date.parse(ts);
  if (!Number.isFinite(t)) return "";
  const d = Math.max(0, now - t);
  if (d < 45e3) return "just now";
  if (d < 3600e3) return Math.round(d / 60e3) + " min ago";
  if (new Date(t).toDateString() === new Date(now).toDateString()) return timeFmt.format(t);
  return dateFmt.format(t);
}
