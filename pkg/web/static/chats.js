// chats.js lists one's chat sessions and shows a conversation whose replies stream in as the twin
// writes them, with names and faces, a typing indicator until the first word, and a composer that
// stays at the bottom of the screen. A new conversation (#/chats/new, or #/chats/new/<twin id> for a
// match's twin) starts with its first message, which also titles it. Older messages load when scrolled
// to the top; a failed turn can be retried.
import { get, del, items, nextCursor, stream, newId, ApiError } from "./api.js";
import { h, replace, state, time, shortTime, avatar, problem, toast } from "./dom.js";
import { explain } from "./errors.js";
import { session } from "./state.js";

/** twinOf returns the person whose twin a session talks with, and how to name that twin. */
function twinOf(twin) {
  const me = session.me || {};
  if (!twin || !twin.id || twin.id === me.id) return { person: me, own: true, label: "Your twin", owner: "your" };
  const nick = twin.nickname || "Their";
  return { person: twin, own: false, label: `${nick}'s twin`, owner: `${nick}'s` };
}

export async function chatsView() {
  const page = await get("/api/sessions?limit=50");
  const sessions = items(page, "sessions");
  const list = h("ul", { class: "sessions" }, sessions.map((s) => {
    const t = twinOf(s.twin || { id: s.twinId, nickname: s.twinNickname });
    return h("li", {}, h("a", { class: "card session", href: `#/chats/${s.id}` },
      avatar(t.person),
      h("span", { class: "text" },
        h("strong", {}, s.title || `Chat with ${t.own ? "your twin" : t.label}`),
        h("span", { class: "last" }, (t.own ? "" : t.label + " · ") + (s.lastMessage || "No messages yet"))),
      h("time", { datetime: s.updatedAt || "", title: time(s.updatedAt) }, shortTime(s.updatedAt))));
  }));
  return h("section", {},
    h("div", { class: "bar" }, h("h1", {}, "Chats"),
      h("a", { class: "button primary", href: "#/chats/new" }, "Talk to my twin")),
    sessions.length ? list : h("div", { class: "state empty" },
      h("p", {}, "No conversations yet. Say hello to your own twin to see how it speaks for you, or open a match to talk with their twin."),
      h("div", { class: "buttons" }, h("a", { class: "button", href: "#/chats/new" }, "Meet my twin"), h("a", { class: "button", href: "#/matches" }, "See my matches"))));
}

function bubble(m, twin) {
  const mine = m.role === "user";
  const who = mine ? session.me : twin.person;
  return h("li", { class: `msg ${mine ? "user" : "twin"}`, dataset: { id: m.id || "" } },
    avatar(who, "sm"),
    h("div", { class: "bubble" },
      h("span", { class: "who" }, mine ? "You" : twin.label),
      h("p", { class: "text" }, m.content || ""),
      m.incomplete && h("small", { class: "note" }, "This reply was cut short.")));
}

