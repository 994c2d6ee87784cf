// Package samtemplate reads the project's AWS SAM template, template.yaml,
// into the few facts the rest of the code relies on: each function's build
// settings, environment variable names, policies and HttpApi routes, the
// HTTP API's CORS configuration, the parameters, and the table's keys,
// billing, point-in-time recovery and TTL. The local server
// routes requests with it, and tests compare it with the Go routers,
// docs/openapi.yaml and shared/store, so the template cannot drift from them.
//
// Parsing is goformation's; this package only picks out what it needs and
// merges Globals.Function into each function, as SAM does on deploy.
package samtemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	cfndynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/pufinid/pufinid-api/shared/dev/gateway"
	"github.com/pufinid/pufinid-api/shared/dev/module"
)

// FileName is the template's name at the module root.
const FileName = "template.yaml"

// Template is what the project reads from template.yaml.
type Template struct {
	Functions  []Function // ordered by logical id
	Tables     []Table    // ordered by logical id
	APIs       []HTTPAPI  // ordered by logical id
	Parameters map[string]Parameter
	// Resources holds every resource as written, for the checks the typed
	// fields above do not cover (log groups, alarms, topics).
	Resources map[string]Resource
	// Conditions names the template's conditions, sorted.
	Conditions []string
	// Globals is the Globals section as written, read as Resources are.
	Globals map[string]any
}

// Function is one AWS::Serverless::Function, with Globals.Function merged in.
type Function struct {
	LogicalID     string
	CodeURI       string
	Handler       string
	Runtime       string
	Architectures []string
	BuildMethod   string // Metadata.BuildMethod ("makefile")
	// Env maps each environment variable to its value; a reference to a
	// parameter or resource reads "!Ref Name", since the value is only
	// known at deploy time.
	Env      map[string]string
	Policies []Policy
	// Routes are the function's HttpApi events that have a path.
	Routes []gateway.Route
	// DefaultRoute is set when the function takes API Gateway's $default
	// route (an HttpApi event without Path and Method): every request no
	// route matches.
	DefaultRoute bool
	// EventSources are the types of the function's other events ("SNS"),
	// sorted: a function with them and no route is outside the HTTP API.
	EventSources []string
}

// InAPI reports whether the function serves routes of the HTTP API.
func (f Function) InAPI() bool { return len(f.Routes) > 0 || f.DefaultRoute }

// EnvNames lists the function's environment variables, sorted.
func (f Function) EnvNames() []string { return slices.Sorted(maps.Keys(f.Env)) }

// Policy is one entry of a function's Policies: either a SAM policy
// template (Template and its Params) or an inline policy document.
type Policy struct {
	Template   string         // "DynamoDBReadPolicy"... or a managed policy; "" for a document
	Params     map[string]any // the template's parameters
	Statements []Statement    // a document's statements
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid       string
	Effect    string
	Actions   []string
	Resources []string // an unresolved !Sub is kept as its JSON
	// Condition is the statement's Condition block: operator (such as
	// "ForAnyValue:StringEquals") to condition key to values.
	Condition map[string]map[string][]string
}

// Table is one AWS::DynamoDB::Table.
type Table struct {
	LogicalID   string
	BillingMode string
	// Attributes maps each defined attribute to its type (S, N, B).
	Attributes map[string]string
	KeySchema  []KeyElement
	// Indexes counts global and local secondary indexes.
	Indexes      int
	PITR         bool   // point-in-time recovery enabled
	TTLAttribute string // "" when TTL is off
}

// KeyElement is one element of a key schema.
type KeyElement struct {
	Attribute string
	KeyType   string // HASH or RANGE
}

// Function returns the function with logical id id.
func (t *Template) Function(id string) (Function, bool) {
	for _, f := range t.Functions {
		if f.LogicalID == id {
			return f, true
		}
	}
	return Function{}, false
}

// APIFunctions are the functions that serve routes of the HTTP API, in
// template order; the others are invoked by other events.
func (t *Template) APIFunctions() []Function {
	var fs []Function
	for _, f := range t.Functions {
		if f.InAPI() {
			fs = append(fs, f)
		}
	}
	return fs
}

// EventFunctions are the functions outside the HTTP API.
func (t *Template) EventFunctions() []Function {
	var fs []Function
	for _, f := range t.Functions {
		if !f.InAPI() {
			fs = append(fs, f)
		}
	}
	return fs
}

// Routes lists every function's routes, in function order.
func (t *Template) Routes() []gateway.Route {
	var rs []gateway.Route
	for _, f := range t.Functions {
		rs = append(rs, f.Routes...)
	}
	return rs
}

// DefaultFunction is the logical id of the function that takes the
// $default route, or "".
func (t *Template) DefaultFunction() string {
	for _, f := range t.Functions {
		if f.DefaultRoute {
			return f.LogicalID
		}
	}
	return ""
}

// Find returns the path of template.yaml in the module that contains dir.
func Find(dir string) (string, error) {
	root, err := module.Root(dir)
	if err != nil {
		return "", fmt.Errorf("samtemplate: no %s: %w", FileName, err)
	}
	return filepath.Join(root, FileName), nil
}

