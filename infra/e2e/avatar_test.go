package e2e_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAvatarLocal is the portrait journey on `make run` (offline: no Runware key): a demo
// persona makes a portrait of their twin on My twin, sees it there and in the header, and the person
// they match best then sees it on that persona's match card and match page, served from /media/.
func TestBrowserAvatarLocal(t *testing.T) {
	needChromium(t)
	base := sharedStackURL(t, "local")
	b := newBrowser(t, base)
	signIn := func(id string) {
		b.do("sign in as "+id, chromedp.Navigate(base+"/api/auth/login?provider=oidc&returnTo=%2F&login_hint="+url.QueryEscape(id)))
		b.waitTrue("signed in", `!document.getElementById("nav").hidden`, 20*time.Second)
	}

	// The last demo persona, whose portrait the other tests' first persona does not depend on.
	b.do("open the client", chromedp.Navigate(base+"/"))
	var personas []struct{ ID, Nickname string }
	b.eval(`fetch("/local/personas").then(r => r.json())`, &personas)
	if len(personas) < 2 {
		t.Fatalf("%d demo personas", len(personas))
	}
	me := personas[len(personas)-1]
	signIn(me.ID)

	b.open("#/twin", `document.getElementById("generate-portrait")`)
	b.eval(`(() => { const s = document.getElementById("portrait-style"); s.value = "pixel"; return s.value; })()`, nil)
	b.do("generate a portrait", chromedp.Click(chromedp.ID("generate-portrait")))
	loaded := func(sel string) string {
		return fmt.Sprintf(`(() => { const i = document.querySelector(%s); return i && i.getAttribute("src").startsWith("/media/avatars/") && i.complete && i.naturalWidth > 0; })()`, jsString(sel))
	}
	b.waitTrue("the portrait shows on My twin", loaded(".portrait .avatar img"), 30*time.Second)
	var src, alt, status string
	b.eval(`document.querySelector(".portrait .avatar img").getAttribute("src")`, &src)
	b.eval(`document.querySelector(".portrait .avatar img").alt`, &alt)
	b.eval(`document.querySelector(".portrait-status").textContent`, &status)
	if !strings.Contains(alt, me.Nickname) || status == "" {
		t.Errorf("portrait alt %q and status %q; want the person named and the job's outcome said", alt, status)
	}
	b.waitTrue("the header shows it", loaded(`#nav a[data-view="account"] .avatar img`)+` && document.querySelector('#nav a[data-view="account"] .avatar img').getAttribute("src") === `+jsString(src), 10*time.Second)
	b.waitTrue("the profile shows it", `document.querySelector(".profile-head .avatar img") && document.querySelector(".profile-head .avatar img").getAttribute("src") === `+jsString(src), 10*time.Second)
	b.shot("twin-portrait")

	// The person this persona matches best.
	var other string
	deadline := time.Now().Add(60 * time.Second)
	for other == "" {
		b.eval(`fetch("/api/matches?limit=1").then(r => r.json()).then(d => { const m = (d.matches || d.items || [])[0]; return m ? m.person.id : ""; })`, &other)
		if other == "" {
			if time.Now().After(deadline) {
				t.Fatal("the persona has no match within 60 s")
			}
			time.Sleep(time.Second)
		}
	}
	if code := b.fetchStatus("POST", "/api/auth/logout"); code >= 300 {
		t.Fatalf("sign out: %d", code)
	}
	signIn(other)

	// Their match list: the persona's card shows the portrait (more pages are loaded until it is there).
	b.open("#/matches", `document.querySelector(".matches .match")`)
	card := fmt.Sprintf(`.matches .match:has(a[href="#/matches/%s"])`, me.ID)
	for i := 0; ; i++ {
		var found bool
		b.eval(fmt.Sprintf(`!!document.querySelector(%s)`, jsString(card)), &found)
		if found {
			break
		}
		var more bool
		b.eval(`(() => { const m = [...document.querySelectorAll(".buttons button")].find(x => !x.hidden && x.closest("section") && !x.closest(".match")); if (!m) return false; m.click(); return true; })()`, &more)
		if !more || i == 10 {
			t.Fatalf("%s is not on the match list of %s", me.Nickname, other)
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.waitTrue("the match card shows the portrait", loaded(card+" .avatar img")+` && document.querySelector(`+jsString(card+" .avatar img")+`).getAttribute("src") === `+jsString(src), 15*time.Second)
	b.shot("matches-portrait")
	b.open("#/matches/"+me.ID, `document.querySelector(".match-hero")`)
	b.waitTrue("the match page shows the portrait", loaded(".match-hero .avatar img"), 15*time.Second)

	// The image itself: immutable, not sniffed, an SVG.
	var headers map[string]string
	b.eval(fmt.Sprintf(`fetch(%s).then(r => ({status: String(r.status), type: r.headers.get("content-type"), cache: r.headers.get("cache-control"), nosniff: r.headers.get("x-content-type-options")}))`, jsString(src)), &headers)
	if headers["status"] != "200" || headers["type"] != "image/svg+xml" || !strings.Contains(headers["cache"], "immutable") || headers["nosniff"] != "nosniff" {
		t.Errorf("GET %s: %v", src, headers)
	}
}
