package template

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/account"
	"github.com/secondme/twin/pkg/metrics"
	"github.com/secondme/twin/pkg/rematch"
)

// The checks of production readiness (docs/operations.md): least privilege, timeouts computed from
// the work, concurrency, alarms that reach someone, safe rollouts and the nightly's failures kept.

// itemActions apply to a table's items; on an index ARN they grant nothing.
var itemActions = []string{
	"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
	"dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
	"dynamodb:TransactGetItems", "dynamodb:TransactWriteItems",
}

// writeActions change items.
var writeActions = []string{
	"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:TransactWriteItems",
}

// oneKeyFamily are the functions that write one family of keys only, and the key prefixes they may
// write: the matches routes renew login sessions (PK LOGIN#<token hash>) and write nothing else.
var oneKeyFamily = map[string][]string{"MatchesFunction": {"LOGIN#*"}}

// scanners may Scan, and only these indexes: the nightly rematch's pass over the users (GSI2), which
// the compat worker makes a page at a time in the nightly fan-out's shard tasks.
var scanners = map[string][]string{"RematchFunction": {"GSI2"}, "CompatworkerFunction": {"GSI2"}}

// unIf returns the value a conditional element takes when its condition holds ({"Fn::If": [cond,
// a, b]} -> a, or b when a is AWS::NoValue), nil for AWS::NoValue, v itself otherwise.
func unIf(v any) any {
	if l := list(dig(v, "Fn::If")); len(l) == 3 {
		if refTarget(l[1]) == "AWS::NoValue" {
			return unIf(l[2])
		}
		return unIf(l[1])
	}
	if refTarget(v) == "AWS::NoValue" {
		return nil
	}
	return v
}

// statement is one IAM statement of a function's role.
type statement struct {
	sid       string
	actions   []string
	resources []any
	condition any
}

// statements returns the Allow statements of a function's execution role.
func statements(c cfn, fn string) []statement {
	role := getAttTarget(c.Resources[fn].Properties["Role"])
	var out []statement
	for _, pol := range list(c.Resources[role].Properties["Policies"]) {
		for _, st := range list(dig(unIf(pol), "PolicyDocument", "Statement")) {
			if str(dig(st, "Effect")) != "Allow" {
				continue
			}
			s := statement{sid: str(dig(st, "Sid")), actions: strs(dig(st, "Action")), condition: dig(st, "Condition")}
			res := dig(st, "Resource")
			if l := list(res); l != nil {
				for _, r := range l {
					if r = unIf(r); r != nil {
						s.resources = append(s.resources, r)
					}
				}
			} else {
				s.resources = []any{res}
			}
			out = append(out, s)
		}
	}
	return out
}

// tableResource says what a policy resource names: the table ("table"), one of its indexes
// ("index/GSI1"), or something else ("").
func tableResource(r any) string {
	if l := list(dig(r, "Fn::GetAtt")); len(l) == 2 && str(l[0]) == "Table" && str(l[1]) == "Arn" {
		return "table"
	}
	if s, ok := strings.CutPrefix(str(dig(r, "Fn::Sub")), "${Table.Arn}/"); ok {
		return s
	}
	return ""
}

// secretParameter returns the parameter a secret resource names: !Ref <Name>SecretArn.
func secretParameter(r any) string {
	if p := refTarget(r); strings.HasSuffix(p, "SecretArn") {
		return p
	}
	return ""
}

