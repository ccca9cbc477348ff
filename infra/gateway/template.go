package main

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/secondme/twin/pkg/awstest"
)

// Template is what the gateway runs, read from template.yaml with every intrinsic function resolved
// to local values.
type Template struct {
	Functions []*Function // in logical id order
	Queues    []*Queue
	Tables    []*Table
	APIs      []*HTTPAPI
	// Distribution is the template's CloudFront distribution, nil when it has none.
	Distribution *Distribution
	// Notes name what the template declares that has no effect on this machine (IAM policies,
	// tracing, log groups, ...), for one log line at start.
	Notes []string
}

// Function is one AWS::Serverless::Function.
type Function struct {
	Name string // the logical id, also the function name
	// Code is the function's main package relative to the module root, functions/<name>, as the
	// Makefile's build-% rule maps it (UsersFunction -> functions/users).
	Code        string
	Env         map[string]string
	Timeout     time.Duration
	MemoryMB    int
	LogFormat   string // Text or JSON
	LogLevel    string // ApplicationLogLevel, empty when not set
	Concurrency int    // ReservedConcurrentExecutions, 0 when not set
	Routes      []Route
	SQS         []SQSEvent
	Schedules   []ScheduleEvent
	URL         *FunctionURL // FunctionUrlConfig, nil when none
}

// Dir is the last element of Code (users for functions/users).
func (f *Function) Dir() string { return f.Code[strings.LastIndex(f.Code, "/")+1:] }

// Route is an HttpApi event: a route of an HTTP API to the function.
type Route struct {
	Event   string // the event's name
	API     string // the HTTP API's id
	Method  string // GET, POST, ..., or ANY
	Path    string // /api/users/{id}, /assets/{proxy+}
	Timeout time.Duration
}

// SQSEvent is an SQS event source mapping.
type SQSEvent struct {
	Event                   string
	Queue                   string // the queue's name
	BatchSize               int
	Window                  time.Duration
	ReportBatchItemFailures bool
	MaxConcurrency          int // 0: not set
	Enabled                 bool
}

// ScheduleEvent is an EventBridge schedule of the function.
type ScheduleEvent struct {
	Event      string
	Expression string // cron(...) or rate(...)
	Enabled    bool
	Retries    int    // RetryPolicy.MaximumRetryAttempts (default 2, Lambda's asynchronous default)
	Input      string // the event sent instead of the scheduled event, when set
}

// FunctionURL is a function's FunctionUrlConfig.
type FunctionURL struct {
	Host      string // the URL's host, <function>.lambda-url.<region>.on.aws
	Streaming bool   // InvokeMode RESPONSE_STREAM
}

// Queue is one AWS::SQS::Queue.
type Queue struct {
	ID                string // logical id
	Name              string
	VisibilityTimeout time.Duration
	DeadLetterQueue   string // the redrive target's name, empty when none
	MaxReceiveCount   int
}

// Table is one AWS::DynamoDB::Table with its resolved Properties.
type Table struct {
	ID         string
	Name       string
	Properties map[string]any
}

// HTTPAPI is one AWS::Serverless::HttpApi (or SAM's implicit ServerlessHttpApi).
type HTTPAPI struct {
	LogicalID string
	ID        string // the API id the gateway gives it
	// Burst and Rate are DefaultRouteSettings' throttling (0: not set).
	Burst int
	Rate  float64
}

// Host is the API's default endpoint host, as its origin is written in a distribution.
func (a *HTTPAPI) Host() string { return a.ID + ".execute-api." + region + "." + urlSuffix }

// Distribution is an AWS::CloudFront::Distribution.
type Distribution struct {
	Origins   map[string]*Origin
	Default   Behavior
	Behaviors []Behavior // CacheBehaviors, in order
}

// Origin is one origin of a distribution.
type Origin struct {
	ID         string
	DomainName string
	Path       string // OriginPath
	Headers    map[string]string
}

// Behavior is a cache behavior: requests matching PathPattern go to the origin TargetOrigin.
type Behavior struct {
	PathPattern  string // "*" for the default behavior
	TargetOrigin string
	Methods      []string // AllowedMethods
	// ForwardAll says whether the viewer's headers (but Host), cookies and query strings reach the
	// origin (origin request policy AllViewerExceptHostHeader or AllViewer); else none do.
	ForwardAll  bool
	ForwardHost bool // AllViewer: the viewer's Host reaches the origin
	Cached      bool // the cache policy caches (the gateway does not)
	// ResponseHeaders are what the response headers policy adds to every answer.
	ResponseHeaders []responseHeader
}

// responseHeader is a header a response headers policy adds: always when Override, else only when
// the origin's answer has none.
type responseHeader struct {
	Name, Value string
	Override    bool
}

// securityHeaders are the headers of the managed SecurityHeadersPolicy.
var securityHeaders = []responseHeader{
	{"Referrer-Policy", "strict-origin-when-cross-origin", false},
	{"Strict-Transport-Security", "max-age=31536000", false},
	{"X-Content-Type-Options", "nosniff", true},
	{"X-Frame-Options", "SAMEORIGIN", false},
	{"X-XSS-Protection", "1; mode=block", false},
}

// templateInputs are the local values the template resolves to.
type templateInputs struct {
	// Params override parameters' defaults (the gateway's own URL, the local secret's ARN, ...).
	Params map[string]string
	// SQSEndpoint is the local SQS endpoint, base of every queue URL.
	SQSEndpoint string
	// PublicHost is the gateway's host:port, the distribution's domain name.
	PublicHost string
	// SecretARN names the local application secret; Secret holds its fields.
	SecretARN string
	Secret    map[string]string
	// Secrets are the secrets of their own, one plain string each, by ARN.
	Secrets map[string]string
}

