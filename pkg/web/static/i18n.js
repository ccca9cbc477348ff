// i18n.js chooses the language of the client and turns message keys into text. Every string a person
// reads comes from one catalogue per language (messages-en.js, messages-zh-CN.js); views call t() with
// a key, tn() with a key and a count, and format dates and numbers through the browser's Intl APIs.
// The language is the one the person chose in the header (remembered in localStorage, and in their
// profile once signed in: app.js), else the first of the browser's languages we speak, else English.
// It is also kept in the sm_lang cookie, so that what the server writes (error messages, the 404
// page) is in it too.
import en from "./messages-en.js";
import zh from "./messages-zh-CN.js";

const catalogues = { en, "zh-CN": zh };
const STORAGE_KEY = "secondme.language";

/** LANGUAGES lists the languages the client speaks, as BCP 47 tags. */
export const LANGUAGES = Object.keys(catalogues);

/** fromBrowser returns the first of the browser's languages the client speaks, else English. */
function fromBrowser() {
  for (const tag of navigator.languages || [navigator.language]) {
    const l = String(tag || "").toLowerCase();
    if (l === "zh" || l.startsWith("zh-")) return "zh-CN"; // the only Chinese we have
    if (l === "en" || l.startsWith("en-")) return "en";
  }
  return "en";
}

function saved() {
  try { return localStorage.getItem(STORAGE_KEY); } catch { return null; } // storage may be blocked
}

let current = catalogues[saved()] ? saved() : fromBrowser();
tellServer();

/** tellServer keeps the language in the cookie the server reads (pkg/lang's Cookie). */
function tellServer() {
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `sm_lang=${current}; Path=/; Max-Age=31536000; SameSite=Lax${secure}`;
}

/** language returns the tag of the language in use. */
export function language() {
  return current;
}

/** setLanguage switches the language and remembers the choice on this browser. */
export function setLanguage(tag) {
  if (!catalogues[tag]) return;
  current = tag;
  try { localStorage.setItem(STORAGE_KEY, tag); } catch { /* remembered for this page only */ }
  tellServer();
  translatePage();
}

/**
 * t returns the message of key in the current language with its {name} placeholders filled from
 * params (numbers formatted for the language). A key missing from a catalogue shows as itself: the
 * catalogue test in web_test.go keeps that from happening.
 */
export function t(key, params = {}) {
  const text = catalogues[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? format(params[name]) : m));
}

/** tn returns the plural form of key (key.one, key.other, …) that the count n takes, with {n} filled. */
export function tn(key, n, params = {}) {
  const form = `${key}.${new Intl.PluralRules(current).select(n)}`;
  return t(form in catalogues[current] ? form : `${key}.other`, { ...params, n });
}

function format(v) {
  return typeof v === "number" ? number(v) : String(v);
}

/** number formats a number for the current language. */
export function number(n) {
  return new Intl.NumberFormat(current).format(n);
}

/** dateTime formats a Date for the current language with Intl.DateTimeFormat options. */
export function dateTime(d, options) {
  return new Intl.DateTimeFormat(current, options).format(d);
}

/**
 * translatePage sets <html lang> and the text of the page's fixed markup (index.html): an element's
 * data-i18n key gives its text, data-i18n-label its aria-label.
 */
export function translatePage() {
  document.documentElement.lang = current;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  const picker = document.getElementById("language");
  if (picker) picker.value = current;
}
