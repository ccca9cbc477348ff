package template

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/secondme/twin/infra/testenv"
)

// root is the repository root, seen from this package's directory.
const root = "../.."

func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	testenv.Need(t, err == nil, "cfn-lint (pip install cfn-lint)")
	// --include-checks I: the informational checks too (such as I3011, an explicit DeletionPolicy on
	// every stateful resource).
	cmd := exec.Command(bin, "--format", "parseable", "--include-checks", "I", "--", "template.yaml")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		// Any finding fails, warnings and informational ones included: cfn-lint's exit code is
		// non-zero for those too.
		t.Fatalf("cfn-lint template.yaml: %v\n%s", err, out)
	}
	t.Log("cfn-lint template.yaml: no errors, no warnings, no informational findings")
}

// cfn is the part of a CloudFormation template the checks read.
type cfn struct {
	Parameters map[string]map[string]any
	Resources  map[string]resource
}

type resource struct {
	Type       string
	Properties map[string]any
	Metadata   map[string]any
}

// translate runs the SAM translator on template.yaml and returns the CloudFormation it produces.
func translate(t *testing.T) cfn {
	t.Helper()
	py, err := exec.LookPath("python3")
	testenv.Need(t, err == nil, "python3 with aws-sam-translator (pip install aws-sam-translator)")
	probe := exec.Command(py, "-c", "import samtranslator")
	testenv.Need(t, probe.Run() == nil, "the Python package aws-sam-translator (pip install aws-sam-translator)")

	cmd := exec.Command(py, "infra/template/translate.py", "template.yaml")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("SAM translator on template.yaml: %v\n%s", err, stderr.Bytes())
	}
	var c cfn
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("translator output: %v", err)
	}
	return c
}

