// start.js is the first-run guide: add or import shades, choose what is public, meet one's twin,
// become discoverable, see matches. Each step shows whether it is done, from the person's own data.
import { get, patch, post, items } from "./api.js";
import { h, replace, toast } from "./dom.js";
import { explain, inlineError } from "./errors.js";

/** firstRunDone reports whether a person has shades, one of them public, and is discoverable. */
export async function firstRunDone(session) {
  const shades = items(await get("/api/user/shades"), "shades");
  return shades.length > 0 && shades.some((s) => s.public) && !!(session.me && session.me.discoverable);
}

function step(done, title, text, ...actions) {
  return h("li", { class: "step" + (done ? " done" : "") },
    h("div", {},
      h("h2", {}, title, done && h("span", { class: "sr-only" }, " (done)")),
      h("p", {}, text)),
    actions.length > 0 && h("div", { class: "buttons" }, actions));
}

export async function startView(session) {
  const [me, shadesRes, sessionsRes, matchesRes] = await Promise.all([
    get("/api/user/info"), get("/api/user/shades"), get("/api/sessions?limit=1"), get("/api/matches?limit=1")]);
  session.me = me;
  const shades = items(shadesRes, "shades");
  const hasShades = shades.length > 0;
  const hasPublic = shades.some((s) => s.public);
  const talked = items(sessionsRes, "sessions").length > 0;
  const matched = items(matchesRes, "matches").length > 0;

  const discError = inlineError();
  const discBtn = h("button", {
    type: "button", class: "primary", id: "become-discoverable",
    onclick: async () => {
      discBtn.disabled = true;
      replace(discError);
      try {
        session.me = await patch("/api/user/info", { discoverable: true });
        toast("You are discoverable. Your matches are being computed.");
        location.hash = "#/matches";
      } catch (err) {
        replace(discError, explain(err, "make you discoverable"));
        discBtn.disabled = false;
      }
    },
  }, "Make me discoverable");

  const syncError = inlineError();
  const syncBtn = me.provider === "secondme" && h("button", {
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
        syncBtn.disabled = false;
      }
    },
  }, "Import from SecondMe");

  const steps = [
    step(hasShades, "Add your shades",
      "Shades are the sides of you your twin speaks from: what you do, what you love, how you think.",
      h("a", { class: "button" + (hasShades ? "" : " primary"), href: "#/twin", onclick: () => { session.next = hasShades ? "" : "add-shade"; } },
        hasShades ? "See my shades" : "Add a shade"),
      syncBtn, syncError),
    step(hasPublic, "Choose what others may see",
      "Every shade is private to your own twin until you give it a public version. Matching only reads public versions.",
      h("a", { class: "button", href: "#/twin" }, "Choose on My twin")),
    step(talked, "Meet your twin",
      "Ask your twin anything: it answers the way you would, from your shades.",
      h("a", { class: "button", href: "#/chats/new" }, "Talk to my twin")),
    step(!!me.discoverable, "Become discoverable",
      "Let other people find you, so that your twin can meet theirs. You can turn this off at any time on My twin.",
      !me.discoverable && discBtn, discError),
    step(matched, "See your matches",
      "Within minutes of being discoverable with a public shade, the people whose twins get along with yours appear here.",
      h("a", { class: "button", href: "#/matches" }, "See my matches")),
  ];
  const left = [hasShades, hasPublic, talked, !!me.discoverable, matched].filter((x) => !x).length;
  return h("section", { class: "start" },
    h("h1", {}, left ? `Welcome, ${me.nickname}` : "You are all set"),
    h("p", { class: "lead" }, left
      ? `${left} of 5 steps to go before your twin meets the twins of people who might fit you.`
      : "Your twin is out there meeting people. Come back to your matches and chats any time."),
    h("ol", { class: "steps" }, steps));
}