// Lambda's reserved environment variables and the ones the gateway sets: a template may not set them.
var reservedEnv = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "AWS_EC2_METADATA_DISABLED",
}

// endpointEnv are the variables that point a function at the local services. A template may declare
// them empty (the AWS default, so that `sam local` can override them); the gateway sets them.
var endpointEnv = []string{"DYNAMO_ENDPOINT", "SQS_ENDPOINT", "AWS_ENDPOINT_URL_SECRETS_MANAGER"}

// Managed CloudFront policies the gateway knows, by id.
const (
	cachingDisabled           = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	cachingOptimized          = "658327ea-f89d-4fab-a63d-7e88639e58f6"
	allViewer                 = "216adef6-5c7f-47e4-b989-5492eafa07d3"
	allViewerExceptHostHeader = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
	securityHeadersPolicy     = "67f7725c-6f97-4210-82d7-5512b31e9d03"
)

// loader turns a decoded template into a Template.
type loader struct {
	in        templateInputs
	r         *resolver
	resources map[string]map[string]any
	globals   map[string]any // Globals.Function
	apiGlobal map[string]any // Globals.HttpApi
	notes     map[string]bool
	errs      []error
}

// loadTemplate reads a SAM template (YAML, short tags allowed) and resolves it with in.
func loadTemplate(src []byte, in templateInputs) (*Template, error) {
	doc, err := decodeTemplate(src)
	if err != nil {
		return nil, err
	}
	l := &loader{in: in, notes: map[string]bool{}}
	return l.load(doc)
}

func (l *loader) load(doc map[string]any) (*Template, error) {
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		switch k {
		case "AWSTemplateFormatVersion", "Description", "Metadata", "Outputs":
		case "Transform":
			if t := str(doc[k]); t != "AWS::Serverless-2016-10-31" {
				return nil, fmt.Errorf("template section Transform %v: the gateway reads SAM templates (AWS::Serverless-2016-10-31) only", doc[k])
			}
		case "Parameters", "Conditions", "Mappings", "Globals", "Resources":
		default:
			return nil, fmt.Errorf("template section %s: the gateway does not know it", k)
		}
	}
	resources, ok := doc["Resources"].(map[string]any)
	if !ok {
		return nil, errors.New("template: no Resources")
	}
	l.resources = map[string]map[string]any{}
	for id, v := range resources {
		res, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("resource %s: not a mapping", id)
		}
		l.resources[id] = res
	}
	params, err := l.parameters(doc["Parameters"])
	if err != nil {
		return nil, err
	}
	conds, _ := doc["Conditions"].(map[string]any)
	mappings, _ := doc["Mappings"].(map[string]any)
	l.r = &resolver{
		params: params, conditions: conds, condValues: map[string]bool{}, condBusy: map[string]bool{},
		mappings: mappings, resources: l.resources, ref: l.ref, getAtt: l.getAtt, dynamic: l.dynamic,
	}
	if err := l.readGlobals(doc["Globals"]); err != nil {
		return nil, err
	}
	// Resources whose Condition is false do not exist.
	for id, res := range l.resources {
		if c, ok := res["Condition"]; ok {
			on, err := l.r.condition(str(c))
			if err != nil {
				return nil, fmt.Errorf("resource %s: %w", id, err)
			}
			if !on {
				delete(l.resources, id)
			}
		}
	}
	t := &Template{}
	for _, id := range slices.Sorted(maps.Keys(l.resources)) {
		res := l.resources[id]
		typ := str(res["Type"])
		switch typ {
		case "AWS::Serverless::Function":
			if f := l.function(id, res); f != nil {
				t.Functions = append(t.Functions, f)
			}
		case "AWS::Serverless::HttpApi":
			if a := l.httpAPI(id, res); a != nil {
				t.APIs = append(t.APIs, a)
			}
		case "AWS::SQS::Queue":
			if q := l.queue(id, res); q != nil {
				t.Queues = append(t.Queues, q)
			}
		case "AWS::DynamoDB::Table":
			if tb := l.table(id, res); tb != nil {
				t.Tables = append(t.Tables, tb)
			}
		case "AWS::CloudFront::Distribution":
			if t.Distribution != nil {
				l.fail("resource %s: the gateway plays one distribution, the template has two", id)
				continue
			}
			t.Distribution = l.distribution(id, res)
		case "AWS::Logs::LogGroup":
			l.note("log groups (function logs go to the gateway's stderr)")
		case "AWS::CloudWatch::Alarm":
			l.note("CloudWatch alarms")
		case "AWS::CloudWatch::Dashboard":
			l.note("CloudWatch dashboards")
		case "AWS::SNS::Topic":
			l.note("SNS topics (alarm notifications)")
		case "AWS::Logs::MetricFilter":
			l.note("log metric filters")
		case "AWS::SQS::QueuePolicy":
			l.note("queue policies (not enforced)")
		case "AWS::S3::Bucket":
			l.note("S3 buckets (media are files under DATA_DIR/gateway/media: MEDIA_DIR)")
		case "AWS::S3::BucketPolicy":
			l.note("bucket policies (not enforced)")
		default:
			l.fail("resource %s: type %s is not something the gateway can run", id, typ)
		}
	}
	l.implicitAPI(t)
	l.checkRoutes(t)
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	t.Notes = slices.Sorted(maps.Keys(l.notes))
	return t, nil
}

func (l *loader) fail(format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf(format, args...))
}

func (l *loader) note(s string) { l.notes[s] = true }

