package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Pseudo parameter values of the gateway's one "account" and region.
const (
	region    = "us-east-1"
	accountID = "000000000000"
	urlSuffix = "amazonaws.com"
	stackName = "secondme-gateway"
)

// noValue is what AWS::NoValue resolves to: the property or list element holding it disappears.
var noValue = &struct{ noValue bool }{true}

// resolver evaluates CloudFormation's intrinsic functions over a decoded template.
type resolver struct {
	params     map[string]any // parameter name -> string, or []any of strings for list types
	conditions map[string]any // as written
	condValues map[string]bool
	condBusy   map[string]bool
	mappings   map[string]any
	resources  map[string]map[string]any // logical id -> the resource as written
	// ref and getAtt answer !Ref and !GetAtt of resources (the gateway's local values).
	ref    func(id string) (any, error)
	getAtt func(id, attr string) (any, error)
	// dynamic answers a dynamic reference {{resolve:...}} (its text between the braces, after
	// "resolve:").
	dynamic func(ref string) (string, error)
}

// resolve evaluates every intrinsic function in v. path names v in error messages.
func (r *resolver) resolve(path string, v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					out, err := r.intrinsic(path, k, arg)
					if err != nil {
						return nil, err
					}
					return out, nil
				}
			}
		}
		out := make(map[string]any, len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			rv, err := r.resolve(path+"."+k, v[k])
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out[k] = rv
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for i, e := range v {
			rv, err := r.resolve(fmt.Sprintf("%s[%d]", path, i), e)
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out = append(out, rv)
			}
		}
		return out, nil
	case string:
		return r.dynamicRefs(path, v)
	}
	return v, nil
}

var dynamicRef = regexp.MustCompile(`\{\{resolve:([^}]*)\}\}`)

// dynamicRefs replaces every dynamic reference {{resolve:...}} in s.
func (r *resolver) dynamicRefs(path, s string) (string, error) {
	var err error
	out := dynamicRef.ReplaceAllStringFunc(s, func(m string) string {
		if err != nil {
			return m
		}
		var v string
		v, err = r.dynamic(dynamicRef.FindStringSubmatch(m)[1])
		return v
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// intrinsic evaluates one intrinsic function fn with its argument as written.
func (r *resolver) intrinsic(path, fn string, arg any) (any, error) {
	at := path + ": " + fn
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s: want a name", at)
		}
		v, err := r.refValue(name)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", at, name, err)
		}
		return v, nil
	case "Condition":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s: want a condition name", at)
		}
		return r.condition(name)
	case "Fn::GetAtt":
		args, err := r.list(at, arg, 2)
		if err != nil {
			return nil, err
		}
		id, attr := str(args[0]), str(args[1])
		v, err := r.getAtt(id, attr)
		if err != nil {
			return nil, fmt.Errorf("%s %s.%s: %w", at, id, attr, err)
		}
		return v, nil
	case "Fn::Sub":
		return r.sub(at, arg)
	case "Fn::Join":
		args, err := r.list(at, arg, 2)
		if err != nil {
			return nil, err
		}
		items, ok := args[1].([]any)
		if !ok {
			return nil, fmt.Errorf("%s: the second argument is not a list", at)
		}
		parts := make([]string, len(items))
		for i, it := range items {
			if parts[i], ok = scalar(it); !ok {
				return nil, fmt.Errorf("%s: element %d is not a string", at, i)
			}
		}
		return strings.Join(parts, str(args[0])), nil
	case "Fn::Select":
		args, err := r.list(at, arg, 2)
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(str(args[0]))
		items, ok := args[1].([]any)
		if err != nil || !ok || i < 0 || i >= len(items) {
			return nil, fmt.Errorf("%s: index %v out of range of %v", at, args[0], args[1])
		}
		return items[i], nil
	case "Fn::Split":
		args, err := r.list(at, arg, 2)
		if err != nil {
			return nil, err
		}
		s, ok := args[1].(string)
		if !ok || str(args[0]) == "" {
			return nil, fmt.Errorf("%s: want a delimiter and a string", at)
		}
		var out []any
		for _, p := range strings.Split(s, str(args[0])) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::If":
		args, ok := arg.([]any)
		if !ok || len(args) != 3 {
			return nil, fmt.Errorf("%s: want [condition, value if true, value if false]", at)
		}
		name, ok := args[0].(string)
		if !ok {
			return nil, fmt.Errorf("%s: want a condition name", at)
		}
		c, err := r.condition(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		if c {
			return r.resolve(path, args[1])
		}
		return r.resolve(path, args[2])
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		return r.evalCondition(at, map[string]any{fn: arg})
	case "Fn::FindInMap":
		args, err := r.list(at, arg, 3)
		if err != nil {
			return nil, err
		}
		top, _ := r.mappings[str(args[0])].(map[string]any)
		second, _ := top[str(args[1])].(map[string]any)
		v, ok := second[str(args[2])]
		if !ok {
			return nil, fmt.Errorf("%s: no %s.%s.%s in Mappings", at, str(args[0]), str(args[1]), str(args[2]))
		}
		return v, nil
	case "Fn::Base64":
		v, err := r.resolve(path, arg)
		if err != nil {
			return nil, err
		}
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%s: want a string", at)
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	}
	return nil, fmt.Errorf("%s: the gateway does not support this function", at)
}