// goformation registers its YAML tag resolvers in a package map on every
// parse, so parses must not overlap.
var parseMu sync.Mutex

// Load reads the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// LoadModule reads the template.yaml of the module that contains dir.
func LoadModule(dir string) (*Template, error) {
	path, err := Find(dir)
	if err != nil {
		return nil, err
	}
	return Load(path)
}

// Parse reads a template from YAML.
func Parse(data []byte) (*Template, error) {
	input, err := goformationInput(data)
	if err != nil {
		return nil, err
	}
	parseMu.Lock()
	cfn, err := goformation.ParseYAMLWithOptions(input, &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: map[string]intrinsics.IntrinsicHandler{
			"Ref":        keepRef,
			"Fn::GetAtt": keepGetAtt,
		},
	})
	parseMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("samtemplate: %w", err)
	}
	var globals serverlessGlobals
	if g, ok := cfn.Globals["Function"]; ok {
		globals.set(g)
	}
	t := &Template{}
	for _, id := range slices.Sorted(maps.Keys(cfn.Resources)) {
		switch res := cfn.Resources[id].(type) {
		case *serverless.Function:
			f, err := function(id, res, globals)
			if err != nil {
				return nil, err
			}
			t.Functions = append(t.Functions, f)
		case *cfndynamodb.Table:
			t.Tables = append(t.Tables, table(id, res))
		}
	}
	if err := t.parseRaw(data); err != nil {
		return nil, err
	}
	return t, nil
}

// keepRef resolves pseudo parameters as goformation does and writes any
// other reference as "!Ref Name": goformation would resolve it to the
// parameter's default or, for a resource, to nothing, losing what it names.
func keepRef(name string, input, template any) any {
	if s, ok := input.(string); ok && !strings.HasPrefix(s, "AWS::") {
		return "!Ref " + s
	}
	return intrinsics.Ref(name, input, template)
}

// keepGetAtt writes an attribute reference as "!GetAtt Resource.Attribute"
// (goformation resolves every GetAtt to nothing).
func keepGetAtt(_ string, input, _ any) any {
	switch v := input.(type) {
	case string:
		return "!GetAtt " + v
	case []any:
		parts := make([]string, 0, len(v))
		for _, p := range v {
			parts = append(parts, fmt.Sprint(p))
		}
		return "!GetAtt " + strings.Join(parts, ".")
	}
	return nil
}

// serverlessGlobals is the part of Globals.Function the model reads.
type serverlessGlobals struct {
	runtime, handler, codeURI string
	architectures             []string
	env                       map[string]string
}

func (g *serverlessGlobals) set(r cloudformation.Resource) {
	// goformation decodes Globals.Function into its global.Function type;
	// a JSON round trip reads it without depending on that type's pointers.
	var v struct {
		Runtime       string
		Handler       string
		CodeUri       any
		Architectures []string
		Environment   struct{ Variables map[string]string }
	}
	if b, err := json.Marshal(r); err == nil && json.Unmarshal(b, &v) == nil {
		g.runtime, g.handler, g.architectures = v.Runtime, v.Handler, v.Architectures
		if s, ok := v.CodeUri.(string); ok {
			g.codeURI = s
		}
		g.env = v.Environment.Variables
	}
}

func function(id string, res *serverless.Function, g serverlessGlobals) (Function, error) {
	f := Function{
		LogicalID:     id,
		CodeURI:       g.codeURI,
		Handler:       g.handler,
		Runtime:       g.runtime,
		Architectures: slices.Clone(g.architectures),
		Env:           maps.Clone(g.env),
	}
	if f.Env == nil {
		f.Env = map[string]string{}
	}
	if res.CodeUri != nil && res.CodeUri.String != nil {
		f.CodeURI = *res.CodeUri.String
	}
	if res.Handler != nil {
		f.Handler = *res.Handler
	}
	if res.Runtime != nil {
		f.Runtime = *res.Runtime
	}
	// SAM adds list globals to a function's own list; for Architectures
	// that would be invalid twice over, so a function's own list wins.
	if len(res.Architectures) > 0 {
		f.Architectures = slices.Clone(res.Architectures)
	}
	if res.Environment != nil {
		maps.Copy(f.Env, res.Environment.Variables)
	}
	if bm, ok := res.AWSCloudFormationMetadata["BuildMethod"].(string); ok {
		f.BuildMethod = bm
	}
	var err error
	if f.Policies, err = policies(id, res.Policies); err != nil {
		return Function{}, err
	}
	for _, name := range slices.Sorted(maps.Keys(res.Events)) {
		ev := res.Events[name]
		if ev.Type != "HttpApi" {
			if !slices.Contains(f.EventSources, ev.Type) {
				f.EventSources = append(f.EventSources, ev.Type)
				slices.Sort(f.EventSources)
			}
			continue
		}
		if ev.Properties == nil || ev.Properties.HttpApiEvent == nil {
			return Function{}, fmt.Errorf("samtemplate: %s event %s: not a valid HttpApi event", id, name)
		}
		he := ev.Properties.HttpApiEvent
		if he.Path == nil && he.Method == nil {
			f.DefaultRoute = true
			continue
		}
		if he.Path == nil || he.Method == nil {
			return Function{}, fmt.Errorf("samtemplate: %s event %s: an HttpApi route needs both Path and Method", id, name)
		}
		f.Routes = append(f.Routes, gateway.Route{
			Function: id,
			Method:   strings.ToUpper(*he.Method),
			Path:     *he.Path,
		})
	}
	// Order routes as the template is usually read: by path, then method.
	slices.SortFunc(f.Routes, func(a, b gateway.Route) int {
		return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method)
	})
	return f, nil
}

