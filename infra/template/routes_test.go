package template

import (
	"cmp"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/authapi"
	"github.com/secondme/twin/pkg/api/chatapi"
	"github.com/secondme/twin/pkg/api/matchesapi"
	"github.com/secondme/twin/pkg/api/mediaapi"
	"github.com/secondme/twin/pkg/api/usersapi"
	"github.com/secondme/twin/pkg/web"
)

// localOnly is the prefix of the paths only the local stacks serve (`make run` and `make gateway`
// answer GET /local/personas, the demo sign-in); the deployed origin does not, and the client copes.
const localOnly = "/local/"

// staticDir holds the web client whose requests the route checks read.
const staticDir = root + "/pkg/web/static"

// routeGroup is a set of routes served by one function, registered as its main.go registers them.
type routeGroup struct {
	name     string
	function string // the template's logical id of the function whose main.go mounts the group
	register func(*api.Router)
}

// routeGroups are the route groups of the HTTP functions, built with nil dependencies: Register only
// records handlers, it never calls them. GET /api/health is mounted by several functions; the
// template routes it to the users function.
func routeGroups() []routeGroup {
	health := func(rt *api.Router) { rt.HandleFunc("GET /api/health", api.Health) }
	return []routeGroup{
		{"health", "UsersFunction", health},
		{"usersapi", "UsersFunction", usersapi.New(nil, nil, nil, nil).Register},
		{"authapi", "AuthFunction", authapi.New(nil, nil).Register},
		{"chatapi", "ChatFunction", chatapi.New(nil, nil).Register},
		{"chatapi stream", "ChatStreamFunction", chatapi.New(nil, nil).RegisterStream},
		{"matchesapi", "MatchesFunction", matchesapi.New(nil, nil, nil).Register},
		{"web", "WebFunction", func(rt *api.Router) { web.New().Register(rt) }},
		{"mediaapi", "WebFunction", mediaapi.New(nil).Register},
	}
}

// served is what the route groups of each function answer.
type served struct {
	patterns map[string][]string // function -> "group: pattern"
	muxes    map[string]*http.ServeMux
}

func serveGroups(groups []routeGroup) served {
	s := served{patterns: map[string][]string{}, muxes: map[string]*http.ServeMux{}}
	for _, g := range groups {
		rt := api.NewRouter()
		g.register(rt)
		mux := s.muxes[g.function]
		if mux == nil {
			mux = http.NewServeMux()
			s.muxes[g.function] = mux
		}
		for _, p := range rt.Patterns() {
			mux.Handle(p, http.NotFoundHandler())
			s.patterns[g.function] = append(s.patterns[g.function], g.name+": "+p)
		}
	}
	return s
}

// answers reports whether the function's route groups have a pattern for the request. The pages
// handler (api.PagesPattern) answers no path under /api/, as api.Router serves it.
func (s served) answers(function, method, path string) bool {
	mux := s.muxes[function]
	if mux == nil {
		return false
	}
	_, pattern := mux.Handler(httptest.NewRequest(method, path, nil))
	if pattern == api.PagesPattern && strings.HasPrefix(path, "/api/") {
		return false
	}
	return pattern != ""
}

// clientRequest is one request the web client issues: its method and its path as written, with
// "{}" for each path segment built from an expression and the query string dropped.
type clientRequest struct {
	at, method, path string
}

var (
	// callRE finds the api.js helpers and fetch called with a literal or template-literal path.
	callRE = regexp.MustCompile(`\b(get|post|put|patch|del|stream|fetch)\(\s*(?:"([^"]*)"|'([^']*)'|` + "`([^`]*)`" + `)`)
	// linkRE finds any other literal path under /api/ (sign-in links are navigations: GET).
	linkRE = regexp.MustCompile(`["'` + "`" + `](/api/[^"'` + "`" + `]*)`)
	// methodRE reads the method of a fetch call's options.
	methodRE = regexp.MustCompile(`^[^)]*?method:\s*["'](\w+)["']`)
	exprRE   = regexp.MustCompile(`\$\{[^}]*\}`)
)

var helperMethods = map[string]string{"get": "GET", "post": "POST", "put": "PUT", "patch": "PATCH", "del": "DELETE", "stream": "POST", "fetch": "GET"}

