package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/secondme/twin/infra/testenv"
)

// The two screens every view is checked on: a phone and a laptop.
var screens = []struct{ w, h int64 }{{390, 844}, {1280, 900}}

// axeFile is axe-core, pinned in infra/e2e/axe/package-lock.json (npm ci --prefix infra/e2e/axe).
const axeFile = "infra/e2e/axe/node_modules/axe-core/axe.min.js"

var (
	axeOnce sync.Once
	axeSrc  string
)

// needAxe stops the test before any stack starts when axe-core is not installed.
func needAxe(tb testing.TB) {
	tb.Helper()
	axeOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join(moduleRoot(tb), axeFile))
		if err == nil {
			axeSrc = string(b)
		}
	})
	testenv.Need(tb, axeSrc != "", "axe-core (npm ci --prefix infra/e2e/axe)")
}

// axeViolation is one rule a page broke, as axe-core reports it.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// auditLog counts, per impact, the violations every audit of a test found.
type auditLog struct {
	mu     sync.Mutex
	counts map[string]int
	runs   int
}

func (a *auditLog) summary() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var parts []string
	for _, impact := range []string{"critical", "serious", "moderate", "minor"} {
		parts = append(parts, fmt.Sprintf("%s %d", impact, a.counts[impact]))
	}
	return fmt.Sprintf("%d axe runs; violations by impact: %s", a.runs, strings.Join(parts, ", "))
}

// scheme switches prefers-color-scheme ("light" or "dark").
func (b *browser) scheme(s string) {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: s}}})
	if err != nil {
		b.tb.Fatalf("emulate %s scheme: %v", s, err)
	}
}

// resize sets the viewport and lets the layout settle.
func (b *browser) resize(w, h int64) {
	b.tb.Helper()
	b.do("resize", chromedp.EmulateViewport(w, h))
	time.Sleep(60 * time.Millisecond)
}

// audit runs axe-core on the current view at both screens, light and dark, and fails the test on
// any violation of serious or critical impact. The view is left at 1280 px, light.
func (b *browser) audit(view string) {
	b.tb.Helper()
	if b.audits == nil {
		b.audits = &auditLog{counts: map[string]int{}}
	}
	defer func() {
		b.scheme("light")
		b.resize(1280, 900)
	}()
	for _, s := range []string{"light", "dark"} {
		b.scheme(s)
		for _, sc := range screens {
			b.resize(sc.w, sc.h)
			var loaded bool
			b.eval(`typeof window.axe === "object"`, &loaded)
			if !loaded {
				b.eval(axeSrc+";true", nil)
			}
			var vs []axeViolation
			// The toast is left out: it fades in and out (its colours mid-fade are not what anyone reads).
			b.eval(`axe.run({exclude: [["#toast"]]}, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
				id: v.id, impact: v.impact || "", help: v.help,
				nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + (n.failureSummary ? ": " + n.failureSummary.split("\n").slice(1, 2).join("") : ""))})))`, &vs)
			b.audits.mu.Lock()
			b.audits.runs++
			for _, v := range vs {
				b.audits.counts[v.Impact]++
			}
			b.audits.mu.Unlock()
			for _, v := range vs {
				msg := fmt.Sprintf("axe on %s at %d px, %s: %s (%s): %s; %s", view, sc.w, s, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, " | "))
				if v.Impact == "serious" || v.Impact == "critical" {
					b.tb.Error(msg)
				} else {
					b.tb.Log(msg)
				}
			}
		}
	}
}

// heights returns the view's full height in px at each screen width (the document's scroll height).
func (b *browser) heights() map[int64]int {
	b.tb.Helper()
	out := map[int64]int{}
	for _, sc := range screens {
		b.resize(sc.w, sc.h)
		var hgt int
		b.eval(`document.documentElement.scrollHeight`, &hgt)
		out[sc.w] = hgt
	}
	b.resize(1280, 900)
	return out
}

// withinScreens fails the test when the view is taller than n screens at any width in widths.
func (b *browser) withinScreens(view string, n int, widths ...int64) {
	b.tb.Helper()
	got := b.heights()
	for _, sc := range screens {
		if !contains(widths, sc.w) {
			continue
		}
		budget := int(sc.h) * n
		b.tb.Logf("%s at %d px: %d px tall (budget %d, %d screens)", view, sc.w, got[sc.w], budget, n)
		if got[sc.w] > budget {
			b.tb.Errorf("%s at %d px is %d px tall, want at most %d (%d screens of %d px)", view, sc.w, got[sc.w], budget, n, sc.h)
		}
	}
}

func contains(xs []int64, x int64) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// shotDark saves the current view in the dark scheme, like shot, as <name>-dark-<width>.png.
func (b *browser) shotDark(name string) {
	b.tb.Helper()
	if os.Getenv("SCREENSHOT_DIR") == "" {
		return
	}
	b.scheme("dark")
	defer b.scheme("light")
	b.shot(name + "-dark")
}

// shotNow saves the current view at the current size only, at once (for a moment that passes, such
// as a reply midway through streaming), as <name>-<width>.png.
func (b *browser) shotNow(name string, width int64) {
	b.tb.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	cancel()
	if err != nil {
		b.tb.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, width)), png, 0o644); err != nil {
		b.tb.Fatal(err)
	}
}
