package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/secondme/twin/infra/testenv"
)

// xss is text that would run script if any view parsed it as HTML.
const xss = `<img src=x onerror=alert(1)>`

// browser is one headless Chromium tab, with the dialogs it saw.
type browser struct {
	tb     testing.TB
	ctx    context.Context
	base   string
	mu     sync.Mutex
	alerts []string
	audits *auditLog
}

// chromiumPath finds Chromium: CHROMIUM (a path or a command name; "none" means there is none, to
// try the suite without it), else Debian's /usr/bin/chromium or chromium-browser.
func chromiumPath() string {
	if os.Getenv("CHROMIUM") == "none" {
		return ""
	}
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := exec.LookPath(p); err == nil {
				return p
			}
		}
	}
	return ""
}

// needChromium stops the test before any stack starts when Chromium is missing.
func needChromium(tb testing.TB) {
	tb.Helper()
	testenv.Need(tb, chromiumPath() != "", "chromium (apt-get install -y chromium)")
}

// newBrowser starts headless Chromium with the flags this machine needs (no sandbox as root, no
// background networking) and accepts confirm dialogs, recording any alert: an alert means script ran.
func newBrowser(tb testing.TB, base string) *browser {
	tb.Helper()
	needChromium(tb)
	exe := chromiumPath()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(tb.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	tb.Cleanup(func() { cancelC(); cancelA() })
	b := &browser{tb: tb, ctx: ctx, base: base}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	go func() {
		for ev, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			if ev.Type == page.DialogTypeAlert {
				b.mu.Lock()
				b.alerts = append(b.alerts, ev.Message)
				b.mu.Unlock()
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return b
}

// do runs actions with a deadline and fails the test on error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.tb.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) into v.
func (b *browser) eval(expr string, v any) {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.tb.Fatalf("evaluate %s: %v", expr, err)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			b.tb.Fatalf("evaluate %s: result %s: %v", expr, raw, err)
		}
	}
}

// waitTrue polls a JavaScript condition until it is true.
func (b *browser) waitTrue(what, cond string, timeout time.Duration) {
	b.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		b.eval("(() => { try { return !!("+cond+"); } catch (e) { return false; } })()", &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var text string
			b.eval(`document.body.innerText`, &text)
			b.tb.Fatalf("%s: not true within %s: %s\npage text:\n%s", what, timeout, cond, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// open shows a view by its hash and waits until the view has rendered (no loading state).
func (b *browser) open(hash, ready string) {
	b.tb.Helper()
	b.eval(fmt.Sprintf(`location.hash = %q`, hash), nil)
	b.waitTrue("open "+hash, ready, 15*time.Second)
}

// fetchStatus calls the API from the page (same origin, with its cookie) and returns the status.
func (b *browser) fetchStatus(method, path string) int {
	b.tb.Helper()
	var status int
	b.eval(fmt.Sprintf(`fetch(%q, {method: %q}).then(r => r.status)`, path, method), &status)
	return status
}

// shot saves a screenshot of the current view at phone and desktop widths when SCREENSHOT_DIR is set.
func (b *browser) shot(name string) {
	b.tb.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	for _, w := range []int64{390, 1280} {
		h := int64(900)
		if w == 390 {
			h = 844
		}
		b.do("resize", chromedp.EmulateViewport(w, h))
		time.Sleep(150 * time.Millisecond)
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		cancel()
		if err != nil {
			b.tb.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, w)), png, 0o644); err != nil {
			b.tb.Fatal(err)
		}
	}
	b.do("resize back", chromedp.EmulateViewport(1280, 900))
}

func (b *browser) noAlerts() {
	b.tb.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.alerts) > 0 {
		b.tb.Fatalf("script ran: alert(s) %q", b.alerts)
	}
}

// send types a message into the conversation and returns the texts the twin's reply showed while it
// streamed, ending with the final text. The page itself records each text the reply shows (a
// MutationObserver), so what counts is what a person saw, however slowly the test polls.
func (b *browser) send(text string) []string {
	b.tb.Helper()
	return b.waitReply(b.typeMessage(text))
}

// typeMessage sends a message and returns how many replies the conversation held before it.
func (b *browser) typeMessage(text string) int {
	b.tb.Helper()
	var before int
	b.eval(`document.querySelectorAll(".msg.twin").length`, &before)
	b.eval(`(() => {
		window.__seen = [];
		window.__typing = false;
		const log = document.querySelector(".messages");
		new MutationObserver(() => {
			const m = log.querySelectorAll(".msg.twin");
			if (m.length <= `+fmt.Sprint(before)+`) return;
			const t = m[m.length - 1].querySelector(".text").textContent;
			if (!t && m[m.length - 1].querySelector(".typing")) window.__typing = true;
			if (t && window.__seen[window.__seen.length - 1] !== t) window.__seen.push(t);
		}).observe(log, {childList: true, subtree: true, characterData: true});
	})()`, nil)
	b.do("type a message", chromedp.SendKeys(chromedp.ID("composer"), text), chromedp.Click(chromedp.CSS(".composer button[type=submit]")))
	return before
}

// waitReply waits for the reply after before replies to finish and returns the texts it showed.
func (b *browser) waitReply(before int) []string {
	b.tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var st struct {
			Count     int      `json:"count"`
			Streaming bool     `json:"streaming"`
			Failed    string   `json:"failed"`
			Seen      []string `json:"seen"`
		}
		b.eval(`(() => { const m = [...document.querySelectorAll(".msg.twin")]; const last = m[m.length-1];
			const f = document.querySelector(".turn-status .error");
			return {count: m.length, streaming: !!(last && last.classList.contains("streaming")),
			        failed: f ? f.textContent : "", seen: window.__seen}; })()`, &st)
		if st.Failed != "" {
			b.tb.Fatalf("the turn failed: %s", st.Failed)
		}
		if st.Count > before && !st.Streaming && len(st.Seen) > 0 {
			return st.Seen
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.tb.Fatal("no finished reply within 30s")
	return nil
}

// TestBrowserJourneyLocal walks the whole product on `make run`.
func TestBrowserJourneyLocal(t *testing.T) { browserJourney(t, "local") }

// TestBrowserJourneyGateway walks the whole product on `make gateway`: the function binaries as
// template.yaml wires them, behind one public origin.
func TestBrowserJourneyGateway(t *testing.T) { browserJourney(t, "gateway") }

// browserJourney walks the whole product as a person would: sign in as a demo persona, chat with
// one's own twin (the reply visibly streams), read a match's evidence, chat with the match's twin,
// block someone, export, then delete the account.
//
// On `make run` each view is also audited with axe-core (the client is the same on both stacks).
func browserJourney(t *testing.T, stack string) {
	needChromium(t)
	audit := func(*browser, string) {}
	if stack == "local" {
		needAxe(t)
		audit = (*browser).audit
	}
	var base string
	if stack == "local" {
		base = sharedStackURL(t, stack)
	} else {
		base = startStack(t, stack)
	}
	b := newBrowser(t, base)
	if dir := os.Getenv("SCREENSHOT_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// 1. Sign in as a demo persona.
	b.do("open the client", chromedp.Navigate(base+"/"))
	b.waitTrue("the sign-in view lists the personas", `document.querySelectorAll(".persona-list a").length >= 12`, 15*time.Second)
	b.shot("signin")
	audit(b, "sign-in")
	var persona struct{ ID, Name string }
	b.eval(`(() => { const a = document.querySelector(".persona-list a"); return {ID: a.dataset.persona, Name: a.textContent}; })()`, &persona)
	b.do("choose a persona", chromedp.Click(chromedp.CSS(".persona-list a")))
	b.waitTrue("signed in", `!document.getElementById("nav").hidden`, 20*time.Second)

	// 2. Chat with one's own twin; the reply streams in.
	b.open("#/chats", `document.querySelector("h1") && document.querySelector("h1").textContent === "Chats"`)
	b.shot("chats-empty")
	audit(b, "chats, none yet")
	b.do("start a chat with my twin", chromedp.Click(chromedp.CSS(`a[href="#/chats/new"]`)))
	b.waitTrue("the conversation opens", `document.getElementById("composer")`, 15*time.Second)
	seen := b.send("What do you love doing on weekends?")
	if len(seen) < 3 {
		t.Errorf("the reply showed %d distinct texts while it arrived, want it to grow visibly (>= 3): %q", len(seen), seen)
	}
	for i := 1; i < len(seen); i++ {
		if !strings.HasPrefix(seen[i], seen[i-1]) {
			t.Errorf("streamed text did not grow by appending: %q then %q", seen[i-1], seen[i])
		}
	}
	b.shot("conversation")
	b.shotDark("conversation")
	audit(b, "conversation")
	b.open("#/chats", `document.querySelector(".sessions .session .last")`)
	var title string
	b.eval(`document.querySelector(".sessions .session strong").textContent`, &title)
	if title != "What do you love doing on weekends?" {
		t.Errorf("the chat is titled %q, want its first message", title)
	}
	b.shot("chats")
	audit(b, "chats")
	b.open("#/twin", `document.querySelector(".twin .shade .edit")`)
	b.shot("twin")
	audit(b, "my twin")

	// 3. Matches, computed in the background after sign-in; read one's evidence.
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.open("#/matches", `document.querySelector(".matches, .state.empty")`)
		var n int
		b.eval(`document.querySelectorAll(".matches .match").length`, &n)
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no matches appeared within 30s of signing in")
		}
		time.Sleep(time.Second)
	}
	b.shot("matches")
	b.shotDark("matches")
	audit(b, "matches")
	if stack == "local" {
		var n int
		b.eval(`document.querySelectorAll(".matches .match").length`, &n)
		if n < 10 {
			t.Errorf("%d matches listed, want at least 10 to check the phone budget", n)
		}
		b.withinScreens(fmt.Sprintf("matches (%d)", n), 4, 390)
	}
	var other string
	b.eval(`document.querySelector(".matches .match h2 a").getAttribute("href").split("/").pop()`, &other)
	b.open("#/matches/"+other, `document.querySelector(".match-detail .score")`)
	var lines int
	b.eval(`document.querySelectorAll(".transcript li").length`, &lines)
	if lines < 2 {
		t.Errorf("the evidence shows %d lines of the twins' conversation, want >= 2", lines)
	}
	b.shot("match")
	audit(b, "one match")

	// 4. Chat with the match's twin.
	b.do("talk to their twin", chromedp.Click(chromedp.CSS(".match-detail button.primary")))
	b.waitTrue("the conversation with their twin opens", `document.getElementById("composer") && location.hash.startsWith("#/chats/")`, 15*time.Second)
	if got := b.send("Hi! What are you into?"); len(got) == 0 {
		t.Error("their twin did not answer")
	}

	// 5. Block them: the match is gone and their twin is no longer reachable.
	b.open("#/matches/"+other, `document.querySelector(".match-detail button.danger")`)
	b.do("block", chromedp.Click(chromedp.CSS(".match-detail button.danger")))
	b.waitTrue("back on the matches list", `location.hash === "#/matches"`, 15*time.Second)
	if status := b.fetchStatus("GET", "/api/matches/"+other); status != 404 {
		t.Errorf("GET /api/matches/{blocked} = %d, want 404", status)
	}

	// 6. Export, then delete the account.
	b.open("#/account", `document.querySelector(".account")`)
	b.shot("account")
	audit(b, "account")
	b.do("export", chromedp.Click(chromedp.CSS(".account .card button")))
	b.waitTrue("the export is ready", `document.getElementById("export-link") && document.getElementById("export-link").href.includes("/api/user/export/")`, 15*time.Second)
	var archiveType string
	b.eval(`fetch(document.getElementById("export-link").href).then(r => r.headers.get("Content-Type"))`, &archiveType)
	if archiveType != "application/zip" {
		t.Errorf("the export link answers %q, want the archive (application/zip)", archiveType)
	}
	var exported string
	b.eval(`fetch("/api/user/export").then(r => r.text())`, &exported)
	if !strings.Contains(exported, persona.ID) {
		t.Errorf("the export does not hold the person's id %s", persona.ID)
	}
	b.do("confirm deletion", chromedp.SendKeys(chromedp.ID("confirm-delete"), "DELETE"), chromedp.Click(chromedp.CSS(".danger-zone button[type=submit]")))
	b.waitTrue("signed out after deletion", `document.querySelector(".signin")`, 15*time.Second)
	if status := b.fetchStatus("GET", "/api/user/info"); status != 401 {
		t.Errorf("after deletion GET /api/user/info = %d, want 401", status)
	}
	if status := b.fetchStatus("GET", "/api/users/"+persona.ID); status != 404 {
		t.Errorf("after deletion the public profile answers %d, want 404", status)
	}
	b.noAlerts()
	if b.audits != nil {
		t.Log(b.audits.summary())
	}
}

// TestBrowserMarkupLocal puts markup into a nickname, a shade and a message, and checks that every
// view shows it as text and that no script runs.
func TestBrowserMarkupLocal(t *testing.T) {
	needChromium(t)
	base := sharedStackURL(t, "local")
	b := newBrowser(t, base)
	b.do("open the client", chromedp.Navigate(base+"/"))
	b.waitTrue("the sign-in view", `document.getElementById("new-nick")`, 15*time.Second)
	b.do("sign up", chromedp.SendKeys(chromedp.ID("new-nick"), "Mallory"), chromedp.Click(chromedp.CSS(".new-person button[type=submit]")))
	b.waitTrue("signed in", `!document.getElementById("nav").hidden`, 20*time.Second)

	b.open("#/twin", `document.querySelector(".twin .shades")`)
	b.eval(`(() => { const n = document.querySelector('[data-field="nickname"]'); n.value = `+jsString(xss)+`; })()`, nil)
	b.do("save the profile", chromedp.Click(chromedp.CSS(".twin form button[type=submit]")))
	b.waitTrue("profile saved", `document.getElementById("toast").textContent.includes("saved")`, 10*time.Second)
	b.do("add a shade", chromedp.Click(chromedp.ID("add-shade")))
	b.waitTrue("the shade editor opens", `document.querySelector("dialog.shade-editor[open]")`, 10*time.Second)
	b.eval(`(() => { const s = document.querySelector('.shade-editor [data-field="shades[0].name"]'); s.value = `+jsString(xss)+`; })()`, nil)
	b.do("save the shade", chromedp.Click(chromedp.CSS(".shade-editor button[type=submit]")))
	b.waitTrue("shade saved", `document.getElementById("toast").textContent.includes("Shade saved")`, 10*time.Second)
	b.open("#/account", `document.querySelector(".account h2")`)
	var shown string
	b.eval(`document.querySelector(".account .profile-head h2").textContent`, &shown)
	if shown != xss {
		t.Errorf("the account shows the name %q, want the markup %q as text", shown, xss)
	}
	b.open("#/twin", `document.querySelector(".shade .name")`)
	b.eval(`document.querySelector(".shade .name").textContent`, &shown)
	if shown != xss {
		t.Errorf("the shade list shows %q, want the markup %q as text", shown, xss)
	}

	b.open("#/chats", `document.querySelector('a[href="#/chats/new"]')`)
	b.do("start a chat", chromedp.Click(chromedp.CSS(`a[href="#/chats/new"]`)))
	b.waitTrue("the conversation opens", `document.getElementById("composer")`, 15*time.Second)
	b.send(xss)
	b.eval(`document.querySelector(".msg.user .text").textContent`, &shown)
	if shown != xss {
		t.Errorf("the message shows %q, want %q as text", shown, xss)
	}
	var imgs int
	b.eval(`document.querySelectorAll("main img:not(.avatar-img)").length`, &imgs)
	if imgs != 0 {
		t.Errorf("the page holds %d <img> elements, want none: markup was parsed", imgs)
	}
	b.open("#/chats", `document.querySelector(".sessions .session .last")`)
	time.Sleep(300 * time.Millisecond) // give a parsed onerror handler time to fire, if there were one
	b.noAlerts()
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