// clientRequests reads the requests of one JavaScript source.
func clientRequests(file, src string) []clientRequest {
	var out []clientRequest
	at := func(offset int) string { return fmt.Sprintf("%s:%d", file, strings.Count(src[:offset], "\n")+1) }
	taken := map[int]bool{} // offsets of the literals read as calls
	for _, m := range callRE.FindAllStringSubmatchIndex(src, -1) {
		helper := src[m[2]:m[3]]
		start, end := -1, -1
		for g := 4; g < len(m); g += 2 {
			if m[g] >= 0 {
				start, end = m[g], m[g+1]
			}
		}
		lit := src[start:end]
		if !strings.HasPrefix(lit, "/") {
			continue
		}
		method := helperMethods[helper]
		if helper == "fetch" {
			if mm := methodRE.FindStringSubmatch(src[end:]); mm != nil {
				method = strings.ToUpper(mm[1])
			}
		}
		taken[start-1] = true
		out = append(out, clientRequest{at(start), method, requestPath(lit)})
	}
	for _, m := range linkRE.FindAllStringSubmatchIndex(src, -1) {
		if !taken[m[0]] {
			out = append(out, clientRequest{at(m[2]), "GET", requestPath(src[m[2]:m[3]])})
		}
	}
	return out
}

// requestPath drops the query string and writes each segment built from an expression as "{}".
func requestPath(lit string) string {
	lit, _, _ = strings.Cut(lit, "?")
	segs := strings.Split(lit, "/")
	for i, s := range segs {
		if exprRE.MatchString(s) {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

func TestClientRequests(t *testing.T) {
	src := "const a = await get(\"/api/user/info\");\n" +
		"await del(`/api/sessions/${id}`);\n" +
		"get(`/api/sessions/${id}/messages?limit=30&before=${encodeURIComponent(c)}`);\n" +
		"stream(\"/api/chat/stream\", {}, on);\n" +
		"fetch(path, opts); fetch('/api/x', { method: \"PUT\" });\n" +
		"return \"/api/auth/login?\" + q;\n" +
		"location.hash = \"#/chats\"; h(\"a\", { href: `#/chats/${s.id}` });\n"
	want := []clientRequest{
		{"x.js:1", "GET", "/api/user/info"},
		{"x.js:2", "DELETE", "/api/sessions/{}"},
		{"x.js:3", "GET", "/api/sessions/{}/messages"},
		{"x.js:4", "POST", "/api/chat/stream"},
		{"x.js:5", "PUT", "/api/x"},
		{"x.js:6", "GET", "/api/auth/login"},
	}
	got := clientRequests("x.js", src)
	slices.SortFunc(got, func(a, b clientRequest) int { return cmp.Compare(a.at, b.at) })
	if !slices.Equal(got, want) {
		t.Errorf("clientRequests:\n got %v\nwant %v", got, want)
	}
}

// readClientRequests reads every request of the web client.
func readClientRequests(t *testing.T) []clientRequest {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(staticDir, "*.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no web client in %s: %v", staticDir, err)
	}
	var out []clientRequest
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, clientRequests(filepath.Base(f), string(src))...)
	}
	// The client issues some twenty requests; far fewer means the patterns above no longer read it.
	if len(out) < 15 {
		t.Fatalf("found only %d requests in %s: %v", len(out), staticDir, out)
	}
	return out
}

// apiRoute is a route of an HTTP API: method (ANY for any) and path, with {param} and {proxy+}.
type apiRoute struct {
	api, method, path, function string
}

func (r apiRoute) String() string { return r.api + " route " + r.method + " " + r.path }

// edgeOrigin is an origin of the CloudFront distribution: an HTTP API, or a Function URL.
type edgeOrigin struct {
	api, function string
}

// behaviour is a cache behaviour: path pattern ("" for the default), origin and allowed methods.
type behaviour struct {
	pattern, origin string
	methods         []string
}

// publicOrigin is where browsers send every request, as template.yaml declares it: the
// distribution's behaviours in order, the default last, over its origins; and the HTTP API routes.
type publicOrigin struct {
	routes       []apiRoute
	distribution string
	origins      map[string]edgeOrigin
	behaviours   []behaviour
	urls         map[string]string // Function URL -> its function
}

// streamPath is the chat stream, which the distribution sends to the Function URL.
const streamPath = "/api/chat/stream"

// target is where a request ends: the function and the route that sends it there.
type target struct {
	function, via string
	route         apiRoute // the HTTP API route, zero for a Function URL
}

var subVarRE = regexp.MustCompile(`\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}`)

