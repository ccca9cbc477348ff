package e2e_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/secondme/twin/infra/demo"
)

// leftEnglish is a page script that returns the English catalogue's messages (the longest fixed part
// of each, at least 12 characters, where the Chinese one differs) that the page shows: in main's and
// the header's text, or in an aria-label or placeholder. It reads the catalogue the page itself loads.
const leftEnglish = `(async () => {
  const base = document.querySelector('script[type="module"]').src.replace(/app\.js$/, "");
  const en = (await import(base + "messages-en.js")).default;
  const zh = (await import(base + "messages-zh-CN.js")).default;
  const shown = [document.querySelector("main").innerText, document.querySelector("header").innerText,
    ...Array.from(document.querySelectorAll("[aria-label], [placeholder]"), (e) => (e.getAttribute("aria-label") || "") + " " + (e.getAttribute("placeholder") || ""))].join("\n");
  const found = [];
  for (const [k, v] of Object.entries(en)) {
    if (zh[k] === v) continue;
    const part = v.split(/\{\w+\}/).map((s) => s.trim()).sort((a, b) => b.length - a.length)[0];
    if (part.length >= 12 && shown.includes(part)) found.push(k + ": " + part);
  }
  return found;
})()`

// TestBrowserChineseLocal switches the client to Simplified Chinese in the header on `make run` and
// checks that the main views speak Chinese (<html lang>, Han text, no English message of the
// catalogue), that the choice survives a reload, and audits each view with axe-core.
func TestBrowserChineseLocal(t *testing.T) {
	needChromium(t)
	needAxe(t)
	base := sharedStackURL(t, "local")
	b := newBrowser(t, base)
	b.do("open the client", chromedp.Navigate(base+"/"))
	b.waitTrue("the sign-in view", `document.getElementById("new-nick")`, 15*time.Second)
	var lang string
	b.eval(`document.documentElement.lang`, &lang)
	if lang != "en" {
		t.Errorf("a browser asking for English gets <html lang=%q>, want en", lang)
	}
	b.eval(`(() => { const s = document.getElementById("language"); s.value = "zh-CN"; s.dispatchEvent(new Event("change")); })()`, nil)

	chinese := func(view string) {
		t.Helper()
		b.waitTrue(view+" in Chinese", `document.documentElement.lang === "zh-CN" && !document.querySelector("main .skeleton") && /\p{Script=Han}/u.test(document.querySelector("main h1").textContent)`, 15*time.Second)
		var left []string
		b.eval(leftEnglish, &left)
		if len(left) > 0 {
			t.Errorf("%s in Chinese still shows English: %q", view, left)
		}
		b.shot("zh-" + strings.ReplaceAll(view, " ", "-"))
		b.audit(view + " (zh-CN)")
	}
	chinese("signin")

	b.do("reload", chromedp.Reload())
	b.waitTrue("the sign-in view again", `document.getElementById("new-nick")`, 15*time.Second)
	b.eval(`document.documentElement.lang`, &lang)
	if lang != "zh-CN" {
		t.Errorf("after a reload <html lang=%q>, want the zh-CN chosen before", lang)
	}

	b.do("sign up", chromedp.SendKeys(chromedp.ID("new-nick"), "林小雨"), chromedp.Click(chromedp.CSS(".new-person button[type=submit]")))
	b.waitTrue("the first-run guide", `location.hash === "#/start" && document.querySelectorAll(".steps .step").length === 5`, 20*time.Second)
	chinese("start")
	var nav string
	b.eval(`document.getElementById("nav").innerText`, &nav)
	if !strings.Contains(nav, "对话") || strings.Contains(nav, "Chats") {
		t.Errorf("the navigation reads %q, want it in Chinese", nav)
	}
	for _, v := range []struct{ hash, ready, name string }{
		{"#/twin", `document.querySelector(".twin .shades")`, "twin"},
		{"#/chats", `document.querySelector('a[href="#/chats/new"]')`, "chats"},
		{"#/chats/new", `document.getElementById("composer")`, "conversation"},
		{"#/matches", `document.querySelector(".state.empty, .matches")`, "matches"},
		{"#/account", `document.querySelector(".account h2")`, "account"},
	} {
		b.open(v.hash, v.ready)
		chinese(v.name)
	}
	b.open("#/twin", `document.getElementById("add-shade")`)
	b.do("open the shade editor", chromedp.Click(chromedp.ID("add-shade")))
	b.waitTrue("the shade editor opens", `document.querySelector("dialog.shade-editor[open]")`, 10*time.Second)
	var title string
	b.eval(`document.getElementById("editor-title").textContent`, &title)
	if title != "新侧面" {
		t.Errorf("the shade editor is titled %q, want 新侧面", title)
	}
	b.audit("shade editor (zh-CN)")

	b.eval(`(() => { const s = document.getElementById("language"); s.value = "en"; s.dispatchEvent(new Event("change")); })()`, nil)
	b.waitTrue("back in English", `document.documentElement.lang === "en" && document.getElementById("nav").innerText.includes("Chats")`, 15*time.Second)
	b.waitTrue("the choice saved in the profile", `fetch("/api/user/info").then(r => r.json()).then(p => p.language === "en")`, 10*time.Second)

	// A persona who reads Second Me in Chinese signs in on this English browser: the client takes the
	// profile's language, her twin answers a Chinese message in Chinese, and her matches with
	// English profiles give their reasons in Chinese.
	if status := b.fetchStatus("POST", "/api/auth/logout"); status != 204 {
		t.Fatalf("sign out: %d", status)
	}
	personas, err := demo.Personas()
	if err != nil {
		t.Fatal(err)
	}
	var lin string
	for _, p := range personas {
		if p.Nickname == "林晓雨" {
			lin = p.ID
		}
	}
	b.do("open the client signed out", chromedp.Navigate(base+"/"))
	b.waitTrue("the sign-in view in English", `document.documentElement.lang === "en" && document.querySelector("a.persona[data-persona='`+lin+`']")`, 15*time.Second)
	b.do("sign in as 林晓雨", chromedp.Click(chromedp.CSS("a.persona[data-persona='"+lin+"']")))
	b.waitTrue("the client in her language", `document.documentElement.lang === "zh-CN" && document.getElementById("nav").innerText.includes("对话")`, 20*time.Second)
	b.open("#/chats/new", `document.getElementById("composer")`)
	seen := b.send("你平时喜欢喝茶吗？")
	if reply := seen[len(seen)-1]; !regexp.MustCompile(`\p{Han}{6}`).MatchString(reply) || strings.Contains(reply, "AI twin") {
		t.Errorf("her twin answers a Chinese message with %q, want Chinese", reply)
	}
	b.shot("zh-reply")
	b.open("#/matches", `document.querySelector("ol.matches li")`)
	chinese("match list")
	var first string
	b.eval(`document.querySelector("ol.matches a[href^='#/matches/']").getAttribute("href")`, &first)
	b.open(first, `document.querySelector(".match-detail .reasoning")`)
	chinese("match")
	var reasons []string
	b.eval(`Array.from(document.querySelectorAll(".match-detail .highlights li, .match-detail .challenges li, .match-detail .reasoning"), (e) => e.textContent)`, &reasons)
	for _, r := range reasons {
		if !regexp.MustCompile(`\p{Han}`).MatchString(r) || strings.Contains(r, "Both ") || strings.Contains(r, "Profile score") {
			t.Errorf("the match reads %q, want Chinese", r)
		}
	}
	b.noAlerts()
	if b.audits != nil {
		t.Log(b.audits.summary())
	}
}
