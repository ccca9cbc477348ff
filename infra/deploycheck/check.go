package main

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Parameter is a template parameter as deploy-check reads it.
type Parameter struct {
	Type           string
	Default        *string
	AllowedPattern string
	AllowedValues  []string
	MinValue       *float64
	MaxValue       *float64
}

// readParameters returns the Parameters section of a CloudFormation template in YAML. It decodes the
// template as YAML nodes, so the short intrinsic tags (!Ref, !If...) elsewhere do not matter.
func readParameters(src []byte) (map[string]Parameter, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("template: not a mapping")
	}
	params := map[string]Parameter{}
	top := doc.Content[0].Content
	for i := 0; i+1 < len(top); i += 2 {
		if top[i].Value != "Parameters" {
			continue
		}
		ps := top[i+1].Content
		for j := 0; j+1 < len(ps); j += 2 {
			var p struct {
				Type           string   `yaml:"Type"`
				Default        *string  `yaml:"Default"`
				AllowedPattern string   `yaml:"AllowedPattern"`
				AllowedValues  []string `yaml:"AllowedValues"`
				MinValue       *float64 `yaml:"MinValue"`
				MaxValue       *float64 `yaml:"MaxValue"`
			}
			if err := ps[j+1].Decode(&p); err != nil {
				return nil, fmt.Errorf("template parameter %s: %w", ps[j].Value, err)
			}
			params[ps[j].Value] = Parameter(p)
		}
	}
	if len(params) == 0 {
		return nil, errors.New("template: no Parameters")
	}
	return params, nil
}

// Env is one environment of samconfig.toml: its deploy parameters.
type Env struct {
	Region     string
	Overrides  map[string]string
	HasDeploys bool
}

// readSamconfig reads the environments of samconfig.toml that have deploy parameters. It reads the
// subset of TOML SAM CLI writes: [env.command.parameters] tables of key = "string", true, false or a
// number; anything else is an error.
func readSamconfig(src string) (map[string]Env, error) {
	envs := map[string]Env{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("samconfig.toml:%d: a table header without ]", n)
			}
			section = strings.Trim(line, "[] ")
			continue
		}
		key, raw, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("samconfig.toml:%d: want key = value", n)
		}
		key, raw = strings.TrimSpace(key), strings.TrimSpace(raw)
		value := raw
		if strings.HasPrefix(raw, `"`) {
			v, err := strconv.Unquote(raw)
			if err != nil {
				return nil, fmt.Errorf("samconfig.toml:%d: %s: %w", n, key, err)
			}
			value = v
		} else if _, err := strconv.ParseFloat(raw, 64); err != nil && raw != "true" && raw != "false" {
			return nil, fmt.Errorf("samconfig.toml:%d: %s = %s: want a string, a number or a boolean", n, key, raw)
		}
		env, ok := strings.CutSuffix(section, ".deploy.parameters")
		if !ok {
			continue
		}
		e := envs[env]
		e.HasDeploys = true
		switch key {
		case "region":
			e.Region = value
		case "parameter_overrides":
			o, err := parseOverrides(value)
			if err != nil {
				return nil, fmt.Errorf("samconfig.toml:%d: %w", n, err)
			}
			e.Overrides = o
		}
		envs[env] = e
	}
	return envs, sc.Err()
}

// overrideRE is one Key="value" (or Key=value) of parameter_overrides.
var overrideRE = regexp.MustCompile(`^([A-Za-z0-9]+)=(?:"([^"]*)"|([^"\s]*))(?:\s+|$)`)

// parseOverrides reads parameter_overrides: Key="value" pairs separated by spaces.
func parseOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	s = strings.TrimSpace(s)
	for s != "" {
		m := overrideRE.FindStringSubmatch(s)
		if m == nil {
			return nil, fmt.Errorf("parameter_overrides: cannot read %q: want Key=\"value\" pairs", s)
		}
		if _, dup := out[m[1]]; dup {
			return nil, fmt.Errorf("parameter_overrides: %s is set twice", m[1])
		}
		out[m[1]] = m[2] + m[3]
		s = s[len(m[0]):]
	}
	return out, nil
}

// placeholderRE matches the placeholders samconfig.toml ships with.
var placeholderRE = regexp.MustCompile(`REPLACE|-XXXXXX$|(^|[.@/])example\.com\b|/0{8}-0{4}-0{4}-0{4}-0{12}$`)

