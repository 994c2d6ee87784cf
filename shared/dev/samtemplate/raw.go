package samtemplate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Resource is one resource as the template writes it. Properties are
// plain values (maps, lists, strings, numbers, booleans) with every
// short-form intrinsic in its long form: !Ref X reads {"Ref": "X"},
// !GetAtt A.B reads {"Fn::GetAtt": ["A", "B"]}, !Sub s reads
// {"Fn::Sub": "s"}, and so on, as CloudFormation itself reads them.
type Resource struct {
	Type       string
	Condition  string
	Properties map[string]any
}

// ResourcesOfType lists the logical ids of the resources of type typ, sorted.
func (t *Template) ResourcesOfType(typ string) []string {
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		if t.Resources[id].Type == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// Ref is the long form of !Ref name, to compare Properties with.
func Ref(name string) map[string]any { return map[string]any{"Ref": name} }

// GetAtt is the long form of !GetAtt resource.attribute.
func GetAtt(resource, attribute string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{resource, attribute}}
}

// typedResources are the resource types goformation reads into the typed
// Functions and Tables. goformation's schema lags SAM's and
// CloudFormation's (it knows neither a function's LoggingConfig nor an
// HttpApi's AccessLogSettings, and refuses a !Ref to a Number parameter
// where it expects an int), so it is given only these, without the
// properties it does not know; Resources covers the rest.
var typedResources = map[string][]string{
	"AWS::Serverless::Function": {"LoggingConfig"},
	"AWS::DynamoDB::Table":      nil,
}

// goformationInput is the template with only typedResources, stripped of
// the properties goformation does not know.
func goformationInput(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("samtemplate: invalid YAML: %w", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("samtemplate: the template is not a YAML mapping")
	}
	resources := mappingValue(doc.Content[0], "Resources")
	if resources == nil || resources.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("samtemplate: no Resources mapping")
	}
	var kept []*yaml.Node
	for i := 0; i+1 < len(resources.Content); i += 2 {
		res := resources.Content[i+1]
		typ := mappingValue(res, "Type")
		if typ == nil {
			return nil, fmt.Errorf("samtemplate: resource %s has no Type", resources.Content[i].Value)
		}
		drop, ok := typedResources[typ.Value]
		if !ok {
			continue
		}
		if props := mappingValue(res, "Properties"); props != nil {
			for _, key := range drop {
				deleteKey(props, key)
			}
		}
		kept = append(kept, resources.Content[i], res)
	}
	resources.Content = kept
	return yaml.Marshal(&doc)
}

// mappingValue is the value of key in mapping node m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func deleteKey(m *yaml.Node, key string) {
	if m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}

// rawResources reads every resource of the template's Resources node.
func rawResources(resources map[string]rawResource) (map[string]Resource, error) {
	out := make(map[string]Resource, len(resources))
	for id, r := range resources {
		res := Resource{Type: r.Type, Condition: r.Condition, Properties: map[string]any{}}
		if r.Properties.Kind != 0 {
			v, err := plain(&r.Properties)
			if err != nil {
				return nil, fmt.Errorf("samtemplate: %s: %w", id, err)
			}
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("samtemplate: %s: Properties is not a mapping", id)
			}
			res.Properties = m
		}
		out[id] = res
	}
	return out, nil
}

type rawResource struct {
	Type       string    `yaml:"Type"`
	Condition  string    `yaml:"Condition"`
	Properties yaml.Node `yaml:"Properties"`
}

// plain turns a YAML node into plain values, short-form intrinsics into
// their long form.
func plain(n *yaml.Node) (any, error) {
	// CloudFormation's short forms are local tags (!Ref); YAML's own
	// resolved tags are !!str, !!map...
	intrinsic := strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!")
	var v any
	switch n.Kind {
	case yaml.AliasNode:
		return plain(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := plain(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := plain(c)
			if err != nil {
				return nil, err
			}
			l = append(l, val)
		}
		v = l
	case yaml.ScalarNode:
		if intrinsic {
			v = n.Value // an intrinsic's argument is text, whatever it looks like
		} else if err := n.Decode(&v); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
	}
	if !intrinsic {
		return v, nil
	}
	name := strings.TrimPrefix(n.Tag, "!")
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q needs Resource.Attribute", n.Line, s)
			}
			v = []any{res, attr}
		}
	}
	return map[string]any{"Fn::" + name: v}, nil
}
