package template

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/secondme/twin/infra/testenv"
)

// The route and environment checks run on template.yaml and on mutated copies of it, each of which
// one check must catch: every HttpApi route removed in turn, every environment variable renamed in
// turn, and the chat stream's way to its Function URL removed. All are translated by one Python
// process (translate.py --batch).

// mutation is an edit of a copy of template.yaml, and what the checks must then report: for each
// check named, a new problem containing every one of the strings.
type mutation struct {
	name string
	text string              // the mutated template
	want map[string][]string // check -> substrings of one new problem
}

// The checks, by name.
const (
	checkClient = "client routes"
	checkGroups = "route groups"
	checkEnv    = "environment"
)

// inputs are what the checks compare the template with, read once.
type inputs struct {
	client []clientRequest
	groups []routeGroup
	served served
	reads  envReads
}

func (in inputs) run(check string, c cfn) []string {
	o, problems := readPublicOrigin(c)
	switch check {
	case checkClient:
		return append(problems, clientRouteProblems(o, in.client, in.served)...)
	case checkGroups:
		return append(problems, groupRouteProblems(o, in.groups, in.served)...)
	case checkEnv:
		return envProblems(c, in.reads)
	}
	panic("unknown check " + check)
}

var (
	pythonOnce  sync.Once
	python      string
	pythonErr   error
	fixtureOnce sync.Once
	fixture     struct {
		in        inputs
		source    string
		original  cfn
		mutations []mutation
		mutated   []translation
		err       error
	}
)

// translation is one template's CloudFormation, or the translator's error.
type translation struct {
	Template cfn    `json:"template"`
	Error    string `json:"error"`
}

// load reads the inputs, builds the mutations and translates everything once for the package.
func load(t *testing.T) {
	t.Helper()
	pythonOnce.Do(func() {
		python, pythonErr = exec.LookPath("python3")
		if pythonErr == nil {
			pythonErr = exec.Command(python, "-c", "import samtranslator").Run()
		}
	})
	testenv.Need(t, python != "", "python3 with aws-sam-translator (pip install aws-sam-translator)")
	testenv.Need(t, pythonErr == nil, "the Python package aws-sam-translator (pip install aws-sam-translator)")
	py := python
	fixtureOnce.Do(func() {
		f := &fixture
		src, err := os.ReadFile(filepath.Join(root, "template.yaml"))
		if err != nil {
			f.err = err
			return
		}
		f.source = string(src)
		groups := routeGroups()
		f.in = inputs{client: readClientRequests(t), groups: groups, served: serveGroups(groups), reads: readEnvReads(t)}
		out, err := translateBatch(py, []string{f.source})
		if err != nil {
			f.err = err
			return
		}
		if out[0].Error != "" {
			f.err = fmt.Errorf("template.yaml: %s", out[0].Error)
			return
		}
		f.original = out[0].Template
		f.mutations, f.err = mutations(f.source, f.original, f.in)
		if f.err != nil {
			return
		}
		texts := make([]string, len(f.mutations))
		for i, m := range f.mutations {
			texts[i] = m.text
		}
		f.mutated, f.err = translateBatch(py, texts)
	})
	if fixture.err != nil {
		t.Fatal(fixture.err)
	}
}

// translateBatch translates template texts in two translate.py --batch processes, one per core.
func translateBatch(py string, texts []string) ([]translation, error) {
	half := (len(texts) + 1) / 2
	var (
		wg     sync.WaitGroup
		out    [2][]translation
		errs   [2]error
		chunks = [2][]string{texts[:half], texts[half:]}
	)
	for i, chunk := range chunks {
		if len(chunk) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = translateChunk(py, chunk)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return append(out[0], out[1]...), nil
}

// translateChunk runs translate.py --batch on template texts.
func translateChunk(py string, texts []string) ([]translation, error) {
	in, err := json.Marshal(texts)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(py, "infra/template/translate.py", "--batch")
	cmd.Dir = root
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("translate.py --batch: %v\n%s", err, stderr.Bytes())
	}
	var res []translation
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(texts) {
		return nil, fmt.Errorf("translate.py --batch: %d results for %d templates: %v", len(res), len(texts), err)
	}
	return res, nil
}