// parameters returns each parameter's value: the override, else its default.
func (l *loader) parameters(v any) (map[string]any, error) {
	decl, _ := v.(map[string]any)
	for name := range l.in.Params {
		if _, ok := decl[name]; !ok {
			return nil, fmt.Errorf("parameter %s: the template declares no such parameter", name)
		}
	}
	out := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(decl)) {
		p, _ := decl[name].(map[string]any)
		val, given := l.in.Params[name]
		if !given {
			d, ok := p["Default"]
			if !ok {
				return nil, fmt.Errorf("parameter %s: no value (no Default, and the gateway supplies none)", name)
			}
			if val, ok = scalar(d); !ok {
				return nil, fmt.Errorf("parameter %s: the Default is not a scalar", name)
			}
		}
		if allowed, ok := p["AllowedValues"].([]any); ok && !slices.ContainsFunc(allowed, func(a any) bool { return str(a) == val }) {
			return nil, fmt.Errorf("parameter %s=%q: not one of its AllowedValues %v", name, val, allowed)
		}
		if pat, ok := p["AllowedPattern"].(string); ok {
			re, err := regexp.Compile("^(?:" + pat + ")$")
			if err != nil {
				return nil, fmt.Errorf("parameter %s: AllowedPattern: %w", name, err)
			}
			if !re.MatchString(val) {
				if !given {
					return nil, fmt.Errorf("parameter %s: the Default %q does not match its AllowedPattern", name, val)
				}
				// The gateway's own values (such as its plain-http loopback URL) may differ in form
				// from what a deployment takes; say so instead of refusing.
				l.note(fmt.Sprintf("parameter %s=%s outside its AllowedPattern %s", name, val, pat))
			}
		}
		switch str(p["Type"]) {
		case "String", "Number", "":
			out[name] = val
		case "CommaDelimitedList", "List<Number>":
			var items []any
			for _, s := range strings.Split(val, ",") {
				items = append(items, strings.TrimSpace(s))
			}
			out[name] = items
		default:
			return nil, fmt.Errorf("parameter %s: type %v is not supported by the gateway", name, p["Type"])
		}
	}
	return out, nil
}

// readGlobals keeps Globals.Function and Globals.HttpApi, to merge into each resource.
func (l *loader) readGlobals(v any) error {
	g, _ := v.(map[string]any)
	for k, sec := range g {
		m, ok := sec.(map[string]any)
		if !ok {
			return fmt.Errorf("template section Globals.%s: not a mapping", k)
		}
		switch k {
		case "Function":
			l.globals = m
		case "HttpApi":
			l.apiGlobal = m
		default:
			return fmt.Errorf("template section Globals.%s: the gateway does not support it", k)
		}
	}
	return nil
}

// mergeGlobals merges SAM globals into a resource's properties: maps merge key by key (the resource
// wins), lists are the global entries followed by the resource's, scalars are the resource's.
func mergeGlobals(global, local map[string]any) map[string]any {
	out := maps.Clone(local)
	if out == nil {
		out = map[string]any{}
	}
	for k, gv := range global {
		lv, ok := out[k]
		if !ok {
			out[k] = gv
			continue
		}
		gm, gok := gv.(map[string]any)
		lm, lok := lv.(map[string]any)
		if gok && lok && !isIntrinsic(gm) && !isIntrinsic(lm) {
			out[k] = mergeGlobals(gm, lm)
			continue
		}
		gl, gok := gv.([]any)
		ll, lok := lv.([]any)
		if gok && lok {
			out[k] = append(slices.Clone(gl), ll...)
		}
	}
	return out
}

func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// props resolves the named properties of a resource and refuses any property not in known (known
// maps a property to the note it earns, or "" when the gateway honours it).
func (l *loader) props(what string, raw map[string]any, known map[string]string) map[string]any {
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		note, ok := known[k]
		if !ok {
			l.fail("%s: property %s is not supported by the gateway", what, k)
			continue
		}
		if note != "" {
			l.note(note)
			continue
		}
		v, err := l.r.resolve(what+"."+k, raw[k])
		if err != nil {
			l.errs = append(l.errs, err)
			continue
		}
		if v != noValue {
			out[k] = v
		}
	}
	return out
}

// properties returns a resource's Properties as written, checking its attributes.
func (l *loader) properties(id string, res map[string]any) map[string]any {
	for k := range res {
		switch k {
		case "Type", "Properties", "DependsOn", "DeletionPolicy", "UpdateReplacePolicy", "Condition", "Metadata":
		default:
			l.fail("resource %s: attribute %s is not supported by the gateway", id, k)
		}
	}
	p, _ := res["Properties"].(map[string]any)
	return p
}

var functionProps = map[string]string{
	"CodeUri": "", "Handler": "", "Runtime": "", "Timeout": "", "MemorySize": "", "Environment": "",
	"LoggingConfig": "", "ReservedConcurrentExecutions": "",
	"FunctionName": "", "Description": "",
	"Architectures":        "Architectures (bootstraps are built for this machine)",
	"Policies":             "IAM policies (not enforced)",
	"Tracing":              "X-Ray tracing",
	"AutoPublishAlias":     "versions and aliases (the latest code always runs)",
	"DeploymentPreference": "gradual deployments (CodeDeploy)",
	"EventInvokeConfig":    "asynchronous invocation retries and destinations (a failed scheduled run is logged)",
}