// secretARNRE reads a Secrets Manager ARN's region and account.
var secretARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):([0-9]{12}):secret:`)

// Options tune Check.
type Options struct {
	// AllowPlaceholders accepts the placeholders of the shipped samconfig.toml (for its own test).
	AllowPlaceholders bool
}

// Check returns what would make a deploy of env fail, or leave it without sign-in, alarms or its
// secrets: each parameter against its declaration, the parameters that go together, the secrets'
// region and account, and placeholders.
func Check(params map[string]Parameter, envs map[string]Env, env string, opt Options) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, env+": "+fmt.Sprintf(format, args...)) }
	e, ok := envs[env]
	if !ok || !e.HasDeploys {
		return []string{fmt.Sprintf("%s: samconfig.toml has no [%s.deploy.parameters]", env, env)}
	}
	o := e.Overrides
	for _, name := range slices.Sorted(maps.Keys(o)) {
		v := o[name]
		p, ok := params[name]
		if !ok {
			add("%s is not a parameter of template.yaml", name)
			continue
		}
		if p.AllowedPattern != "" {
			re, err := regexp.Compile(p.AllowedPattern)
			if err != nil {
				add("%s: its AllowedPattern %q: %v", name, p.AllowedPattern, err)
			} else if !re.MatchString(v) {
				add("%s=%q does not match its AllowedPattern %s", name, v, p.AllowedPattern)
			}
		}
		if len(p.AllowedValues) > 0 && !slices.Contains(p.AllowedValues, v) {
			add("%s=%q is not one of %v", name, v, p.AllowedValues)
		}
		if p.Type == "Number" {
			n, err := strconv.ParseFloat(v, 64)
			switch {
			case err != nil:
				add("%s=%q is not a number", name, v)
			case p.MinValue != nil && n < *p.MinValue:
				add("%s=%v is below its MinValue %v", name, n, *p.MinValue)
			case p.MaxValue != nil && n > *p.MaxValue:
				add("%s=%v is above its MaxValue %v", name, n, *p.MaxValue)
			}
		}
		if !opt.AllowPlaceholders && placeholderRE.MatchString(v) {
			add("%s=%q is a placeholder: put your own value in samconfig.toml (docs/deploy.md)", name, v)
		}
		if m := secretARNRE.FindStringSubmatch(v); m != nil && e.Region != "" && m[1] != e.Region {
			add("%s is in %s, but the stack deploys to %s: Secrets Manager ARNs are regional", name, m[1], e.Region)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(params)) {
		if _, set := o[name]; !set && params[name].Default == nil {
			add("%s is required (it has no Default) and not set", name)
		}
	}
	set := func(name string) bool { return o[name] != "" }
	if v := o["Stage"]; v != "" && (env == "dev" || env == "prod") && v != env {
		add("Stage=%q in the %s environment", v, env)
	}
	pairs := []struct{ with, needs string }{
		{"SecondMeClientId", "SecondMeClientSecretArn"},
		{"SecondMeClientSecretArn", "SecondMeClientId"},
		{"OidcIssuer", "OidcClientId"},
		{"OidcIssuer", "OidcClientSecretArn"},
		{"OidcClientId", "OidcIssuer"},
		{"DomainName", "CertificateArn"},
		{"CertificateArn", "DomainName"},
	}
	for _, p := range pairs {
		if set(p.with) && !set(p.needs) {
			add("%s is set without %s", p.with, p.needs)
		}
	}
	if set("DomainName") && set("PublicUrl") && o["PublicUrl"] != "https://"+o["DomainName"] {
		add("PublicUrl=%q, but DomainName=%q: browsers reach https://%s", o["PublicUrl"], o["DomainName"], o["DomainName"])
	}
	if o["Stage"] == "prod" {
		for _, name := range []string{"PublicUrl", "AlarmEmail", "ModelKeySecretArn"} {
			if !set(name) {
				add("%s is not set: prod needs it (docs/deploy.md)", name)
			}
		}
		if !set("SecondMeClientId") && !set("OidcIssuer") {
			add("no sign-in: set SecondMeClientId or OidcIssuer")
		}
	}
	accounts := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(o)) {
		if m := secretARNRE.FindStringSubmatch(o[name]); m != nil {
			accounts[m[2]] = true
		}
	}
	if len(accounts) > 1 {
		add("the secrets are in the accounts %v; a stack reads its own account's secrets", slices.Sorted(maps.Keys(accounts)))
	}
	return problems
}

// accountOf returns the account of an environment's secrets, "" when they name none.
func accountOf(e Env) string {
	for _, name := range slices.Sorted(maps.Keys(e.Overrides)) {
		if m := secretARNRE.FindStringSubmatch(e.Overrides[name]); m != nil {
			return m[2]
		}
	}
	return ""
}

// CheckSeparateAccounts reports a prod environment in the same account as dev.
func CheckSeparateAccounts(envs map[string]Env) []string {
	dev, prod := accountOf(envs["dev"]), accountOf(envs["prod"])
	if dev != "" && dev == prod {
		return []string{fmt.Sprintf("prod: its secrets are in dev's account %s; prod deploys to an account of its own (docs/deploy.md)", dev)}
	}
	return nil
}

// Amount is a number of the template: a literal, or the name of the parameter a Ref names.
type Amount struct {
	Literal, Param string
}

// Worker is a function that reads SQS queues: its reserved concurrency and each queue poller's
// ScalingConfig.MaximumConcurrency.
type Worker struct {
	Reserved Amount
	Pollers  []Amount
}

// amountOf reads a number node: a literal, !Ref Name or {Ref: Name}.
func amountOf(n *yaml.Node) Amount {
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!Ref":
		return Amount{Param: n.Value}
	case n.Kind == yaml.ScalarNode:
		return Amount{Literal: n.Value}
	case n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "Ref":
		return Amount{Param: n.Content[1].Value}
	}
	return Amount{Literal: "?"}
}

// child returns the value of key in a mapping node, nil when it has none.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// readWorkers returns the template's functions with SQS event sources and a reserved concurrency, by
// logical id.
func readWorkers(src []byte) (map[string]Worker, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil || len(doc.Content) != 1 {
		return nil, fmt.Errorf("template: %v", err)
	}
	out := map[string]Worker{}
	res := child(doc.Content[0], "Resources")
	if res == nil {
		return out, nil
	}
	for i := 0; i+1 < len(res.Content); i += 2 {
		props := child(res.Content[i+1], "Properties")
		reserved := child(props, "ReservedConcurrentExecutions")
		if reserved == nil {
			continue
		}
		w := Worker{Reserved: amountOf(reserved)}
		events := child(props, "Events")
		for j := 0; events != nil && j+1 < len(events.Content); j += 2 {
			ev := events.Content[j+1]
			if t := child(ev, "Type"); t == nil || t.Value != "SQS" {
				continue
			}
			mc := child(child(child(ev, "Properties"), "ScalingConfig"), "MaximumConcurrency")
			if mc == nil {
				return nil, fmt.Errorf("template: %s: an SQS event %s without ScalingConfig.MaximumConcurrency", res.Content[i].Value, events.Content[j].Value)
			}
			w.Pollers = append(w.Pollers, amountOf(mc))
		}
		if len(w.Pollers) > 0 {
			out[res.Content[i].Value] = w
		}
	}
	return out, nil
}

// CheckConcurrency reports a worker whose reserved concurrency, with env's parameters (or their
// defaults), is below the sum of its pollers' MaximumConcurrency: SQS batches would be throttled
// into false receives that end in the DLQ. CloudFormation has no arithmetic, so both are parameters
// that must agree.
func CheckConcurrency(params map[string]Parameter, workers map[string]Worker, envs map[string]Env, env string) []string {
	var problems []string
	value := func(a Amount) (float64, string, bool) {
		s, what := a.Literal, a.Literal
		if a.Param != "" {
			v, set := envs[env].Overrides[a.Param]
			if !set && params[a.Param].Default != nil {
				v = *params[a.Param].Default
			}
			s, what = v, a.Param+"="+v
		}
		n, err := strconv.ParseFloat(s, 64)
		return n, what, err == nil
	}
	for _, fn := range slices.Sorted(maps.Keys(workers)) {
		w := workers[fn]
		r, rWhat, ok := value(w.Reserved)
		sum, terms := 0.0, []string{}
		for _, p := range w.Pollers {
			n, what, ok2 := value(p)
			ok = ok && ok2
			sum += n
			terms = append(terms, what)
		}
		if !ok {
			continue // a parameter that is not a number: Check names it
		}
		if r < sum {
			problems = append(problems, fmt.Sprintf("%s: %s reserved concurrency %s < its pollers' %v (%s): raise it to at least their sum (docs/scale.md)",
				env, fn, rWhat, sum, strings.Join(terms, " + ")))
		}
	}
	return problems
}