// list resolves arg and checks that it is a list of n elements.
func (r *resolver) list(at string, arg any, n int) ([]any, error) {
	v, err := r.resolve(at, arg)
	if err != nil {
		return nil, err
	}
	l, ok := v.([]any)
	if !ok || len(l) != n {
		return nil, fmt.Errorf("%s: want a list of %d arguments", at, n)
	}
	return l, nil
}

// refValue answers Ref name: a parameter, a pseudo parameter or a resource.
func (r *resolver) refValue(name string) (any, error) {
	switch name {
	case "AWS::Region":
		return region, nil
	case "AWS::AccountId":
		return accountID, nil
	case "AWS::URLSuffix":
		return urlSuffix, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::StackName":
		return stackName, nil
	case "AWS::StackId":
		return "arn:aws:cloudformation:" + region + ":" + accountID + ":stack/" + stackName + "/00000000-0000-0000-0000-000000000000", nil
	case "AWS::NoValue":
		return noValue, nil
	case "AWS::NotificationARNs":
		return []any{}, nil
	}
	if v, ok := r.params[name]; ok {
		return v, nil
	}
	return r.ref(name)
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// sub evaluates Fn::Sub in its string form or its [string, {variables}] form.
func (r *resolver) sub(at string, arg any) (any, error) {
	tmpl, vars := "", map[string]any{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("%s: want a string or [string, {variables}]", at)
		}
		s, ok := a[0].(string)
		m, ok2 := a[1].(map[string]any)
		if !ok || !ok2 {
			return nil, fmt.Errorf("%s: want [string, {variables}]", at)
		}
		tmpl = s
		for k, v := range m {
			rv, err := r.resolve(at+"."+k, v)
			if err != nil {
				return nil, err
			}
			vars[k] = rv
		}
	default:
		return nil, fmt.Errorf("%s: want a string or [string, {variables}]", at)
	}
	var err error
	out := subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}" // ${!Literal} is written as ${Literal}
		}
		if err != nil {
			return m
		}
		var v any
		if vv, ok := vars[name]; ok {
			v = vv
		} else if res, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
			if v, err = r.getAtt(res, attr); err != nil {
				err = fmt.Errorf("%s ${%s}: %w", at, name, err)
				return m
			}
		} else if v, err = r.refValue(name); err != nil {
			err = fmt.Errorf("%s ${%s}: %w", at, name, err)
			return m
		}
		s, ok := scalar(v)
		if !ok {
			err = fmt.Errorf("%s ${%s}: not a string", at, name)
			return m
		}
		return s
	})
	if err != nil {
		return nil, err
	}
	return r.dynamicRefs(at, out)
}

// condition returns the value of the named condition.
func (r *resolver) condition(name string) (bool, error) {
	if v, ok := r.condValues[name]; ok {
		return v, nil
	}
	def, ok := r.conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	if r.condBusy[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	r.condBusy[name] = true
	v, err := r.evalCondition("Conditions."+name, def)
	delete(r.condBusy, name)
	if err != nil {
		return false, err
	}
	r.condValues[name] = v
	return v, nil
}

// evalCondition evaluates a condition expression: Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition.
func (r *resolver) evalCondition(at string, v any) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("%s: not a condition", at)
	}
	for fn, arg := range m {
		switch fn {
		case "Condition":
			name, _ := arg.(string)
			return r.condition(name)
		case "Fn::Equals":
			args, err := r.list(at, arg, 2)
			if err != nil {
				return false, err
			}
			a, ok1 := scalar(args[0])
			b, ok2 := scalar(args[1])
			return ok1 && ok2 && a == b, nil
		case "Fn::Not", "Fn::And", "Fn::Or":
			args, ok := arg.([]any)
			if !ok || len(args) == 0 || (fn == "Fn::Not" && len(args) != 1) {
				return false, fmt.Errorf("%s: %s wants a list of conditions", at, fn)
			}
			vals := make([]bool, len(args))
			for i, a := range args {
				c, err := r.evalCondition(at+"."+fn, a)
				if err != nil {
					return false, err
				}
				vals[i] = c
			}
			switch fn {
			case "Fn::Not":
				return !vals[0], nil
			case "Fn::And":
				return !slices.Contains(vals, false), nil
			default:
				return slices.Contains(vals, true), nil
			}
		}
		return false, fmt.Errorf("%s: %s is not a condition function", at, fn)
	}
	return false, nil
}

// scalar returns v as CloudFormation turns a scalar into a string.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// str is scalar without the check, for names.
func str(v any) string {
	s, _ := scalar(v)
	return s
}

// jsonString renders v as JSON, for messages.
func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