/** newConversationView is an empty conversation with one's own twin, or with the twin of twinId. */
export async function newConversationView(twinId) {
  if (!twinId || (session.me && twinId === session.me.id)) return conversation(null, twinOf(null), [], "");
  let profile;
  try {
    profile = await get(`/api/users/${twinId}`);
  } catch (err) {
    if (err instanceof ApiError && err.code === "not_found") {
      return problem("This person is not here", "They may have left, or they are no longer discoverable.", h("a", { class: "button primary", href: "#/matches" }, "Back to matches"));
    }
    throw err;
  }
  if (!profile.allowTwinChat) {
    return problem(`${profile.nickname}'s twin is not open for chats`, `${profile.nickname} has not opened their twin to chats. You can still read what your twins said on the match page.`,
      h("a", { class: "button primary", href: `#/matches/${twinId}` }, "Back to the match"));
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
  const log = h("ol", { class: "messages", "aria-live": "polite", "aria-label": "Messages" });
  const older = newest.slice().reverse();
  older.forEach((m) => log.appendChild(bubble(m, twin)));
  const top = h("div", { class: "older" }, cursor ? state("Scroll up for older messages") : null);
  const hello = older.length ? null : h("p", { class: "state empty", id: "empty-chat" },
    twin.own ? "Ask your twin anything: it answers as you would, from your shades." : `Say hello to ${twin.label}. It answers from what ${twin.person.nickname} made public.`);
  // The offline model (no language model configured) is named once per conversation, not in each reply.
  const offline = h("p", { class: "offline-note", hidden: !newest.some((m) => m.model === "offline") },
    "Offline twin: replies come from a simple built-in stand-in, because no language model is set up here.");
  const scroller = h("div", { class: "scroller", tabindex: "0", "aria-label": "Conversation" }, offline, top, log, hello);
  let loading = false;
  async function loadOlder() {
    if (!id || !cursor || loading) return;
    loading = true;
    replace(top, state("Loading older messages…"));
    try {
      const page = await get(`/api/sessions/${id}/messages?limit=30&before=${encodeURIComponent(cursor)}`);
      cursor = nextCursor(page);
      const h0 = scroller.scrollHeight;
      for (const m of items(page, "messages")) log.prepend(bubble(m, twin));
      scroller.scrollTop += scroller.scrollHeight - h0;
      replace(top, cursor ? null : state("This is the beginning of the conversation."));
    } catch (err) {
      replace(top, state(explain(err, "load older messages"), "error"));
    } finally {
      loading = false;
    }
  }
  scroller.addEventListener("scroll", () => { if (scroller.scrollTop < 40) loadOlder(); });

  const input = h("textarea", { id: "composer", rows: 1, maxlength: 4000, required: true, placeholder: `Message ${twin.own ? "your twin" : twin.label}…` });
  const send = h("button", { type: "submit", class: "primary" }, "Send");
  const status = h("div", { class: "turn-status" });
  let controller = null;

  async function turn(text, clientMessageId) {
    document.getElementById("empty-chat")?.remove();
    const mine = bubble({ role: "user", content: text }, twin);
    const reply = bubble({ role: "assistant", content: "" }, twin);
    reply.classList.add("streaming");
    const typing = h("span", { class: "typing", role: "status" }, h("i"), h("i"), h("i"), h("span", { class: "sr-only" }, `${twin.label} is typing`));
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
          if (d && d.incomplete) reply.querySelector(".bubble").appendChild(h("small", { class: "note" }, "This reply was cut short."));
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
        h("span", { class: "error", role: "alert" }, explain(failed, "get a reply", twin.own ? "" : twin.person.nickname)),
        h("button", {
          type: "button",
          onclick: () => { mine.remove(); reply.remove(); replace(status); turn(text, clientMessageId); },
        }, "Retry"));
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
  }, h("label", { for: "composer", class: "sr-only" }, "Message"), input, send);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });

  const remove = h("button", {
    type: "button", class: "link danger", hidden: !id,
    onclick: async () => {
      if (!confirm("Delete this conversation and all its messages?")) return;
      try { await del(`/api/sessions/${id}`); location.hash = "#/chats"; } catch (err) { toast(explain(err, "delete this chat")); }
    },
  }, "Delete");

  const el = h("section", { class: "conversation" },
    h("div", { class: "conv-bar" },
      h("a", { class: "back", href: "#/chats", "aria-label": "Back to chats" }, "←"),
      avatar(twin.person),
      h("div", { class: "conv-title" },
        h("h1", {}, twin.label),
        h("span", { class: "sub" }, (sess && sess.title) || (twin.own ? "Answers as you would" : `Speaks for ${twin.person.nickname}`))),
      remove),
    scroller, status, form);
  requestAnimationFrame(() => { scroller.scrollTop = scroller.scrollHeight; input.focus(); });
  return { el, dispose: () => controller && controller.abort() };
}