// secretsGranted returns the secret parameters a function may read, sorted.
func secretsGranted(c cfn, fn string) []string {
	var out []string
	for _, st := range statements(c, fn) {
		if slices.Contains(st.actions, "secretsmanager:GetSecretValue") {
			for _, r := range st.resources {
				if p := secretParameter(r); p != "" && !slices.Contains(out, p) {
					out = append(out, p)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// secretsRead returns the secret parameters a function's environment names (the *_SECRET_ARN
// variables its code reads), sorted.
func secretsRead(c cfn, fn string) []string {
	vars, _ := dig(c.Resources[fn].Properties, "Environment", "Variables").(map[string]any)
	var out []string
	for k, v := range vars {
		if strings.HasSuffix(k, "_SECRET_ARN") {
			out = append(out, refTarget(v))
		}
	}
	slices.Sort(out)
	return out
}

// privilegeProblems checks every function's role: no wildcard action; item actions on the table's
// ARN only (never an index); Query on the table or a named index of it; Scan only where scanners
// allow; writes under a dynamodb:LeadingKeys condition for the functions of oneKeyFamily; and each
// function may read exactly the secrets its environment names, each by its own parameter.
func privilegeProblems(c cfn) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	indexes := map[string]bool{}
	for _, gsi := range list(c.Resources["Table"].Properties["GlobalSecondaryIndexes"]) {
		indexes["index/"+str(dig(gsi, "IndexName"))] = true
	}
	for _, fn := range c.of("AWS::Lambda::Function") {
		for _, st := range statements(c, fn) {
			what := fmt.Sprintf("%s statement %q", fn, st.sid)
			for _, a := range st.actions {
				if a == "*" || strings.HasSuffix(a, ":*") {
					add("%s allows %s", what, a)
				}
				if !strings.HasPrefix(a, "dynamodb:") {
					continue
				}
				for _, r := range st.resources {
					tr := tableResource(r)
					switch {
					case slices.Contains(itemActions, a) && tr != "table":
						add("%s: %s on %v; item actions apply to the table's ARN only", what, a, r)
					case a == "dynamodb:Query" && tr != "table" && !indexes[tr]:
						add("%s: Query on %v; name the table or one of its indexes", what, r)
					case a == "dynamodb:Scan" && !slices.Contains(scanners[fn], strings.TrimPrefix(tr, "index/")):
						add("%s: Scan on %v; only %v may scan", what, r, scanners)
					}
				}
				if prefixes, ok := oneKeyFamily[fn]; ok && slices.Contains(writeActions, a) {
					got := strs(dig(st.condition, "ForAllValues:StringLike", "dynamodb:LeadingKeys"))
					if !slices.Equal(got, prefixes) {
						add("%s: %s without the condition dynamodb:LeadingKeys %v (it writes one key family)", what, a, prefixes)
					}
				}
			}
			if slices.Contains(st.actions, "secretsmanager:GetSecretValue") {
				for _, r := range st.resources {
					if secretParameter(r) == "" {
						add("%s may read the secret %v; name each secret by its *SecretArn parameter", what, r)
					}
				}
			}
		}
		if granted, read := secretsGranted(c, fn), secretsRead(c, fn); !slices.Equal(granted, read) {
			add("%s may read the secrets %v but its environment names %v: grant exactly what it reads", fn, granted, read)
		}
	}
	return problems
}

func TestPrivilegeProblems(t *testing.T) {
	fn := func(env map[string]any, stmts ...map[string]any) cfn {
		var sts []any
		for _, s := range stmts {
			sts = append(sts, s)
		}
		return cfn{Resources: map[string]resource{
			"Table": {Type: "AWS::DynamoDB::Table", Properties: map[string]any{
				"GlobalSecondaryIndexes": []any{map[string]any{"IndexName": "GSI1"}, map[string]any{"IndexName": "GSI2"}}}},
			"MatchesFunction": {Type: "AWS::Lambda::Function", Properties: map[string]any{
				"Role":        map[string]any{"Fn::GetAtt": []any{"MatchesFunctionRole", "Arn"}},
				"Environment": map[string]any{"Variables": env}}},
			"MatchesFunctionRole": {Type: "AWS::IAM::Role", Properties: map[string]any{
				"Policies": []any{map[string]any{"PolicyDocument": map[string]any{"Statement": sts}}}}},
		}}
	}
	table := map[string]any{"Fn::GetAtt": []any{"Table", "Arn"}}
	index := func(name string) any { return map[string]any{"Fn::Sub": "${Table.Arn}/index/" + name} }
	allow := func(action any, res ...any) map[string]any {
		return map[string]any{"Effect": "Allow", "Action": action, "Resource": res}
	}
	ov := map[string]any{"ORIGIN_VERIFY_SECRET_ARN": map[string]any{"Ref": "OriginVerifySecretArn"}}
	readOV := allow("secretsmanager:GetSecretValue", map[string]any{"Ref": "OriginVerifySecretArn"})
	leading := map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []any{"LOGIN#*"}}}
	renew := allow("dynamodb:UpdateItem", table)
	renew["Condition"] = leading
	tests := []struct {
		name string
		c    cfn
		want string // substring of the one problem; "" for none
	}{
		{"least privilege", fn(ov, allow([]any{"dynamodb:GetItem", "dynamodb:Query"}, table), allow("dynamodb:Query", index("GSI1")), renew, readOV), ""},
		{"item actions on an index", fn(ov, allow("dynamodb:GetItem", table, index("*")), readOV), "item actions apply to the table's ARN only"},
		{"Query on every index", fn(ov, allow("dynamodb:Query", index("*")), readOV), "name the table or one of its indexes"},
		{"Scan outside the rematch", fn(ov, allow("dynamodb:Scan", index("GSI2")), readOV), "only"},
		{"a write without LeadingKeys", fn(ov, allow("dynamodb:UpdateItem", table), readOV), "LeadingKeys"},
		{"a wildcard", fn(ov, allow("sqs:*", "*"), readOV), "allows sqs:*"},
		{"a secret it does not read", fn(ov, readOV, allow("secretsmanager:GetSecretValue", map[string]any{"Ref": "SealingKeySecretArn"})), "grant exactly what it reads"},
		{"a secret it may not read", fn(ov), "grant exactly what it reads"},
		{"a conditional secret counts", fn(ov, allow("secretsmanager:GetSecretValue", map[string]any{"Fn::If": []any{"HasX", map[string]any{"Ref": "OriginVerifySecretArn"}, map[string]any{"Ref": "AWS::NoValue"}}})), ""},
	}
	for _, tt := range tests {
		got := privilegeProblems(tt.c)
		switch {
		case tt.want == "" && len(got) != 0:
			t.Errorf("%s: problems %q, want none", tt.name, got)
		case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
			t.Errorf("%s: problems %q, want one naming %q", tt.name, got, tt.want)
		}
	}
}

// goDuration evaluates a time.Duration constant of a Go file: N * time.Unit, or time.Unit.
func goDuration(t *testing.T, file, name string) time.Duration {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, file), nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]time.Duration{"Millisecond": time.Millisecond, "Second": time.Second, "Minute": time.Minute}
	var eval func(e ast.Expr) (time.Duration, bool)
	eval = func(e ast.Expr) (time.Duration, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			var n int64
			_, err := fmt.Sscan(e.Value, &n)
			return time.Duration(n), err == nil && e.Kind == token.INT
		case *ast.SelectorExpr:
			u, ok := units[e.Sel.Name]
			return u, ok && fmt.Sprint(e.X) == "time"
		case *ast.BinaryExpr:
			a, ok1 := eval(e.X)
			b, ok2 := eval(e.Y)
			return a * b, ok1 && ok2 && e.Op == token.MUL
		case *ast.ParenExpr:
			return eval(e.X)
		}
		return 0, false
	}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if n.Name == name && i < len(vs.Values) {
					if v, ok := eval(vs.Values[i]); ok {
						return v
					}
					t.Fatalf("%s: const %s is not N * time.<Unit>", file, name)
				}
			}
		}
	}
	t.Fatalf("%s has no const %s", file, name)
	return 0
}

