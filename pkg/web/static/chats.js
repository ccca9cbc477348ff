// chats.js lists one's chat sessions and shows a conversation whose replies stream in as the twin
// writes them, with names and faces, a typing indicator until the first word, and a composer that
// stays at the bottom of the screen. A new conversation (#/chats/new, or #/chats/new/<twin id> for a
// match's twin) starts with its first message, which also titles it. Older messages load when scrolled
// to the top; a failed turn can be retried.
import { get, del, items, nextCursor, stream, newId, ApiError } from "./api.js";
import { h, replace, state, time, shortTime, avatar, problem, toast } from "./dom.js";
import { explain } from "./errors.js";
import { session } from "./state.js";
import { t } from "./i18n.js";

/** twinOf returns the person whose twin a session talks with, and how to name that twin. */
function twinOf(twin) {
  const me = session.me || {};
  if (!twin || !twin.id || twin.id === me.id) return { person: me, own: true, label: t("chat.yourTwin") };
  return { person: twin, own: false, label: twin.nickname ? t("chat.theirTwin", { name: twin.nickname }) : t("chat.someonesTwin") };
}

export async function chatsView() {
  const page = await get("/api/sessions?limit=50");
  const sessions = items(page, "sessions");
  const list = h("ul", { class: "sessions" }, sessions.map((s) => {
    const tw = twinOf(s.twin || { id: s.twinId, nickname: s.twinNickname });
    return h("li", {}, h("a", { class: "card session", href: `#/chats/${s.id}` },
      avatar(tw.person),
      h("span", { class: "text" },
        h("strong", {}, s.title || (tw.own ? t("chats.withYourTwin") : t("chats.withTwin", { twin: tw.label }))),
        h("span", { class: "last" }, (tw.own ? "" : tw.label + " · ") + (s.lastMessage || t("chats.noMessages")))),
      h("time", { datetime: s.updatedAt || "", title: time(s.updatedAt) }, shortTime(s.updatedAt))));
  }));
  return h("section", {},
    h("div", { class: "bar" }, h("h1", {}, t("nav.chats")),
      h("a", { class: "button primary", href: "#/chats/new" }, t("common.talkToMyTwin"))),
    sessions.length ? list : h("div", { class: "state empty" },
      h("p", {}, t("chats.empty")),
      h("div", { class: "buttons" }, h("a", { class: "button", href: "#/chats/new" }, t("chats.meet")), h("a", { class: "button", href: "#/matches" }, t("common.seeMyMatches")))));
}

function bubble(m, twin) {
  const mine = m.role === "user";
  const who = mine ? session.me : twin.person;
  return h("li", { class: `msg ${mine ? "user" : "twin"}`, dataset: { id: m.id || "" } },
    avatar(who, "sm"),
    h("div", { class: "bubble" },
      h("span", { class: "who" }, mine ? t("chat.you") : twin.label),
      h("p", { class: "text" }, m.content || ""),
      m.incomplete && h("small", { class: "note" }, t("chat.cutShort"))));
}

/** newConversationView is an empty conversation with one's own twin, or with the twin of twinId. */
export async function newConversationView(twinId) {
  if (!twinId || (session.me && twinId === session.me.id)) return conversation(null, twinOf(null), [], "");
  let profile;
  try {
    profile = await get(`/api/users/${twinId}`);
  } catch (err) {
    if (err instanceof ApiError && err.code === "not_found") {
      return problem(t("chat.personGone.title"), t("chat.personGone.text"), h("a", { class: "button primary", href: "#/matches" }, t("common.backToMatches")));
    }
    throw err;
  }
  if (!profile.allowTwinChat) {
    return problem(t("chat.closed.title", { name: profile.nickname }), t("chat.closed.text", { name: profile.nickname }),
      h("a", { class: "button primary", href: `#/matches/${twinId}` }, t("chat.backToMatch")));
  }
  return conversation(null, twinOf(profile), [], "");
}

export async function conversationView(id) {
  const [got, first] = await Promise.all([get(`/api/sessions/${id}`), get(`/api/sessions/${id}/messages?limit=30`)]);
  const sess = got.session || got;
  return conversation(sess, twinOf(sess.twin || { id: sess.twinId, nickname: sess.twinNickname }), items(first, "messages"), nextCursor(first));
}

