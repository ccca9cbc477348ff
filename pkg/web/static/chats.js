// chats.js lists one's chat sessions and shows a conversation whose replies stream in as the
// twin writes them. Older messages load when scrolled to the top; a failed turn can be retried.
import { get, post, del, items, nextCursor, stream, newId, ApiError } from "./api.js";
import { h, replace, state, toast, time } from "./dom.js";
import { session } from "./state.js";

function twinName(s) {
  const twinId = (s.twin && s.twin.id) || s.twinId;
  if (session.me && twinId === session.me.id) return "your twin";
  return ((s.twin && s.twin.nickname) || s.twinNickname || "their") + "'s twin";
}

export async function chatsView() {
  const page = await get("/api/sessions?limit=50");
  const sessions = items(page, "sessions");
  const list = h("ul", { class: "sessions" }, sessions.map((s) =>
    h("li", {}, h("a", { class: "card session", href: `#/chats/${s.id}` },
      h("strong", {}, s.title || `Chat with ${twinName(s)}`),
      h("span", { class: "last" }, s.lastMessage || "No messages yet"),
      h("time", { datetime: s.updatedAt || "" }, time(s.updatedAt))))));
  return h("section", {},
    h("div", { class: "bar" }, h("h1", {}, "Chats"),
      h("a", { class: "button primary", href: "#/chats/new", onclick: startOwn }, "Talk to my twin")),
    sessions.length ? list : state("No conversations yet. Start one with your own twin, or with a match's twin.", "empty"));
}

async function startOwn(e) {
  e.preventDefault();
  try {
    const s = await post("/api/sessions", {});
    location.hash = `#/chats/${(s.session || s).id}`;
  } catch (err) {
    toast(err.message);
  }
}

function bubble(m) {
  const role = m.role === "user" ? "user" : "twin";
  return h("li", { class: `msg ${role}`, dataset: { id: m.id || "" } },
    h("span", { class: "who" }, role === "user" ? "You" : "Twin"),
    h("p", { class: "text" }, m.content || ""),
    m.incomplete && h("small", { class: "note" }, "This reply was cut short."));
}

export async function conversationView(id) {
  const [got, first] = await Promise.all([get(`/api/sessions/${id}`), get(`/api/sessions/${id}/messages?limit=30`)]);
  const sess = got.session || got;
  let cursor = nextCursor(first);
  const log = h("ol", { class: "messages", "aria-live": "polite", "aria-label": "Messages" });
  const older = items(first, "messages").slice().reverse();
  older.forEach((m) => log.appendChild(bubble(m)));
  const top = h("div", { class: "older" }, cursor ? state("Scroll up for older messages") : null);
  const scroller = h("div", { class: "scroller" }, top, log, older.length ? null : h("p", { class: "state empty", id: "empty-chat" }, "Say hello to start the conversation."));
  let loading = false;
  async function loadOlder() {
    if (!cursor || loading) return;
    loading = true;
    replace(top, state("Loading older messages…"));
    try {
      const page = await get(`/api/sessions/${id}/messages?limit=30&before=${encodeURIComponent(cursor)}`);
      cursor = nextCursor(page);
      const h0 = scroller.scrollHeight;
      for (const m of items(page, "messages")) log.prepend(bubble(m));
      scroller.scrollTop += scroller.scrollHeight - h0;
      replace(top, cursor ? null : state("This is the beginning of the conversation."));
    } catch (err) {
      replace(top, state(err.message, "error"));
    } finally {
      loading = false;
    }
  }
  scroller.addEventListener("scroll", () => { if (scroller.scrollTop < 40) loadOlder(); });

  const input = h("textarea", { id: "composer", rows: 2, maxlength: 4000, required: true, placeholder: "Write a message…" });
  const send = h("button", { type: "submit", class: "primary" }, "Send");
  const status = h("div", { class: "turn-status", role: "status" });
  let controller = null;

  async function turn(text, clientMessageId) {
    document.getElementById("empty-chat")?.remove();
    const mine = bubble({ role: "user", content: text });
    const reply = bubble({ role: "assistant", content: "" });
    reply.classList.add("streaming");
    log.append(mine, reply);
    scroller.scrollTop = scroller.scrollHeight;
    const textEl = reply.querySelector(".text");
    send.disabled = true;
    replace(status);
    controller = new AbortController();
    let failed = null;
    try {
      await stream("/api/chat/stream", { message: text, sessionId: id, clientMessageId }, {
        delta: (d) => { textEl.textContent += (d && d.text) || ""; scroller.scrollTop = scroller.scrollHeight; },
        done: (d) => { if (d && d.incomplete) reply.appendChild(h("small", { class: "note" }, "This reply was cut short.")); },
        error: (e) => { failed = new ApiError(502, { error: e }); },
      }, controller.signal);
    } catch (err) {
      failed = err;
    }
    reply.classList.remove("streaming");
    send.disabled = false;
    if (failed) {
      if (!textEl.textContent) reply.remove();
      mine.classList.add("failed");
      replace(status,
        h("span", { class: "error", role: "alert" }, failed.message || "The twin did not answer."),
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
    type: "button", class: "link danger",
    onclick: async () => {
      if (!confirm("Delete this conversation and all its messages?")) return;
      try { await del(`/api/sessions/${id}`); location.hash = "#/chats"; } catch (err) { toast(err.message); }
    },
  }, "Delete chat");

  const el = h("section", { class: "conversation" },
    h("div", { class: "bar" }, h("a", { href: "#/chats" }, "← Chats"), h("h1", {}, `Chat with ${twinName(sess)}`), remove),
    scroller, status, form);
  requestAnimationFrame(() => { scroller.scrollTop = scroller.scrollHeight; input.focus(); });
  return { el, dispose: () => controller && controller.abort() };
}