// readPublicOrigin reads the public origin from the translated template.
func readPublicOrigin(c cfn) (publicOrigin, []string) {
	var problems []string
	o := publicOrigin{origins: map[string]edgeOrigin{}, urls: map[string]string{}}
	for _, id := range c.of("AWS::Lambda::Url") {
		o.urls[id] = c.functionOf(refTarget(c.Resources[id].Properties["TargetFunctionArn"]))
	}
	for _, id := range c.of("AWS::ApiGatewayV2::Api") {
		paths, _ := dig(c.Resources[id].Properties, "Body", "paths").(map[string]any)
		for path, ops := range paths {
			opm, _ := ops.(map[string]any)
			for method, op := range opm {
				if method == "parameters" {
					continue
				}
				if method == "x-amazon-apigateway-any-method" {
					method = "ANY"
				}
				uri := fmt.Sprint(dig(op, "x-amazon-apigateway-integration", "uri"))
				fn := ""
				// The function's ARN, or its alias's (AutoPublishAlias): ${Fn.Arn} or ${FnAliaslive}.
				if m := regexp.MustCompile(`\$\{([A-Za-z0-9]+)(\.Arn)?\}`).FindStringSubmatch(uri); m != nil {
					fn = c.functionOf(m[1])
				}
				if fn == "" {
					problems = append(problems, fmt.Sprintf("%s route %s %s: no Lambda integration", id, strings.ToUpper(method), path))
					continue
				}
				o.routes = append(o.routes, apiRoute{id, strings.ToUpper(method), path, fn})
			}
		}
	}
	slices.SortFunc(o.routes, func(a, b apiRoute) int { return cmp.Compare(a.path+" "+a.method, b.path+" "+b.method) })

	dists := c.of("AWS::CloudFront::Distribution")
	if len(dists) > 1 {
		problems = append(problems, fmt.Sprintf("%d distributions (%v); the checks know one public origin", len(dists), dists))
	}
	if len(dists) == 0 {
		return o, problems
	}
	o.distribution = dists[0]
	cfg := dig(c.Resources[o.distribution].Properties, "DistributionConfig")
	for _, or := range list(dig(cfg, "Origins")) {
		id := str(dig(or, "Id"))
		var eo edgeOrigin
		for _, ref := range refsIn(dig(or, "DomainName")) {
			switch c.Resources[ref].Type {
			case "AWS::ApiGatewayV2::Api":
				eo.api = ref
			case "AWS::Lambda::Url":
				eo.function = o.urls[ref]
			}
		}
		if eo.api == "" && eo.function == "" {
			problems = append(problems, fmt.Sprintf("%s origin %s is neither the HTTP API nor a Function URL", o.distribution, id))
		}
		o.origins[id] = eo
	}
	for _, b := range list(dig(cfg, "CacheBehaviors")) {
		o.behaviours = append(o.behaviours, behaviour{str(dig(b, "PathPattern")), str(dig(b, "TargetOriginId")), strs(dig(b, "AllowedMethods"))})
	}
	def := dig(cfg, "DefaultCacheBehavior")
	o.behaviours = append(o.behaviours, behaviour{"", str(dig(def, "TargetOriginId")), strs(dig(def, "AllowedMethods"))})
	for _, b := range o.behaviours {
		if _, ok := o.origins[b.origin]; !ok {
			problems = append(problems, fmt.Sprintf("%s behaviour %q targets unknown origin %q", o.distribution, b.pattern, b.origin))
		}
	}
	return o, problems
}

// refsIn returns the logical ids a value refers to: Ref, Fn::GetAtt and the ${X} of Fn::Sub.
func refsIn(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			switch k {
			case "Ref":
				out = append(out, str(e))
			case "Fn::GetAtt":
				if l := list(e); len(l) > 0 {
					out = append(out, str(l[0]))
				}
			case "Fn::Sub":
				s := str(e)
				if l := list(e); len(l) > 0 {
					s = str(l[0])
					out = append(out, refsIn(l[1:])...)
				}
				for _, m := range subVarRE.FindAllStringSubmatch(s, -1) {
					out = append(out, m[1])
				}
			default:
				out = append(out, refsIn(e)...)
			}
		}
	case []any:
		for _, e := range v {
			out = append(out, refsIn(e)...)
		}
	}
	return out
}

