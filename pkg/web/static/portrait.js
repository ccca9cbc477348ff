// portrait.js is the "Portrait" card of My twin: it asks for a portrait of one's twin in a chosen
// style (POST /api/user/avatar), follows the job (GET /api/user/avatar) until it is done or failed,
// and then shows the new picture wherever the person appears (docs/avatars.md). It also keeps the
// signed-in person's small avatar in the header's Account link.
import { get, post } from "./api.js";
import { h, replace, avatar } from "./dom.js";
import { explain, inlineError } from "./errors.js";
import { t } from "./i18n.js";

/** styles are the portrait styles the API accepts (avatar.Styles), in the order offered, named. */
function styles() {
  return [["illustration", t("portrait.style.illustration")], ["watercolour", t("portrait.style.watercolour")],
    ["pixel", t("portrait.style.pixel")], ["clay", t("portrait.style.clay")], ["ink", t("portrait.style.ink")]];
}

/** pollEvery is how often a running job is asked about; pollFor is when the card stops asking. */
const pollEvery = 1000;
const pollFor = 3 * 60 * 1000;

/** failedText says why a job failed (its reasonCode), in the reader's language. */
function failedText(state) {
  const reasons = {
    unsafe: () => t("portrait.failed.unsafe"), refused: () => t("portrait.failed.refused"),
    unavailable: () => t("portrait.failed.unavailable"), bad_image: () => t("portrait.failed.bad_image"),
    not_queued: () => t("portrait.failed.not_queued"),
  };
  return (reasons[state.reasonCode] || (() => t("portrait.failed")))();
}

/** busyText says where a job that has not finished is. */
function busyText(status) {
  return status === "queued" ? t("portrait.queued") : t("portrait.running");
}

/** headerAvatar shows me's avatar in the header's Account link (initials when they have no picture). */
export function headerAvatar(me) {
  const link = document.querySelector('#nav a[data-view="account"]');
  if (!link) return;
  const old = link.querySelector(".avatar");
  if (old) old.remove();
  if (me) link.prepend(avatar(me, "xs"));
}

/**
 * portraitCard is the card on My twin. onChange(url) runs when a new portrait is the person's avatar,
 * after session.me has it.
 */
export function portraitCard(session, onChange) {
  const picture = h("div", { class: "portrait-picture" });
  const drawPicture = () => replace(picture, avatar(session.me, "xl", t("portrait.alt", { name: session.me.nickname || "" })));
  drawPicture();
  const select = h("select", { id: "portrait-style" },
    styles().map(([value, name]) => h("option", { value }, name)));
  const status = h("p", { class: "muted portrait-status", role: "status", "aria-live": "polite" });
  const error = inlineError();
  let timer = 0;
  let until = 0;

  const show = (state) => {
    const busy = state.status === "queued" || state.status === "running";
    button.disabled = busy;
    button.setAttribute("aria-busy", busy ? "true" : "false");
    status.textContent = busy ? busyText(state.status) : state.status === "failed" ? failedText(state) : "";
    status.classList.toggle("error", state.status === "failed");
    return busy;
  };

  const follow = async () => {
    clearTimeout(timer);
    let state;
    try {
      state = await get("/api/user/avatar");
    } catch (err) {
      replace(error, explain(err, t("act.generatePortrait")));
      button.disabled = false;
      return;
    }
    const busy = show(state);
    if (state.status === "done" && state.url && state.url !== session.me.avatar) {
      session.me = { ...session.me, avatar: state.url };
      drawPicture();
      headerAvatar(session.me);
      status.textContent = t("portrait.done");
      if (onChange) onChange(state.url);
    }
    if (busy && Date.now() < until && picture.isConnected) timer = setTimeout(follow, pollEvery);
  };

  const button = h("button", {
    type: "button", class: "primary", id: "generate-portrait",
    onclick: async () => {
      replace(error);
      button.disabled = true;
      try {
        show(await post("/api/user/avatar", { style: select.value }));
        until = Date.now() + pollFor;
        timer = setTimeout(follow, pollEvery);
      } catch (err) {
        button.disabled = false;
        replace(error, explain(err, t("act.generatePortrait")));
      }
    },
  }, t("portrait.generate"));

  // A job started earlier (another tab, a reload) is followed too.
  get("/api/user/avatar").then((state) => {
    if (show(state)) {
      until = Date.now() + pollFor;
      timer = setTimeout(follow, pollEvery);
    }
  }).catch(() => { /* the button still works */ });

  return h("section", { class: "card portrait", "aria-labelledby": "portrait-h" },
    h("h2", { id: "portrait-h" }, t("portrait.title")),
    h("div", { class: "portrait-body" }, picture,
      h("div", {},
        h("p", { class: "muted" }, t("portrait.text")),
        h("div", { class: "field" }, h("label", { for: "portrait-style" }, t("portrait.style")), select),
        h("div", { class: "buttons" }, button),
        status, error)));
}
