// signin.js is the sign-in view: SecondMe, any OpenID Connect provider, and in the local stack the
// demo personas and signing up as a new person. Every way in is an explicit choice: nothing here
// creates an account the person did not ask for.
import { get } from "./api.js";
import { h, avatar } from "./dom.js";
import { t } from "./i18n.js";

/** signinError explains the error the sign-in callback sends back in ?error=. */
function signinError(error) {
  if (error === "access_denied") return t("signin.error.cancelled");
  if (error === "sign_in_failed") return t("signin.error.failed");
  return t("signin.error.other");
}

function loginURL(provider, hint) {
  const q = new URLSearchParams({ provider, returnTo: "/" + (location.hash || "#/") });
  if (hint) q.set("login_hint", hint);
  return "/api/auth/login?" + q.toString();
}

/** signinView renders the sign-in page; error is the ?error= the sign-in came back with, if any. */
export async function signinView(error) {
  let personas = [];
  let providers = ["secondme", "oidc"];
  const [p, ps] = await Promise.allSettled([get("/api/auth/providers"), get("/local/personas")]);
  if (p.status === "fulfilled" && p.value && Array.isArray(p.value.providers)) providers = p.value.providers;
  if (ps.status === "fulfilled" && Array.isArray(ps.value)) personas = ps.value; // the local stack only
  const local = personas.length > 0;
  const nick = h("input", {
    id: "new-nick", name: "nickname", required: true, maxlength: 64, autocomplete: "nickname",
    placeholder: t("signin.nick.placeholder"), "aria-describedby": "new-nick-hint",
  });
  const nickError = h("p", { class: "inline-error", role: "alert", id: "new-nick-error" });
  return h("section", { class: "signin" },
    h("img", { class: "logo", src: document.querySelector('link[rel="icon"]').href, alt: "" }),
    h("h1", {}, t("signin.title")),
    h("p", { class: "lead" }, t("signin.lead")),
    error && h("p", { class: "state error", role: "alert" }, signinError(error)),
    h("div", { class: "buttons" },
      providers.includes("secondme") && h("a", { class: "button primary", href: loginURL("secondme") }, t("signin.secondme")),
      // The local stack's OpenID Connect provider signs in whoever login_hint names: its people are
      // the personas and "new person" below, so it gets no button of its own there.
      !local && providers.includes("oidc") && h("a", { class: "button" + (providers.includes("secondme") ? "" : " primary"), href: loginURL("oidc") },
        t("signin.oidc"))),
    local && h("section", { class: "personas", "aria-labelledby": "personas-h" },
      h("h2", { id: "personas-h" }, t("signin.demo.title")),
      h("p", { class: "muted" }, t("signin.demo.text")),
      h("ul", { class: "persona-list" },
        personas.map((p) => h("li", {}, h("a", { class: "persona", href: loginURL("oidc", p.id), dataset: { persona: p.id } },
          avatar(p, "sm"), h("span", {}, p.nickname))))),
      h("form", {
        class: "new-person card",
        novalidate: true,
        onsubmit: (e) => {
          e.preventDefault();
          const v = nick.value.trim();
          if (!v) {
            nickError.textContent = t("signin.nick.missing");
            nick.setAttribute("aria-invalid", "true");
            nick.focus();
            return;
          }
          location.href = loginURL("oidc", "new:" + v);
        },
      },
        h("h2", {}, t("signin.new.title")),
        h("label", { for: "new-nick" }, t("field.nickname")),
        h("p", { id: "new-nick-hint", class: "muted" }, t("signin.new.hint")),
        h("div", { class: "row" }, nick, h("button", { type: "submit", class: "primary" }, t("signin.signup"))),
        nickError)));
}
