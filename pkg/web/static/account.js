// account.js lets a person take their data with them, sign out, or erase everything.
import { get, post, del } from "./api.js";
import { h, replace, toast, avatar } from "./dom.js";
import { explain, inlineError } from "./errors.js";

export async function accountView(session) {
  const exportBtn = h("button", {
    type: "button",
    onclick: async () => {
      exportBtn.disabled = true;
      try {
        const data = await get("/api/user/export");
        const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
        const a = h("a", { href: URL.createObjectURL(blob), download: "second-me-export.json", id: "export-link" }, "Download your export");
        exportBtn.replaceWith(a);
        a.focus();
        toast("Your export is ready.");
      } catch (err) {
        replace(exportError, explain(err, "prepare your export"));
        exportBtn.disabled = false;
      }
    },
  }, "Export my data");

  const exportError = inlineError();
  const confirmInput = h("input", { id: "confirm-delete", autocomplete: "off", placeholder: "DELETE", "aria-describedby": "confirm-delete-error" });
  const deleteError = h("p", { class: "inline-error", role: "alert", id: "confirm-delete-error" });
  const deleteForm = h("form", {
    class: "danger-zone",
    onsubmit: async (e) => {
      e.preventDefault();
      replace(deleteError);
      confirmInput.removeAttribute("aria-invalid");
      if (confirmInput.value.trim() !== "DELETE") {
        replace(deleteError, "Type DELETE in capitals to confirm that everything should be erased.");
        confirmInput.setAttribute("aria-invalid", "true");
        confirmInput.focus();
        return;
      }
      try {
        await del("/api/user");
        document.dispatchEvent(new Event("secondme:signedout"));
        toast("Your account and all its data are erased.");
      } catch (err) {
        replace(deleteError, explain(err, "delete your account"));
      }
    },
  },
    h("h2", {}, "Delete account"),
    h("p", {}, "This erases your profile, shades, memories, chats, matches, blocks and linked tokens. It cannot be undone."),
    h("label", { for: "confirm-delete" }, "Type DELETE to confirm"),
    h("div", { class: "row" }, confirmInput, h("button", { type: "submit", class: "danger" }, "Delete my account")),
    deleteError);

  const logout = h("button", {
    type: "button",
    onclick: async () => {
      try { await post("/api/auth/logout"); } catch { /* signed out anyway */ }
      document.dispatchEvent(new Event("secondme:signedout"));
    },
  }, "Sign out");

  return h("section", { class: "account" },
    h("h1", {}, "Account"),
    h("div", { class: "card" }, h("h2", {}, "Your data"), h("p", {}, "Everything Second Me holds about you, as one JSON file."), exportBtn, exportError),
    h("div", { class: "card" }, h("div", { class: "profile-head" }, avatar(session.me, "lg"),
      h("div", {}, h("h2", {}, session.me ? session.me.nickname : ""), h("small", {}, "Signed in"))), logout),
    h("div", { class: "card" }, deleteForm));
}