/** conversation renders one conversation; sess is null until its first message starts it. */
function conversation(sess, twin, newest, firstCursor) {
  let id = sess ? sess.id : "";
  let cursor = firstCursor;
  const log = h("ol", { class: "messages", "aria-live": "polite", "aria-label": t("chat.messages") });
  const older = newest.slice().reverse();
  older.forEach((m) => log.appendChild(bubble(m, twin)));
  const top = h("div", { class: "older" }, cursor ? state(t("chat.olderHint")) : null);
  const hello = older.length ? null : h("p", { class: "state empty", id: "empty-chat" },
    twin.own ? t("chat.hello.own") : t("chat.hello.other", { twin: twin.label, name: twin.person.nickname }));
  // The offline model (no language model configured) is named once per conversation, not in each reply.
  const offline = h("p", { class: "offline-note", hidden: !newest.some((m) => m.model === "offline") },
    t("chat.offline"));
  const scroller = h("div", { class: "scroller", tabindex: "0", "aria-label": t("chat.conversation") }, offline, top, log, hello);
  let loading = false;
  async function loadOlder() {
    if (!id || !cursor || loading) return;
    loading = true;
    replace(top, state(t("chat.loadingOlder")));
    try {
      const page = await get(`/api/sessions/${id}/messages?limit=30&before=${encodeURIComponent(cursor)}`);
      cursor = nextCursor(page);
      const h0 = scroller.scrollHeight;
      for (const m of items(page, "messages")) log.prepend(bubble(m, twin));
      scroller.scrollTop += scroller.scrollHeight - h0;
      replace(top, cursor ? null : state(t("chat.beginning")));
    } catch (err) {
      replace(top, state(explain(err, t("act.loadOlder")), "error"));
    } finally {
      loading = false;
    }
  }
  scroller.addEventListener("scroll", () => { if (scroller.scrollTop < 40) loadOlder(); });

  const input = h("textarea", { id: "composer", rows: 1, maxlength: 4000, required: true, placeholder: twin.own ? t("chat.placeholder.own") : t("chat.placeholder.other", { twin: twin.label }) });
  const send = h("button", { type: "submit", class: "primary" }, t("chat.send"));
  const status = h("div", { class: "turn-status" });
  let controller = null;

  async function turn(text, clientMessageId) {
    document.getElementById("empty-chat")?.remove();
    const mine = bubble({ role: "user", content: text }, twin);
    const reply = bubble({ role: "assistant", content: "" }, twin);
    reply.classList.add("streaming");
    const typing = h("span", { class: "typing", role: "status" }, h("i"), h("i"), h("i"), h("span", { class: "sr-only" }, t("chat.typing", { twin: twin.label })));
    const textEl = reply.querySelector(".text");
    textEl.before(typing);
    log.append(mine, reply);
    scroller.scrollTop = scroller.scrollHeight;
    send.disabled = true;
    replace(status);
    controller = new AbortController();
    let failed = null;
    const body = { message: text, clientMessageId };
    if (id) body.sessionId = id;
    else if (!twin.own) body.twinId = twin.person.id;
    try {
      await stream("/api/chat/stream", body, {
        session: (d) => {
          if (!id && d && d.sessionId) {
            id = d.sessionId;
            history.replaceState(null, "", `#/chats/${id}`); // no hashchange: this view stays
            remove.hidden = false;
          }
        },
        delta: (d) => {
          typing.remove();
          textEl.textContent += (d && d.text) || "";
          scroller.scrollTop = scroller.scrollHeight;
        },
        done: (d) => {
          if (d && d.offline) offline.hidden = false;
          if (d && d.incomplete) reply.querySelector(".bubble").appendChild(h("small", { class: "note" }, t("chat.cutShort")));
        },
        error: (e) => { failed = new ApiError(502, { error: e }); },
      }, controller.signal);
    } catch (err) {
      failed = err;
    }
    typing.remove();
    reply.classList.remove("streaming");
    send.disabled = false;
    if (failed) {
      if (!textEl.textContent) reply.remove();
      mine.classList.add("failed");
      replace(status,
        h("span", { class: "error", role: "alert" }, explain(failed, t("act.getReply"), twin.own ? "" : twin.person.nickname)),
        h("button", {
          type: "button",
          onclick: () => { mine.remove(); reply.remove(); replace(status); turn(text, clientMessageId); },
        }, t("chat.retry")));
    }
  }

  const form = h("form", {
    class: "composer",
    onsubmit: (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      turn(text, newId());
    },
  }, h("label", { for: "composer", class: "sr-only" }, t("field.message")), input, send);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  const remove = h("button", {
    type: "button", class: "link danger", hidden: !id,
    onclick: async () => {
      if (!confirm(t("chat.deleteConfirm"))) return;
      try { await del(`/api/sessions/${id}`); location.hash = "#/chats"; } catch (err) { toast(explain(err, t("act.deleteChat"))); }
    },
  }, t("chat.delete"));

  const el = h("section", { class: "conversation" },
    h("div", { class: "conv-bar" },
      h("a", { class: "back", href: "#/chats", "aria-label": t("common.backToChats") }, "←"),
      avatar(twin.person),
      h("div", { class: "conv-title" },
        h("h1", {}, twin.label),
        h("span", { class: "sub" }, (sess && sess.title) || (twin.own ? t("chat.sub.own") : t("chat.sub.other", { name: twin.person.nickname })))),
      remove),
    scroller, status, form);
  requestAnimationFrame(() => { scroller.scrollTop = scroller.scrollHeight; input.focus(); });
  return { el, dispose: () => controller && controller.abort() };
}
