// matches.js shows the ranked matches as compact cards (face, name, score, one line of why, two
// chips) and one match in full on its own page: the reasons, the twins' conversation as evidence, and
// the actions (talk to their twin when they are open to it, recompute, block).
import { get, post, items, nextCursor } from "./api.js";
import { h, replace, state, toast, time, avatar, chips } from "./dom.js";
import { explain, inlineError } from "./errors.js";
import { session } from "./state.js";
import { t, number } from "./i18n.js";

function person(m) {
  return m.person || m.user || { id: m.userId, nickname: m.nickname };
}

/** score clamps a match score to 0–100. */
function score(m) {
  return Math.max(0, Math.min(100, Math.round(Number(m.score) || 0)));
}

/** head is the short form of a reason: the words before its colon, or its first words. */
function head(reason) {
  const text = String(reason || "").trim();
  const c = text.indexOf(":");
  if (c > 0 && c <= 40) return text.slice(0, c);
  return text.length > 32 ? text.slice(0, 30).trimEnd() + "…" : text;
}

/** why is the one line a card gives: the first highlight, else the first sentence of the reasoning. */
function why(m) {
  if (m.highlights && m.highlights.length) return m.highlights[0];
  const r = String(m.reasoning || "");
  const end = r.search(/[.!?](\s|$)|[。！？]/);
  return end > 0 ? r.slice(0, end + 1) : r;
}

function ring(s) {
  const el = h("div", { class: "ring", role: "img", "aria-label": t("match.ringLabel", { score: s }) }, h("span", { "aria-hidden": "true" }, number(s)));
  el.style.setProperty("--p", String(s)); // CSSOM, allowed by the CSP (a style attribute is not)
  return el;
}

function scoreBar(s) {
  const fill = h("div", { class: "bar-fill" });
  fill.style.width = `${s}%`;
  return h("div", { class: "score" },
    h("div", { class: "bar-track", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": s, "aria-label": t("match.compatibility") }, fill),
    h("span", { class: "score-num" }, number(s)));
}

function card(m) {
  const p = person(m);
  const good = (m.highlights || []).slice(1, 3).map(head);
  const tags = good.length ? good : (m.highlights || []).slice(0, 1).map(head);
  return h("li", { class: "card match" },
    avatar(p),
    h("div", { class: "who" },
      h("h2", {}, h("a", { href: `#/matches/${p.id}` }, p.nickname || t("match.someone"))),
      h("p", { class: "why" }, why(m))),
    ring(score(m)),
    chips(tags.slice(0, 2), "good"));
}

export async function matchesView() {
  const first = await get("/api/matches?limit=20");
  const ul = h("ol", { class: "matches" }, items(first, "matches").map(card));
  let cursor = nextCursor(first);
  const moreError = inlineError();
  const more = h("button", {
    type: "button",
    onclick: async () => {
      more.disabled = true;
      replace(moreError);
      try {
        const page = await get(`/api/matches?limit=20&cursor=${encodeURIComponent(cursor)}`);
        items(page, "matches").forEach((m) => ul.appendChild(card(m)));
        cursor = nextCursor(page);
        more.hidden = !cursor;
      } catch (err) {
        replace(moreError, explain(err, t("act.loadMoreMatches")));
      } finally {
        more.disabled = false;
      }
    },
  }, t("match.showMore"));
  more.hidden = !cursor;
  const me = session.me || {};
  const empty = h("div", { class: "state empty" },
    h("p", {}, me.discoverable ? t("match.empty.discoverable") : t("match.empty.hidden")),
    h("a", { class: "button primary", href: me.discoverable ? "#/twin" : "#/start" }, me.discoverable ? t("match.reviewShades") : t("match.showHow")));
  return h("section", {},
    h("h1", {}, t("nav.matches")),
    h("p", { class: "lead" }, t("match.lead")),
    ul.children.length ? ul : empty,
    h("div", { class: "buttons" }, more), moreError);
}

export async function matchView(userId) {
  const [m, profile] = await Promise.all([
    get(`/api/matches/${userId}`),
    get(`/api/users/${userId}`).catch(() => null), // their public profile: bio, shades, open to chats
  ]);
  const match = m.match || m;
  const p = { ...person(match), ...(profile || {}) };
  const name = p.nickname || t("match.them");
  const s = score(match);
  const transcript = match.transcript || match.evidence || [];
  const actionError = inlineError();
  const open = !!(profile && profile.allowTwinChat);

  const talk = open && h("button", { type: "button", class: "primary", onclick: () => { location.hash = `#/chats/new/${p.id}`; } }, t("match.talk", { name }));
  const refresh = h("button", {
    type: "button",
    onclick: async () => {
      replace(actionError);
      try { await post(`/api/matches/${p.id}/refresh`); toast(t("match.recomputing")); } catch (err) { replace(actionError, explain(err, t("act.recompute"), name)); }
    },
  }, t("match.recompute"));
  const block = h("button", {
    type: "button", class: "danger",
    onclick: async () => {
      if (!confirm(t("match.blockConfirm", { name }))) return;
      replace(actionError);
      try {
        await post(`/api/users/${p.id}/block`);
        toast(t("match.blocked", { name }));
        location.hash = "#/matches";
      } catch (err) {
        replace(actionError, explain(err, t("act.block", { name }), name));
      }
    },
  }, t("match.block", { name }));

  const shadeNames = ((profile && profile.shades) || []).map((x) => x.name);
  return h("section", { class: "match-detail" },
    h("a", { class: "back", href: "#/matches" }, t("match.back")),
    h("div", { class: "match-hero" }, avatar(p, "lg"),
      h("div", {}, h("h1", {}, t("match.youAnd", { name })), profile && profile.bio && h("p", { class: "muted" }, profile.bio))),
    h("div", { class: "card" },
      h("h2", {}, t("match.compatibility")),
      scoreBar(s),
      chips(shadeNames.slice(0, 6)),
      match.reasoning && h("p", { class: "reasoning" }, match.reasoning),
      h("div", { class: "reasons" },
        (match.highlights || []).length > 0 && h("div", { class: "highlights" }, h("h3", {}, t("match.share")), h("ul", {}, match.highlights.map((x) => h("li", {}, x)))),
        (match.challenges || []).length > 0 && h("div", { class: "challenges" }, h("h3", {}, t("match.differ")), h("ul", {}, match.challenges.map((x) => h("li", {}, x))))),
      match.computedAt && h("p", { class: "muted" }, t("match.computed", { time: time(match.computedAt) })),
      h("div", { class: "buttons" }, talk, refresh, block),
      !open && h("p", { class: "muted", id: "closed-twin" }, t("match.closed", { name })),
      actionError),
    h("div", { class: "card" },
      h("h2", {}, t("match.evidence")),
      transcript.length
        ? h("ol", { class: "transcript" }, transcript.map((l) => {
            const theirs = l.speaker === p.id;
            return h("li", { class: "msg " + (theirs ? "theirs" : "mine") },
              avatar(theirs ? p : session.me, "sm"),
              h("div", { class: "bubble" },
                h("span", { class: "who" }, theirs ? t("chat.theirTwin", { name }) : t("chat.yourTwin")),
                h("p", { class: "text" }, l.text)));
          }))
        : state(t("match.noTranscript"), "empty")));
}
