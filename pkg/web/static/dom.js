// dom.js builds elements without ever parsing HTML: every string becomes a text node,
// so text from people and models is always shown as text.
import { t, dateTime } from "./i18n.js";

/**
 * h creates an element. attrs sets properties and attributes ("on*" keys add listeners);
 * children may be strings (text), nodes, arrays, or null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** replace swaps all children of el for the given ones. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** skeleton is the loading placeholder of a view: grey shapes where its content will be. */
export function skeleton(rows = 3) {
  return h("div", { class: "skeleton", role: "status", "aria-label": t("common.loading") },
    h("div", { class: "bone title" }), Array.from({ length: rows }, () => h("div", { class: "bone" })));
}

/** initials returns up to two letters of a name: the first of its first and last words. */
export function initials(name) {
  const words = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  const first = Array.from(words[0])[0];
  const last = words.length > 1 ? Array.from(words[words.length - 1])[0] : "";
  return (first + last).toUpperCase();
}

/** colourOf picks one of the avatar colours from an id, the same one every time. */
export function colourOf(id) {
  let n = 0;
  for (const c of String(id || "")) n = (n * 31 + c.codePointAt(0)) >>> 0;
  return "c" + (n % 8);
}

/** pictureURL returns a person's avatar URL when it is one we show: our own media only (never a hot link). */
export function pictureURL(person) {
  const u = person && person.avatar;
  if (typeof u !== "string") return "";
  return u.startsWith("/media/") ? u : "";
}

/**
 * avatar shows a person: their picture when they have one (a portrait or copy under /media/), else
 * their initials on a colour of their own. It is decorative (aria-hidden), as the person's name is always written beside it, unless alt is given (a picture shown for itself).
 * Its box has a fixed size, so a picture that loads late moves nothing.
 */
export function avatar(person, size = "", alt = "") {
  const p = person || {};
  const el = h("span", { class: `avatar ${size} ${colourOf(p.id || p.nickname)}`, "aria-hidden": alt ? null : "true" });
  const src = pictureURL(p);
  if (src) {
    const img = h("img", { class: "avatar-img", alt, src, width: 64, height: 64, decoding: "async", loading: "lazy", referrerPolicy: "no-referrer" });
    img.addEventListener("error", () => {
      replace(el, initials(p.nickname));
      if (alt) el.setAttribute("aria-hidden", "true");
    });
    el.appendChild(img);
  } else {
    el.textContent = initials(p.nickname);
    if (alt) el.setAttribute("aria-hidden", "true");
  }
  return el;
}

/** chips lists short labels. */
export function chips(labels, cls = "") {
  const xs = (labels || []).filter(Boolean);
  if (!xs.length) return null;
  return h("ul", { class: "chips" }, xs.map((x) => h("li", { class: "chip " + cls }, x)));
}

/** state renders a loading, empty or error message. */
export function state(text, kind = "") {
  return h("p", { class: "state " + kind, role: kind === "error" ? "alert" : "status" }, text);
}

/** problem is a whole view that could not be shown: a heading, what happened, and a way forward. */
export function problem(title, text, action) {
  return h("section", { class: "problem", role: "alert" },
    h("h1", {}, title), h("p", {}, text),
    action || h("a", { class: "button primary", href: "#/" }, t("common.goToStart")));
}

/** toast shows a short message to screen readers and sighted users. */
export function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove("show"), 3500);
}

/** shortTime formats an ISO time briefly: the hour today, else the day. */
export function shortTime(iso) {
  const d = new Date(iso || "");
  if (isNaN(d)) return "";
  const today = new Date().toDateString() === d.toDateString();
  return dateTime(d, today ? { timeStyle: "short" } : { month: "short", day: "numeric" });
}

/** time formats an ISO time for people. */
export function time(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? "" : dateTime(d, { dateStyle: "medium", timeStyle: "short" });
}
