package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testSecretARN = "arn:aws:secretsmanager:us-east-1:000000000000:secret:local-app"

// testInputs are local values as the gateway gives them, with PublicUrl set.
func testInputs() templateInputs {
	return templateInputs{
		Params:      map[string]string{"SecretsArn": testSecretARN, "PublicUrl": "http://127.0.0.1:8080"},
		SQSEndpoint: "http://127.0.0.1:9324",
		PublicHost:  "127.0.0.1:8080",
		SecretARN:   testSecretARN,
		Secret:      map[string]string{"originVerify": "edge-secret"},
	}
}

// projectInputs are testInputs for the project's template.yaml, which names one secret per key: the
// gateway gives each a local secret of its own.
func projectInputs() templateInputs {
	in := testInputs()
	delete(in.Params, "SecretsArn")
	for p, field := range secretParams {
		in.Params[p] = fieldARN(field)
	}
	in.Secrets = ownSecrets(in.Secret)
	return in
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIntrinsics(t *testing.T) {
	tm, err := loadTemplate(readTestdata(t, "intrinsics.yaml"), testInputs())
	if err != nil {
		t.Fatal(err)
	}
	if len(tm.Functions) != 1 {
		t.Fatalf("functions = %d, want 1", len(tm.Functions))
	}
	f := tm.Functions[0]
	for _, tc := range []struct{ name, want string }{
		{"TABLE_NAME", "Table"},  // from Globals, the logical id without TableName
		{"STAGE", "development"}, // the function's own value wins over Globals
		{"QUEUE_URL", "http://127.0.0.1:9324/000000000000/Jobs"},
		{"QUEUE_ARN", "arn:aws:sqs:us-east-1:000000000000:Jobs"},
		{"DLQ_NAME", "dead-letters"},
		{"NAMED_TABLE", "secondme-gateway-named"},
		{"INDEX_ARN", "arn:aws:dynamodb:us-east-1:000000000000:table/Table/index/*"},
		{"REGION", "us-east-1/000000000000/amazonaws.com/aws"},
		{"LIST_SUB", "dev-b-${Literal}"},
		{"URL_HOST", "echofunction.lambda-url.us-east-1.on.aws"},
		{"API_HOST", "api.execute-api.us-east-1.amazonaws.com"},
		{"JOINED", "x+dev+3"},
		{"CALLBACK", "http://127.0.0.1:8080/api/auth/callback"},
		{"BOTH", "yes"},
		{"EITHER", "no"},
		{"VERIFY", "edge-secret"},
		{"ENCODED", "aGk="},
	} {
		if got, ok := f.Env[tc.name]; !ok || got != tc.want {
			t.Errorf("%s = %q (set: %v), want %q", tc.name, got, ok, tc.want)
		}
	}
	if _, ok := f.Env["GONE"]; ok {
		t.Error("GONE is set; AWS::NoValue should remove it")
	}
	if v, ok := f.Env["DYNAMO_ENDPOINT"]; ok {
		t.Errorf("DYNAMO_ENDPOINT = %q kept from the template; the gateway sets it", v)
	}
	if f.Timeout != 29*time.Second || f.MemoryMB != 256 || f.Code != "functions/echo" || f.Dir() != "echo" {
		t.Errorf("function = timeout %v, memory %d, code %s; want 29s, 256 (FindInMap), functions/echo", f.Timeout, f.MemoryMB, f.Code)
	}
	if want := []Route{{Event: "Get", API: "api", Method: "GET", Path: "/items/{id}", Timeout: 30 * time.Second}}; !reflect.DeepEqual(f.Routes, want) {
		t.Errorf("routes = %+v, want %+v", f.Routes, want)
	}
	if want := []SQSEvent{{Event: "Jobs", Queue: "Jobs", BatchSize: 5, Window: 2 * time.Second, ReportBatchItemFailures: true, MaxConcurrency: 3, Enabled: true}}; !reflect.DeepEqual(f.SQS, want) {
		t.Errorf("SQS = %+v, want %+v", f.SQS, want)
	}
	if want := []ScheduleEvent{{Event: "Nightly", Expression: "cron(0 3 * * ? *)", Enabled: true, Retries: 1}}; !reflect.DeepEqual(f.Schedules, want) {
		t.Errorf("schedules = %+v, want %+v", f.Schedules, want)
	}
	if f.URL == nil || !f.URL.Streaming || f.URL.Host != "echofunction.lambda-url.us-east-1.on.aws" {
		t.Errorf("URL = %+v, want a streaming URL", f.URL)
	}
	wantQueues := []*Queue{
		{ID: "Dead", Name: "dead-letters", VisibilityTimeout: 30 * time.Second},
		{ID: "Jobs", Name: "Jobs", VisibilityTimeout: 60 * time.Second, DeadLetterQueue: "dead-letters", MaxReceiveCount: 3},
	}
	if !reflect.DeepEqual(tm.Queues, wantQueues) {
		t.Errorf("queues = %+v, want %+v (OnlyInProd's condition is false)", tm.Queues, wantQueues)
	}
	if len(tm.Tables) != 2 || tm.Tables[0].Name != "secondme-gateway-named" || tm.Tables[1].Name != "Table" {
		t.Fatalf("tables = %+v", tm.Tables)
	}
	if got := tm.Tables[1].Properties["DeletionProtectionEnabled"]; got != false {
		t.Errorf("DeletionProtectionEnabled = %v, want false (!If resolved)", got)
	}
	if len(tm.APIs) != 1 || tm.APIs[0].Host() != "api.execute-api.us-east-1.amazonaws.com" {
		t.Errorf("APIs = %+v", tm.APIs)
	}
}

func TestParameterOverrides(t *testing.T) {
	in := testInputs()
	in.Params["Stage"] = "prod"
	tm, err := loadTemplate(readTestdata(t, "intrinsics.yaml"), in)
	if err != nil {
		t.Fatal(err)
	}
	f := tm.Functions[0]
	if f.Env["STAGE"] != "production" || f.Env["GONE"] != "here" || f.Env["EITHER"] != "yes" || f.MemoryMB != 1024 {
		t.Errorf("with Stage=prod: env %v, memory %d", f.Env, f.MemoryMB)
	}
	if len(tm.Queues) != 3 {
		t.Errorf("queues = %d, want 3 (OnlyInProd exists in prod)", len(tm.Queues))
	}
	if !strings.Contains(strings.Join(tm.Notes, "\n"), "PublicUrl=http://127.0.0.1:8080") {
		t.Errorf("notes %q do not mention PublicUrl outside its AllowedPattern", tm.Notes)
	}
}

// base is a minimal valid template; each error case below edits it.
const base = `Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: { Type: String, Default: dev, AllowedValues: [dev, prod] }
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
  Q:
    Type: AWS::SQS::Queue
  OneFunction:
    Type: AWS::Serverless::Function
    Metadata: { BuildMethod: makefile }
    Properties:
      CodeUri: .
      Handler: bootstrap
      Runtime: provided.al2023
      Environment:
        Variables:
          X: !Ref Stage
      Events:
        Get:
          Type: HttpApi
          Properties: { ApiId: !Ref Api, Method: GET, Path: /one }
`

func TestTemplateErrors(t *testing.T) {
	if _, err := loadTemplate([]byte(base), templateInputs{}); err != nil {
		t.Fatalf("the base template: %v", err)
	}
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"unknown resource type", "Type: AWS::SQS::Queue", "Type: AWS::Kinesis::Stream", "Q: type AWS::Kinesis::Stream"},
		{"unknown function property", "CodeUri: .", "CodeUri: .\n      Layers: [x]", "property Layers"},
		{"unknown event type", "Type: HttpApi", "Type: S3", "event type S3"},
		{"unknown event property", "Path: /one }", "Path: /one, Auth: {} }", "property Auth"},
		{"IAM function URL", "CodeUri: .", "CodeUri: .\n      FunctionUrlConfig: { AuthType: AWS_IAM }", "AuthType \"AWS_IAM\""},
		{"unsupported intrinsic", "X: !Ref Stage", "X: !GetAZs ''", "Fn::GetAZs"},
		{"unknown reference", "X: !Ref Stage", "X: !Ref Nope", "Ref Nope"},
		{"unknown attribute", "X: !Ref Stage", "X: !GetAtt Q.Nope", "Q.Nope"},
		{"unknown condition", "X: !Ref Stage", "X: !If [Nope, a, b]", "no condition Nope"},
		{"parameter without value", "Stage: { Type: String, Default: dev, AllowedValues: [dev, prod] }", "Stage: { Type: String }", "parameter Stage: no value"},
		{"default not allowed", "Default: dev,", "Default: test,", "AllowedValues"},
		{"other secret", "X: !Ref Stage", "X: '{{resolve:secretsmanager:other:SecretString:k}}'", "only the secret"},
		{"ssm reference", "X: !Ref Stage", "X: '{{resolve:ssm:/p}}'", "secretsmanager references only"},
		{"redrive to a foreign queue", "Type: AWS::SQS::Queue", "Type: AWS::SQS::Queue\n    Properties: { RedrivePolicy: { deadLetterTargetArn: arn:aws:sqs:us-east-1:1:x, maxReceiveCount: 2 } }", "not a queue of this template"},
		{"FIFO queue", "Type: AWS::SQS::Queue", "Type: AWS::SQS::Queue\n    Properties: { FifoQueue: true }", "property FifoQueue"},
		{"endpoint set", "X: !Ref Stage", "SQS_ENDPOINT: http://x", "SQS_ENDPOINT=\"http://x\""},
		{"reserved variable", "X: !Ref Stage", "AWS_REGION: eu-west-1", "AWS_REGION is set by Lambda"},
		{"not a makefile build", "BuildMethod: makefile", "BuildMethod: go1.x", "BuildMethod"},
		{"other runtime", "Runtime: provided.al2023", "Runtime: nodejs20.x", "Runtime \"nodejs20.x\""},
		{"bad logical id", "OneFunction:", "One:", "<Name>Function"},
		{"duplicate route", "Path: /one }", "Path: /one }\n        Again:\n          Type: HttpApi\n          Properties: { ApiId: !Ref Api, Method: GET, Path: /one }", "also OneFunction event"},
		{"route to an unknown API", "ApiId: !Ref Api", "ApiId: other", "ApiId \"other\""},
		{"unknown tag", "X: !Ref Stage", "X: !Reff Stage", "unknown tag !Reff"},
		{"unknown section", "Transform:", "Rules: {}\nTransform:", "section Rules"},
		{"stage name", "Type: AWS::Serverless::HttpApi", "Type: AWS::Serverless::HttpApi\n    Properties: { StageName: v1 }", "StageName"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(base, tc.old, tc.new, 1)
			if src == base {
				t.Fatalf("the edit %q does not apply", tc.old)
			}
			_, err := loadTemplate([]byte(src), templateInputs{SecretARN: testSecretARN})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestMergeGlobals(t *testing.T) {
	global := map[string]any{
		"Timeout":       10,
		"Architectures": []any{"arm64"},
		"Environment":   map[string]any{"Variables": map[string]any{"A": "global", "B": "global"}},
		"Layer":         map[string]any{"Ref": "X"},
	}
	local := map[string]any{
		"Timeout":       29,
		"Architectures": []any{"x86_64"},
		"Environment":   map[string]any{"Variables": map[string]any{"B": "local", "C": "local"}},
		"Layer":         map[string]any{"Fn::Sub": "y"},
	}
	want := map[string]any{
		"Timeout":       29,
		"Architectures": []any{"arm64", "x86_64"},
		"Environment":   map[string]any{"Variables": map[string]any{"A": "global", "B": "local", "C": "local"}},
		"Layer":         map[string]any{"Fn::Sub": "y"}, // intrinsics are values, not maps to merge
	}
	if got := mergeGlobals(global, local); !reflect.DeepEqual(got, want) {
		t.Errorf("mergeGlobals = %v, want %v", got, want)
	}
}

// TestProjectTemplate loads the project's template.yaml as the gateway does and checks that every
// function maps to a main package.
func TestProjectTemplate(t *testing.T) {
	src, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := projectInputs()
	tm, err := loadTemplate(src, in)
	if err != nil {
		t.Fatal(err)
	}
	for id, o := range tm.Distribution.Origins {
		if got := o.Headers["X-Origin-Verify"]; got != in.Secret["originVerify"] {
			t.Errorf("origin %s: X-Origin-Verify %q, want the local edge secret %q", id, got, in.Secret["originVerify"])
		}
	}
	if len(tm.Functions) < 8 || len(tm.Tables) != 1 || len(tm.Queues) < 2 || len(tm.APIs) != 1 {
		t.Errorf("template: %d functions, %d tables, %d queues, %d APIs", len(tm.Functions), len(tm.Tables), len(tm.Queues), len(tm.APIs))
	}
	for _, f := range tm.Functions {
		if _, err := os.Stat(filepath.Join("../..", f.Code, "main.go")); err != nil {
			t.Errorf("function %s: %v", f.Name, err)
		}
		if v, ok := f.Env["TABLE_NAME"]; ok && v != tm.Tables[0].Name {
			t.Errorf("function %s: TABLE_NAME = %q, want %q", f.Name, f.Env["TABLE_NAME"], tm.Tables[0].Name)
		}
		// The worker's concurrencies are parameters (Ref), read with their defaults.
		sum := 0
		for _, e := range f.SQS {
			sum += e.MaxConcurrency
		}
		if len(f.SQS) > 0 && (f.Concurrency == 0 || f.Concurrency < sum) {
			t.Errorf("function %s: reserved concurrency %d, pollers %d", f.Name, f.Concurrency, sum)
		}
	}
}