// resolve returns where the public origin sends a request. path is concrete, or has "{}" segments
// from the client, which match only path parameters.
func (o publicOrigin) resolve(method, path string) (target, error) {
	if o.distribution == "" {
		return target{}, fmt.Errorf("template.yaml has no CloudFront distribution, the public origin")
	}
	concrete := strings.ReplaceAll(path, "{}", "p1")
	for _, b := range o.behaviours {
		if b.pattern != "" && !cloudFrontMatch(b.pattern, concrete) {
			continue
		}
		name := "default behaviour"
		if b.pattern != "" {
			name = "behaviour " + b.pattern
		}
		methods := b.methods
		if len(methods) == 0 {
			methods = []string{"GET", "HEAD"} // CloudFront's default
		}
		if !slices.Contains(methods, method) {
			return target{}, fmt.Errorf("%s %s allows only %v", o.distribution, name, methods)
		}
		eo := o.origins[b.origin]
		if eo.function != "" {
			return target{function: eo.function, via: fmt.Sprintf("%s %s -> Function URL of %s", o.distribution, name, eo.function)}, nil
		}
		t, err := o.route(eo.api, method, path)
		if err != nil {
			return target{}, fmt.Errorf("%s %s -> %s: %w", o.distribution, name, b.origin, err)
		}
		t.via = fmt.Sprintf("%s %s -> %s", o.distribution, name, t.via)
		return t, nil
	}
	return target{}, fmt.Errorf("%s: no behaviour matches", o.distribution)
}

// route selects the HTTP API route as API Gateway does: the most specific path (literal segments
// over {param} over {proxy+}), then the exact method over ANY. api "" means any API.
func (o publicOrigin) route(api, method, path string) (target, error) {
	var best *apiRoute
	var bestRank []int
	for i, r := range o.routes {
		if api != "" && r.api != api || r.method != method && r.method != "ANY" {
			continue
		}
		rank, ok := matchRoute(r.path, path)
		if !ok {
			continue
		}
		if best == nil || slices.Compare(rank, bestRank) > 0 || slices.Equal(rank, bestRank) && best.method == "ANY" {
			best, bestRank = &o.routes[i], rank
		}
	}
	if best == nil {
		return target{}, fmt.Errorf("no HTTP API route for %s %s", method, path)
	}
	return target{best.function, best.String(), *best}, nil
}

// matchRoute matches an HTTP API route path against a request path and ranks the match per segment:
// 2 literal, 1 {param}, 0 {proxy+}.
func matchRoute(route, path string) ([]int, bool) {
	rs, ps := segments(route), segments(path)
	var rank []int
	for i, r := range rs {
		switch {
		case strings.HasPrefix(r, "{") && strings.HasSuffix(r, "+}"):
			if i != len(rs)-1 || len(ps) <= i {
				return nil, false
			}
			return append(rank, 0), true
		case i >= len(ps):
			return nil, false
		case strings.HasPrefix(r, "{"):
			rank = append(rank, 1)
		case r == ps[i]:
			rank = append(rank, 2)
		default:
			return nil, false
		}
	}
	return rank, len(rs) == len(ps)
}

func segments(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// cloudFrontMatch matches a cache behaviour's path pattern: * is any run of characters, ? one.
func cloudFrontMatch(pattern, path string) bool {
	if !strings.HasPrefix(pattern, "/") {
		pattern = "/" + pattern
	}
	re := regexp.QuoteMeta(pattern)
	re = strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(re)
	return regexp.MustCompile("^" + re + "$").MatchString(path)
}

func TestRouteMatching(t *testing.T) {
	o := publicOrigin{routes: []apiRoute{
		{"Api", "GET", "/api/users/{id}", "Users"},
		{"Api", "GET", "/api/users/me", "Me"},
		{"Api", "ANY", "/assets/{proxy+}", "AnyAssets"},
		{"Api", "GET", "/assets/{proxy+}", "Assets"},
		{"Api", "GET", "/", "Web"},
	}}
	tests := []struct{ method, path, want string }{
		{"GET", "/api/users/42", "Users"},
		{"GET", "/api/users/{}", "Users"},
		{"GET", "/api/users/me", "Me"},
		{"GET", "/assets/v1/app.js", "Assets"},
		{"POST", "/assets/v1/app.js", "AnyAssets"},
		{"GET", "/", "Web"},
		{"GET", "/assets", ""},
		{"GET", "/api/users/42/block", ""},
		{"POST", "/api/users/42", ""},
	}
	for _, tt := range tests {
		got, err := o.route("", tt.method, tt.path)
		if got.function != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("route(%s %s) = %q, %v; want %q", tt.method, tt.path, got.function, err, tt.want)
		}
	}
	for _, tt := range []struct {
		pattern, path string
		want          bool
	}{
		{"/api/chat/stream", "/api/chat/stream", true},
		{"/api/chat/stream", "/api/chat/streams", false},
		{"/assets/*", "/assets/v1/app.js", true},
		{"assets/*", "/assets/x", true},
		{"/assets/*", "/api/assets/x", false},
		{"/a?c", "/abc", true},
	} {
		if got := cloudFrontMatch(tt.pattern, tt.path); got != tt.want {
			t.Errorf("cloudFrontMatch(%q, %q) = %v", tt.pattern, tt.path, got)
		}
	}
}