// function reads one AWS::Serverless::Function.
func (l *loader) function(id string, res map[string]any) *Function {
	what := "function " + id
	raw := mergeGlobals(l.globals, l.properties(id, res))
	if md, _ := res["Metadata"].(map[string]any); str(md["BuildMethod"]) != "makefile" {
		l.fail("%s: Metadata.BuildMethod must be makefile (the gateway builds as make build-%s does)", what, id)
	}
	// Events and FunctionUrlConfig are read below, property by property.
	events, _ := raw["Events"].(map[string]any)
	urlRaw, hasURL := raw["FunctionUrlConfig"]
	urlCfg, urlOK := urlRaw.(map[string]any)
	delete(raw, "Events")
	delete(raw, "FunctionUrlConfig")
	p := l.props(what, raw, functionProps)
	name := strings.TrimSuffix(id, "Function")
	f := &Function{
		Name: id, Code: "functions/" + strings.ToLower(name), Env: map[string]string{},
		Timeout: 3 * time.Second, MemoryMB: 128, LogFormat: "Text",
	}
	if name == id || name == "" {
		l.fail("%s: the logical id must be <Name>Function (the Makefile builds it from functions/<name>)", what)
	}
	if v, ok := p["FunctionName"]; ok {
		f.Name = str(v)
	}
	if v := str(p["CodeUri"]); v != "." {
		l.fail("%s: CodeUri %q: the gateway builds from the module root (CodeUri: .)", what, v)
	}
	if v := str(p["Handler"]); v != "bootstrap" {
		l.fail("%s: Handler %q: want bootstrap", what, v)
	}
	if v := str(p["Runtime"]); v != "provided.al2023" && v != "provided.al2" {
		l.fail("%s: Runtime %q: the gateway runs provided.al2023 and provided.al2 bootstraps", what, v)
	}
	if v, ok := p["Timeout"]; ok {
		n, err := positive(v)
		if err != nil || n > 900 {
			l.fail("%s: Timeout %v: want 1 to 900 seconds", what, v)
		}
		f.Timeout = time.Duration(n) * time.Second
	}
	if v, ok := p["MemorySize"]; ok {
		n, err := positive(v)
		if err != nil || n < 128 || n > 10240 {
			l.fail("%s: MemorySize %v: want 128 to 10240 MB", what, v)
		}
		f.MemoryMB = n
	}
	if v, ok := p["ReservedConcurrentExecutions"]; ok {
		n, err := positive(v)
		if err != nil {
			l.fail("%s: ReservedConcurrentExecutions %v: %v", what, v, err)
		}
		f.Concurrency = n
	}
	if env, ok := p["Environment"].(map[string]any); ok {
		for k := range env {
			if k != "Variables" {
				l.fail("%s: Environment.%s is not supported by the gateway", what, k)
			}
		}
		vars, _ := env["Variables"].(map[string]any)
		for k, v := range vars {
			s, ok := scalar(v)
			switch {
			case !ok:
				l.fail("%s: environment variable %s is not a string: %s", what, k, jsonString(v))
			case slices.Contains(reservedEnv, k):
				l.fail("%s: environment variable %s is set by Lambda, not the template", what, k)
			case slices.Contains(endpointEnv, k) && s != "":
				l.fail("%s: environment variable %s=%q: the gateway points it at its local service; declare it empty", what, k, s)
			case slices.Contains(endpointEnv, k):
			default:
				f.Env[k] = s
			}
		}
	}
	if lc, ok := p["LoggingConfig"].(map[string]any); ok {
		for k, v := range lc {
			switch k {
			case "LogFormat":
				if f.LogFormat = str(v); f.LogFormat != "Text" && f.LogFormat != "JSON" {
					l.fail("%s: LoggingConfig.LogFormat %q: want Text or JSON", what, f.LogFormat)
				}
			case "ApplicationLogLevel":
				f.LogLevel = str(v)
			case "SystemLogLevel":
				l.note("LoggingConfig.SystemLogLevel (the gateway prints no platform log lines)")
			case "LogGroup":
				l.note("log groups (function logs go to the gateway's stderr)")
			default:
				l.fail("%s: LoggingConfig.%s is not supported by the gateway", what, k)
			}
		}
	}
	switch {
	case hasURL && urlOK:
		f.URL = l.functionURL(what, id, urlCfg)
	case hasURL:
		l.fail("%s: FunctionUrlConfig is not a mapping", what)
	}
	for _, ev := range slices.Sorted(maps.Keys(events)) {
		l.event(f, ev, events[ev])
	}
	return f
}

// functionURL reads FunctionUrlConfig.
func (l *loader) functionURL(what, id string, raw map[string]any) *FunctionURL {
	p := l.props(what+" FunctionUrlConfig", raw, map[string]string{"AuthType": "", "InvokeMode": ""})
	if v := str(p["AuthType"]); v != "NONE" {
		l.fail("%s: FunctionUrlConfig.AuthType %q: the gateway serves AuthType NONE only", what, v)
	}
	u := &FunctionURL{Host: functionURLHost(id)}
	switch v := str(p["InvokeMode"]); v {
	case "", "BUFFERED":
	case "RESPONSE_STREAM":
		u.Streaming = true
	default:
		l.fail("%s: FunctionUrlConfig.InvokeMode %q: want BUFFERED or RESPONSE_STREAM", what, v)
	}
	return u
}

// functionURLHost is the host of a function's URL, from the function's logical id.
func functionURLHost(id string) string {
	return strings.ToLower(id) + ".lambda-url." + region + ".on.aws"
}

