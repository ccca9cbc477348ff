package template

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// samconfigOverrides returns the parameter_overrides of each environment of samconfig.toml (the
// table [<env>.deploy.parameters] it is in), by environment.
func samconfigOverrides(t *testing.T) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	pair := regexp.MustCompile(`(\w+)=\\"([^"\\]*)\\"`)
	out := map[string]map[string]string{}
	env := ""
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutSuffix(strings.TrimPrefix(line, "["), ".deploy.parameters]"); ok && strings.HasPrefix(line, "[") {
			env = h
		}
		if o, ok := strings.CutPrefix(line, "parameter_overrides = "); ok && env != "" {
			out[env] = map[string]string{}
			for _, p := range pair.FindAllStringSubmatch(o, -1) {
				out[env][p[1]] = p[2]
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("samconfig.toml has no parameter_overrides in a [<env>.deploy.parameters] table")
	}
	return out
}

// paramNumber returns a number of the template, v or a Ref to a parameter: the value overrides give
// it (an environment of samconfig.toml, named env in errors), else the parameter's Default.
func paramNumber(t *testing.T, c cfn, overrides map[string]string, env string, v any) float64 {
	t.Helper()
	name := refTarget(v)
	if name == "" {
		return num(v)
	}
	if s, ok := overrides[name]; ok {
		return num(s)
	}
	p, ok := c.Parameters[name]
	if !ok {
		t.Errorf("%s: Ref %s names no parameter", env, name)
		return 0
	}
	if str(p["Type"]) != "Number" {
		t.Errorf("%s: parameter %s is a %v, want Number", env, name, p["Type"])
	}
	return num(p["Default"])
}

// TestSamconfigParameters checks every parameter value samconfig.toml gives against the template's
// AllowedPattern and AllowedValues, so that a deploy from it is not refused by CloudFormation, nor
// (as a SecretsArn without its 6-character suffix would be) by the functions' IAM policies at start.
func TestSamconfigParameters(t *testing.T) {
	c := translate(t)
	b, err := os.ReadFile(filepath.Join(root, "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	overrides := regexp.MustCompile(`(?m)^parameter_overrides = "(.*)"$`).FindAllStringSubmatch(string(b), -1)
	if len(overrides) == 0 {
		t.Fatal("samconfig.toml has no parameter_overrides")
	}
	pair := regexp.MustCompile(`(\w+)=\\"([^"\\]*)\\"`)
	for _, o := range overrides {
		for _, p := range pair.FindAllStringSubmatch(o[1], -1) {
			name, value := p[1], p[2]
			decl, ok := c.Parameters[name]
			if !ok {
				t.Errorf("samconfig.toml sets %s, which template.yaml does not declare", name)
				continue
			}
			if pat, ok := decl["AllowedPattern"].(string); ok && !regexp.MustCompile(pat).MatchString(value) {
				t.Errorf("samconfig.toml: %s=%q does not match its AllowedPattern %s", name, value, pat)
			}
			if vals, ok := decl["AllowedValues"].([]any); ok {
				found := false
				for _, v := range vals {
					found = found || v == value
				}
				if !found {
					t.Errorf("samconfig.toml: %s=%q is not one of %v", name, value, vals)
				}
			}
		}
	}
}

// TestDeployCheck runs `make deploy-check`'s program on samconfig.toml, placeholders allowed: every
// environment sets every required parameter, with values the template's patterns accept, the
// parameters that go together, its secrets in its region and in one account, prod complete (public
// URL, sign-in, model key, alarm email) and in an account of its own.
func TestDeployCheck(t *testing.T) {
	cmd := exec.Command("go", "run", "./infra/deploycheck", "-env", "all", "-allow-placeholders")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run ./infra/deploycheck: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
