package template

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// samDir holds what `sam local invoke` and `sam local start-api` use: events/ and env.json.
const samDir = root + "/infra/sam"

// decodeStrict decodes JSON into v, failing on a field v's type does not have.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("more than one JSON value")
	}
	return nil
}

// triggers of the functions, by the event files' second name part: <function>-<trigger>-<what>.json.
var triggers = map[string]string{
	"http":     "an HttpApi route (API Gateway HTTP API payload 2.0)",
	"url":      "its Function URL",
	"sqs":      "an SQS event source mapping",
	"schedule": "an EventBridge schedule",
}

// TestSAMEvents checks infra/sam/events: each file is named <function>-<trigger>-<what>.json, its
// function has that trigger in template.yaml, and it decodes strictly (no unknown field) into the
// aws-lambda-go type of that trigger, with a request the template sends to that function.
func TestSAMEvents(t *testing.T) {
	load(t)
	c := fixture.original
	o, _ := readPublicOrigin(c)
	files, err := filepath.Glob(filepath.Join(samDir, "events", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events in %s/events: %v", samDir, err)
	}
	functionOf := map[string]string{} // functions/<name> -> logical id
	for _, fn := range c.of("AWS::Lambda::Function") {
		if dir, ok := functionDir(fn); ok {
			functionOf[strings.TrimPrefix(dir, "functions/")] = fn
		}
	}
	covered := map[string]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			parts := strings.SplitN(strings.TrimSuffix(name, ".json"), "-", 3)
			if !strings.HasSuffix(name, ".json") || len(parts) < 2 || triggers[parts[1]] == "" {
				t.Fatalf("name it <function>-<trigger>-<what>.json with a trigger of %v", slices.Sorted(maps.Keys(triggers)))
			}
			fn := functionOf[parts[0]]
			if fn == "" {
				t.Fatalf("no function in template.yaml is built from functions/%s", parts[0])
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			covered[fn+" "+parts[1]] = true
			switch parts[1] {
			case "http":
				var ev events.APIGatewayV2HTTPRequest
				if err := decodeStrict(b, &ev); err != nil {
					t.Fatalf("as events.APIGatewayV2HTTPRequest: %v", err)
				}
				method, route, _ := strings.Cut(ev.RouteKey, " ")
				if ev.Version != "2.0" || ev.RequestContext.RouteKey != ev.RouteKey || ev.RequestContext.HTTP.Method != method || ev.RequestContext.HTTP.Path != ev.RawPath {
					t.Errorf("inconsistent event: version %q, routeKey %q, requestContext.routeKey %q, http %s %s, rawPath %s",
						ev.Version, ev.RouteKey, ev.RequestContext.RouteKey, ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path, ev.RawPath)
				}
				if !slices.ContainsFunc(o.routes, func(r apiRoute) bool { return r.method == method && r.path == route && r.function == fn }) {
					t.Errorf("routeKey %q is not a route of %s in template.yaml", ev.RouteKey, fn)
				}
				if _, ok := matchRoute(route, ev.RawPath); !ok {
					t.Errorf("rawPath %s does not match its route %s", ev.RawPath, route)
				}
			case "url":
				var ev events.LambdaFunctionURLRequest
				b, err := dropURLConstants(b)
				if err != nil {
					t.Fatal(err)
				}
				if err := decodeStrict(b, &ev); err != nil {
					t.Fatalf("as events.LambdaFunctionURLRequest: %v", err)
				}
				tg, err := o.resolve(ev.RequestContext.HTTP.Method, ev.RawPath)
				if err != nil || tg.function != fn || tg.route != (apiRoute{}) {
					t.Errorf("%s %s reaches %q through %q (%v), want %s's Function URL", ev.RequestContext.HTTP.Method, ev.RawPath, tg.function, tg.via, err, fn)
				}
			case "sqs":
				var ev events.SQSEvent
				if err := decodeStrict(b, &ev); err != nil {
					t.Fatalf("as events.SQSEvent: %v", err)
				}
				if !hasTrigger(c, fn, "AWS::Lambda::EventSourceMapping") {
					t.Errorf("%s has no event source mapping in template.yaml", fn)
				}
				for _, r := range ev.Records {
					if r.EventSource != "aws:sqs" || r.MessageId == "" {
						t.Errorf("record %q: eventSource %q; want aws:sqs and a messageId", r.MessageId, r.EventSource)
					}
				}
				if len(ev.Records) == 0 {
					t.Error("no records")
				}
			case "schedule":
				var ev events.EventBridgeEvent
				if err := decodeStrict(b, &ev); err != nil {
					t.Fatalf("as events.EventBridgeEvent: %v", err)
				}
				if !hasTrigger(c, fn, "AWS::Events::Rule") {
					t.Errorf("%s has no schedule in template.yaml", fn)
				}
				if ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" {
					t.Errorf("detail-type %q, source %q; want Scheduled Event from aws.events", ev.DetailType, ev.Source)
				}
			}
		})
	}
	// One event per function and trigger of the template.
	for _, fn := range c.of("AWS::Lambda::Function") {
		name, _ := functionDir(fn)
		name = strings.TrimPrefix(name, "functions/")
		for trigger, has := range map[string]bool{
			"http":     slices.ContainsFunc(o.routes, func(r apiRoute) bool { return r.function == fn }),
			"url":      slices.Contains(slices.Collect(maps.Values(o.urls)), fn),
			"sqs":      hasTrigger(c, fn, "AWS::Lambda::EventSourceMapping"),
			"schedule": hasTrigger(c, fn, "AWS::Events::Rule"),
		} {
			if has && !covered[fn+" "+trigger] {
				t.Errorf("%s has %s but infra/sam/events has no %s-%s-*.json", fn, triggers[trigger], name, trigger)
			}
		}
	}
}

