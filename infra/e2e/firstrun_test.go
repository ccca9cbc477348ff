package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserFirstRunLocal walks a brand-new person on `make run` from signing up to their first
// match: the sign-in error of a cancelled attempt, the first-run guide, a shade whose missing name is
// shown next to its field, a public version, meeting their twin (a typing indicator, then a streamed
// reply; the chat is titled by its first message), becoming discoverable and opening their first
// match. On the way it checks the twin page's height with six shades, the pages of unknown addresses,
// and audits each view with axe-core.
func TestBrowserFirstRunLocal(t *testing.T) {
	needChromium(t)
	needAxe(t)
	base := sharedStackURL(t, "local")
	b := newBrowser(t, base)

	// A cancelled sign-in says so, in words.
	b.do("come back from a cancelled sign-in", chromedp.Navigate(base+"/?error=access_denied"))
	b.waitTrue("the sign-in error shows", `document.querySelector(".signin .state.error")`, 15*time.Second)
	var msg string
	b.eval(`document.querySelector(".signin .state.error").textContent`, &msg)
	if !strings.Contains(msg, "cancelled") {
		t.Errorf("after ?error=access_denied the sign-in view says %q, want that signing in was cancelled", msg)
	}
	var oidcButtons int
	b.eval(`document.querySelectorAll('.signin a.button[href*="provider=oidc"]').length`, &oidcButtons)
	if oidcButtons != 0 {
		t.Errorf("the local sign-in offers %d buttons that sign in as nobody in particular, want none (personas and new person only)", oidcButtons)
	}
	b.shot("signin-error")
	b.audit("sign-in with an error")

	// Sign up: the first-run guide, with nothing done and no mention of SecondMe's import.
	b.do("sign up", chromedp.SendKeys(chromedp.ID("new-nick"), "Robin Park"), chromedp.Click(chromedp.CSS(".new-person button[type=submit]")))
	b.waitTrue("the first-run guide", `location.hash === "#/start" && document.querySelectorAll(".steps .step").length === 5`, 20*time.Second)
	var done int
	b.eval(`document.querySelectorAll(".steps .step.done").length`, &done)
	if done != 0 {
		t.Errorf("a new person's guide shows %d steps done, want 0", done)
	}
	var secondMe bool
	b.eval(`document.body.innerText.includes("SecondMe")`, &secondMe)
	if secondMe {
		t.Error("the guide of a person who signed in with OpenID Connect mentions SecondMe")
	}
	b.shot("start")
	b.audit("first-run guide")

	// Add a shade: saving without a name shows why next to the field.
	b.do("add a shade", chromedp.Click(chromedp.CSS(".steps .step a.button.primary")))
	b.waitTrue("the shade editor opens", `document.querySelector("dialog.shade-editor[open]")`, 15*time.Second)
	b.do("save it empty", chromedp.Click(chromedp.CSS(".shade-editor button[type=submit]")))
	b.waitTrue("the name's error shows beside it", `document.querySelector('.shade-editor [data-field="shades[0].name"][aria-invalid="true"] + .field-error')`, 10*time.Second)
	b.eval(`document.querySelector(".shade-editor .field-error").textContent`, &msg)
	if strings.Contains(msg, "shades[0]") || !strings.Contains(strings.ToLower(msg), "name") {
		t.Errorf("the field error says %q, want words naming the name, not the API's field path", msg)
	}
	b.shot("shade-error")
	b.audit("shade editor with an error")
	fill := func(field, value string) {
		b.eval(fmt.Sprintf(`(() => { const e = document.querySelector('.shade-editor [data-field="shades[0].%s"]'); e.value = %s; })()`, field, jsString(value)), nil)
	}
	fill("name", "Trail runner")
	fill("description", "Runs mountain trails before work.")
	fill("topics", "running, mountains, coffee")
	b.do("give it a public version", chromedp.Click(chromedp.ID("shade-public")))
	fill("public.name", "Runner")
	fill("public.description", "Runs in the mountains.")
	fill("public.topics", "running, outdoors")
	b.shot("shade-editor")
	b.do("save the shade", chromedp.Click(chromedp.CSS(".shade-editor button[type=submit]")))
	b.waitTrue("the shade is listed as public", `!document.querySelector("dialog.shade-editor[open]") && document.querySelector(".shade .badge.pub")`, 10*time.Second)

	// Six shades fit in two screens at both widths.
	var status int
	b.eval(`fetch("/api/user/shades").then(r => r.json()).then(d => {
		const more = ["Night owl", "Home baker", "Chess player", "Podcast listener", "Volunteer"].map(n => ({
			name: n, confidence: "MEDIUM", description: "Something about " + n.toLowerCase() + ".", content: "",
			topics: [n.split(" ")[0].toLowerCase(), "weekends", "friends"], public: null}));
		return fetch("/api/user/shades", {method: "PUT", headers: {"Content-Type": "application/json"},
			body: JSON.stringify({shades: d.shades.concat(more)})}).then(r => r.status);
	})`, &status)
	if status != 200 {
		t.Fatalf("PUT six shades = %d", status)
	}
	b.open("#/account", `document.querySelector(".account")`)
	b.open("#/twin", `document.querySelectorAll(".shade").length === 6`)
	b.withinScreens("my twin with 6 shades", 2, 390, 1280)
	b.audit("my twin")
	b.shotDark("twin")

	// Meet one's twin: a typing indicator until the first word, then the reply streams.
	b.open("#/start", `document.querySelectorAll(".steps .step.done").length === 2`)
	b.do("meet my twin", chromedp.Click(chromedp.CSS(`.steps a[href="#/chats/new"]`)))
	b.waitTrue("the conversation opens", `document.getElementById("composer")`, 15*time.Second)
	b.resize(390, 844)
	seen := b.sendAndShoot("Hello! What would you tell a stranger about me?")
	var typing bool
	b.eval(`window.__typing`, &typing)
	if !typing {
		t.Error("no typing indicator showed before the reply's first word")
	}
	if len(seen) < 3 {
		t.Errorf("the reply showed %d distinct texts while it arrived, want >= 3", len(seen))
	}
	b.resize(1280, 900)
	var hash string
	b.eval(`location.hash`, &hash)
	if !strings.HasPrefix(hash, "#/chats/") || hash == "#/chats/new" {
		t.Errorf("after the first message the address is %q, want the new chat's", hash)
	}
	b.open("#/chats", `document.querySelector(".sessions .session strong")`)
	var title string
	b.eval(`document.querySelector(".sessions .session strong").textContent`, &title)
	if title != "Hello! What would you tell a stranger about me?" {
		t.Errorf("the new chat is titled %q, want its first message", title)
	}
	b.do("open the chat again", chromedp.Click(chromedp.CSS(".sessions .session")))
	b.waitTrue("the conversation with its history", `document.querySelectorAll(".msg.twin").length === 1`, 15*time.Second)
	var notes int
	b.eval(`document.querySelectorAll(".offline-note:not([hidden])").length`, &notes)
	if notes != 1 {
		t.Errorf("a conversation with the offline model shows %d offline notes, want 1", notes)
	}

	// Become discoverable, then the first match appears.
	b.open("#/start", `document.getElementById("become-discoverable")`)
	b.do("become discoverable", chromedp.Click(chromedp.ID("become-discoverable")))
	b.waitTrue("on the matches", `location.hash === "#/matches"`, 15*time.Second)
	deadline := time.Now().Add(45 * time.Second)
	for {
		b.open("#/matches", `document.querySelector(".matches, .state.empty")`)
		var n int
		b.eval(`document.querySelectorAll(".matches .match").length`, &n)
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a new discoverable person with a public shade got no match within 45s")
		}
		b.open("#/account", `document.querySelector(".account")`)
		time.Sleep(time.Second)
	}
	var other string
	b.eval(`document.querySelector(".matches .match h2 a").getAttribute("href").split("/").pop()`, &other)
	b.open("#/matches/"+other, `document.querySelector(".match-detail .score")`)

	// A match whose twin is closed is not offered for chat.
	var closed struct{ ID, Name string }
	b.eval(`fetch("/local/personas").then(r => r.json()).then(ps => ps.find(p => p.nickname === "Felix Wagner")).then(p => ({ID: p.id, Name: p.nickname}))`, &closed)
	b.open("#/chats/new/"+closed.ID, `document.querySelector(".problem h1")`)
	b.eval(`document.querySelector(".problem h1").textContent`, &msg)
	if !strings.Contains(msg, "not open for chats") || b.has(`#composer`) {
		t.Errorf("a chat with %s's closed twin shows %q (composer: %v), want it not offered", closed.Name, msg, b.has(`#composer`))
	}

	// A match that is not there: a heading, in words, and a way back.
	b.open("#/matches/01M8A4R3N6B800PQTM8RN81YH8", `document.querySelector(".problem h1")`)
	b.eval(`document.querySelector(".problem h1").textContent + " | " + document.querySelector(".problem a.button").getAttribute("href")`, &msg)
	if msg != "This match is not here | #/matches" {
		t.Errorf("a missing match shows %q, want a heading and a way back to the matches", msg)
	}
	b.shot("match-missing")

	// The words of errors: the API's codes and field paths become sentences.
	var words []string
	b.eval(`(async () => {
		const base = document.querySelector('script[type="module"]').src.replace(/app\.js$/, "");
		const { ApiError } = await import(base + "api.js");
		const { explain, fieldMessage } = await import(base + "errors.js");
		const err = (status, code, retryAfter) => new ApiError(status, { error: { code, message: "raw " + code } }, retryAfter);
		return [
			fieldMessage("shades[3].public.name", "required"),
			fieldMessage("bio", "at most 1000 characters"),
			explain(new ApiError(400, { error: { code: "invalid_argument", message: "invalid fields: nickname (required)", fields: { nickname: "required" } } }), "save your profile"),
			explain(err(403, "permission_denied"), "get a reply", "Felix"),
			explain(err(429, "rate_limited", "86400"), "get a reply"),
			explain(err(500, "internal"), "save your profile"),
		];
	})()`, &words)
	want := []string{
		"The public name is needed.",
		"Your bio is too long: keep it to 1,000 characters.", // numbers go through Intl.NumberFormat
		"Your name is needed.",
		"Felix is not taking chats with their twin right now.",
		"You have reached today's limit. Try again tomorrow.",
		"Something went wrong on our side, so we could not save your profile. Try again in a moment.",
	}
	if strings.Join(words, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors in words:\n got %q\nwant %q", words, want)
	}

	// Unknown addresses: the client's own page, and the server's HTML 404.
	b.open("#/nowhere", `document.querySelector(".problem h1")`)
	b.audit("unknown view")
	b.do("an unknown path", chromedp.Navigate(base+"/nope"))
	b.waitTrue("the 404 page", `document.querySelector("h1") && document.querySelector("h1").textContent.includes("does not exist")`, 10*time.Second)
	b.shot("not-found")
	b.audit("404 page")
	b.noAlerts()
	t.Log(b.audits.summary())
}

// has reports whether the page holds an element matching a CSS selector.
func (b *browser) has(selector string) bool {
	b.tb.Helper()
	var ok bool
	b.eval(fmt.Sprintf(`!!document.querySelector(%s)`, jsString(selector)), &ok)
	return ok
}

// sendAndShoot sends a message like send, and saves a screenshot at the current width while the
// reply is midway through streaming.
func (b *browser) sendAndShoot(text string) []string {
	b.tb.Helper()
	var w int64
	b.eval(`window.innerWidth`, &w)
	before := b.typeMessage(text)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		b.eval(`(() => { const m = document.querySelector(".msg.twin.streaming .text"); return m ? m.textContent.length : 0; })()`, &n)
		if n > 40 {
			b.shotNow("conversation-streaming", w)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return b.waitReply(before)
}
