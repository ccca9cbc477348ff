// errors.js turns the API's errors (docs/api.md: a code, a message and the fields at fault) into words
// a person understands, shown next to the field or the action they concern.
import { ApiError } from "./api.js";
import { h, replace } from "./dom.js";

/** LABELS names the fields of the API's requests as a person knows them. */
const LABELS = {
  nickname: "Your name", bio: "Your bio", name: "The name", description: "The description",
  content: "The details", topics: "The topics", confidence: "How sure", message: "Your message",
  shades: "Your shades", twinId: "This twin", public: "The public version",
};

/** label names a field path such as shades[2].public.name. */
function label(path) {
  const parts = String(path).replace(/\[\d+\]/g, "").split(".");
  const last = parts[parts.length - 1];
  const base = LABELS[last] || "This field";
  return parts.includes("public") && last !== "public" ? base.replace(/^The /, "The public ") : base;
}

/** fieldMessage explains what is wrong with one field. */
export function fieldMessage(path, why) {
  const w = String(why || "").trim();
  const who = label(path);
  if (w === "required" || w.startsWith("required")) return `${who} is needed.`;
  const most = w.match(/^at most (\d+) (\w+)/);
  if (most) return `${who} is too long: keep it to ${most[1]} ${most[2]}.`;
  return `${who}: ${w}.`;
}

/** wait says how long to wait after a 429, from its Retry-After in seconds. */
function wait(seconds) {
  if (seconds > 3 * 3600) return "You have reached today's limit. Try again tomorrow.";
  if (seconds > 90 * 60) return `You have reached the limit for now. Try again in about ${Math.round(seconds / 3600)} hours.`;
  if (seconds > 90) return `That was a lot at once. Try again in about ${Math.round(seconds / 60)} minutes.`;
  return "That was a lot at once. Wait a moment, then try again.";
}

/**
 * explain returns one sentence for an error. what names the action in words ("save your shades",
 * "start this chat"); whose is the other person's name when the action concerns them.
 */
export function explain(err, what = "do that", whose = "") {
  if (!(err instanceof ApiError)) return `Could not ${what}. Try again.`;
  const first = Object.entries(err.fields || {})[0];
  switch (err.code) {
    case "offline": return `Could not reach Second Me to ${what}. Check your connection and try again.`;
    case "unauthenticated": return "You were signed out. Sign in again to continue.";
    case "permission_denied":
      return whose ? `${whose} is not taking chats with their twin right now.` : `You are not allowed to ${what}.`;
    case "not_found": return whose ? `${whose} is no longer here.` : "This is no longer here.";
    case "rate_limited": return wait(err.retryAfter);
    case "upstream_unavailable": return "The twin's model is not answering right now. Try again in a minute.";
    case "payload_too_large": return "That is more text than Second Me takes at once. Shorten it and try again.";
    case "conflict": return "This changed in the meantime. Reload the page and try again.";
    case "invalid_argument":
      return first ? fieldMessage(first[0], first[1]) : `Could not ${what}: ${err.message}.`;
    default: return `Something went wrong on our side, so we could not ${what}. Try again in a moment.`;
  }
}

/**
 * showFieldErrors marks each field at fault in form (inputs carry data-field with the API's field
 * path) and writes why beside it; errors of no field there go to the form's .inline-error. It returns
 * true when it showed anything.
 */
export function showFieldErrors(form, err, what) {
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    el.removeAttribute("aria-describedby");
  }
  const general = form.querySelector(".inline-error");
  if (general) replace(general);
  if (!err) return false;
  let shown = false;
  let focus = null;
  for (const [name, why] of Object.entries((err instanceof ApiError && err.fields) || {})) {
    const input = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!input) continue;
    const id = (input.id || name) + "-error";
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
    const note = h("small", { class: "field-error", id }, fieldMessage(name, why));
    input.after(note);
    input.addEventListener("input", () => {
      note.remove();
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }, { once: true });
    focus = focus || input;
    shown = true;
  }
  if (focus) focus.focus();
  else if (general) {
    replace(general, explain(err, what));
    shown = true;
  }
  return shown;
}

/** inlineError is an empty slot for the error of an action, announced when filled. */
export function inlineError() {
  return h("p", { class: "inline-error", role: "alert" });
}