// event reads one entry of a function's Events.
func (l *loader) event(f *Function, name string, v any) {
	what := "function " + f.Name + " event " + name
	ev, _ := v.(map[string]any)
	for k := range ev {
		if k != "Type" && k != "Properties" {
			l.fail("%s: %s is not supported by the gateway", what, k)
		}
	}
	raw, _ := ev["Properties"].(map[string]any)
	switch typ := str(ev["Type"]); typ {
	case "HttpApi":
		p := l.props(what, raw, map[string]string{"ApiId": "", "Method": "", "Path": "", "PayloadFormatVersion": "", "TimeoutInMillis": ""})
		rt := Route{Event: name, API: implicitAPIID, Method: strings.ToUpper(str(p["Method"])), Path: str(p["Path"]), Timeout: 30 * time.Second}
		if id, ok := p["ApiId"]; ok {
			rt.API = str(id)
		}
		if v, ok := p["PayloadFormatVersion"]; ok && str(v) != "2.0" {
			l.fail("%s: PayloadFormatVersion %v: the gateway sends payload 2.0 only", what, v)
		}
		if v, ok := p["TimeoutInMillis"]; ok {
			n, err := positive(v)
			if err != nil || n < 50 || n > 30000 {
				l.fail("%s: TimeoutInMillis %v: want 50 to 30000", what, v)
			}
			rt.Timeout = time.Duration(n) * time.Millisecond
		}
		if rt.Method == "" {
			rt.Method = "ANY"
		}
		if rt.Path == "" || !strings.HasPrefix(rt.Path, "/") {
			l.fail("%s: Path %q: want an absolute path", what, rt.Path)
		}
		f.Routes = append(f.Routes, rt)
	case "SQS":
		p := l.props(what, raw, map[string]string{"Queue": "", "BatchSize": "", "MaximumBatchingWindowInSeconds": "",
			"FunctionResponseTypes": "", "ScalingConfig": "", "Enabled": ""})
		e := SQSEvent{Event: name, BatchSize: 10, Enabled: true}
		arn := str(p["Queue"])
		e.Queue = strings.TrimPrefix(arn, "arn:aws:sqs:"+region+":"+accountID+":")
		if e.Queue == arn || !l.isQueue(e.Queue) {
			l.fail("%s: Queue %q is not a queue of this template", what, arn)
		}
		if v, ok := p["BatchSize"]; ok {
			n, err := positive(v)
			if err != nil || n > 10000 {
				l.fail("%s: BatchSize %v: want 1 to 10000", what, v)
			}
			e.BatchSize = n
		}
		if v, ok := p["MaximumBatchingWindowInSeconds"]; ok {
			n, err := strconv.Atoi(str(v))
			if err != nil || n < 0 || n > 300 {
				l.fail("%s: MaximumBatchingWindowInSeconds %v: want 0 to 300", what, v)
			}
			e.Window = time.Duration(n) * time.Second
		}
		if e.BatchSize > 10 && e.Window == 0 {
			l.fail("%s: BatchSize above 10 needs MaximumBatchingWindowInSeconds", what)
		}
		if types, ok := p["FunctionResponseTypes"].([]any); ok {
			for _, t := range types {
				if str(t) != "ReportBatchItemFailures" {
					l.fail("%s: FunctionResponseTypes %v: want ReportBatchItemFailures", what, t)
				}
				e.ReportBatchItemFailures = true
			}
		}
		if sc, ok := p["ScalingConfig"].(map[string]any); ok {
			for k, v := range sc {
				if k != "MaximumConcurrency" {
					l.fail("%s: ScalingConfig.%s is not supported by the gateway", what, k)
					continue
				}
				n, err := positive(v)
				if err != nil || n < 2 || n > 1000 {
					l.fail("%s: ScalingConfig.MaximumConcurrency %v: want 2 to 1000", what, v)
				}
				e.MaxConcurrency = n
			}
		}
		if v, ok := p["Enabled"]; ok {
			e.Enabled = str(v) == "true"
		}
		f.SQS = append(f.SQS, e)
	case "Schedule", "ScheduleV2":
		known := map[string]string{"Schedule": "", "ScheduleExpression": "", "Description": "", "RetryPolicy": "",
			"Enabled": "", "State": "", "Name": "", "Input": "", "DeadLetterConfig": "schedule dead-letter queues (every event is delivered)"}
		p := l.props(what, raw, known)
		s := ScheduleEvent{Event: name, Expression: str(p["Schedule"]), Enabled: true, Retries: 2}
		if typ == "ScheduleV2" {
			s.Expression = str(p["ScheduleExpression"])
		}
		if !strings.HasPrefix(s.Expression, "cron(") && !strings.HasPrefix(s.Expression, "rate(") {
			l.fail("%s: schedule %q: want cron(...) or rate(...)", what, s.Expression)
		}
		if v, ok := p["Enabled"]; ok {
			s.Enabled = str(v) == "true"
		}
		if v, ok := p["State"]; ok {
			s.Enabled = str(v) == "ENABLED"
		}
		if rp, ok := p["RetryPolicy"].(map[string]any); ok {
			for k, v := range rp {
				switch k {
				case "MaximumRetryAttempts":
					n, err := strconv.Atoi(str(v))
					if err != nil || n < 0 || n > 185 {
						l.fail("%s: RetryPolicy.MaximumRetryAttempts %v: want 0 to 185", what, v)
					}
					s.Retries = n
				case "MaximumEventAgeInSeconds":
					l.note("schedule RetryPolicy.MaximumEventAgeInSeconds (retries follow one another at once)")
				default:
					l.fail("%s: RetryPolicy.%s is not supported by the gateway", what, k)
				}
			}
		}
		if v, ok := p["Input"]; ok {
			s.Input = str(v)
		}
		f.Schedules = append(f.Schedules, s)
	default:
		l.fail("%s: event type %s is not something the gateway can deliver", what, typ)
	}
}

// implicitAPIID is the id of SAM's implicit HTTP API, for HttpApi events without ApiId.
const implicitAPIID = "serverlesshttpapi"

