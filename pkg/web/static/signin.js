// signin.js is the sign-in view: SecondMe, any OpenID Connect provider, and in the local stack the
// demo personas and signing up as a new person.
import { get } from "./api.js";
import { h } from "./dom.js";

function loginURL(provider, hint) {
  const q = new URLSearchParams({ provider, returnTo: "/" + (location.hash || "#/chats") });
  if (hint) q.set("login_hint", hint);
  return "/api/auth/login?" + q.toString();
}

export async function signinView() {
  let personas = [];
  let providers = ["secondme", "oidc"];
  const [p, ps] = await Promise.allSettled([get("/api/auth/providers"), get("/local/personas")]);
  if (p.status === "fulfilled" && p.value && Array.isArray(p.value.providers)) providers = p.value.providers;
  if (ps.status === "fulfilled" && Array.isArray(ps.value)) personas = ps.value; // the local stack only
  const error = new URLSearchParams(location.search).get("error");
  const nick = h("input", { id: "new-nick", name: "nickname", required: true, maxlength: 64, autocomplete: "nickname" });
  return h("section", { class: "signin" },
    h("h1", {}, "Meet your Second Me"),
    h("p", { class: "lead" }, "Talk with your AI twin, and with the twins of people who might fit you, before you talk to them."),
    error && h("p", { class: "state error", role: "alert" }, error === "access_denied" ? "Sign-in was cancelled." : "Sign-in failed: " + error),
    h("div", { class: "buttons" },
      providers.includes("secondme") && h("a", { class: "button primary", href: loginURL("secondme") }, "Sign in with SecondMe"),
      providers.includes("oidc") && h("a", { class: "button" + (providers.includes("secondme") ? "" : " primary"), href: loginURL("oidc") },
        personas.length ? "Sign in with the local OpenID Connect provider" : "Sign in with OpenID Connect")),
    personas.length > 0 && h("section", { class: "personas", "aria-labelledby": "personas-h" },
      h("h2", { id: "personas-h" }, "Demo personas"),
      h("p", {}, "This is the local stack: sign in as one of these people."),
      h("ul", { class: "persona-list" },
        personas.map((p) => h("li", {}, h("a", { class: "persona", href: loginURL("oidc", p.id), dataset: { persona: p.id } }, p.nickname)))),
      h("form", {
        class: "new-person",
        onsubmit: (e) => {
          e.preventDefault();
          const v = nick.value.trim();
          if (v) location.href = loginURL("oidc", "new:" + v);
        },
      },
        h("label", { for: "new-nick" }, "Or sign up as a new person"),
        h("div", { class: "row" }, nick, h("button", { type: "submit" }, "Sign up")))));
}