// clientRouteProblems is check (a): every request the web client issues resolves to a route on the
// public origin, at a function whose route groups answer it. Paths under localOnly are exempt.
func clientRouteProblems(o publicOrigin, reqs []clientRequest, s served) []string {
	var problems []string
	for _, r := range reqs {
		if strings.HasPrefix(r.path, localOnly) {
			continue
		}
		t, err := o.resolve(r.method, r.path)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: the client sends %s %s, but the public origin has no route for it: %v", r.at, r.method, r.path, err))
			continue
		}
		if !s.answers(t.function, r.method, strings.ReplaceAll(r.path, "{}", "p1")) {
			problems = append(problems, fmt.Sprintf("%s: the client sends %s %s to %s (%s), whose route groups have no pattern for it", r.at, r.method, r.path, t.function, t.via))
		}
	}
	return problems
}

// groupRouteProblems is check (b), both ways: every pattern a route group serves reaches its function
// on the public origin; every template route (HTTP API route or Function URL behaviour) is reachable
// on the public origin and answered by a pattern of its function's route groups.
func groupRouteProblems(o publicOrigin, groups []routeGroup, s served) []string {
	var problems []string
	for _, g := range groups {
		rt := api.NewRouter()
		g.register(rt)
		for _, p := range rt.Patterns() {
			method, path, ok := strings.Cut(p, " ")
			if !ok {
				problems = append(problems, fmt.Sprintf("%s registers %q without a method", g.name, p))
				continue
			}
			t, err := o.resolve(method, samplePath(path))
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("%s serves %q in %s, but the public origin has no route for it: %v", g.name, p, g.function, err))
			case t.function != g.function:
				problems = append(problems, fmt.Sprintf("%s serves %q in %s, but the public origin sends it to %s (%s)", g.name, p, g.function, t.function, t.via))
			}
		}
	}
	for _, r := range o.routes {
		if _, ok := s.muxes[r.function]; !ok {
			problems = append(problems, fmt.Sprintf("%s goes to %s, which no route group of this test serves (add it to routeGroups)", r, r.function))
			continue
		}
		methods := []string{r.method}
		if r.method == "ANY" {
			methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
		}
		if !anySample(r.path, func(p string) bool {
			return slices.ContainsFunc(methods, func(m string) bool { return s.answers(r.function, m, p) })
		}) {
			problems = append(problems, fmt.Sprintf("%s goes to %s, whose route groups have no pattern for it: %v", r, r.function, s.patterns[r.function]))
		}
		if !anySample(r.path, func(p string) bool {
			t, err := o.resolve(methods[0], p)
			return err == nil && t.route == r
		}) {
			p := samplePath(r.path)
			t, err := o.resolve(methods[0], p)
			problems = append(problems, fmt.Sprintf("%s is not reachable on the public origin: %s %s ends at %s %v", r, methods[0], p, t.via, err))
		}
	}
	for _, b := range o.behaviours {
		fn := o.origins[b.origin].function
		if fn == "" || b.pattern == "" {
			continue
		}
		path := strings.NewReplacer("*", "p1", "?", "p").Replace(b.pattern)
		if !slices.ContainsFunc(b.methods, func(m string) bool { return s.answers(fn, m, path) }) {
			problems = append(problems, fmt.Sprintf("%s behaviour %s goes to %s, whose route groups have no pattern for it: %v", o.distribution, b.pattern, fn, s.patterns[fn]))
		}
	}
	for url, fn := range o.urls {
		if !slices.ContainsFunc(o.behaviours, func(b behaviour) bool { return o.origins[b.origin].function == fn }) {
			problems = append(problems, fmt.Sprintf("the Function URL %s of %s is behind no behaviour of the distribution", url, fn))
		}
	}
	return problems
}

// samplePath turns a ServeMux or HTTP API path into a request path: {$} ends it, {x} and {x+} are
// one segment, {x...} two.
func samplePath(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		switch {
		case strings.HasSuffix(s, "...}"):
			segs[i] = "p1/p2"
		case strings.HasPrefix(s, "{"):
			segs[i] = "p1"
		}
	}
	return strings.Join(segs, "/")
}

// anySample tries a route path with its greedy {proxy+} as one, two and three segments.
func anySample(route string, ok func(path string) bool) bool {
	for _, tail := range []string{"p1", "p1/p2", "p1/p2/p3"} {
		p := route
		if i := strings.Index(p, "+}"); i >= 0 {
			p = p[:strings.LastIndex(p[:i], "{")] + tail
		}
		if ok(samplePath(p)) {
			return true
		}
	}
	return false
}