// implicitAPI adds SAM's implicit ServerlessHttpApi when a route uses it.
func (l *loader) implicitAPI(t *Template) {
	for _, f := range t.Functions {
		for _, r := range f.Routes {
			if r.API == implicitAPIID && !slices.ContainsFunc(t.APIs, func(a *HTTPAPI) bool { return a.ID == implicitAPIID }) {
				t.APIs = append(t.APIs, &HTTPAPI{LogicalID: "ServerlessHttpApi", ID: implicitAPIID})
			}
		}
	}
}

// checkRoutes refuses routes to unknown APIs and two routes with the same key.
func (l *loader) checkRoutes(t *Template) {
	seen := map[string]string{}
	for _, f := range t.Functions {
		for _, r := range f.Routes {
			if !slices.ContainsFunc(t.APIs, func(a *HTTPAPI) bool { return a.ID == r.API }) {
				l.fail("function %s event %s: ApiId %q is not an HTTP API of this template", f.Name, r.Event, r.API)
			}
			key := r.API + " " + r.Method + " " + r.Path
			if other, dup := seen[key]; dup {
				l.fail("function %s event %s: route %s %s is also %s", f.Name, r.Event, r.Method, r.Path, other)
			}
			seen[key] = f.Name + " event " + r.Event
		}
	}
}

// httpAPI reads one AWS::Serverless::HttpApi.
func (l *loader) httpAPI(id string, res map[string]any) *HTTPAPI {
	what := "HTTP API " + id
	raw := mergeGlobals(l.apiGlobal, l.properties(id, res))
	p := l.props(what, raw, map[string]string{
		"Description": "", "DefaultRouteSettings": "", "StageName": "", "FailOnWarnings": "",
		"AccessLogSettings": "HTTP API access logs (the functions log each request)",
	})
	a := &HTTPAPI{LogicalID: id, ID: strings.ToLower(id)}
	if v, ok := p["StageName"]; ok && str(v) != "$default" {
		l.fail("%s: StageName %v: the gateway serves the $default stage only", what, v)
	}
	if rs, ok := p["DefaultRouteSettings"].(map[string]any); ok {
		for k, v := range rs {
			switch k {
			case "ThrottlingBurstLimit":
				n, err := positive(v)
				if err != nil {
					l.fail("%s: DefaultRouteSettings.ThrottlingBurstLimit %v: %v", what, v, err)
				}
				a.Burst = n
			case "ThrottlingRateLimit":
				r, err := strconv.ParseFloat(str(v), 64)
				if err != nil || r <= 0 {
					l.fail("%s: DefaultRouteSettings.ThrottlingRateLimit %v: want a positive number", what, v)
				}
				a.Rate = r
			case "DetailedMetricsEnabled":
				l.note("HTTP API metrics")
			default:
				l.fail("%s: DefaultRouteSettings.%s is not supported by the gateway", what, k)
			}
		}
	}
	return a
}

// queueName is a queue's name: its QueueName, else its logical id.
func (l *loader) queueName(id string) (string, error) {
	p, _ := l.resources[id]["Properties"].(map[string]any)
	if v, ok := p["QueueName"]; ok {
		s, err := l.r.resolve("queue "+id+".QueueName", v)
		if err != nil {
			return "", err
		}
		return str(s), nil
	}
	return id, nil
}

func (l *loader) isQueue(name string) bool {
	for id, res := range l.resources {
		if str(res["Type"]) == "AWS::SQS::Queue" {
			if n, err := l.queueName(id); err == nil && n == name {
				return true
			}
		}
	}
	return false
}

// queue reads one AWS::SQS::Queue.
func (l *loader) queue(id string, res map[string]any) *Queue {
	what := "queue " + id
	p := l.props(what, l.properties(id, res), map[string]string{
		"VisibilityTimeout": "", "RedrivePolicy": "", "QueueName": "",
		"MessageRetentionPeriod": "queue MessageRetentionPeriod (messages are kept until deleted)",
		"SqsManagedSseEnabled":   "queue encryption", "KmsMasterKeyId": "queue encryption",
		"KmsDataKeyReusePeriodSeconds": "queue encryption", "Tags": "tags",
	})
	name, err := l.queueName(id)
	if err != nil {
		l.errs = append(l.errs, err)
	}
	q := &Queue{ID: id, Name: name, VisibilityTimeout: 30 * time.Second}
	if v, ok := p["VisibilityTimeout"]; ok {
		n, err := strconv.Atoi(str(v))
		if err != nil || n < 0 || n > 43200 {
			l.fail("%s: VisibilityTimeout %v: want 0 to 43200 seconds", what, v)
		}
		q.VisibilityTimeout = time.Duration(n) * time.Second
	}
	if rp, ok := p["RedrivePolicy"].(map[string]any); ok {
		for k, v := range rp {
			switch k {
			case "deadLetterTargetArn":
				arn := str(v)
				q.DeadLetterQueue = strings.TrimPrefix(arn, "arn:aws:sqs:"+region+":"+accountID+":")
				if q.DeadLetterQueue == arn || !l.isQueue(q.DeadLetterQueue) {
					l.fail("%s: RedrivePolicy.deadLetterTargetArn %q is not a queue of this template", what, arn)
				}
			case "maxReceiveCount":
				n, err := positive(v)
				if err != nil || n > 1000 {
					l.fail("%s: RedrivePolicy.maxReceiveCount %v: want 1 to 1000", what, v)
				}
				q.MaxReceiveCount = n
			default:
				l.fail("%s: RedrivePolicy.%s is not supported by the gateway", what, k)
			}
		}
		if q.DeadLetterQueue == "" || q.MaxReceiveCount == 0 {
			l.fail("%s: RedrivePolicy needs deadLetterTargetArn and maxReceiveCount", what)
		}
	}
	return q
}

