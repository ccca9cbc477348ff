// errors.js turns the API's errors (docs/api.md: a code, a message and the fields at fault) into words
// a person understands, shown next to the field or the action they concern.
import { ApiError } from "./api.js";
import { h, replace } from "./dom.js";
import { t, tn } from "./i18n.js";

/** labels names the fields of the API's requests as a person knows them. */
function labels() {
  return {
    nickname: t("field.nickname"), bio: t("field.bio"), name: t("field.name"), description: t("field.description"),
    content: t("field.content"), topics: t("field.topics"), confidence: t("field.confidence"), message: t("field.message"),
    shades: t("field.shades"), twinId: t("field.twinId"), public: t("field.public"),
  };
}

/** publicLabels names the fields of a shade's public version. */
function publicLabels() {
  return {
    name: t("field.public.name"), description: t("field.public.description"),
    content: t("field.public.content"), topics: t("field.public.topics"),
  };
}

/** label names a field path such as shades[2].public.name. */
function label(path) {
  const parts = String(path).replace(/\[\d+\]/g, "").split(".");
  const last = parts[parts.length - 1];
  if (parts.includes("public") && last !== "public" && publicLabels()[last]) return publicLabels()[last];
  return labels()[last] || t("field.other");
}

/** tooLong says how long a field may be, for the units the API counts in ("at most 40 characters"). */
function tooLong(field, max, unit) {
  const units = {
    characters: () => tn("error.field.tooLong.characters", max, { field }),
    bytes: () => tn("error.field.tooLong.bytes", max, { field }),
    shades: () => tn("error.field.tooLong.shades", max, { field }),
    topics: () => tn("error.field.tooLong.topics", max, { field }),
  };
  return units[unit] ? units[unit]() : t("error.field.tooLong.other", { field, max, unit });
}

/** fieldMessage explains what is wrong with one field. */
export function fieldMessage(path, why) {
  const w = String(why || "").trim();
  const field = label(path);
  if (w === "required" || w.startsWith("required")) return t("error.field.required", { field });
  const most = w.match(/^at most (\d+) (\w+)/);
  if (most) return tooLong(field, Number(most[1]), most[2]);
  return t("error.field.other", { field, why: w });
}

/** wait says how long to wait after a 429, from its Retry-After in seconds. */
function wait(seconds) {
  if (seconds > 3 * 3600) return t("error.limit.today");
  if (seconds > 90 * 60) return tn("error.limit.hours", Math.round(seconds / 3600));
  if (seconds > 90) return tn("error.limit.minutes", Math.round(seconds / 60));
  return t("error.limit.moment");
}

/**
 * explain returns one sentence for an error. what names the action in words, from the catalogue's
 * act.* messages ("save your shades", "start this chat"); whose is the other person's name when the
 * action concerns them.
 */
export function explain(err, what = t("act.doThat"), whose = "") {
  if (!(err instanceof ApiError)) return t("error.generic", { what });
  const first = Object.entries(err.fields || {})[0];
  switch (err.code) {
    case "offline": return t("error.offline", { what });
    case "unauthenticated": return t("error.unauthenticated");
    case "permission_denied":
      return whose ? t("error.closedTwin", { name: whose }) : t("error.denied", { what });
    case "not_found": return whose ? t("error.goneNamed", { name: whose }) : t("error.gone");
    case "rate_limited": return wait(err.retryAfter);
    case "upstream_unavailable": return t("error.upstream");
    case "payload_too_large": return t("error.tooLarge");
    case "conflict": return t("error.conflict");
    case "invalid_argument":
      return first ? fieldMessage(first[0], first[1]) : t("error.invalid", { what, message: err.message });
    default: return t("error.server", { what });
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
