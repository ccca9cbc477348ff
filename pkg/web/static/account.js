// account.js lets a person take their data with them, sign out, or erase everything.
import { get, post, del } from "./api.js";
import { h, replace, toast, avatar } from "./dom.js";
import { explain, inlineError } from "./errors.js";
import { t } from "./i18n.js";

export async function accountView(session) {
  // The export is a job (docs/api-users.md): start it, ask until its archive is written, then offer
  // its link, which works for a few minutes; a click after that asks for a fresh one.
  const exportBtn = h("button", {
    type: "button",
    onclick: async () => {
      exportBtn.disabled = true;
      replace(exportError);
      try {
        const job = await post("/api/user/export");
        replace(exportStatus, t("account.exportPreparing"));
        let done = await exportDone(job.jobId);
        replace(exportStatus);
        if (!done) {
          replace(exportError, t("account.exportFailed"));
          exportBtn.disabled = false;
          return;
        }
        const a = h("a", {
          href: done.url, download: "secondme-export.zip", id: "export-link",
          onclick: async (e) => {
            if (Date.parse(done.expiresAt) - Date.now() > 10000) return;
            e.preventDefault();
            try {
              done = await get(`/api/user/export/${job.jobId}`);
              a.href = done.url;
              location.assign(done.url);
            } catch (err) {
              replace(exportError, explain(err, t("act.export")));
            }
          },
        }, t("account.download"));
        exportBtn.replaceWith(a);
        a.focus();
        toast(t("account.exportReady"));
      } catch (err) {
        replace(exportStatus);
        replace(exportError, explain(err, t("act.export")));
        exportBtn.disabled = false;
      }
    },
  }, t("account.export"));

  const exportStatus = h("p", { role: "status" });
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
    h("div", { class: "card" }, h("h2", {}, t("account.data.title")), h("p", {}, t("account.data.text")), exportBtn, exportStatus, exportError),
    h("div", { class: "card" }, h("div", { class: "profile-head" }, avatar(session.me, "lg"),
      h("div", {}, h("h2", {}, session.me ? session.me.nickname : ""), h("small", {}, t("account.signedIn")))), logout),
    h("div", { class: "card" }, deleteForm));
}

/**
 * exportDone asks for an export job until it is done (its answer) or failed (null): every second for
 * half a minute (an export takes seconds), then every ten.
 */
async function exportDone(jobId) {
  for (let i = 0; ; i++) {
    await new Promise((resolve) => setTimeout(resolve, i < 30 ? 1000 : 10000));
    const job = await get(`/api/user/export/${jobId}`);
    if (job.status === "done") return job;
    if (job.status === "failed") return null;
  }
}