// hasTrigger reports whether a resource of the type (an event source mapping, an EventBridge rule)
// invokes the function.
func hasTrigger(c cfn, fn, typ string) bool {
	for _, id := range c.of(typ) {
		p := c.Resources[id].Properties
		if c.functionOf(refTarget(p["FunctionName"])) == fn {
			return true
		}
		for _, tg := range list(p["Targets"]) {
			if getAttTarget(dig(tg, "Arn")) == fn || c.functionOf(refTarget(dig(tg, "Arn"))) == fn {
				return true
			}
		}
	}
	return false
}

// TestSAMEnvJSON checks infra/sam/env.json, the `sam local invoke --env-vars` file: SAM CLI only
// overrides variables the template declares, so each key must be a function's logical id (or
// Parameters, for every function) and each variable one the template sets for it.
func TestSAMEnvJSON(t *testing.T) {
	load(t)
	c := fixture.original
	b, err := os.ReadFile(filepath.Join(samDir, "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := decodeStrict(b, &env); err != nil {
		t.Fatalf("env.json: want {\"LogicalId\": {\"VARIABLE\": \"value\"}}: %v", err)
	}
	declared := map[string]map[string]bool{"Parameters": {}}
	for _, fn := range c.of("AWS::Lambda::Function") {
		vars, _ := dig(c.Resources[fn].Properties, "Environment", "Variables").(map[string]any)
		declared[fn] = map[string]bool{}
		for k := range vars {
			declared[fn][k] = true
			declared["Parameters"][k] = true
		}
	}
	for id, vars := range env {
		if declared[id] == nil {
			t.Errorf("env.json names %s, which is not a function of template.yaml", id)
			continue
		}
		for k := range vars {
			if !declared[id][k] {
				t.Errorf("env.json sets %s for %s, which template.yaml does not declare for it (sam local would ignore it)", k, id)
			}
		}
	}
	if len(env) == 0 {
		t.Error("env.json sets nothing")
	}
	// What sam local cannot make local by itself must be in env.json: an empty value (the endpoint
	// variables), a stack resource (the table's name, the queue's URL: sam local resolves them to
	// logical ids), a parameter with no default (SecretsArn).
	for _, fn := range c.of("AWS::Lambda::Function") {
		vars, _ := dig(c.Resources[fn].Properties, "Environment", "Variables").(map[string]any)
		for k, v := range vars {
			if _, set := env[fn][k]; set || !needsLocalValue(c, v) {
				continue
			}
			if _, set := env["Parameters"][k]; !set {
				t.Errorf("env.json does not set %s for %s: sam local would pass %v", k, fn, v)
			}
		}
	}
}

// needsLocalValue reports whether sam local, given a variable's template value, cannot give it a
// value that works locally.
func needsLocalValue(c cfn, v any) bool {
	if v == "" {
		return true
	}
	for _, ref := range refsIn(v) {
		if _, isResource := c.Resources[ref]; isResource {
			return true
		}
		if p, isParam := c.Parameters[ref]; isParam {
			if _, ok := p["Default"]; !ok {
				return true
			}
		}
	}
	return false
}

// dropURLConstants removes the fields a Function URL request carries with fixed values that
// events.LambdaFunctionURLRequest has no field for: routeKey and requestContext.routeKey and .stage
// ("$default"), pathParameters and stageVariables (null). Any other value stays, and fails the
// strict decoding.
func dropURLConstants(b []byte) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, err
	}
	drop := func(m map[string]any, key string, fixed any) {
		if v, ok := m[key]; ok && v == fixed {
			delete(m, key)
		}
	}
	drop(ev, "routeKey", "$default")
	drop(ev, "pathParameters", nil)
	drop(ev, "stageVariables", nil)
	if rc, ok := ev["requestContext"].(map[string]any); ok {
		drop(rc, "routeKey", "$default")
		drop(rc, "stage", "$default")
	}
	return json.Marshal(ev)
}
