// twin.js is the "my twin" view: the profile and its privacy switches, the shades as a compact list
// (name, public or private, topics), one shade at a time in an editor dialog with what stays private
// beside what others may see, and the SecondMe import for people who signed in with SecondMe.
import { get, patch, put, post, items } from "./api.js";
import { h, replace, toast, avatar, chips } from "./dom.js";
import { explain, inlineError, showFieldErrors } from "./errors.js";

const LEVELS = [["VERY_HIGH", "Very sure"], ["HIGH", "Sure"], ["MEDIUM", "Fairly sure"], ["LOW", "Not very sure"], ["VERY_LOW", "Guessing"]];
const PROVIDERS = { secondme: "SecondMe", oidc: "OpenID Connect" };
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
      h("span", { class: "badge " + (s.public ? "pub" : "priv") }, s.public ? "Public" : "Private"),
      s.public && s.public.name && s.public.name !== s.name && h("small", {}, `shown as “${s.public.name}”`)),
    chips((s.topics || []).slice(0, 4)),
    h("button", { type: "button", class: "edit", "aria-label": `Edit ${s.name}`, onclick: onEdit }, "Edit"));
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
    const name = h("input", { value: s.name, maxlength: 80, required: true, placeholder: "e.g. Jazz pianist", dataset: { field: at("name") } });
    const conf = h("select", { dataset: { field: at("confidence") } },
      LEVELS.map(([v, l]) => h("option", { value: v, selected: v === s.confidence }, l)));
    const desc = h("textarea", { rows: 2, maxlength: 2000, dataset: { field: at("description") } }, s.description || "");
    const content = h("textarea", { rows: 4, maxlength: 2000, dataset: { field: at("content") } }, s.content || "");
    const tops = h("input", { value: (s.topics || []).join(", "), placeholder: "jazz, teaching", dataset: { field: at("topics") } });
    const isPublic = switchField("Give it a public version", !!s.public, "Other people and their twins see only this version, never the private one.", { id: "shade-public" });
    const pName = h("input", { value: pub.name || "", maxlength: 80, placeholder: "e.g. Musician", dataset: { field: at("public.name") } });
    const pDesc = h("textarea", { rows: 2, maxlength: 2000, dataset: { field: at("public.description") } }, pub.description || "");
    const pContent = h("textarea", { rows: 4, maxlength: 2000, dataset: { field: at("public.content") } }, pub.content || "");
    const pTops = h("input", { value: (pub.topics || []).join(", "), placeholder: "music", dataset: { field: at("public.topics") } });
    const publicFields = h("div", { hidden: !s.public },
      field("Public name", pName), field("Public description", pDesc), field("Public details", pContent),
      field("Public topics", pTops, "Separated by commas"));
    isPublic.input.addEventListener("change", () => { publicFields.hidden = !isPublic.input.checked; });
    const error = inlineError();
    const saveBtn = h("button", { type: "submit", class: "primary" }, "Save shade");
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
          toast("Shade saved. Your matches will be recomputed.");
        } catch (err) {
          showFieldErrors(form, err, "save this shade");
        } finally {
          saveBtn.disabled = false;
        }
      },
    },
      h("div", { class: "dialog-head" },
        h("h2", { id: "editor-title" }, s.name ? `Edit “${s.name}”` : "New shade"),
        h("button", { type: "button", class: "ghost", "aria-label": "Close", onclick: () => dialog.close() }, "✕")),
      h("div", { class: "dialog-body" },
        h("div", { class: "sides" },
          h("section", { class: "side", "aria-labelledby": "side-private" },
            h("div", { class: "side-head" }, h("span", { class: "badge priv" }, "Private"), h("h3", { id: "side-private" }, "What your twin knows")),
            h("p", { class: "muted" }, "Only your own twin reads this."),
            field("Name", name), field("How sure are you of it?", conf), field("Description", desc),
            field("Details", content), field("Topics", tops, "Separated by commas")),
          h("section", { class: "side", "aria-labelledby": "side-public" },
            h("div", { class: "side-head" }, h("span", { class: "badge pub" }, "Public"), h("h3", { id: "side-public" }, "What others see")),
            isPublic.el, publicFields)),
        error),
      h("div", { class: "dialog-foot" },
        i < list.length && h("button", {
          type: "button", class: "link danger",
          onclick: async () => {
            if (!confirm(`Delete the shade “${s.name}”? Your twin forgets it.`)) return;
            try {
              await save(getShades().filter((_, j) => j !== index));
              dialog.close();
              toast("Shade deleted.");
            } catch (err) {
              replace(error, explain(err, "delete this shade"));
            }
          },
        }, "Delete shade"),
        h("span", { class: "spacer" }),
        h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
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
  const bio = h("textarea", { rows: 2, maxlength: 1000, placeholder: "A line or two about you", dataset: { field: "bio" } }, me.bio || "");
  const disc = switchField("Discoverable", me.discoverable, "Others can find me, and I get matches.");
  const chat = switchField("Open to chats", me.allowTwinChat, "People I match with may talk to my twin.");
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
        toast("Profile saved.");
      } catch (err) {
        showFieldErrors(profileForm, err, "save your profile");
      }
    },
  },
    h("div", { class: "profile-head" }, avatar(me, "lg"),
      h("div", {}, h("h2", {}, "Profile"), h("small", {}, `Signed in with ${PROVIDERS[me.provider] || "your account"}`))),
    h("div", { class: "profile-grid" },
      field("Your name", nickname), field("Bio", bio), disc.el, chat.el),
    inlineError(),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Save profile")));

  const list = h("ol", { class: "shades" });
  const empty = h("p", { class: "state empty" }, me.provider === "secondme"
    ? "No shades yet. Add your first one, or import yours from SecondMe."
    : "No shades yet. Add your first one: something you do, love or care about.");
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
        toast("Imported your profile and shades from SecondMe.");
        location.reload();
      } catch (err) {
        replace(syncError, explain(err, "import from SecondMe"));
      } finally {
        syncBtn.disabled = false;
      }
    },
  }, "Import from SecondMe");

  const el = h("section", { class: "twin" },
    h("h1", {}, "My twin"),
    profileForm,
    h("section", { class: "card", "aria-labelledby": "shades-h" },
      h("div", { class: "section-head" },
        h("h2", { id: "shades-h" }, "Shades"),
        h("button", { type: "button", class: "primary", id: "add-shade", onclick: () => ed.open(shades.length) }, "Add shade")),
      h("p", { class: "muted" }, "The sides of you your twin speaks from. Each stays private unless you give it a public version."),
      empty, list),
    me.provider === "secondme" && h("div", { class: "card" }, h("h2", {}, "SecondMe"),
      h("p", {}, "Import your profile, shades and key memories from SecondMe again."), syncBtn, syncError),
    ed.dialog);
  if (session.next === "add-shade") {
    session.next = "";
    requestAnimationFrame(() => ed.open(shades.length));
  }
  return el;
}