func TestSAMTranslator(t *testing.T) {
	c := translate(t)
	fns := c.of("AWS::Lambda::Function")
	if len(fns) == 0 {
		t.Fatal("the template has no function")
	}
	t.Logf("SAM translator: %d resources, %d functions", len(c.Resources), len(fns))

	t.Run("every function is a Go bootstrap on arm64 with JSON logs, Lambda's REPORT line and no tracing", func(t *testing.T) {
		for _, name := range fns {
			p := c.Resources[name].Properties
			// SystemLogLevel INFO (or unset, INFO by default) keeps the REPORT line: duration, memory
			// used and init, what memory sizes are read from. Nothing is instrumented with X-Ray spans,
			// so active tracing would only cost (docs/operations.md, "Tracing").
			checks := []struct{ what, got, want string }{
				{"Runtime", str(p["Runtime"]), "provided.al2023"},
				{"Handler", str(p["Handler"]), "bootstrap"},
				{"Architectures", fmt.Sprint(p["Architectures"]), "[arm64]"},
				{"TracingConfig.Mode", cmp.Or(str(dig(p, "TracingConfig", "Mode")), "PassThrough"), "PassThrough"},
				{"LoggingConfig.LogFormat", str(dig(p, "LoggingConfig", "LogFormat")), "JSON"},
				{"LoggingConfig.SystemLogLevel", cmp.Or(str(dig(p, "LoggingConfig", "SystemLogLevel")), "INFO"), "INFO"},
				{"LoggingConfig.ApplicationLogLevel", str(dig(p, "LoggingConfig", "ApplicationLogLevel")), "INFO"},
			}
			for _, ck := range checks {
				if ck.got != ck.want {
					t.Errorf("%s %s = %q, want %q", name, ck.what, ck.got, ck.want)
				}
			}
		}
	})

	t.Run("every makefile-built function has its functions/<name> package", func(t *testing.T) {
		for _, name := range fns {
			r := c.Resources[name]
			if r.Metadata["BuildMethod"] != "makefile" {
				t.Errorf("%s: Metadata.BuildMethod = %v, want makefile", name, r.Metadata["BuildMethod"])
				continue
			}
			dir, ok := functionDir(name)
			if !ok {
				t.Errorf("%s: a makefile-built function's logical id must be <Name>Function", name)
				continue
			}
			if _, err := os.Stat(filepath.Join(root, dir, "main.go")); err != nil {
				t.Errorf("%s is built from %s by make build-%s, but: %v", name, dir, name, err)
			}
		}
	})

	t.Run("the table has the fixed schema", func(t *testing.T) {
		p := c.Resources["Table"].Properties
		want := map[string]string{
			"BillingMode":                      "PAY_PER_REQUEST",
			"KeySchema":                        "PK HASH, SK RANGE",
			"TimeToLiveSpecification":          "ttl true",
			"PointInTimeRecoverySpecification": "true",
			"SSESpecification":                 "true",
		}
		got := map[string]string{
			"BillingMode":                      str(p["BillingMode"]),
			"KeySchema":                        keySchema(p["KeySchema"]),
			"TimeToLiveSpecification":          fmt.Sprint(dig(p, "TimeToLiveSpecification", "AttributeName"), " ", dig(p, "TimeToLiveSpecification", "Enabled")),
			"PointInTimeRecoverySpecification": fmt.Sprint(dig(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled")),
			"SSESpecification":                 fmt.Sprint(dig(p, "SSESpecification", "SSEEnabled")),
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("Table %s = %q, want %q", k, got[k], w)
			}
		}
		indexes := map[string]string{}
		for _, gsi := range list(p["GlobalSecondaryIndexes"]) {
			g, _ := gsi.(map[string]any)
			indexes[str(g["IndexName"])] = keySchema(g["KeySchema"]) + " " + str(dig(g, "Projection", "ProjectionType"))
		}
		for name, w := range map[string]string{"GSI1": "GSI1PK HASH, GSI1SK RANGE ALL", "GSI2": "GSI2PK HASH, GSI2SK RANGE ALL"} {
			if indexes[name] != w {
				t.Errorf("Table index %s = %q, want %q", name, indexes[name], w)
			}
		}
	})

	t.Run("queues redrive to a DLQ after 5 receives and outlast their consumers 6 times plus the batching window", func(t *testing.T) {
		for _, q := range c.of("AWS::SQS::Queue") {
			p := c.Resources[q].Properties
			if p["RedrivePolicy"] == nil {
				continue // a dead-letter queue itself
			}
			if got := num(dig(p, "RedrivePolicy", "maxReceiveCount")); got != 5 {
				t.Errorf("%s maxReceiveCount = %v, want 5", q, got)
			}
		}
		for _, m := range c.of("AWS::Lambda::EventSourceMapping") {
			p := c.Resources[m].Properties
			q := getAttTarget(p["EventSourceArn"])
			fn := c.functionOf(refTarget(p["FunctionName"]))
			if c.Resources[q].Type != "AWS::SQS::Queue" {
				continue
			}
			vis := num(c.Resources[q].Properties["VisibilityTimeout"])
			timeout := num(c.Resources[fn].Properties["Timeout"])
			window := num(p["MaximumBatchingWindowInSeconds"])
			if timeout == 0 || vis < 6*timeout+window {
				t.Errorf("%s VisibilityTimeout %v < 6 x %s Timeout %v + batching window %v", q, vis, fn, timeout, window)
			}
		}
	})

	t.Run("least privilege: table items, named indexes, one key family, each function its own secrets", func(t *testing.T) {
		for _, p := range privilegeProblems(c) {
			t.Error(p)
		}
	})

	t.Run("no secret in plain text", func(t *testing.T) {
		secretish := regexp.MustCompile(`SECRET|PASSWORD|API_KEY|TOKEN|PRIVATE`)
		for _, name := range fns {
			vars, _ := dig(c.Resources[name].Properties, "Environment", "Variables").(map[string]any)
			for k, v := range vars {
				// An empty literal holds no secret (the local endpoint variables are empty on AWS).
				if s, literal := v.(string); literal && s != "" && secretish.MatchString(k) && !strings.HasSuffix(k, "_ARN") {
					t.Errorf("%s has %s as a literal; pass a Secrets Manager ARN instead", name, k)
				}
			}
		}
	})

	t.Run("every HTTP function knows the public origin and reads the edge secret", func(t *testing.T) {
		httpFns := httpFunctions(c)
		if len(httpFns) == 0 {
			t.Fatal("no HTTP function (none invoked by API Gateway or through a Function URL)")
		}
		for _, fn := range httpFns {
			vars, _ := dig(c.Resources[fn].Properties, "Environment", "Variables").(map[string]any)
			for _, v := range []struct{ name, param string }{{"PUBLIC_URL", "PublicUrl"}, {"ORIGIN_VERIFY_SECRET_ARN", "OriginVerifySecretArn"}} {
				if got := refTarget(vars[v.name]); got != v.param {
					t.Errorf("%s: %s = %v, want !Ref %s", fn, v.name, vars[v.name], v.param)
				}
			}
			if !slices.Contains(secretsGranted(c, fn), "OriginVerifySecretArn") {
				t.Errorf("%s may not read OriginVerifySecretArn, the edge secret", fn)
			}
		}
	})

	t.Run("the public origin: the stream to the Function URL, the rest to the HTTP API, both with the edge secret", func(t *testing.T) {
		dists := c.of("AWS::CloudFront::Distribution")
		if len(dists) != 1 {
			t.Fatalf("distributions %v, want one: the public origin", dists)
		}
		cfg := dig(c.Resources[dists[0]].Properties, "DistributionConfig")
		origins := map[string]any{} // origin id -> origin
		for _, o := range list(dig(cfg, "Origins")) {
			origins[str(dig(o, "Id"))] = o
			if got := str(dig(o, "CustomOriginConfig", "OriginProtocolPolicy")); got != "https-only" {
				t.Errorf("origin %s: OriginProtocolPolicy %q, want https-only", str(dig(o, "Id")), got)
			}
			if !hasEdgeSecret(o) {
				t.Errorf("origin %s does not send X-Origin-Verify from %s", str(dig(o, "Id")), edgeSecretRef)
			}
		}
		// originOf returns the type of the resource an origin's domain names: the HTTP API or a Function URL.
		originOf := func(id string) (typ, ref string) {
			for _, r := range refsIn(dig(origins[id], "DomainName")) {
				switch t := c.Resources[r].Type; t {
				case "AWS::ApiGatewayV2::Api", "AWS::Lambda::Url":
					return t, r
				}
			}
			return "", ""
		}
		behaviours := map[string]any{"": dig(cfg, "DefaultCacheBehavior")} // path pattern -> behaviour
		for _, b := range list(dig(cfg, "CacheBehaviors")) {
			behaviours[str(dig(b, "PathPattern"))] = b
		}
		for _, w := range []struct {
			pattern, origin, cache string
			viewerHeaders          bool // the origin request policy passes cookies, query and headers
		}{
			{"", "AWS::ApiGatewayV2::Api", cachingDisabled, true},
			{"/api/chat/stream", "AWS::Lambda::Url", cachingDisabled, true},
			{"/assets/*", "AWS::ApiGatewayV2::Api", cachingOptimized, false},
		} {
			name := "the default behaviour"
			if w.pattern != "" {
				name = "behaviour " + w.pattern
			}
			b, ok := behaviours[w.pattern]
			if !ok || b == nil {
				t.Errorf("%s is missing", name)
				continue
			}
			typ, ref := originOf(str(dig(b, "TargetOriginId")))
			if typ != w.origin {
				t.Errorf("%s goes to origin %q (%s), want the %s", name, str(dig(b, "TargetOriginId")), typ, w.origin)
			}
			if typ == "AWS::Lambda::Url" {
				if mode := str(dig(c.Resources[ref].Properties, "InvokeMode")); mode != "RESPONSE_STREAM" {
					t.Errorf("%s goes to %s in InvokeMode %q, want RESPONSE_STREAM", name, ref, mode)
				}
			}
			if got := str(dig(b, "CachePolicyId")); got != w.cache {
				t.Errorf("%s: CachePolicyId %q, want %q", name, got, w.cache)
			}
			if got := str(dig(b, "OriginRequestPolicyId")); w.viewerHeaders && got != allViewerExceptHostHeader {
				t.Errorf("%s: OriginRequestPolicyId %q, want AllViewerExceptHostHeader %q", name, got, allViewerExceptHostHeader)
			}
			if got := str(dig(b, "ViewerProtocolPolicy")); got != "redirect-to-https" && got != "https-only" {
				t.Errorf("%s: ViewerProtocolPolicy %q, want HTTPS", name, got)
			}
		}
	})
}

// CloudFront's managed policies the public origin uses.
const (
	cachingDisabled           = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	cachingOptimized          = "658327ea-f89d-4fab-a63d-7e88639e58f6"
	allViewerExceptHostHeader = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
)

// httpFunctions returns the functions browsers reach: those API Gateway may invoke and those behind a
// Function URL, sorted.
func httpFunctions(c cfn) []string {
	set := map[string]bool{}
	for _, id := range c.of("AWS::Lambda::Permission") {
		p := c.Resources[id].Properties
		if str(p["Principal"]) == "apigateway.amazonaws.com" {
			set[c.functionOf(refTarget(p["FunctionName"]))] = true
		}
	}
	for _, id := range c.of("AWS::Lambda::Url") {
		set[c.functionOf(refTarget(c.Resources[id].Properties["TargetFunctionArn"]))] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// edgeSecretRef is the edge secret as the distribution's origins send it: the whole string of the
// secret OriginVerifySecretArn, resolved at deploy time.
const edgeSecretRef = "{{resolve:secretsmanager:${OriginVerifySecretArn}}}"

// hasEdgeSecret reports whether a distribution origin sends X-Origin-Verify with the edge secret.
func hasEdgeSecret(origin any) bool {
	for _, h := range list(dig(origin, "OriginCustomHeaders")) {
		if !strings.EqualFold(str(dig(h, "HeaderName")), "X-Origin-Verify") {
			continue
		}
		v := dig(h, "HeaderValue")
		if sub := dig(v, "Fn::Sub"); sub != nil {
			v = sub
		}
		if str(v) == edgeSecretRef {
			return true
		}
	}
	return false
}

// functionDir maps a function's logical id to its package, as the Makefile's build-% rule does:
// UsersFunction -> functions/users, CompatworkerFunction -> functions/compatworker.
func functionDir(logicalID string) (string, bool) {
	name, ok := strings.CutSuffix(logicalID, "Function")
	if !ok || name == "" {
		return "", false
	}
	return "functions/" + strings.ToLower(name), true
}

func TestFunctionDir(t *testing.T) {
	tests := []struct {
		id, want string
		ok       bool
	}{
		{"UsersFunction", "functions/users", true},
		{"CompatworkerFunction", "functions/compatworker", true},
		{"ChatstreamFunction", "functions/chatstream", true},
		{"Function", "", false},
		{"UsersHandler", "", false},
	}
	for _, tt := range tests {
		got, ok := functionDir(tt.id)
		if got != tt.want || ok != tt.ok {
			t.Errorf("functionDir(%q) = %q, %v; want %q, %v", tt.id, got, ok, tt.want, tt.ok)
		}
	}
}

// functionOf returns the function a logical id names: the function itself, or the function of an
// alias (AutoPublishAlias makes every trigger invoke the alias "live").
func (c cfn) functionOf(id string) string {
	if r := c.Resources[id]; r.Type == "AWS::Lambda::Alias" {
		return refTarget(r.Properties["FunctionName"])
	}
	return id
}

// of returns the logical ids of the resources of a type, sorted.
func (c cfn) of(typ string) []string {
	var ids []string
	for id, r := range c.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// dig walks nested maps by keys, nil when a step is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case string:
		var f float64
		_, _ = fmt.Sscan(n, &f)
		return f
	}
	return 0
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// strs reads a string or a list of strings.
func strs(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	var out []string
	for _, e := range list(v) {
		out = append(out, str(e))
	}
	return out
}

func keySchema(v any) string {
	var parts []string
	for _, k := range list(v) {
		parts = append(parts, str(dig(k, "AttributeName"))+" "+str(dig(k, "KeyType")))
	}
	return strings.Join(parts, ", ")
}

// getAttTarget returns X of {"Fn::GetAtt": [X, ...]}.
func getAttTarget(v any) string {
	l := list(dig(v, "Fn::GetAtt"))
	if len(l) == 0 {
		return ""
	}
	return str(l[0])
}

// refTarget returns X of {"Ref": X}.
func refTarget(v any) string { return str(dig(v, "Ref")) }