// seconds reads a template duration variable such as "15s".
func seconds(t *testing.T, fn, name string, v any) float64 {
	t.Helper()
	d, err := time.ParseDuration(str(v))
	if err != nil {
		t.Fatalf("%s %s = %v: %v", fn, name, v, err)
	}
	return d.Seconds()
}

// storeAllowance is what a job or request may spend on the store and SQS besides its model calls.
const storeAllowance = 10 * time.Second

// httpAPILimit is the HTTP API's longest integration: 30 s, of which the function keeps one to answer.
const httpAPILimit = 29

func TestOperations(t *testing.T) {
	c := translate(t)
	fns := c.of("AWS::Lambda::Function")
	timeout := func(fn string) float64 { return num(c.Resources[fn].Properties["Timeout"]) }
	envOf := func(fn string) map[string]any {
		vars, _ := dig(c.Resources[fn].Properties, "Environment", "Variables").(map[string]any)
		return vars
	}
	mappings := func(fn string) []map[string]any { // the function's SQS event source mappings
		var out []map[string]any
		for _, id := range c.of("AWS::Lambda::EventSourceMapping") {
			p := c.Resources[id].Properties
			if c.functionOf(refTarget(p["FunctionName"])) == fn {
				out = append(out, p)
			}
		}
		return out
	}
	ruleTargets := func(fn string) []any { // the EventBridge rule targets that invoke the function
		var out []any
		for _, id := range c.of("AWS::Events::Rule") {
			for _, tg := range list(c.Resources[id].Properties["Targets"]) {
				if c.functionOf(refTarget(dig(tg, "Arn"))) == fn || getAttTarget(dig(tg, "Arn")) == fn {
					out = append(out, tg)
				}
			}
		}
		return out
	}
	httpFns := httpFunctions(c)
	urlFns := map[string]bool{}
	for _, id := range c.of("AWS::Lambda::Url") {
		urlFns[c.functionOf(refTarget(c.Resources[id].Properties["TargetFunctionArn"]))] = true
	}

	t.Run("timeouts are computed from the work", func(t *testing.T) {
		// The compat worker runs a batch's jobs rematch.BatchSize at a time (functions/app); a pair job
		// makes up to MATCH_CALLS_PER_PAIR model calls one after the other, each bounded by
		// LLM_TIMEOUT; the batch handler keeps its margin to answer.
		margin := goDuration(t, "functions/app/batch.go", "margin")
		for _, fn := range fns {
			ms := mappings(fn)
			if len(ms) == 0 {
				continue
			}
			env := envOf(fn)
			calls := float64(rematch.DefaultCallsPerPair)
			if v, ok := env["MATCH_CALLS_PER_PAIR"]; ok {
				calls = num(v)
			}
			llmTimeout := seconds(t, fn, "LLM_TIMEOUT", env["LLM_TIMEOUT"])
			batch := 0.0
			for _, m := range ms {
				batch = max(batch, num(m["BatchSize"]))
			}
			waves := math.Ceil(batch / rematch.BatchSize)
			need := waves*calls*llmTimeout + (margin + storeAllowance).Seconds()
			if timeout(fn) < need {
				t.Errorf("%s Timeout %v s < %v waves x %v calls x LLM_TIMEOUT %v s + %v margin + %v store = %v s",
					fn, timeout(fn), waves, calls, llmTimeout, margin, storeAllowance, need)
			}
		}
		// An export job is reported failed after account.ExportTimeout: by then it must have had all
		// its receives, each up to the visibility timeout of the queue the users function sends to.
		if q := refTarget(envOf("UsersFunction")["COMPAT_QUEUE_URL"]); q != "" {
			p := c.Resources[q].Properties
			receives := num(dig(p, "RedrivePolicy", "maxReceiveCount"))
			if all := time.Duration(receives*num(p["VisibilityTimeout"])) * time.Second; account.ExportTimeout < all {
				t.Errorf("account.ExportTimeout %v < %v receives x %s VisibilityTimeout %v s = %v: exports would be reported failed while still retried",
					account.ExportTimeout, receives, q, p["VisibilityTimeout"], all)
			}
		}
		// POST /api/user/sync waits for a token refresh (pkg/auth refreshTimeout), then imports.
		refresh := goDuration(t, "pkg/auth/tokens.go", "refreshTimeout")
		if need := (refresh + 5*time.Second).Seconds(); timeout("UsersFunction") < need {
			t.Errorf("UsersFunction Timeout %v s < the token refresh %v + 5 s", timeout("UsersFunction"), refresh)
		}
		for _, fn := range httpFns {
			if !urlFns[fn] && (timeout(fn) == 0 || timeout(fn) > httpAPILimit) {
				t.Errorf("%s Timeout %v s: behind the HTTP API it must be set and at most %d s", fn, timeout(fn), httpAPILimit)
			}
			if v, ok := envOf(fn)["CHAT_MODEL_TIMEOUT"]; ok && seconds(t, fn, "CHAT_MODEL_TIMEOUT", v) >= timeout(fn) {
				t.Errorf("%s CHAT_MODEL_TIMEOUT %v is not under its Timeout %v s", fn, v, timeout(fn))
			}
		}
	})

	t.Run("reserved concurrency: the worker's pollers, a cap on streams, one nightly", func(t *testing.T) {
		// The worker's concurrencies are parameters (sized from the model's rate limit): the pollers'
		// sum must stay within the reserved concurrency with the defaults and in every environment
		// of samconfig.toml.
		envs := samconfigOverrides(t)
		envs["the defaults"] = nil
		for _, env := range slices.Sorted(maps.Keys(envs)) {
			value := func(v any) float64 { return paramNumber(t, c, envs[env], env, v) }
			for _, fn := range fns {
				ms := mappings(fn)
				if len(ms) == 0 {
					continue
				}
				sum := 0.0
				for _, m := range ms {
					n := value(dig(m, "ScalingConfig", "MaximumConcurrency"))
					if n == 0 {
						t.Errorf("%s: an event source mapping without ScalingConfig.MaximumConcurrency", fn)
					}
					sum += n
				}
				if r := value(c.Resources[fn].Properties["ReservedConcurrentExecutions"]); r < sum {
					t.Errorf("%s: %s reserved concurrency %v < its pollers' %v: SQS batches would be throttled into false receives", env, fn, r, sum)
				}
			}
		}
		reserved := func(fn string) float64 {
			return paramNumber(t, c, nil, "the defaults", c.Resources[fn].Properties["ReservedConcurrentExecutions"])
		}
		for _, fn := range fns {
			if urlFns[fn] && reserved(fn) == 0 {
				t.Errorf("%s (a Function URL) has no reserved concurrency to cap it", fn)
			}
			if len(ruleTargets(fn)) > 0 && reserved(fn) != 1 {
				t.Errorf("%s (scheduled) reserved concurrency %v, want 1: one run at a time", fn, reserved(fn))
			}
		}
	})

	t.Run("interactive jobs have a queue of their own", func(t *testing.T) {
		queueOf := func(fn string) string { return refTarget(envOf(fn)["COMPAT_QUEUE_URL"]) }
		consumed := map[string]bool{}
		for _, id := range c.of("AWS::Lambda::EventSourceMapping") {
			consumed[getAttTarget(c.Resources[id].Properties["EventSourceArn"])] = true
		}
		for _, fn := range fns {
			if len(ruleTargets(fn)) == 0 {
				continue
			}
			night := queueOf(fn)
			for _, h := range append(slices.Clone(httpFns), "CompatworkerFunction") {
				if q := queueOf(h); q != "" && q == night {
					t.Errorf("%s sends to %s, the nightly's queue: interactive jobs would wait behind the night", h, q)
				}
				if q := queueOf(h); q != "" && !consumed[q] {
					t.Errorf("%s sends to %s, which no function reads", h, q)
				}
			}
			if night == "" || !consumed[night] {
				t.Errorf("%s sends to %q, which no function reads", fn, night)
			}
		}
	})

	alarms := c.of("AWS::CloudWatch::Alarm")
	// alarmOn returns the alarms of a metric whose dimension (or, in a metric math alarm, one of its
	// metrics' dimensions) names ref.
	alarmOn := func(namespace, metric, dim, ref string) []string {
		var out []string
		for _, a := range alarms {
			p := c.Resources[a].Properties
			ms := []any{p}
			for _, m := range list(p["Metrics"]) {
				ms = append(ms, dig(m, "MetricStat", "Metric"))
			}
			for _, m := range ms {
				if str(dig(m, "Namespace")) != namespace || str(dig(m, "MetricName")) != metric {
					continue
				}
				for _, d := range list(dig(m, "Dimensions")) {
					v := dig(d, "Value")
					if str(dig(d, "Name")) == dim && (refTarget(v) == ref || getAttTarget(v) == ref || str(v) == ref) {
						out = append(out, a)
					}
				}
			}
		}
		return slices.Compact(out)
	}

	t.Run("every alarm notifies the alarm topic, which mails AlarmEmail", func(t *testing.T) {
		topics := c.of("AWS::SNS::Topic")
		if len(topics) != 1 {
			t.Fatalf("SNS topics %v, want one: the alarm topic", topics)
		}
		sub := unIf(c.Resources[topics[0]].Properties["Subscription"])
		if l := list(sub); len(l) != 1 || str(dig(l[0], "Protocol")) != "email" || refTarget(dig(l[0], "Endpoint")) != "AlarmEmail" {
			t.Errorf("%s Subscription %v, want an email subscription of AlarmEmail", topics[0], sub)
		}
		for _, a := range alarms {
			acts := list(c.Resources[a].Properties["AlarmActions"])
			if !slices.ContainsFunc(acts, func(v any) bool { return refTarget(v) == topics[0] }) {
				t.Errorf("%s AlarmActions %v, want !Ref %s", a, acts, topics[0])
			}
		}
	})

	t.Run("docs/operations.md says what to do for every alarm", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		for _, a := range alarms {
			if !strings.Contains(str(c.Resources[a].Properties["AlarmDescription"]), "docs/operations.md") {
				t.Errorf("%s: its AlarmDescription does not point to docs/operations.md", a)
			}
			if strings.Contains(doc, "`"+a+"`") {
				continue
			}
			// A row for an alarm of every function: `<Fn>ErrorsAlarm` stands for UsersErrorsAlarm and the rest.
			perFunction := false
			for _, fn := range fns {
				if rest, ok := strings.CutPrefix(a, strings.TrimSuffix(fn, "Function")); ok && strings.Contains(doc, "`<Fn>"+rest+"`") {
					perFunction = true
				}
			}
			if !perFunction {
				t.Errorf("docs/operations.md has no row for %s", a)
			}
		}
	})

	t.Run("every function has its errors, throttles and duration alarms", func(t *testing.T) {
		for _, fn := range fns {
			if len(alarmOn("AWS/Lambda", "Errors", "FunctionName", fn)) == 0 {
				t.Errorf("%s has no Errors alarm", fn)
			}
			if len(alarmOn("AWS/Lambda", "Throttles", "FunctionName", fn)) == 0 {
				t.Errorf("%s has no Throttles alarm", fn)
			}
			d := alarmOn("AWS/Lambda", "Duration", "FunctionName", fn)
			if len(d) != 1 {
				t.Errorf("%s has %d Duration alarms, want 1", fn, len(d))
				continue
			}
			if got, want := num(c.Resources[d[0]].Properties["Threshold"]), math.Round(0.8*timeout(fn)*1000); got != want {
				t.Errorf("%s Threshold %v ms, want 80 %% of %s's %v s timeout: %v", d[0], got, fn, timeout(fn), want)
			}
		}
		for fn := range urlFns {
			if len(alarmOn("AWS/Lambda", "Url5xxCount", "FunctionName", fn)) == 0 {
				t.Errorf("%s's Function URL has no Url5xxCount alarm", fn)
			}
		}
	})

	t.Run("the API, the queues, the table and the nightly have their alarms", func(t *testing.T) {
		for _, api := range c.of("AWS::ApiGatewayV2::Api") {
			for _, m := range []string{"5xx", "Latency"} {
				if len(alarmOn("AWS/ApiGateway", m, "ApiId", api)) == 0 {
					t.Errorf("%s has no %s alarm", api, m)
				}
			}
		}
		dlqs := map[string]bool{}
		for _, q := range c.of("AWS::SQS::Queue") {
			if d := getAttTarget(dig(c.Resources[q].Properties, "RedrivePolicy", "deadLetterTargetArn")); d != "" {
				dlqs[d] = true
			}
		}
		for _, id := range c.of("AWS::Lambda::EventInvokeConfig") {
			dlqs[getAttTarget(dig(c.Resources[id].Properties, "DestinationConfig", "OnFailure", "Destination"))] = true
		}
		for _, q := range c.of("AWS::SQS::Queue") {
			metric := "ApproximateAgeOfOldestMessage"
			if dlqs[q] {
				metric = "ApproximateNumberOfMessagesVisible"
			}
			if len(alarmOn("AWS/SQS", metric, "QueueName", q)) == 0 {
				t.Errorf("%s has no %s alarm", q, metric)
			}
		}
		for _, m := range []string{"ReadThrottleEvents", "WriteThrottleEvents", "SystemErrors"} {
			if len(alarmOn("AWS/DynamoDB", m, "TableName", "Table")) == 0 {
				t.Errorf("Table has no %s alarm", m)
			}
		}
		nightly := alarmOn(metrics.Namespace, metrics.NightlyRuns, metrics.DimResult, metrics.ResultOK)
		if len(nightly) != 1 {
			t.Fatalf("alarms on %s %s (%s %s): %v, want one", metrics.Namespace, metrics.NightlyRuns, metrics.DimResult, metrics.ResultOK, nightly)
		}
		p := c.Resources[nightly[0]].Properties
		if span := num(p["Period"]) * num(p["EvaluationPeriods"]); span != 26*3600 || str(p["TreatMissingData"]) != "breaching" ||
			str(p["ComparisonOperator"]) != "LessThanThreshold" || num(p["Threshold"]) != 1 {
			t.Errorf("%s: want fewer than 1 successful run in 26 h, missing data breaching; got %v s, %v, %v %v",
				nightly[0], span, p["TreatMissingData"], p["ComparisonOperator"], p["Threshold"])
		}
	})

	t.Run("the nightly's failures are kept", func(t *testing.T) {
		for _, fn := range fns {
			targets := ruleTargets(fn)
			if len(targets) == 0 {
				continue
			}
			for _, tg := range targets {
				if q := getAttTarget(dig(tg, "DeadLetterConfig", "Arn")); c.Resources[q].Type != "AWS::SQS::Queue" {
					t.Errorf("%s's schedule target has no SQS dead-letter queue", fn)
				}
			}
			found := false
			for _, id := range c.of("AWS::Lambda::EventInvokeConfig") {
				p := c.Resources[id].Properties
				if refTarget(p["FunctionName"]) != fn {
					continue
				}
				found = true
				if _, ok := p["MaximumRetryAttempts"]; !ok {
					t.Errorf("%s: MaximumRetryAttempts is not set (Lambda's default of 2 retries would be implicit)", id)
				}
				if q := getAttTarget(dig(p, "DestinationConfig", "OnFailure", "Destination")); c.Resources[q].Type != "AWS::SQS::Queue" {
					t.Errorf("%s: no SQS on-failure destination", id)
				}
			}
			if !found {
				t.Errorf("%s is invoked asynchronously but has no EventInvokeConfig", fn)
			}
		}
	})

	t.Run("deploys go through an alias, with a canary in prod that rolls back on the function's errors", func(t *testing.T) {
		canary := map[string]any{"Fn::If": []any{"IsProd",
			map[string]any{"Fn::Sub": []any{"CodeDeployDefault.Lambda${ConfigName}", map[string]any{"ConfigName": "Canary10Percent5Minutes"}}},
			map[string]any{"Fn::Sub": []any{"CodeDeployDefault.Lambda${ConfigName}", map[string]any{"ConfigName": "AllAtOnce"}}}}}
		for _, fn := range fns {
			g, ok := c.Resources[fn+"DeploymentGroup"]
			if !ok || g.Type != "AWS::CodeDeploy::DeploymentGroup" {
				t.Errorf("%s has no deployment group (AutoPublishAlias and DeploymentPreference)", fn)
				continue
			}
			if len(ruleTargets(fn)) > 0 {
				continue // one run a night: all at once
			}
			if got := g.Properties["DeploymentConfigName"]; fmt.Sprint(got) != fmt.Sprint(canary) {
				t.Errorf("%sDeploymentGroup DeploymentConfigName %v, want a canary in prod only", fn, got)
			}
			var names []string
			for _, a := range list(dig(g.Properties, "AlarmConfiguration", "Alarms")) {
				names = append(names, refTarget(dig(a, "Name")))
			}
			errs := alarmOn("AWS/Lambda", "Errors", "FunctionName", fn)
			if len(errs) == 0 || !slices.Contains(names, errs[0]) {
				t.Errorf("%sDeploymentGroup rolls back on %v, which lacks its Errors alarm %v", fn, names, errs)
			}
		}
	})
}

