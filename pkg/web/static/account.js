// account.js lets a person take their data with them, sign out, or erase everything.
import { get, post, del } from "./api.js";
import { h, replace, toast, avatar } from "./dom.js";
import { explain, inlineError } from "./errors.js";
import { t } from "./i18n.js";

export async function accountView(session) {
  const exportBtn = h("button", {
    type: "button",
    onclick: async () => {
      exportBtn.disabled = true;
      try {
        const data = await get("/api/user/export");
        const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
        const a = h("a", { href: URL.createObjectURL(blob), download: "second-me-export.json", id: "export-link" }, t("account.download"));
        exportBtn.replaceWith(a);
        a.focus();
        toast(t("account.exportReady"));
      } catch (err) {
        replace(exportError, explain(err, t("act.export")));
        exportBtn.disabled = false;
      }
    },
  }, t("account.export"));

  const exportError = inlineError();
  // The word to type is the current language's (DELETE in English), so the check reads what the page asks for.
  const word = t("account.delete.word");
  const confirmInput = h("input", { id: "confirm-delete", autocomplete: "off", placeholder: word, "aria-describedby": "confirm-delete-error" });
  const deleteError = h("p", { class: "inline-error", role: "alert", id: "confirm-delete-error" });
  const deleteForm = h("form", {
    class: "danger-zone",
    onsubmit: async (e) => {
      e.preventDefault();
      replace(deleteError);
      confirmInput.removeAttribute("aria-invalid");
      if (confirmInput.value.trim() !== word) {
        replace(deleteError, t("account.delete.mistyped", { word }));
        confirmInput.setAttribute("aria-invalid", "true");
        confirmInput.focus();
        return;
      }
      try {
        await del("/api/user");
        document.dispatchEvent(new Event("secondme:signedout"));
        toast(t("account.deleted"));
      } catch (err) {
        replace(deleteError, explain(err, t("act.deleteAccount")));
      }
    },
  },
    h("h2", {}, t("account.delete.title")),
    h("p", {}, t("account.delete.text")),
    h("label", { for: "confirm-delete" }, t("account.delete.label", { word })),
    h("div", { class: "row" }, confirmInput, h("button", { type: "submit", class: "danger" }, t("account.delete.button"))),
    deleteError);

  const logout = h("button", {
    type: "button",
    onclick: async () => {
      try { await post("/api/auth/logout"); } catch { /* signed out anyway */ }
      document.dispatchEvent(new Event("secondme:signedout"));
    },
  }, t("account.signOut"));

  return h("section", { class: "account" },
    h("h1", {}, t("nav.account")),
    h("div", { class: "card" }, h("h2", {}, t("account.data.title")), h("p", {}, t("account.data.text")), exportBtn, exportError),
    h("div", { class: "card" }, h("div", { class: "profile-head" }, avatar(session.me, "lg"),
      h("div", {}, h("h2", {}, session.me ? session.me.nickname : ""), h("small", {}, t("account.signedIn")))), logout),
    h("div", { class: "card" }, deleteForm));
}
