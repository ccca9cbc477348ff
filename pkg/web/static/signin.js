// signin.js is the sign-in view: SecondMe, any OpenID Connect provider, and in the local stack the
// demo personas and signing up as a new person. Every way in is an explicit choice: nothing here
// creates an account the person did not ask for.
import { get } from "./api.js";
import { h, avatar } from "./dom.js";

/** SIGNIN_ERRORS explains the error the sign-in callback sends back in ?error=. */
const SIGNIN_ERRORS = {
  access_denied: "You cancelled signing in, so nothing changed. Choose a way to sign in below when you are ready.",
  sign_in_failed: "Signing in did not work: the provider did not let us in. Try again, or choose another way below.",
};

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
    placeholder: "Your first name, e.g. Robin", "aria-describedby": "new-nick-hint",
  });
  const nickError = h("p", { class: "inline-error", role: "alert", id: "new-nick-error" });
  return h("section", { class: "signin" },
    h("img", { class: "logo", src: document.querySelector('link[rel="icon"]').href, alt: "" }),
    h("h1", {}, "Meet your Second Me"),
    h("p", { class: "lead" }, "Talk with your AI twin, and with the twins of people who might fit you, before you talk to them."),
    error && h("p", { class: "state error", role: "alert" }, SIGNIN_ERRORS[error] || "Signing in did not work. Try again."),
    h("div", { class: "buttons" },
      providers.includes("secondme") && h("a", { class: "button primary", href: loginURL("secondme") }, "Sign in with SecondMe"),
      // The local stack's OpenID Connect provider signs in whoever login_hint names: its people are
      // the personas and "new person" below, so it gets no button of its own there.
      !local && providers.includes("oidc") && h("a", { class: "button" + (providers.includes("secondme") ? "" : " primary"), href: loginURL("oidc") },
        "Sign in with OpenID Connect")),
    local && h("section", { class: "personas", "aria-labelledby": "personas-h" },
      h("h2", { id: "personas-h" }, "Try it as a demo person"),
      h("p", { class: "muted" }, "This is the local stack: sign in as one of these people, each with a profile and matches."),
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
            nickError.textContent = "Write the name you want to go by, then choose Sign up.";
            nick.setAttribute("aria-invalid", "true");
            nick.focus();
            return;
          }
          location.href = loginURL("oidc", "new:" + v);
        },
      },
        h("h2", {}, "Or start as a new person"),
        h("label", { for: "new-nick" }, "Your name"),
        h("p", { id: "new-nick-hint", class: "muted" }, "You start with no shades and nobody can find you until you say so."),
        h("div", { class: "row" }, nick, h("button", { type: "submit", class: "primary" }, "Sign up")),
        nickError)));
}
