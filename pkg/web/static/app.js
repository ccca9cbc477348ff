// app.js is the shell of the client: it finds out who is signed in and shows the view of the
// location hash (#/start, #/chats, #/chats/<id>, #/chats/new[/<twin id>], #/matches, #/matches/<id>,
// #/twin, #/account); "#/" goes to the first-run guide until it is done, then to the chats.
import { get, patch, ApiError } from "./api.js";
import { h, replace, skeleton, problem } from "./dom.js";
import { explain } from "./errors.js";
import { startView, firstRunDone } from "./start.js";
import { signinView } from "./signin.js";
import { twinView } from "./twin.js";
import { chatsView, conversationView, newConversationView } from "./chats.js";
import { matchesView, matchView } from "./matches.js";
import { accountView } from "./account.js";
import { headerAvatar } from "./portrait.js";
import { session } from "./state.js";
import { t, language, setLanguage, translatePage } from "./i18n.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const picker = document.getElementById("language");

// The header's language switch redraws the page in the chosen language at once, and a signed-in
// person's choice is saved in their profile.
translatePage();
picker.addEventListener("change", () => {
  setLanguage(picker.value);
  render();
  saveLanguage();
});

/** saveLanguage saves the language in use in the signed-in person's profile, when it differs. */
async function saveLanguage() {
  if (!session.me || session.me.language === language()) return;
  try {
    session.me = await patch("/api/user/info", { language: language() });
  } catch { /* kept on this browser; saved with the next choice */ }
}


// whoAmI finds out who is signed in. A signed-in person reads the client in their profile's language;
// one who has none yet gets the language in use saved as theirs.
async function whoAmI() {
  try {
    session.me = await get("/api/user/info");
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    session.me = null;
    return;
  }
  if (session.me.language) setLanguage(session.me.language);
  else saveLanguage();
}

const routes = [
  [/^#\/start$/, () => startView(session)],
  [/^#\/chats\/new$/, () => newConversationView(null)],
  [/^#\/chats\/new\/([0-9A-Z]{26})$/, (m) => newConversationView(m[1])],
  [/^#\/chats\/([0-9A-Z]{26})$/, (m) => conversationView(m[1])],
  [/^#\/chats$/, () => chatsView()],
  [/^#\/matches\/([0-9A-Z]{26})$/, (m) => matchView(m[1])],
  [/^#\/matches$/, () => matchesView()],
  [/^#\/twin$/, () => twinView(session)],
  [/^#\/account$/, () => accountView(session)],
];

// signinError is the ?error= a sign-in came back with, shown once on the sign-in view.
let signinError = "";

let current = null;
// renders counts render calls: a view that finishes loading after a newer render started is dropped,
// so a slow view never replaces the one the person navigated to since.
let renders = 0;

async function render() {
  const mine = ++renders;
  const stale = () => mine !== renders;
  const hash = location.hash || "#/";
  if (current && current.dispose) current.dispose();
  current = null;
  if (!session.me) {
    nav.hidden = true;
    const view = await signinView(signinError);
    signinError = "";
    if (!stale()) replace(main, view);
    return;
  }
  nav.hidden = false;
  headerAvatar(session.me);
  for (const a of nav.querySelectorAll("a")) {
    const active = hash.startsWith("#/" + a.dataset.view);
    if (active) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (hash === "#/") {
    let done = true;
    try { done = await firstRunDone(session); } catch { /* the chats, then */ }
    // Only if the person is still on #/: a link followed meanwhile wins over this redirect (its
    // hashchange may not have rendered yet).
    if (!stale() && (location.hash || "#/") === "#/") location.replace(done ? "#/chats" : "#/start");
    return;
  }
  const route = routes.find(([re]) => re.test(hash));
  if (!route) {
    replace(main, problem(t("app.notFound.title"), t("app.notFound.text"),
      h("a", { class: "button primary", href: "#/" }, t("common.goToStart"))));
    main.focus({ preventScroll: true });
    return;
  }
  replace(main, skeleton());
  try {
    const view = await route[1](hash.match(route[0]));
    if (stale()) {
      if (view.dispose) view.dispose();
      return;
    }
    current = view;
    replace(main, current.el || current);
  } catch (err) {
    if (stale()) return;
    if (err instanceof ApiError && err.status === 401) {
      session.me = null;
      return render();
    }
    replace(main, errorView(err));
  }
  main.focus({ preventScroll: true });
}

/** errorView is the page shown when a view cannot load: what happened, in words, and a way back. */
function errorView(err) {
  if (err instanceof ApiError && err.code === "not_found") {
    const inChats = (location.hash || "").startsWith("#/chats");
    return inChats
      ? problem(t("app.chatGone.title"), t("app.chatGone.text"),
        h("a", { class: "button primary", href: "#/chats" }, t("common.backToChats")))
      : problem(t("app.matchGone.title"), t("app.matchGone.text"),
        h("a", { class: "button primary", href: "#/matches" }, t("common.backToMatches")));
  }
  return problem(t("app.loadFailed.title"), explain(err, t("act.showPage")),
    h("button", { type: "button", class: "primary", onclick: () => render() }, t("common.tryAgain")));
}

window.addEventListener("hashchange", render);
document.addEventListener("secondme:signedout", () => {
  session.me = null;
  location.hash = "#/";
  render();
});

(async () => {
  const params = new URLSearchParams(location.search);
  if (params.get("error")) {
    signinError = params.get("error");
    history.replaceState(null, "", location.pathname + location.hash);
  }
  try {
    await whoAmI();
  } catch (err) {
    replace(main, problem(t("app.unavailable.title"), explain(err, t("act.loadApp")),
      h("button", { type: "button", class: "primary", onclick: () => location.reload() }, t("common.tryAgain"))));
    return;
  }
  render();
})();
