package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const root = "../.."

func repoInputs(t *testing.T) (map[string]Parameter, map[string]Env) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	params, err := readParameters(src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	envs, err := readSamconfig(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return params, envs
}

// TestRepository checks the shipped samconfig.toml against template.yaml: every environment agrees
// with the template but for its placeholders, which a deploy refuses.
func TestRepository(t *testing.T) {
	params, envs := repoInputs(t)
	for _, env := range []string{"dev", "prod"} {
		if p := Check(params, envs, env, Options{AllowPlaceholders: true}); len(p) > 0 {
			t.Errorf("%s: %q", env, p)
		}
		if p := Check(params, envs, env, Options{}); len(p) == 0 || !strings.Contains(strings.Join(p, "\n"), "placeholder") {
			t.Errorf("%s with its placeholders: problems %q, want the placeholders named", env, p)
		}
	}
	if p := CheckSeparateAccounts(envs); len(p) > 0 {
		t.Errorf("%q", p)
	}
	if o := envs["prod"].Overrides; o["PublicUrl"] == "" || o["SecondMeClientId"] == "" || o["OidcClientId"] == "" || o["ModelKeySecretArn"] == "" {
		t.Errorf("prod overrides %v: want PublicUrl, the sign-in client ids and the model key", o)
	}
}

func TestCheck(t *testing.T) {
	params, envs := repoInputs(t)
	prod := envs["prod"]
	with := func(edit func(o map[string]string)) map[string]Env {
		o := map[string]string{}
		for k, v := range prod.Overrides {
			o[k] = v
		}
		edit(o)
		return map[string]Env{"prod": {Region: prod.Region, Overrides: o, HasDeploys: true}}
	}
	tests := []struct {
		name string
		envs map[string]Env
		want string
	}{
		{"as shipped", with(func(map[string]string) {}), ""},
		{"a partial secret ARN", with(func(o map[string]string) {
			o["SealingKeySecretArn"] = "arn:aws:secretsmanager:us-east-1:222222222222:secret:secondme/prod/sealingKey"
		}), "does not match its AllowedPattern"},
		{"a required secret missing", with(func(o map[string]string) { delete(o, "OriginVerifySecretArn") }), "OriginVerifySecretArn is required"},
		{"an unknown parameter", with(func(o map[string]string) { o["SecretsArn"] = "x" }), "not a parameter of template.yaml"},
		{"a value outside AllowedValues", with(func(o map[string]string) { o["Stage"] = "staging" }), "is not one of"},
		{"a client id without its secret", with(func(o map[string]string) { delete(o, "SecondMeClientSecretArn") }), "SecondMeClientId is set without SecondMeClientSecretArn"},
		{"prod without alarms", with(func(o map[string]string) { delete(o, "AlarmEmail") }), "AlarmEmail is not set"},
		{"prod without sign-in", with(func(o map[string]string) {
			for _, k := range []string{"SecondMeClientId", "SecondMeClientSecretArn", "OidcIssuer", "OidcClientId", "OidcClientSecretArn"} {
				delete(o, k)
			}
		}), "no sign-in"},
		{"a secret of another region", with(func(o map[string]string) {
			o["ModelKeySecretArn"] = "arn:aws:secretsmanager:eu-west-1:222222222222:secret:secondme/prod/geminiApiKey-a1B2c3"
		}), "Secrets Manager ARNs are regional"},
		{"a secret of another account", with(func(o map[string]string) {
			o["ModelKeySecretArn"] = "arn:aws:secretsmanager:us-east-1:333333333333:secret:secondme/prod/geminiApiKey-a1B2c3"
		}), "the secrets are in the accounts"},
		{"PublicUrl not the domain", with(func(o map[string]string) { o["PublicUrl"] = "https://other.example.org" }), "browsers reach"},
		{"a number below its MinValue", with(func(o map[string]string) { o["NightlyWorkerConcurrency"] = "1" }), "below its MinValue"},
		{"a number above its MaxValue", with(func(o map[string]string) { o["NightlyWorkerConcurrency"] = "1001" }), "above its MaxValue"},
		{"not a number", with(func(o map[string]string) { o["WorkerReservedConcurrency"] = "lots" }), "is not a number"},
	}
	for _, tt := range tests {
		got := Check(params, tt.envs, "prod", Options{AllowPlaceholders: true})
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%s: %q, want no problem", tt.name, got)
		case tt.want != "" && !strings.Contains(strings.Join(got, "\n"), tt.want):
			t.Errorf("%s: %q, want a problem naming %q", tt.name, got, tt.want)
		}
	}
	if p := CheckSeparateAccounts(map[string]Env{"dev": prod, "prod": prod}); len(p) != 1 {
		t.Errorf("prod in dev's account: %q, want one problem", p)
	}
}