func TestClientRoutes(t *testing.T) {
	load(t)
	for _, p := range fixture.in.run(checkClient, fixture.original) {
		t.Error(p)
	}
	t.Logf("%d requests of the web client checked (%s... exempt: served by the local stacks only)", len(fixture.in.client), localOnly)
}

func TestRouteGroups(t *testing.T) {
	load(t)
	for _, p := range fixture.in.run(checkGroups, fixture.original) {
		t.Error(p)
	}
}

func TestEnvironmentIsRead(t *testing.T) {
	load(t)
	for _, p := range fixture.in.run(checkEnv, fixture.original) {
		t.Error(p)
	}
}

// TestChecksCatchMutations proves the checks above fail on a template that lost a route or renamed
// a variable: each mutation must add a problem naming what it broke.
func TestChecksCatchMutations(t *testing.T) {
	load(t)
	before := map[string][]string{}
	for _, check := range []string{checkClient, checkGroups, checkEnv} {
		before[check] = fixture.in.run(check, fixture.original)
	}
	for i, m := range fixture.mutations {
		t.Run(m.name, func(t *testing.T) {
			tr := fixture.mutated[i]
			if tr.Error != "" {
				t.Fatalf("the mutated template does not translate: %s", tr.Error)
			}
			for check, want := range m.want {
				var added []string
				for _, p := range fixture.in.run(check, tr.Template) {
					if !slices.Contains(before[check], p) {
						added = append(added, p)
					}
				}
				if !slices.ContainsFunc(added, func(p string) bool { return containsAll(p, want) }) {
					t.Errorf("the %s check did not catch it: want a new problem naming %q; new problems: %q", check, want, added)
				} else {
					t.Logf("%s check: %s", check, added[slices.IndexFunc(added, func(p string) bool { return containsAll(p, want) })])
				}
			}
		})
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

var (
	// httpEventRE finds an HttpApi event written as the template writes them:
	//   Name:
	//     Type: HttpApi
	//     Properties: { ApiId: !Ref HttpApi, Method: GET, Path: /api/user/info }
	httpEventRE  = regexp.MustCompile(`(?m)^( +)([A-Za-z0-9]+):\n( +)Type: HttpApi\n( +)Properties: \{(.*)\} *\n`)
	methodPropRE = regexp.MustCompile(`Method: *([A-Za-z]+)`)
	pathPropRE   = regexp.MustCompile(`Path: *"?([^",]+?)"? *(,|$)`)
	resourceRE   = regexp.MustCompile(`^  ([A-Za-z0-9]+):\s*$`)
	sectionRE    = regexp.MustCompile(`^([A-Za-z0-9]+):`)
	variablesRE  = regexp.MustCompile(`^( *)Variables:\s*$`)
	variableRE   = regexp.MustCompile(`^( *)([A-Z][A-Z0-9_]*):`)
)

// mutations builds the mutation table from template.yaml's text: every HttpApi route removed, every
// environment variable renamed, and the chat stream's route removed.
func mutations(src string, original cfn, in inputs) ([]mutation, error) {
	o, _ := readPublicOrigin(original)
	clientUses := map[apiRoute]bool{}
	for _, r := range in.client {
		if strings.HasPrefix(r.path, localOnly) {
			continue // exempt from the client check, so removing its route is not the client check's to catch
		}
		if t, err := o.resolve(r.method, r.path); err == nil {
			clientUses[t.route] = true
		}
	}
	lines := strings.SplitAfter(src, "\n")
	// resourceAt names the resource a text offset is in, or the top-level section (Globals).
	resourceAt := func(offset int) string {
		resource := ""
		for i := strings.Count(src[:offset], "\n"); i >= 0; i-- {
			line := strings.TrimRight(lines[i], "\n")
			if m := resourceRE.FindStringSubmatch(line); m != nil && resource == "" {
				resource = m[1]
			}
			if m := sectionRE.FindStringSubmatch(line); m != nil {
				if m[1] == "Resources" {
					return resource
				}
				return m[1]
			}
		}
		return ""
	}

	var ms []mutation
	for _, m := range httpEventRE.FindAllStringSubmatchIndex(src, -1) {
		props := src[m[10]:m[11]]
		mm, pm := methodPropRE.FindStringSubmatch(props), pathPropRE.FindStringSubmatch(props)
		if mm == nil || pm == nil {
			return nil, fmt.Errorf("HttpApi event %s: cannot read Method and Path from %q", src[m[4]:m[5]], props)
		}
		method, path, fn := strings.ToUpper(mm[1]), strings.TrimSpace(pm[1]), resourceAt(m[0])
		mu := mutation{
			name: fmt.Sprintf("remove route %s %s of %s", method, path, fn),
			text: src[:m[0]] + src[m[1]:],
			want: map[string][]string{checkGroups: {method + " ", " in " + fn + ","}},
		}
		for r := range clientUses {
			if r.method == method && r.path == path {
				mu.want[checkClient] = []string{"the client sends " + method + " "}
			}
		}
		ms = append(ms, mu)
	}
	if len(ms) != len(o.routes) {
		return nil, fmt.Errorf("found %d HttpApi events in template.yaml's text, but the template has %d routes: write each event as `Name:`, `Type: HttpApi`, `Properties: { ApiId: ..., Method: ..., Path: ... }`", len(ms), len(o.routes))
	}

	// Every variable of the Environment.Variables blocks, Globals included, renamed in turn (where
	// it first appears: the check is the same for every function).
	renamed := map[string]bool{}
	offset := 0
	varsIndent := -1
	for _, line := range lines {
		text := strings.TrimRight(line, "\n")
		if m := variablesRE.FindStringSubmatch(text); m != nil {
			varsIndent = len(m[1])
		} else if m := variableRE.FindStringSubmatch(text); m != nil && varsIndent >= 0 && len(m[1]) > varsIndent {
			name, fn := m[2], resourceAt(offset)
			if renamed[name] {
				offset += len(line)
				continue
			}
			want := []string{"sets " + name + "_RENAMED,"}
			if fn != "Globals" {
				want = append(want, fn+" sets")
			}
			ms = append(ms, mutation{
				name: fmt.Sprintf("rename %s of %s", name, fn),
				text: src[:offset] + strings.Replace(line, name+":", name+"_RENAMED:", 1) + src[offset+len(line):],
				want: map[string][]string{checkEnv: want},
			})
			renamed[name] = true
		} else if strings.TrimSpace(text) != "" && !strings.HasPrefix(strings.TrimSpace(text), "#") {
			varsIndent = -1
		}
		offset += len(line)
	}
	for _, fn := range original.of("AWS::Lambda::Function") {
		vars, _ := dig(original.Resources[fn].Properties, "Environment", "Variables").(map[string]any)
		for k := range vars {
			if !renamed[k] {
				return nil, fmt.Errorf("%s's variable %s was not found in template.yaml's text under a `Variables:` line", fn, k)
			}
		}
	}

	stream, err := streamMutation(src)
	if err != nil {
		return nil, err
	}
	return append(ms, stream), nil
}

// streamMutation removes the distribution's cache behaviour that sends /api/chat/stream to the
// chat stream's Function URL: the stream then reaches the HTTP API, which has no such route.
func streamMutation(src string) (mutation, error) {
	lines := strings.SplitAfter(src, "\n")
	for i, line := range lines {
		item, ok := strings.CutSuffix(strings.TrimRight(line, "\n"), "- PathPattern: "+streamPath)
		if !ok || strings.TrimLeft(item, " ") != "" {
			continue
		}
		end := i + 1
		for end < len(lines) && strings.HasPrefix(lines[end], item+"  ") {
			end++
		}
		return mutation{
			name: "remove the cache behaviour of " + streamPath,
			text: strings.Join(lines[:i], "") + strings.Join(lines[end:], ""),
			want: map[string][]string{
				checkClient: {"the client sends POST " + streamPath},
				checkGroups: {`"POST ` + streamPath + `" in ChatStreamFunction,`},
			},
		}, nil
	}
	return mutation{}, fmt.Errorf("template.yaml has no cache behaviour `- PathPattern: %s`", streamPath)
}
