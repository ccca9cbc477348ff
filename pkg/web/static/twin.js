// twin.js is the "my twin" view: the profile and its privacy switches, the shades as a compact list
// (name, public or private, topics), one shade at a time in an editor dialog with what stays private
// beside what others may see, and the SecondMe import for people who signed in with SecondMe.
import { get, patch, put, post, items } from "./api.js";
import { h, replace, toast, avatar, chips } from "./dom.js";
import { explain, inlineError, showFieldErrors } from "./errors.js";
import { t } from "./i18n.js";
import { portraitCard } from "./portrait.js";

/** levels lists the confidence levels of a shade, most sure first, with their names. */
function levels() {
  return [["VERY_HIGH", t("level.veryHigh")], ["HIGH", t("level.high")], ["MEDIUM", t("level.medium")],
    ["LOW", t("level.low")], ["VERY_LOW", t("level.veryLow")]];
}

/** providerName names the way a person signed in. */
function providerName(provider) {
  if (provider === "secondme") return t("provider.secondme");
  if (provider === "oidc") return t("provider.oidc");
  return t("provider.other");
}
let seq = 0;

function field(label, input, hint) {
  const id = "f" + ++seq;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), hint && h("small", {}, hint), input);
}

function switchField(label, checked, hint, attrs = {}) {
  const id = attrs.id || "f" + ++seq;
  const input = h("input", { type: "checkbox", id, role: "switch", checked: !!checked, ...attrs });
  return { input, el: h("div", { class: "switch" }, input, h("label", { for: id }, label, hint && h("small", {}, hint))) };
}

function topics(s) {
  return s.split(",").map((t) => t.trim()).filter(Boolean);
}

/** shadeRow is one shade in the list: its name, whether it is public, its topics, and Edit. */
function shadeRow(s, onEdit) {
  return h("li", { class: "shade", dataset: { id: s.id || "" } },
    h("p", { class: "shade-name" },
      h("span", { class: "name" }, s.name),
      h("span", { class: "badge " + (s.public ? "pub" : "priv") }, s.public ? t("shade.public") : t("shade.private")),
      s.public && s.public.name && s.public.name !== s.name && h("small", {}, t("shade.shownAs", { name: s.public.name }))),
    chips((s.topics || []).slice(0, 4)),
    h("button", { type: "button", class: "edit", "aria-label": t("shade.editNamed", { name: s.name }), onclick: onEdit }, t("shade.edit")));
}

/**
 * editor is the shade dialog. open(index) edits shades[index] (a new shade when index is the list's
 * length); save(list) must PUT the list and return the saved one.
 */
function editor(getShades, save) {
  const dialog = h("dialog", { class: "shade-editor", "aria-labelledby": "editor-title" });
  let index = 0;

  function open(i) {
    index = i;
    const list = getShades();
    const s = list[i] || { name: "", confidence: "MEDIUM", description: "", content: "", topics: [], public: null };
    const pub = s.public || { name: "", description: "", content: "", topics: [] };
    const at = (f) => `shades[${i}].${f}`;
    const name = h("input", { value: s.name, maxlength: 80, required: true, placeholder: t("shade.name.placeholder"), dataset: { field: at("name") } });
    const conf = h("select", { dataset: { field: at("confidence") } },
      levels().map(([v, l]) => h("option", { value: v, selected: v === s.confidence }, l)));
    const desc = h("textarea", { rows: 2, maxlength: 2000, dataset: { field: at("description") } }, s.description || "");
    const content = h("textarea", { rows: 4, maxlength: 2000, dataset: { field: at("content") } }, s.content || "");
    const tops = h("input", { value: (s.topics || []).join(", "), placeholder: t("shade.topics.placeholder"), dataset: { field: at("topics") } });
    const isPublic = switchField(t("shade.public.switch"), !!s.public, t("shade.public.hint"), { id: "shade-public" });
    const pName = h("input", { value: pub.name || "", maxlength: 80, placeholder: t("shade.publicName.placeholder"), dataset: { field: at("public.name") } });
    const pDesc = h("textarea", { rows: 2, maxlength: 2000, dataset: { field: at("public.description") } }, pub.description || "");
    const pContent = h("textarea", { rows: 4, maxlength: 2000, dataset: { field: at("public.content") } }, pub.content || "");
    const pTops = h("input", { value: (pub.topics || []).join(", "), placeholder: t("shade.publicTopics.placeholder"), dataset: { field: at("public.topics") } });
    const publicFields = h("div", { hidden: !s.public },
      field(t("shade.publicName"), pName), field(t("shade.publicDescription"), pDesc), field(t("shade.publicDetails"), pContent),
      field(t("shade.publicTopics"), pTops, t("shade.commas")));
    isPublic.input.addEventListener("change", () => { publicFields.hidden = !isPublic.input.checked; });
    const error = inlineError();
    const saveBtn = h("button", { type: "submit", class: "primary" }, t("shade.save"));
    const read = () => ({
      ...(s.id ? { id: s.id } : {}),
      name: name.value.trim(), icon: s.icon || "", confidence: conf.value,
      description: desc.value, content: content.value, topics: topics(tops.value),
      public: isPublic.input.checked
        ? { name: pName.value.trim(), description: pDesc.value, content: pContent.value, topics: topics(pTops.value) }
        : null,
    });
    const form = h("form", {
      method: "dialog", novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        const next = getShades().slice();
        next[index] = read();
        saveBtn.disabled = true;
        try {
          await save(next);
          dialog.close();
          toast(t("shade.saved"));
        } catch (err) {
          showFieldErrors(form, err, t("act.saveShade"));
        } finally {
          saveBtn.disabled = false;
        }
      },
    },
      h("div", { class: "dialog-head" },
        h("h2", { id: "editor-title" }, s.name ? t("shade.editTitle", { name: s.name }) : t("shade.new")),
        h("button", { type: "button", class: "ghost", "aria-label": t("common.close"), onclick: () => dialog.close() }, "✕")),
      h("div", { class: "dialog-body" },
        h("div", { class: "sides" },
          h("section", { class: "side", "aria-labelledby": "side-private" },
            h("div", { class: "side-head" }, h("span", { class: "badge priv" }, t("shade.private")), h("h3", { id: "side-private" }, t("shade.private.title"))),
            h("p", { class: "muted" }, t("shade.private.text")),
            field(t("shade.name"), name), field(t("shade.confidence"), conf), field(t("shade.description"), desc),
            field(t("shade.details"), content), field(t("shade.topics"), tops, t("shade.commas"))),
          h("section", { class: "side", "aria-labelledby": "side-public" },
            h("div", { class: "side-head" }, h("span", { class: "badge pub" }, t("shade.public")), h("h3", { id: "side-public" }, t("shade.public.title"))),
            isPublic.el, publicFields)),
        error),
      h("div", { class: "dialog-foot" },
        i < list.length && h("button", {
          type: "button", class: "link danger",
          onclick: async () => {
            if (!confirm(t("shade.deleteConfirm", { name: s.name }))) return;
            try {
              await save(getShades().filter((_, j) => j !== index));
              dialog.close();
              toast(t("shade.deleted"));
            } catch (err) {
              replace(error, explain(err, t("act.deleteShade")));
            }
          },
        }, t("shade.delete")),
        h("span", { class: "spacer" }),
        h("button", { type: "button", onclick: () => dialog.close() }, t("common.cancel")),
        saveBtn));
    replace(dialog, form);
    dialog.showModal();
    name.focus();
  }
  return { dialog, open };
}