func TestReadSamconfig(t *testing.T) {
	envs, err := readSamconfig("version = 0.1\n[x.deploy.parameters]\nregion = \"eu-west-1\"\nconfirm_changeset = true\nparameter_overrides = \"A=\\\"1 2\\\" B=c\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if e := envs["x"]; e.Region != "eu-west-1" || e.Overrides["A"] != "1 2" || e.Overrides["B"] != "c" || len(e.Overrides) != 2 {
		t.Errorf("env x = %+v", e)
	}
	for _, bad := range []string{"[x.deploy.parameters\n", "[x.deploy.parameters]\nregion\n", "[x.deploy.parameters]\nparameter_overrides = \"A=\\\"1\\\" A=\\\"2\\\"\"\n", "[x.deploy.parameters]\ntags = [1]\n"} {
		if _, err := readSamconfig(bad); err == nil {
			t.Errorf("readSamconfig(%q): no error", bad)
		}
	}
}

func TestRun(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"-template", filepath.Join(root, "template.yaml"), "-config", filepath.Join(root, "samconfig.toml")}
	if code := run(append(args, "-allow-placeholders"), &out, &errOut); code != 0 {
		t.Errorf("run with placeholders allowed = %d: %s", code, errOut.String())
	}
	errOut.Reset()
	if code := run(append(args, "-env", "prod"), &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "placeholder") {
		t.Errorf("run -env prod = %d, %s; want 1 naming the placeholders", code, errOut.String())
	}
}

// TestCheckConcurrency checks the worker's reserved concurrency against its pollers' sum, both set by
// parameters: with the defaults, as shipped, and with the nightly concurrency raised alone or together.
func TestCheckConcurrency(t *testing.T) {
	params, envs := repoInputs(t)
	src, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	workers, err := readWorkers(src)
	if err != nil {
		t.Fatal(err)
	}
	w, ok := workers["CompatworkerFunction"]
	if !ok || w.Reserved.Param == "" || !slices.ContainsFunc(w.Pollers, func(a Amount) bool { return a.Param != "" }) {
		t.Fatalf("workers %+v: want CompatworkerFunction with its reserved and nightly concurrency as parameters", workers)
	}
	with := func(o map[string]string) map[string]Env { return map[string]Env{"x": {Overrides: o, HasDeploys: true}} }
	tests := []struct {
		name string
		envs map[string]Env
		want string
	}{
		{"the defaults", with(nil), ""},
		{"dev as shipped", map[string]Env{"x": envs["dev"]}, ""},
		{"prod as shipped", map[string]Env{"x": envs["prod"]}, ""},
		{"the nightly raised alone", with(map[string]string{"NightlyWorkerConcurrency": "83"}), "CompatworkerFunction reserved concurrency WorkerReservedConcurrency=15 < its pollers' 88"},
		{"both raised", with(map[string]string{"NightlyWorkerConcurrency": "83", "WorkerReservedConcurrency": "88"}), ""},
		{"reserved lowered", with(map[string]string{"WorkerReservedConcurrency": "14"}), "< its pollers' 15"},
	}
	for _, tt := range tests {
		got := CheckConcurrency(params, workers, tt.envs, "x")
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%s: %q, want no problem", tt.name, got)
		case tt.want != "" && !strings.Contains(strings.Join(got, "\n"), tt.want):
			t.Errorf("%s: %q, want a problem naming %q", tt.name, got, tt.want)
		}
	}
}
