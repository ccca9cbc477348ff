package main

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// shortTags maps CloudFormation's YAML short forms to the long form of the intrinsic function.
var shortTags = map[string]string{
	"!Ref":         "Ref",
	"!Condition":   "Condition",
	"!GetAtt":      "Fn::GetAtt",
	"!Sub":         "Fn::Sub",
	"!If":          "Fn::If",
	"!Equals":      "Fn::Equals",
	"!Not":         "Fn::Not",
	"!And":         "Fn::And",
	"!Or":          "Fn::Or",
	"!Select":      "Fn::Select",
	"!Split":       "Fn::Split",
	"!Join":        "Fn::Join",
	"!FindInMap":   "Fn::FindInMap",
	"!Base64":      "Fn::Base64",
	"!GetAZs":      "Fn::GetAZs",
	"!ImportValue": "Fn::ImportValue",
	"!Cidr":        "Fn::Cidr",
	"!Transform":   "Fn::Transform",
}

// decodeTemplate reads a CloudFormation template written in YAML into plain values (maps, lists,
// strings, numbers, booleans), turning each short-form tag such as !Ref X into its long form
// {"Ref": "X"}.
func decodeTemplate(src []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("template: empty document")
	}
	v, err := fromNode(doc.Content[0])
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("template: the document is not a mapping")
	}
	return m, nil
}

// fromNode converts one YAML node.
func fromNode(n *yaml.Node) (any, error) {
	if fn, ok := shortTags[n.Tag]; ok {
		plain := *n
		switch n.Kind {
		case yaml.ScalarNode:
			plain.Tag = "!!str"
		case yaml.SequenceNode:
			plain.Tag = "!!seq"
		case yaml.MappingNode:
			plain.Tag = "!!map"
		}
		arg, err := fromNode(&plain)
		if err != nil {
			return nil, err
		}
		if s, ok := arg.(string); ok && fn == "Fn::GetAtt" {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %s: want Resource.Attribute", n.Line, s)
			}
			arg = []any{res, attr}
		}
		return map[string]any{fn: arg}, nil
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.AliasNode:
		return fromNode(n.Alias)
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := fromNode(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a mapping key is not a scalar", k.Line)
			}
			if _, dup := out[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %s", k.Line, k.Value)
			}
			v, err := fromNode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[k.Value] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}