// tableName is a table's name: its TableName, else its logical id.
func (l *loader) tableName(id string) (string, error) {
	p, _ := l.resources[id]["Properties"].(map[string]any)
	if v, ok := p["TableName"]; ok {
		s, err := l.r.resolve("table "+id+".TableName", v)
		if err != nil {
			return "", err
		}
		return str(s), nil
	}
	return id, nil
}

// table reads one AWS::DynamoDB::Table. Its properties go to createTable, which checks them.
func (l *loader) table(id string, res map[string]any) *Table {
	raw := l.properties(id, res)
	p, err := l.r.resolve("table "+id, raw)
	if err != nil {
		l.errs = append(l.errs, err)
		return nil
	}
	name, err := l.tableName(id)
	if err != nil {
		l.errs = append(l.errs, err)
	}
	props, _ := p.(map[string]any)
	return &Table{ID: id, Name: name, Properties: props}
}

// distribution reads the AWS::CloudFront::Distribution.
func (l *loader) distribution(id string, res map[string]any) *Distribution {
	what := "distribution " + id
	p := l.props(what, l.properties(id, res), map[string]string{"DistributionConfig": "", "Tags": "tags"})
	cfg, _ := p["DistributionConfig"].(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(cfg)) {
		switch k {
		case "Enabled", "Origins", "DefaultCacheBehavior", "CacheBehaviors", "Comment":
		case "Aliases", "ViewerCertificate":
			l.note("the distribution's custom domain and certificate (the gateway serves plain http on its own address)")
		case "HttpVersion", "PriceClass", "IPV6Enabled":
			l.note("the distribution's HttpVersion, PriceClass and IPV6Enabled")
		default:
			l.fail("%s: DistributionConfig.%s is not supported by the gateway", what, k)
		}
	}
	if str(cfg["Enabled"]) != "true" {
		l.fail("%s: Enabled is not true", what)
	}
	d := &Distribution{Origins: map[string]*Origin{}}
	origins, _ := cfg["Origins"].([]any)
	for i, o := range origins {
		om, _ := o.(map[string]any)
		ow := fmt.Sprintf("%s Origins[%d]", what, i)
		org := &Origin{ID: str(om["Id"]), DomainName: str(om["DomainName"]), Path: str(om["OriginPath"]), Headers: map[string]string{}}
		for _, k := range slices.Sorted(maps.Keys(om)) {
			switch k {
			case "Id", "DomainName", "OriginPath":
			case "CustomOriginConfig":
				l.note("origin protocol settings (the gateway reaches its origins in process)")
			case "ConnectionAttempts", "ConnectionTimeout":
				l.note("origin connection settings")
			case "OriginCustomHeaders":
				hs, _ := om[k].([]any)
				for _, h := range hs {
					hm, _ := h.(map[string]any)
					org.Headers[str(hm["HeaderName"])] = str(hm["HeaderValue"])
				}
			default:
				l.fail("%s: %s is not supported by the gateway", ow, k)
			}
		}
		if org.ID == "" || org.DomainName == "" {
			l.fail("%s: want an Id and a DomainName", ow)
		}
		d.Origins[org.ID] = org
	}
	def, _ := cfg["DefaultCacheBehavior"].(map[string]any)
	d.Default = l.behavior(what+" DefaultCacheBehavior", def, false)
	d.Default.PathPattern = "*"
	bs, _ := cfg["CacheBehaviors"].([]any)
	for i, b := range bs {
		bm, _ := b.(map[string]any)
		d.Behaviors = append(d.Behaviors, l.behavior(fmt.Sprintf("%s CacheBehaviors[%d]", what, i), bm, true))
	}
	for _, b := range append([]Behavior{d.Default}, d.Behaviors...) {
		if _, ok := d.Origins[b.TargetOrigin]; !ok {
			l.fail("%s: behavior %s targets origin %q, which the distribution does not have", what, b.PathPattern, b.TargetOrigin)
		}
	}
	return d
}

// behavior reads a cache behavior.
func (l *loader) behavior(what string, m map[string]any, withPath bool) Behavior {
	b := Behavior{TargetOrigin: str(m["TargetOriginId"]), Methods: []string{"GET", "HEAD"}}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		switch k {
		case "TargetOriginId":
		case "PathPattern":
			if !withPath {
				l.fail("%s: the default behavior has no PathPattern", what)
			}
			b.PathPattern = str(v)
		case "AllowedMethods":
			b.Methods = nil
			items, _ := v.([]any)
			for _, it := range items {
				b.Methods = append(b.Methods, strings.ToUpper(str(it)))
			}
		case "CachedMethods", "Compress":
			l.note("CloudFront caching and compression (the gateway forwards every request)")
		case "ViewerProtocolPolicy":
			l.note("ViewerProtocolPolicy (the gateway serves plain http on loopback)")
		case "CachePolicyId":
			switch str(v) {
			case cachingDisabled:
			case cachingOptimized:
				b.Cached = true
				l.note("CloudFront caching and compression (the gateway forwards every request)")
			default:
				l.fail("%s: CachePolicyId %v is not a managed policy the gateway knows (CachingDisabled, CachingOptimized)", what, v)
			}
		case "OriginRequestPolicyId":
			switch str(v) {
			case allViewerExceptHostHeader:
				b.ForwardAll = true
			case allViewer:
				b.ForwardAll, b.ForwardHost = true, true
			default:
				l.fail("%s: OriginRequestPolicyId %v is not a managed policy the gateway knows (AllViewer, AllViewerExceptHostHeader)", what, v)
			}
		case "ResponseHeadersPolicyId":
			if str(v) != securityHeadersPolicy {
				l.fail("%s: ResponseHeadersPolicyId %v is not a managed policy the gateway knows (SecurityHeadersPolicy)", what, v)
			}
			b.ResponseHeaders = securityHeaders
		default:
			l.fail("%s: %s is not supported by the gateway", what, k)
		}
	}
	if _, ok := m["CachePolicyId"]; !ok {
		l.fail("%s: no CachePolicyId (legacy ForwardedValues are not supported by the gateway)", what)
	}
	if withPath && b.PathPattern == "" {
		l.fail("%s: no PathPattern", what)
	}
	return b
}