// policies reads a function's Policies list. goformation decodes a mixed
// list (SAM templates and inline documents) twice, once as each kind, with
// an empty value where an entry is of the other kind; the two readings are
// zipped back together here.
func policies(id string, p *serverless.Function_Policies) ([]Policy, error) {
	if p == nil {
		return nil, nil
	}
	switch {
	case p.String != nil:
		return []Policy{{Template: *p.String}}, nil
	case p.IAMPolicyDocument != nil:
		pol, err := document(p.IAMPolicyDocument.Statement)
		return []Policy{pol}, err
	}
	var (
		names []string
		sams  []serverless.Function_SAMPolicyTemplate
		docs  []serverless.Function_IAMPolicyDocument
	)
	if p.StringArray != nil {
		names = *p.StringArray
	}
	if p.SAMPolicyTemplateArray != nil {
		sams = *p.SAMPolicyTemplateArray
	}
	if p.IAMPolicyDocumentArray != nil {
		docs = *p.IAMPolicyDocumentArray
	}
	n := max(len(names), len(sams), len(docs))
	out := make([]Policy, 0, n)
	for i := range n {
		if i < len(names) && names[i] != "" {
			out = append(out, Policy{Template: names[i]})
			continue
		}
		if i < len(sams) {
			b, err := json.Marshal(sams[i])
			if err != nil {
				return nil, err
			}
			var tmpl map[string]map[string]any
			if err := json.Unmarshal(b, &tmpl); err != nil {
				return nil, err
			}
			if len(tmpl) == 1 {
				for name, params := range tmpl {
					out = append(out, Policy{Template: name, Params: params})
				}
				continue
			}
		}
		if i < len(docs) && len(docs[i].Statement) > 0 {
			pol, err := document(docs[i].Statement)
			if err != nil {
				return nil, fmt.Errorf("samtemplate: %s policy %d: %w", id, i, err)
			}
			out = append(out, pol)
			continue
		}
		return nil, fmt.Errorf("samtemplate: %s policy %d is neither a known SAM policy template nor a policy document", id, i)
	}
	return out, nil
}

func document(statements []any) (Policy, error) {
	var pol Policy
	for _, raw := range statements {
		b, err := json.Marshal(raw)
		if err != nil {
			return Policy{}, err
		}
		var v struct {
			Sid, Effect      string
			Action, Resource any // a string or a list
			Condition        map[string]map[string]any
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return Policy{}, err
		}
		st := Statement{Sid: v.Sid, Effect: v.Effect, Actions: stringList(v.Action), Resources: stringList(v.Resource)}
		for op, keys := range v.Condition {
			if st.Condition == nil {
				st.Condition = map[string]map[string][]string{}
			}
			st.Condition[op] = map[string][]string{}
			for k, vals := range keys {
				st.Condition[op][k] = stringList(vals)
			}
		}
		if st.Effect == "" || len(st.Actions) == 0 || len(st.Resources) == 0 {
			return Policy{}, errors.New("a statement needs Effect, Action and Resource")
		}
		pol.Statements = append(pol.Statements, st)
	}
	return pol, nil
}

// stringList reads IAM's "one string or a list of strings"; an unresolved
// intrinsic (a !Sub) is written as its JSON.
func stringList(v any) []string {
	var items []any
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		items = v
	default:
		items = []any{v}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
			continue
		}
		b, _ := json.Marshal(it)
		out = append(out, string(b))
	}
	return out
}

func table(id string, res *cfndynamodb.Table) Table {
	t := Table{
		LogicalID:  id,
		Attributes: map[string]string{},
		Indexes:    len(res.GlobalSecondaryIndexes) + len(res.LocalSecondaryIndexes),
	}
	if res.BillingMode != nil {
		t.BillingMode = *res.BillingMode
	}
	for _, a := range res.AttributeDefinitions {
		t.Attributes[a.AttributeName] = a.AttributeType
	}
	for _, k := range res.KeySchema {
		t.KeySchema = append(t.KeySchema, KeyElement{Attribute: k.AttributeName, KeyType: k.KeyType})
	}
	if p := res.PointInTimeRecoverySpecification; p != nil && p.PointInTimeRecoveryEnabled != nil {
		t.PITR = *p.PointInTimeRecoveryEnabled
	}
	if ttl := res.TimeToLiveSpecification; ttl != nil && ttl.Enabled && ttl.AttributeName != nil {
		t.TTLAttribute = *ttl.AttributeName
	}
	return t
}
