package web

import (
	"encoding/json"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// The client's strings live in one catalogue per language (static/messages-<lang>.js), and views
// reach them only through t("key") and tn("key", n) (static/i18n.js). These tests read the embedded
// sources, with no browser, and prove:
//   - every key a view or index.html uses exists in every catalogue, and every catalogue has exactly
//     the same keys as the others (both ways), no empty value, the same {placeholders}, no key nobody
//     uses, and no Chinese message left in English;
//   - no view module holds a user-visible string outside the catalogues (see TestNoStringsInViews for
//     what that static check can and cannot see).

// languages are the catalogues the client ships; English is the reference the others are compared to.
var languages = []string{"en", "zh-CN"}

// untranslated are the keys whose Chinese message is rightly the English one: names of products.
var untranslated = map[string]bool{"provider.secondme": true, "provider.oidc": true}

var (
	entryLine   = regexp.MustCompile(`^\s*("(?:[^"\\]|\\.)*"):\s*("(?:[^"\\]|\\.)*"),\s*$`)
	placeholder = regexp.MustCompile(`\{(\w+)\}`)
	// keyCall finds t("key") and tn("key", …) in code whose comments are removed.
	keyCall = regexp.MustCompile(`(?:^|[^\w$.])(tn?)\(\s*"([^"]*)"`)
	// anyCall finds every call of t or tn, to catch keys that are not literals (the test cannot see them).
	anyCall  = regexp.MustCompile(`(?:^|[^\w$.])(?:function\s+)?(tn?)\(\s*(.)`)
	i18nAttr = regexp.MustCompile(`data-i18n(?:-label)?="([^"]*)"`)
	option   = regexp.MustCompile(`<option value="([^"]*)"`)
)

// catalogue parses static/messages-<lang>.js: a comment, "export default {", one "key": "value",
// entry a line (blank lines allowed), "};". Any other line fails the test, so nothing hides from it.
func catalogue(t *testing.T, lang string) map[string]string {
	t.Helper()
	name := "static/messages-" + lang + ".js"
	b, err := fs.ReadFile(static, name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	msgs := map[string]string{}
	body := false
	for i, line := range lines {
		switch {
		case !body && strings.HasPrefix(line, "//"):
		case !body && line == "export default {":
			body = true
		case body && line == "};" && i == len(lines)-1:
			body = false
		case body && strings.TrimSpace(line) == "":
		case body && entryLine.MatchString(line):
			m := entryLine.FindStringSubmatch(line)
			var key, value string
			if json.Unmarshal([]byte(m[1]), &key) != nil || json.Unmarshal([]byte(m[2]), &value) != nil {
				t.Errorf("%s:%d: not a JSON string: %s", name, i+1, line)
				continue
			}
			if _, dup := msgs[key]; dup {
				t.Errorf("%s:%d: key %q twice", name, i+1, key)
			}
			msgs[key] = value
		default:
			t.Errorf("%s:%d: not a catalogue line: %q", name, i+1, line)
		}
	}
	if body || len(msgs) == 0 {
		t.Errorf("%s: want `export default {`, one entry a line, and `};` last", name)
	}
	return msgs
}

// viewModules returns the client's JavaScript other than the catalogues, by file name.
func viewModules(t *testing.T) map[string]string {
	t.Helper()
	mods := map[string]string{}
	entries, err := fs.ReadDir(static, "static")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		if path.Ext(n) != ".js" || strings.HasPrefix(n, "messages-") {
			continue
		}
		b, err := fs.ReadFile(static, "static/"+n)
		if err != nil {
			t.Fatal(err)
		}
		mods[n] = string(b)
	}
	return mods
}

// usedKeys returns the keys the client uses: t() and data-i18n keys, and the bases of tn() keys,
// whose plural forms are base.one, base.other (the forms of English and Chinese).
func usedKeys(t *testing.T) (keys, plurals map[string][]string) {
	t.Helper()
	keys, plurals = map[string][]string{}, map[string][]string{}
	for name, src := range viewModules(t) {
		code, _ := lexJS(src)
		for _, m := range keyCall.FindAllStringSubmatch(code.withStrings, -1) {
			if m[1] == "tn" {
				plurals[m[2]] = append(plurals[m[2]], name)
			} else {
				keys[m[2]] = append(keys[m[2]], name)
			}
		}
		if name == "i18n.js" {
			continue // it defines t and tn, and reads the data-i18n keys of index.html
		}
		for _, m := range anyCall.FindAllStringSubmatch(code.withStrings, -1) {
			if m[2] != `"` {
				t.Errorf("%s calls %s( with a key that is not a string literal (%q…): the catalogue test cannot check it", name, m[1], m[2])
			}
		}
	}
	page, err := fs.ReadFile(static, "static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range i18nAttr.FindAllStringSubmatch(string(page), -1) {
		keys[m[1]] = append(keys[m[1]], "index.html")
	}
	return keys, plurals
}

func TestCataloguesComplete(t *testing.T) {
	t.Parallel()
	cats := map[string]map[string]string{}
	for _, l := range languages {
		cats[l] = catalogue(t, l)
	}
	keys, plurals := usedKeys(t)
	if len(keys) < 100 {
		t.Fatalf("found only %d keys in use: the scan of the views is broken", len(keys))
	}
	wanted := map[string]bool{}
	for k := range keys {
		wanted[k] = true
	}
	for base := range plurals {
		wanted[base+".one"], wanted[base+".other"] = true, true
	}
	en := cats["en"]
	for _, l := range languages {
		cat := cats[l]
		for k := range wanted {
			if _, ok := cat[k]; !ok {
				t.Errorf("messages-%s.js lacks %q, used by %v", l, k, append(keys[k], plurals[strings.TrimSuffix(strings.TrimSuffix(k, ".one"), ".other")]...))
			}
		}
		for k, v := range cat {
			if !wanted[k] {
				t.Errorf("messages-%s.js has %q, which no view uses", l, k)
			}
			if strings.TrimSpace(v) == "" {
				t.Errorf("messages-%s.js: %q is empty", l, k)
			}
			ref, ok := en[k]
			if !ok {
				t.Errorf("messages-%s.js has %q, which messages-en.js lacks", l, k)
				continue
			}
			if got, want := placeholders(v), placeholders(ref); !slices.Equal(got, want) {
				t.Errorf("messages-%s.js: %q has placeholders %v, English has %v", l, k, got, want)
			}
			if l != "en" && v == ref && hasLatinWord(v) && !untranslated[k] {
				t.Errorf("messages-%s.js: %q is still English: %q", l, k, v)
			}
		}
		for k := range en {
			if _, ok := cat[k]; !ok {
				t.Errorf("messages-%s.js lacks %q, which messages-en.js has", l, k)
			}
		}
	}
	for _, v := range cats["zh-CN"] {
		if strings.IndexFunc(v, func(r rune) bool { return unicode.Is(unicode.Han, r) }) >= 0 {
			return
		}
	}
	t.Error("messages-zh-CN.js holds no Han character at all")
}

// TestLanguagesOffered checks that the header's language switch offers exactly the catalogues.
func TestLanguagesOffered(t *testing.T) {
	t.Parallel()
	page, err := fs.ReadFile(static, "static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	var offered []string
	for _, m := range option.FindAllStringSubmatch(string(page), -1) {
		offered = append(offered, m[1])
	}
	i18n, _ := fs.ReadFile(static, "static/i18n.js")
	for _, l := range languages {
		if !slices.Contains(offered, l) {
			t.Errorf("the language switch does not offer %s", l)
		}
		if !strings.Contains(string(i18n), `from "./messages-`+l+`.js"`) {
			t.Errorf("i18n.js does not import messages-%s.js", l)
		}
	}
	if len(offered) != len(languages) {
		t.Errorf("the language switch offers %v, want %v", offered, languages)
	}
}

// TestNoStringsInViews looks for user-visible text written into the view modules instead of the
// catalogues. It lexes each module (comments, strings, template literals, regular expressions) and
// flags every string literal that is not a t()/tn() key and looks like words for people: a
// capitalised word ("Send", "Your twin"), two or more words with punctuation or a capital ("e.g. Jazz
// pianist", "'s twin"), or any non-ASCII letter (Chinese written into a view).
//
// Its limits: it is a heuristic, not a JavaScript parser. A lowercase phrase without punctuation
// ("send it now") passes, as class lists ("button primary") must; so does text assembled from
// fragments or numbers, text a view takes from the API (the server's own messages, issue 15 item 2),
// and api.js, which is left out because it holds protocol words (header names) and one error message
// the client never shows (explain() words every error from its code). Keyboard key names compared
// with KeyboardEvent.key are allowed by name.
func TestNoStringsInViews(t *testing.T) {
	t.Parallel()
	allowed := map[string]bool{"Enter": true}
	capitalised := regexp.MustCompile(`^\s*[A-Z][a-z]`)
	words := regexp.MustCompile(`[A-Za-z]+\s+[A-Za-z]+`)
	wordy := regexp.MustCompile(`[.,!?:;'’…]|[A-Z]`)
	for name, src := range viewModules(t) {
		if name == "api.js" {
			continue
		}
		_, lits := lexJS(src)
		for _, l := range lits {
			if l.key || allowed[l.text] {
				continue
			}
			text := strings.ReplaceAll(l.text, interpolation, " ")
			nonASCII := strings.IndexFunc(text, func(r rune) bool { return r > unicode.MaxASCII && unicode.IsLetter(r) }) >= 0
			if nonASCII || capitalised.MatchString(text) || (words.MatchString(text) && wordy.MatchString(text)) {
				t.Errorf("%s:%d: %q looks like text for people: put it in the catalogues and use t()", name, l.line, l.text)
			}
		}
	}
}

// TestLexJS checks the lexer the string check relies on, on the shapes the views use.
func TestLexJS(t *testing.T) {
	t.Parallel()
	src := "// \"Not a string\" in a comment\n" +
		"const a = t(\"a.key\"), b = tn( \"b.key\", 2);\n" +
		"/* 'Also not' */ const r = /[\"'`](\\s|$)/g;\n" +
		"const c = `Hello ${x ? \"Inner text\" : t(\"c.key\")} there`;\n" +
		"const d = 'it\\'s', e = x / 2 / y;\n"
	code, lits := lexJS(src)
	var got []string
	for _, l := range lits {
		got = append(got, l.text)
		if l.key != strings.HasSuffix(l.text, ".key") {
			t.Errorf("%q: key = %v", l.text, l.key)
		}
	}
	want := []string{"a.key", "b.key", "Inner text", "c.key", "Hello " + interpolation + " there", `it\'s`}
	if !slices.Equal(got, want) {
		t.Errorf("literals %q, want %q", got, want)
	}
	if strings.Contains(code.withStrings, "Not a string") || strings.Contains(code.withStrings, "Also not") {
		t.Errorf("comments left in the code: %s", code.withStrings)
	}
}

// interpolation stands for a ${…} of a template literal in the literal's text.
const interpolation = "\x00"

type literal struct {
	text string
	line int
	key  bool // the first argument of t( or tn(
}

type lexed struct {
	withStrings string // the source without comments and regular expressions
}

// lexJS splits JavaScript source into its string literals and the code without comments. It knows
// strings, template literals (with nested ${…} expressions), comments and regular expression literals,
// telling a regular expression from a division by the token before it.
func lexJS(src string) (lexed, []literal) {
	var out strings.Builder
	var lits []literal
	line := 1
	i := 0
	var expr func(stopAtBrace bool)
	str := func(q byte) string { // src[i] is the opening quote
		start := i + 1
		for i++; i < len(src) && src[i] != q; i++ {
			if src[i] == '\\' {
				i++
			} else if src[i] == '\n' {
				line++
			}
		}
		s := src[start:min(i, len(src))]
		i++
		return s
	}
	isKey := func() bool {
		code := strings.TrimRight(out.String(), " \t\n")
		return regexp.MustCompile(`(?:^|[^\w$.])tn?\($`).MatchString(code)
	}
	template := func() string { // src[i] is the opening backtick
		var text strings.Builder
		for i++; i < len(src) && src[i] != '`'; i++ {
			switch {
			case src[i] == '\\':
				text.WriteByte(src[i])
				i++
				text.WriteByte(src[i])
			case strings.HasPrefix(src[i:], "${"):
				text.WriteString(interpolation)
				i += 2
				out.WriteString("${")
				expr(true) // leaves i after the closing brace
				out.WriteString("}")
				i-- // for the loop's i++
			default:
				if src[i] == '\n' {
					line++
				}
				text.WriteByte(src[i])
			}
		}
		i++
		return text.String()
	}
	regexAllowed := func() bool {
		code := strings.TrimRight(out.String(), " \t\n")
		if code == "" {
			return true
		}
		last := code[len(code)-1]
		return strings.ContainsRune("(,=:[!&|?{};+-*%<>~^", rune(last)) || strings.HasSuffix(code, "return")
	}
	expr = func(stopAtBrace bool) {
		depth := 0
		for i < len(src) {
			c := src[i]
			switch {
			case c == '\n':
				line++
				out.WriteByte(c)
				i++
			case strings.HasPrefix(src[i:], "//"):
				for i < len(src) && src[i] != '\n' {
					i++
				}
			case strings.HasPrefix(src[i:], "/*"):
				end := strings.Index(src[i+2:], "*/")
				if end < 0 {
					end = len(src) - i - 2
				}
				line += strings.Count(src[i:i+2+end], "\n")
				i += end + 4
			case c == '/' && regexAllowed():
				inClass := false
				for i++; i < len(src) && (src[i] != '/' || inClass); i++ {
					switch src[i] {
					case '\\':
						i++
					case '[':
						inClass = true
					case ']':
						inClass = false
					}
				}
				i++
				for i < len(src) && unicode.IsLetter(rune(src[i])) {
					i++
				}
				out.WriteString("/re/")
			case c == '"' || c == '\'':
				l := literal{line: line, key: isKey()}
				l.text = str(c)
				lits = append(lits, l)
				out.WriteString(`"` + strings.Repeat("x", len(l.text)) + `"`)
				if l.key {
					// keep a key readable, so that keyCall finds it
					o := out.String()
					out.Reset()
					out.WriteString(o[:len(o)-len(l.text)-2] + `"` + l.text + `"`)
				}
			case c == '`':
				l := literal{line: line}
				out.WriteString("``")
				l.text = template()
				lits = append(lits, l)
			case c == '{':
				depth++
				out.WriteByte(c)
				i++
			case c == '}':
				if stopAtBrace && depth == 0 {
					i++
					return
				}
				depth--
				out.WriteByte(c)
				i++
			default:
				out.WriteByte(c)
				i++
			}
		}
	}
	expr(false)
	return lexed{withStrings: out.String()}, lits
}

func placeholders(s string) []string {
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func hasLatinWord(s string) bool {
	return regexp.MustCompile(`[A-Za-z]{2,}`).MatchString(placeholder.ReplaceAllString(s, ""))
}