export async function twinView(session) {
  const [me, shadesRes] = await Promise.all([get("/api/user/info"), get("/api/user/shades")]);
  session.me = me;
  let shades = items(shadesRes, "shades");

  const nickname = h("input", { value: me.nickname || "", maxlength: 64, required: true, autocomplete: "nickname", dataset: { field: "nickname" } });
  const bio = h("textarea", { rows: 2, maxlength: 1000, placeholder: t("twin.bio.placeholder"), dataset: { field: "bio" } }, me.bio || "");
  const disc = switchField(t("twin.discoverable"), me.discoverable, t("twin.discoverable.hint"));
  const chat = switchField(t("twin.open"), me.allowTwinChat, t("twin.open.hint"));
  const profileForm = h("form", {
    class: "card profile", novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        session.me = await patch("/api/user/info", {
          nickname: nickname.value.trim(), bio: bio.value,
          discoverable: disc.input.checked, allowTwinChat: chat.input.checked,
        });
        showFieldErrors(profileForm, null);
        toast(t("twin.profileSaved"));
      } catch (err) {
        showFieldErrors(profileForm, err, t("act.saveProfile"));
      }
    },
  },
    h("div", { class: "profile-head" }, avatar(me, "lg"),
      h("div", {}, h("h2", {}, t("twin.profile")), h("small", {}, t("twin.signedInWith", { provider: providerName(me.provider) })))),
    h("div", { class: "profile-grid" },
      field(t("field.nickname"), nickname), field(t("twin.bio"), bio), disc.el, chat.el),
    inlineError(),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, t("twin.saveProfile"))));

  const list = h("ol", { class: "shades" });
  const empty = h("p", { class: "state empty" }, me.provider === "secondme"
    ? t("twin.empty.secondme")
    : t("twin.empty.other"));
  const draw = () => {
    replace(list, shades.map((s, i) => shadeRow(s, () => ed.open(i))));
    empty.hidden = shades.length > 0;
  };
  const ed = editor(() => shades, async (next) => {
    shades = items(await put("/api/user/shades", { shades: next }), "shades");
    draw();
  });
  draw();

  const syncError = inlineError();
  const syncBtn = h("button", {
    type: "button",
    onclick: async () => {
      syncBtn.disabled = true;
      replace(syncError);
      try {
        await post("/api/user/sync");
        toast(t("sync.done"));
        location.reload();
      } catch (err) {
        replace(syncError, explain(err, t("act.import")));
      } finally {
        syncBtn.disabled = false;
      }
    },
  }, t("sync.button"));

  const el = h("section", { class: "twin" },
    h("h1", {}, t("nav.twin")),
    profileForm,
    portraitCard(session, () => profileForm.querySelector(".profile-head .avatar").replaceWith(avatar(session.me, "lg"))),
    h("section", { class: "card", "aria-labelledby": "shades-h" },
      h("div", { class: "section-head" },
        h("h2", { id: "shades-h" }, t("twin.shades")),
        h("button", { type: "button", class: "primary", id: "add-shade", onclick: () => ed.open(shades.length) }, t("twin.addShade"))),
      h("p", { class: "muted" }, t("twin.shades.text")),
      empty, list),
    me.provider === "secondme" && h("div", { class: "card" }, h("h2", {}, t("provider.secondme")),
      h("p", {}, t("twin.sync.text")), syncBtn, syncError),
    ed.dialog);
  if (session.next === "add-shade") {
    session.next = "";
    requestAnimationFrame(() => ed.open(shades.length));
  }
  return el;
}
