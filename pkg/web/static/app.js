// app.js is the shell of the client: it finds out who is signed in and shows the view of the
// location hash (#/chats, #/chats/<id>, #/matches, #/matches/<id>, #/twin, #/account, #/signin).
import { get, ApiError } from "./api.js";
import { replace, state } from "./dom.js";
import { signinView } from "./signin.js";
import { twinView } from "./twin.js";
import { chatsView, conversationView } from "./chats.js";
import { matchesView, matchView } from "./matches.js";
import { accountView } from "./account.js";
import { session } from "./state.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");


async function whoAmI() {
  try {
    session.me = await get("/api/user/info");
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    session.me = null;
  }
}

const routes = [
  [/^#\/chats\/([0-9A-Z]{26})$/, (m) => conversationView(m[1])],
  [/^#\/chats$/, () => chatsView()],
  [/^#\/matches\/([0-9A-Z]{26})$/, (m) => matchView(m[1])],
  [/^#\/matches$/, () => matchesView()],
  [/^#\/twin$/, () => twinView(session)],
  [/^#\/account$/, () => accountView(session)],
];

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
    const view = await signinView();
    if (!stale()) replace(main, view);
    return;
  }
  nav.hidden = false;
  for (const a of nav.querySelectorAll("a")) {
    const active = hash.startsWith("#/" + a.dataset.view);
    if (active) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const route = routes.find(([re]) => re.test(hash));
  if (!route) {
    location.replace("#/chats");
    return;
  }
  replace(main, state("Loading…"));
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
    replace(main, state(err.message || "Something went wrong.", "error"));
  }
  main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", render);
document.addEventListener("secondme:signedout", () => {
  session.me = null;
  location.hash = "#/";
  render();
});

(async () => {
  try {
    await whoAmI();
  } catch (err) {
    replace(main, state(err.message || "Second Me is unavailable.", "error"));
    return;
  }
  const params = new URLSearchParams(location.search);
  if (params.get("error")) {
    history.replaceState(null, "", location.pathname + location.hash);
  }
  render();
})();
