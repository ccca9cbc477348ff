// matches.js shows the ranked matches with their score, reasons and the twin-to-twin evidence,
// and lets a person talk to a match's twin or block them.
import { get, post, items, nextCursor } from "./api.js";
import { h, replace, state, toast, time } from "./dom.js";

function person(m) {
  return m.person || m.user || { id: m.userId, nickname: m.nickname };
}

function scoreBar(score) {
  const s = Math.max(0, Math.min(100, Number(score) || 0));
  const fill = h("div", { class: "bar-fill" });
  fill.style.width = `${s}%`; // CSSOM, allowed by the CSP (a style attribute is not)
  return h("div", { class: "score" },
    h("div", { class: "bar-track", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": s, "aria-label": "Compatibility" },
      fill),
    h("span", { class: "score-num" }, `${s}`));
}

function list(title, xs, cls) {
  if (!xs || !xs.length) return null;
  return h("div", { class: cls }, h("h3", {}, title), h("ul", {}, xs.map((x) => h("li", {}, x))));
}

async function talkTo(userId) {
  try {
    const s = await post("/api/sessions", { twinId: userId });
    location.hash = `#/chats/${(s.session || s).id}`;
  } catch (err) {
    toast(err.message);
  }
}

async function block(userId, name) {
  if (!confirm(`Block ${name}? You will no longer be matched, and neither of you can talk to the other's twin.`)) return;
  try {
    await post(`/api/users/${userId}/block`);
    toast(`${name} is blocked.`);
    location.hash = "#/matches";
  } catch (err) {
    toast(err.message);
  }
}

function card(m) {
  const p = person(m);
  return h("li", { class: "card match" },
    h("div", { class: "match-head" },
      h("h2", {}, h("a", { href: `#/matches/${p.id}` }, p.nickname || "Someone")),
      scoreBar(m.score)),
    m.reasoning && h("p", { class: "reasoning" }, m.reasoning),
    list("Highlights", m.highlights, "highlights"),
    list("Challenges", m.challenges, "challenges"),
    h("div", { class: "buttons" },
      h("a", { class: "button", href: `#/matches/${p.id}` }, "Read the evidence"),
      h("button", { type: "button", class: "primary", onclick: () => talkTo(p.id) }, "Talk to their twin")));
}

export async function matchesView() {
  const first = await get("/api/matches?limit=20");
  const ul = h("ol", { class: "matches" }, items(first, "matches").map(card));
  let cursor = nextCursor(first);
  const more = h("button", {
    type: "button",
    onclick: async () => {
      more.disabled = true;
      try {
        const page = await get(`/api/matches?limit=20&cursor=${encodeURIComponent(cursor)}`);
        items(page, "matches").forEach((m) => ul.appendChild(card(m)));
        cursor = nextCursor(page);
        more.hidden = !cursor;
      } catch (err) {
        toast(err.message);
      } finally {
        more.disabled = false;
      }
    },
  }, "Show more");
  more.hidden = !cursor;
  return h("section", {},
    h("h1", {}, "Matches"),
    h("p", { class: "lead" }, "People whose twins get along with yours, best first. Scores are recomputed every night and whenever someone edits their shades."),
    ul.children.length ? ul : state("No matches yet. Make yourself discoverable and add public shades; matches appear within minutes.", "empty"),
    more);
}

export async function matchView(userId) {
  const m = await get(`/api/matches/${userId}`);
  const match = m.match || m;
  const p = person(match);
  const name = p.nickname || "them";
  const transcript = match.transcript || match.evidence || [];
  return h("section", { class: "match-detail" },
    h("div", { class: "bar" }, h("a", { href: "#/matches" }, "← Matches"), h("h1", {}, `You and ${name}`)),
    h("div", { class: "card" },
      scoreBar(match.score),
      match.reasoning && h("p", { class: "reasoning" }, match.reasoning),
      list("Highlights", match.highlights, "highlights"),
      list("Challenges", match.challenges, "challenges"),
      match.computedAt && h("p", { class: "muted" }, `Computed ${time(match.computedAt)}` + (match.parts ? ` from ${match.parts.join(" and ")} scoring` : "")),
      h("div", { class: "buttons" },
        h("button", { type: "button", class: "primary", onclick: () => talkTo(p.id) }, `Talk to ${name}'s twin`),
        h("button", { type: "button", onclick: async () => { try { await post(`/api/matches/${p.id}/refresh`); toast("Recomputing…"); } catch (err) { toast(err.message); } } }, "Recompute"),
        h("button", { type: "button", class: "danger", onclick: () => block(p.id, name) }, `Block ${name}`))),
    h("div", { class: "card" },
      h("h2", {}, "Evidence: your twins talked"),
      transcript.length
        ? h("ol", { class: "transcript" }, transcript.map((l) => h("li", { class: l.speaker === p.id ? "them" : "you" },
            h("span", { class: "who" }, l.speaker === p.id ? `${name}'s twin` : "Your twin"),
            h("p", {}, l.text))))
        : state("No conversation yet: this score comes from your shades alone.", "empty")));
}
