// start.js is the first-run guide: add or import shades, choose what is public, meet one's twin,
// become discoverable, see matches. Each step shows whether it is done, from the person's own data.
import { get, patch, post, items } from "./api.js";
import { h, replace, toast } from "./dom.js";
import { explain, inlineError } from "./errors.js";
import { t, tn } from "./i18n.js";

/** firstRunDone reports whether a person has shades, one of them public, and is discoverable. */
export async function firstRunDone(session) {
  const shades = items(await get("/api/user/shades"), "shades");
  return shades.length > 0 && shades.some((s) => s.public) && !!(session.me && session.me.discoverable);
}

function step(done, title, text, ...actions) {
  return h("li", { class: "step" + (done ? " done" : "") },
    h("div", {},
      h("h2", {}, title, done && h("span", { class: "sr-only" }, t("start.done"))),
      h("p", {}, text)),
    actions.length > 0 && h("div", { class: "buttons" }, actions));
}

export async function startView(session) {
  const [me, shadesRes, sessionsRes, matchesRes] = await Promise.all([
    get("/api/user/info"), get("/api/user/shades"), get("/api/sessions?limit=1"), get("/api/matches?limit=1")]);
  session.me = me;
  const shades = items(shadesRes, "shades");
  const hasShades = shades.length > 0;
  const hasPublic = shades.some((s) => s.public);
  const talked = items(sessionsRes, "sessions").length > 0;
  const matched = items(matchesRes, "matches").length > 0;

  const discError = inlineError();
  const discBtn = h("button", {
    type: "button", class: "primary", id: "become-discoverable",
    onclick: async () => {
      discBtn.disabled = true;
      replace(discError);
      try {
        session.me = await patch("/api/user/info", { discoverable: true });
        toast(t("start.discoverable.toast"));
        location.hash = "#/matches";
      } catch (err) {
        replace(discError, explain(err, t("act.makeDiscoverable")));
        discBtn.disabled = false;
      }
    },
  }, t("start.discoverable.button"));

  const syncError = inlineError();
  const syncBtn = me.provider === "secondme" && h("button", {
    type: "button",
    onclick: async () => {
      syncBtn.disabled = true;
      replace(syncError);
      try {
        await post("/api/user/sync");
        toast(t("sync.done"));
        location.reload();
      } catch (err) {
        replace(syncError, explain(err, t("act.import")));
        syncBtn.disabled = false;
      }
    },
  }, t("sync.button"));

  const steps = [
    step(hasShades, t("start.shades.title"), t("start.shades.text"),
      h("a", { class: "button" + (hasShades ? "" : " primary"), href: "#/twin", onclick: () => { session.next = hasShades ? "" : "add-shade"; } },
        hasShades ? t("start.shades.see") : t("start.shades.add")),
      syncBtn, syncError),
    step(hasPublic, t("start.public.title"), t("start.public.text"),
      h("a", { class: "button", href: "#/twin" }, t("start.public.action"))),
    step(talked, t("start.meet.title"), t("start.meet.text"),
      h("a", { class: "button", href: "#/chats/new" }, t("common.talkToMyTwin"))),
    step(!!me.discoverable, t("start.discoverable.title"), t("start.discoverable.text"),
      !me.discoverable && discBtn, discError),
    step(matched, t("start.matches.title"), t("start.matches.text"),
      h("a", { class: "button", href: "#/matches" }, t("common.seeMyMatches"))),
  ];
  const done = [hasShades, hasPublic, talked, !!me.discoverable, matched];
  const left = done.filter((x) => !x).length;
  return h("section", { class: "start" },
    h("h1", {}, left ? t("start.welcome", { name: me.nickname }) : t("start.allSet.title")),
    h("p", { class: "lead" }, left ? tn("start.left", left, { total: done.length }) : t("start.allSet.text")),
    h("ol", { class: "steps" }, steps));
}
