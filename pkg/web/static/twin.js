// twin.js is the "my twin" view: profile, privacy switches, sync, and the shades editor that
// shows what is public and what stays private to one's own twin.
import { get, patch, put, post, items, ApiError } from "./api.js";
import { h, replace, state, toast } from "./dom.js";

const LEVELS = ["VERY_HIGH", "HIGH", "MEDIUM", "LOW", "VERY_LOW"];
let seq = 0;

function field(label, input, hint) {
  const id = "f" + ++seq;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hint && h("small", {}, hint));
}

function switchField(label, checked, hint) {
  const id = "f" + ++seq;
  const input = h("input", { type: "checkbox", id, role: "switch", checked: !!checked });
  return { input, el: h("div", { class: "switch" }, input, h("label", { for: id }, label), hint && h("small", {}, hint)) };
}

function showFieldErrors(form, err) {
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  if (!(err instanceof ApiError)) return;
  for (const [name, why] of Object.entries(err.fields)) {
    const input = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.after(h("small", { class: "field-error", role: "alert" }, why));
    }
  }
}

function topics(s) {
  return s.split(",").map((t) => t.trim()).filter(Boolean);
}

function shadeEditor(shade, index, onRemove) {
  const s = shade || { name: "", confidence: "MEDIUM", description: "", content: "", topics: [], public: null };
  const pub = s.public || { name: "", description: "", content: "", topics: [] };
  const name = h("input", { value: s.name, maxlength: 80, required: true, dataset: { field: `shades[${index}].name` } });
  const conf = h("select", {}, LEVELS.map((l) => h("option", { value: l, selected: l === s.confidence }, l.replace("_", " ").toLowerCase())));
  const desc = h("textarea", { rows: 2, maxlength: 2000 }, s.description || "");
  const content = h("textarea", { rows: 3, maxlength: 2000 }, s.content || "");
  const tops = h("input", { value: (s.topics || []).join(", ") });
  const isPublic = switchField("Others may see a public version", !!s.public);
  const pName = h("input", { value: pub.name || "", maxlength: 80 });
  const pDesc = h("textarea", { rows: 2, maxlength: 2000 }, pub.description || "");
  const pContent = h("textarea", { rows: 3, maxlength: 2000 }, pub.content || "");
  const pTops = h("input", { value: (pub.topics || []).join(", ") });
  const publicPart = h("fieldset", { class: "public", hidden: !s.public },
    h("legend", {}, "Public version — what other people and their twins see"),
    field("Public name", pName), field("Public description", pDesc), field("Public content", pContent),
    field("Public topics", pTops, "Comma separated"));
  isPublic.input.addEventListener("change", () => { publicPart.hidden = !isPublic.input.checked; });
  const el = h("li", { class: "shade card" },
    h("div", { class: "shade-head" },
      h("span", { class: "badge " + (s.public ? "pub" : "priv") }, s.public ? "Public" : "Private"),
      h("button", { type: "button", class: "link danger", onclick: () => onRemove(el) }, "Remove shade")),
    h("fieldset", { class: "private" },
      h("legend", {}, "Private — only your own twin uses this"),
      field("Name", name), field("Confidence", conf), field("Description", desc), field("Content", content),
      field("Topics", tops, "Comma separated")),
    isPublic.el, publicPart);
  el.read = () => ({
    ...(s.id ? { id: s.id } : {}),
    name: name.value.trim(), icon: s.icon || "", confidence: conf.value,
    description: desc.value, content: content.value, topics: topics(tops.value),
    public: isPublic.input.checked
      ? { name: pName.value.trim(), description: pDesc.value, content: pContent.value, topics: topics(pTops.value) }
      : null,
  });
  return el;
}

export async function twinView(session) {
  const [me, shadesRes] = await Promise.all([get("/api/user/info"), get("/api/user/shades")]);
  session.me = me;
  const shades = items(shadesRes, "shades");

  const nickname = h("input", { value: me.nickname || "", maxlength: 64, required: true, dataset: { field: "nickname" } });
  const bio = h("textarea", { rows: 3, maxlength: 1000, dataset: { field: "bio" } }, me.bio || "");
  const disc = switchField("Discoverable — others can find me and I get matches", me.discoverable);
  const chat = switchField("Others may talk to my twin", me.allowTwinChat);
  const profileForm = h("form", {
    class: "card",
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
        showFieldErrors(profileForm, err);
        toast(err.message);
      }
    },
  },
    h("h2", {}, "Profile"),
    field("Nickname", nickname), field("Bio", bio), disc.el, chat.el,
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Save profile")));

  const list = h("ol", { class: "shades" });
  const remove = (el) => el.remove();
  const add = (s) => list.appendChild(shadeEditor(s, list.children.length, remove));
  shades.forEach(add);
  const shadesStatus = h("div", {}, shades.length ? null : state("No shades yet. Add one, or sync from SecondMe.", "empty"));
  const shadesForm = h("form", {
    class: "card",
    onsubmit: async (e) => {
      e.preventDefault();
      const body = { shades: Array.from(list.children, (li) => li.read()) };
      try {
        const res = await put("/api/user/shades", body);
        replace(list);
        items(res, "shades").forEach(add);
        replace(shadesStatus);
        showFieldErrors(shadesForm, null);
        toast("Shades saved. Your matches will be recomputed.");
      } catch (err) {
        showFieldErrors(shadesForm, err);
        toast(err.message);
      }
    },
  },
    h("h2", {}, "Shades"),
    h("p", {}, "Shades are the facets of your personality. Each one is private to your own twin unless you give it a public version."),
    shadesStatus, list,
    h("div", { class: "buttons" },
      h("button", { type: "button", onclick: () => { replace(shadesStatus); add(null); } }, "Add shade"),
      h("button", { type: "submit", class: "primary" }, "Save shades")));

  const syncBtn = h("button", {
    type: "button",
    onclick: async () => {
      syncBtn.disabled = true;
      try {
        await post("/api/user/sync");
        toast("Synced from SecondMe.");
        location.reload();
      } catch (err) {
        toast(err.message);
      } finally {
        syncBtn.disabled = false;
      }
    },
  }, "Sync from SecondMe");

  return h("section", { class: "twin" },
    h("h1", {}, "My twin"),
    h("p", { class: "lead" }, `Signed in as ${me.nickname} (${me.provider || "account"}).`),
    profileForm, shadesForm,
    me.provider === "secondme" && h("div", { class: "card" }, h("h2", {}, "SecondMe"), h("p", {}, "Re-import your profile, shades and key memories."), syncBtn));
}