// TestSecretParameters checks that every secret parameter takes only a full Secrets Manager ARN,
// with the 6-character suffix the policies need (or nothing, where the secret is optional).
func TestSecretParameters(t *testing.T) {
	c := translate(t)
	full := "arn:aws:secretsmanager:us-east-1:111111111111:secret:secondme/dev/sealingKey-a1B2c3"
	partial := []string{
		"arn:aws:secretsmanager:us-east-1:111111111111:secret:secondme/dev/sealingKey",
		"arn:aws:secretsmanager:us-east-1:111111111111:secret:secondme/dev/sealingKey-a1B2c",
		"secondme/dev/sealingKey-a1B2c3",
		"arn:aws:secretsmanager:us-east-1:1111:secret:secondme/dev/sealingKey-a1B2c3",
	}
	n := 0
	for name, decl := range c.Parameters {
		if !strings.HasSuffix(name, "SecretArn") {
			continue
		}
		n++
		pat, _ := decl["AllowedPattern"].(string)
		re, err := regexp.Compile(pat)
		if err != nil || pat == "" {
			t.Errorf("%s AllowedPattern %q: %v", name, pat, err)
			continue
		}
		if !re.MatchString(full) {
			t.Errorf("%s refuses the full ARN %s", name, full)
		}
		for _, p := range partial {
			if re.MatchString(p) {
				t.Errorf("%s accepts %s, not a full ARN", name, p)
			}
		}
		_, optional := decl["Default"]
		if re.MatchString("") != optional {
			t.Errorf("%s: empty accepted = %v, but it has a Default = %v", name, re.MatchString(""), optional)
		}
	}
	if n < 2 {
		t.Errorf("%d secret parameters (*SecretArn); want one per secret", n)
	}
}