// ref answers !Ref of a resource with its local value.
func (l *loader) ref(id string) (any, error) {
	res, ok := l.resources[id]
	if !ok {
		if f, ok := l.urlFunction(id); ok {
			return "arn:aws:lambda:" + region + ":" + accountID + ":function:" + f, nil
		}
		return nil, errors.New("no such parameter or resource")
	}
	switch typ := str(res["Type"]); typ {
	case "AWS::DynamoDB::Table":
		return l.tableName(id)
	case "AWS::SQS::Queue":
		name, err := l.queueName(id)
		return awstest.QueueURL(l.in.SQSEndpoint, name), err
	case "AWS::Serverless::HttpApi":
		return strings.ToLower(id), nil
	case "AWS::Logs::LogGroup":
		return "/aws/gateway/" + id, nil
	default:
		return id, nil
	}
}

// urlFunction reports whether id is SAM's generated <Function>Url resource of a function with a
// FunctionUrlConfig, and names the function.
func (l *loader) urlFunction(id string) (string, bool) {
	fn, ok := strings.CutSuffix(id, "Url")
	if !ok {
		return "", false
	}
	res, ok := l.resources[fn]
	if !ok || str(res["Type"]) != "AWS::Serverless::Function" {
		return "", false
	}
	p, _ := res["Properties"].(map[string]any)
	_, has := p["FunctionUrlConfig"]
	return fn, has
}

// getAtt answers !GetAtt of a resource with its local value.
func (l *loader) getAtt(id, attr string) (any, error) {
	arn := func(service, rest string) string {
		return "arn:aws:" + service + ":" + region + ":" + accountID + ":" + rest
	}
	res, ok := l.resources[id]
	if !ok {
		if fn, ok := l.urlFunction(id); ok {
			switch attr {
			case "FunctionUrl":
				return "https://" + functionURLHost(fn) + "/", nil
			case "FunctionArn":
				return arn("lambda", "function:"+fn), nil
			}
			return nil, errors.New("a function URL has the attributes FunctionUrl and FunctionArn")
		}
		return nil, errors.New("no such resource")
	}
	switch str(res["Type"]) {
	case "AWS::DynamoDB::Table":
		if attr == "Arn" {
			name, err := l.tableName(id)
			return arn("dynamodb", "table/"+name), err
		}
	case "AWS::SQS::Queue":
		name, err := l.queueName(id)
		if err != nil {
			return nil, err
		}
		switch attr {
		case "Arn":
			return awstest.QueueARN(name), nil
		case "QueueName":
			return name, nil
		case "QueueUrl":
			return awstest.QueueURL(l.in.SQSEndpoint, name), nil
		}
	case "AWS::Serverless::Function":
		if attr == "Arn" {
			return arn("lambda", "function:"+id), nil
		}
	case "AWS::Serverless::HttpApi":
		if attr == "ApiEndpoint" {
			return "https://" + strings.ToLower(id) + ".execute-api." + region + "." + urlSuffix, nil
		}
	case "AWS::Logs::LogGroup":
		if attr == "Arn" {
			return arn("logs", "log-group:/aws/gateway/"+id+":*"), nil
		}
	case "AWS::S3::Bucket":
		if attr == "Arn" {
			return "arn:aws:s3:::" + strings.ToLower(id), nil
		}
	case "AWS::CloudFront::Distribution":
		switch attr {
		case "DomainName":
			return l.in.PublicHost, nil
		case "Id":
			return strings.ToUpper(id), nil
		}
	}
	return nil, fmt.Errorf("the gateway has no value for attribute %s of %s", attr, str(res["Type"]))
}

// dynamic answers a dynamic reference: only secretsmanager:<the local secret>:SecretString:<field>.
func (l *loader) dynamic(ref string) (string, error) {
	rest, ok := strings.CutPrefix(ref, "secretsmanager:")
	if !ok {
		return "", fmt.Errorf("dynamic reference {{resolve:%s}}: the gateway resolves secretsmanager references only", ref)
	}
	if v, own := l.in.Secrets[rest]; own {
		return v, nil // {{resolve:secretsmanager:<arn>}}: a secret's whole string
	}
	id, field, ok := strings.Cut(rest, ":SecretString:")
	if !ok || field == "" || strings.Contains(field, ":") {
		return "", fmt.Errorf("dynamic reference {{resolve:%s}}: want secretsmanager:<secret>:SecretString:<field>", ref)
	}
	if id != l.in.SecretARN {
		return "", fmt.Errorf("dynamic reference {{resolve:%s}}: the gateway has only the secret %s", ref, l.in.SecretARN)
	}
	v, ok := l.in.Secret[field]
	if !ok {
		return "", fmt.Errorf("dynamic reference {{resolve:%s}}: the local secret has no field %q", ref, field)
	}
	return v, nil
}

// positive reads a positive whole number.
func positive(v any) (int, error) {
	n, err := strconv.Atoi(str(v))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a positive whole number")
	}
	return n, nil
}
