package samtemplate_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/pufinid/pufinid-api/shared/dev/gateway"
	"github.com/pufinid/pufinid-api/shared/dev/module"
	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
	"github.com/pufinid/pufinid-api/shared/store"
)

// mustLoad reads the project's real template.yaml.
func mustLoad(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.LoadModule(".")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestTemplateDeclaresOneGoFunctionPerGroup(t *testing.T) {
	tmpl := mustLoad(t)
	var ids []string
	for _, f := range tmpl.Functions {
		ids = append(ids, f.LogicalID)
		t.Run(f.LogicalID, func(t *testing.T) {
			if f.CodeURI != "." || f.Handler != "bootstrap" || f.Runtime != "provided.al2023" || f.BuildMethod != "makefile" {
				t.Errorf("CodeUri %q Handler %q Runtime %q BuildMethod %q; want \".\", bootstrap, provided.al2023, makefile",
					f.CodeURI, f.Handler, f.Runtime, f.BuildMethod)
			}
			if !slices.Equal(f.Architectures, []string{"arm64"}) {
				t.Errorf("Architectures %v, want [arm64]", f.Architectures)
			}
		})
	}
	// Which functions there are is the list of groups' to agree with
	// (package functions' test); here, that they are in a stable order.
	if len(ids) == 0 || !slices.IsSorted(ids) {
		t.Errorf("functions %v: want at least one, sorted by logical id", ids)
	}
}

func TestEnvironmentReferencesTheTableAndParameters(t *testing.T) {
	// Which function reads which variable is checked in cmd/local against
	// the Go constants; here, that the values name the right things.
	want := map[string]string{
		"TABLE_NAME":        "!Ref Table",
		"DYNAMODB_ENDPOINT": "!Ref DynamoDBEndpoint",
		"SES_FROM_ADDRESS":  "!Ref SesFromAddress",
		// The private signing keys: a secret of the stack, read by the
		// token function alone (TestPoliciesAreLeastPrivilege).
		"SIGNING_KEYS_SECRET":      "!Ref SigningKeys",
		"SECRETS_MANAGER_ENDPOINT": "!Ref SecretsManagerEndpoint",
	}
	for _, f := range mustLoad(t).Functions {
		t.Run(f.LogicalID, func(t *testing.T) {
			for _, name := range []string{"TABLE_NAME", "DYNAMODB_ENDPOINT"} {
				if _, ok := f.Env[name]; !ok {
					t.Errorf("%s is not set (Globals.Function sets it for every function)", name)
				}
			}
			for name, ref := range want {
				if got, ok := f.Env[name]; ok && got != ref {
					t.Errorf("%s = %q, want %q", name, got, ref)
				}
			}
		})
	}
}

// access sums up what a function's policies allow on the table and in SES.
type access struct {
	tableTemplates []string // SAM DynamoDB policy templates on the table
	tableActions   []string // dynamodb:* actions granted by statements on the table
	sesActions     []string
	secretActions  []string // secretsmanager:* actions, each on the signing keys' secret alone
	denies         []samtemplate.Statement
}

func policyAccess(t *testing.T, f samtemplate.Function) access {
	t.Helper()
	var a access
	for _, p := range f.Policies {
		if p.Template != "" {
			if p.Params["TableName"] != "!Ref Table" {
				t.Errorf("%s: policy %s is not on the table: %v", f.LogicalID, p.Template, p.Params)
			}
			a.tableTemplates = append(a.tableTemplates, p.Template)
			continue
		}
		for _, st := range p.Statements {
			if st.Effect == "Deny" {
				a.denies = append(a.denies, st)
				continue
			}
			if st.Effect != "Allow" {
				t.Errorf("%s: statement %q has Effect %q", f.LogicalID, st.Sid, st.Effect)
			}
			for _, act := range st.Actions {
				switch {
				case strings.HasPrefix(act, "dynamodb:"):
					if !slices.Equal(st.Resources, []string{"!GetAtt Table.Arn"}) {
						t.Errorf("%s: %s granted on %v, want only the table", f.LogicalID, act, st.Resources)
					}
					a.tableActions = append(a.tableActions, act)
				case strings.HasPrefix(act, "ses:"):
					// As the sender's identities alone, never the account's every one.
					if slices.ContainsFunc(st.Resources, func(r string) bool { return strings.Contains(r, "identity/*") }) {
						t.Errorf("%s: %s granted on %v, want only the sender's identities", f.LogicalID, act, st.Resources)
					}
					a.sesActions = append(a.sesActions, act)
				case strings.HasPrefix(act, "secretsmanager:"):
					if !slices.Equal(st.Resources, []string{"!Ref SigningKeys"}) {
						t.Errorf("%s: %s granted on %v, want only the signing keys' secret", f.LogicalID, act, st.Resources)
					}
					a.secretActions = append(a.secretActions, act)
				default:
					t.Errorf("%s: unexpected action %s", f.LogicalID, act)
				}
			}
		}
	}
	return a
}

func TestPoliciesAreLeastPrivilege(t *testing.T) {
	readOnly := access{tableTemplates: []string{"DynamoDBReadPolicy"}}
	tests := map[string]access{
		"FaqFunction":         readOnly,
		"AppsProfileFunction": readOnly,
		"PufDesignsFunction":  readOnly,
		"TermsFunction": {
			tableTemplates: []string{"DynamoDBReadPolicy"},
			tableActions:   []string{"dynamodb:PutItem", "dynamodb:ConditionCheckItem"},
		},
		// The only reader of private key material.
		// and the rotation function of that secret.
		"TokenFunction": {tableTemplates: []string{"DynamoDBCrudPolicy"}, secretActions: []string{"secretsmanager:GetSecretValue",
			"secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}},
		"UsersFunction": {tableTemplates: []string{"DynamoDBCrudPolicy"}, sesActions: []string{"ses:SendEmail"}},
		// It records SES's feedback, and reads nothing.
		"EmailFeedbackFunction": {tableActions: []string{"dynamodb:UpdateItem"}},
	}
	tmpl := mustLoad(t)
	for _, f := range tmpl.Functions {
		if _, ok := tests[f.LogicalID]; !ok {
			t.Errorf("%s: no entry here; a new function's access is pinned here on purpose", f.LogicalID)
		}
	}
	for id, want := range tests {
		t.Run(id, func(t *testing.T) {
			f, ok := tmpl.Function(id)
			if !ok {
				t.Fatalf("%s is not in the template", id)
			}
			got := policyAccess(t, f)
			if !slices.Equal(got.tableTemplates, want.tableTemplates) ||
				!slices.Equal(got.tableActions, want.tableActions) ||
				!slices.Equal(got.sesActions, want.sesActions) ||
				!slices.Equal(got.secretActions, want.secretActions) {
				t.Errorf("policies allow %+v, want %+v", got, want)
			}
		})
	}
}

// Whoever writes the public key set's item chooses the keys every function
// trusts, and so could mint tokens for anyone. The token function alone
// may: every other role that writes the table is denied every write to
// that item's partition (dynamodb:LeadingKeys), whatever it is allowed.
func TestOnlyTheTokenFunctionWritesTheKeySet(t *testing.T) {
	t.Parallel()
	writes := []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
	tmpl := mustLoad(t)
	for _, f := range tmpl.Functions {
		a := policyAccess(t, f)
		writer := slices.Contains(a.tableTemplates, "DynamoDBCrudPolicy") || slices.Contains(a.tableTemplates, "DynamoDBWritePolicy") ||
			slices.ContainsFunc(a.tableActions, func(act string) bool { return slices.Contains(writes, act) })
		denied := slices.ContainsFunc(a.denies, func(st samtemplate.Statement) bool {
			covers := true
			for _, w := range writes {
				covers = covers && slices.Contains(st.Actions, w)
			}
			return covers && slices.Equal(st.Resources, []string{"!GetAtt Table.Arn"}) &&
				slices.Contains(st.Condition["ForAnyValue:StringEquals"]["dynamodb:LeadingKeys"], store.KeySetPartition)
		})
		switch {
		case f.LogicalID == "TokenFunction" && (!writer || denied):
			t.Errorf("TokenFunction: writes the table %v, denied the key set %v; want it to publish the key set", writer, denied)
		case f.LogicalID != "TokenFunction" && writer && !denied:
			t.Errorf("%s writes the table but is not denied %v on the key set's partition %q", f.LogicalID, writes, store.KeySetPartition)
		}
	}
}

func TestRoutesAreHttpApiRoutesUnderTheirGroupPrefix(t *testing.T) {
	tmpl := mustLoad(t)
	seen := map[string]string{}
	prefixes := map[string]string{} // group prefix -> function
	for _, f := range tmpl.APIFunctions() {
		t.Run(f.LogicalID, func(t *testing.T) {
			// A group's prefix is its catch-all's: ANY /v1/<group>/{proxy+},
			// exactly one, which sends wrong methods and unknown sub-paths
			// to the group's router instead of API Gateway's own 404.
			var catchAll []string
			for _, r := range f.Routes {
				if r.Method == "ANY" && strings.HasSuffix(r.Path, "/{proxy+}") {
					catchAll = append(catchAll, r.Path)
				}
			}
			if len(catchAll) != 1 || !strings.HasPrefix(catchAll[0], "/v1/") {
				t.Fatalf("catch-all routes %v; want exactly one ANY /v1/<group>/{proxy+}", catchAll)
			}
			prefix := strings.TrimSuffix(catchAll[0], "/{proxy+}")
			if strings.Count(prefix, "/") != 2 {
				t.Errorf("group prefix %s is not one segment under /v1", prefix)
			}
			if other, dup := prefixes[prefix]; dup {
				t.Errorf("%s and %s share the group prefix %s", other, f.LogicalID, prefix)
			}
			prefixes[prefix] = f.LogicalID
			for _, r := range f.Routes {
				// The one route outside a group: where RFC 8615 puts the
				// public keys, served by the group that signs.
				if r.Path == "/.well-known/jwks.json" && f.LogicalID == "TokenFunction" {
					continue
				}
				if r.Path != prefix && !strings.HasPrefix(r.Path, prefix+"/") {
					t.Errorf("%s is outside the group's prefix %s", r.Key(), prefix)
				}
				if strings.HasSuffix(r.Path, "/") {
					t.Errorf("%s ends in a slash, which API Gateway refuses", r.Key())
				}
				if owner, dup := seen[r.Key()]; dup {
					t.Errorf("%s is declared by %s and %s", r.Key(), owner, f.LogicalID)
				}
				seen[r.Key()] = f.LogicalID
			}
		})
	}
	if got := tmpl.DefaultFunction(); got != "FaqFunction" {
		t.Errorf("$default route goes to %q, want FaqFunction (read-only, answers the contract's 404)", got)
	}
}

func TestTableIsStoreTableDefinition(t *testing.T) {
	tmpl := mustLoad(t)
	if len(tmpl.Tables) != 1 {
		t.Fatalf("%d tables, want the single table", len(tmpl.Tables))
	}
	got := tmpl.Tables[0]
	def := store.TableDefinition("any")
	if got.BillingMode != string(def.BillingMode) {
		t.Errorf("BillingMode %q, store uses %q", got.BillingMode, def.BillingMode)
	}
	wantAttrs := map[string]string{}
	for _, a := range def.AttributeDefinitions {
		wantAttrs[aws.ToString(a.AttributeName)] = string(a.AttributeType)
	}
	if len(got.Attributes) != len(wantAttrs) {
		t.Errorf("attributes %v, store defines %v", got.Attributes, wantAttrs)
	}
	for name, typ := range wantAttrs {
		if got.Attributes[name] != typ {
			t.Errorf("attribute %s is %q, store defines %q", name, got.Attributes[name], typ)
		}
	}
	var wantKeys []samtemplate.KeyElement
	for _, k := range def.KeySchema {
		wantKeys = append(wantKeys, samtemplate.KeyElement{Attribute: aws.ToString(k.AttributeName), KeyType: string(k.KeyType)})
	}
	if !slices.Equal(got.KeySchema, wantKeys) {
		t.Errorf("key schema %v, store uses %v", got.KeySchema, wantKeys)
	}
	if want := len(def.GlobalSecondaryIndexes) + len(def.LocalSecondaryIndexes); got.Indexes != want {
		t.Errorf("%d secondary indexes, store defines %d", got.Indexes, want)
	}
	if !got.PITR {
		t.Error("point-in-time recovery is off")
	}
	if got.TTLAttribute != store.AttrTTL {
		t.Errorf("TTL attribute %q, store expires items by %q", got.TTLAttribute, store.AttrTTL)
	}
}

func TestParse(t *testing.T) {
	const head = "Transform: AWS::Serverless-2016-10-31\nResources:\n"
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, tmpl *samtemplate.Template)
	}{
		{
			name: "function settings override globals and environments merge",
			yaml: "Globals:\n  Function:\n    Runtime: provided.al2023\n    Handler: bootstrap\n" +
				"    Environment: {Variables: {A: one, B: two}}\n" + head +
				"  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: other\n" +
				"      Environment: {Variables: {B: three, C: !Ref Param}}\n",
			check: func(t *testing.T, tmpl *samtemplate.Template) {
				f := tmpl.Functions[0]
				if f.Handler != "other" || f.Runtime != "provided.al2023" {
					t.Errorf("Handler %q Runtime %q", f.Handler, f.Runtime)
				}
				if f.Env["A"] != "one" || f.Env["B"] != "three" || f.Env["C"] != "!Ref Param" {
					t.Errorf("Env %v", f.Env)
				}
			},
		},
		{
			name: "mixed policy list keeps templates and documents in order",
			yaml: head + "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n" +
				"        - Statement: [{Effect: Allow, Action: s3:GetObject, Resource: '*'}]\n" +
				"        - DynamoDBReadPolicy: {TableName: !Ref Table}\n" +
				"        - AWSLambdaBasicExecutionRole\n",
			check: func(t *testing.T, tmpl *samtemplate.Template) {
				ps := tmpl.Functions[0].Policies
				if len(ps) != 3 || ps[0].Template != "" || ps[1].Template != "DynamoDBReadPolicy" || ps[2].Template != "AWSLambdaBasicExecutionRole" {
					t.Fatalf("policies %+v", ps)
				}
				if st := ps[0].Statements; len(st) != 1 || !slices.Equal(st[0].Actions, []string{"s3:GetObject"}) || !slices.Equal(st[0].Resources, []string{"*"}) {
					t.Errorf("statement %+v", st)
				}
			},
		},
		{
			name: "HttpApi event without path and method is the default route",
			yaml: head + "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n" +
				"        R: {Type: HttpApi, Properties: {Method: get, Path: /v1/x}}\n" +
				"        D: {Type: HttpApi, Properties: {}}\n" +
				"        S: {Type: Schedule, Properties: {Schedule: rate(1 hour)}}\n",
			check: func(t *testing.T, tmpl *samtemplate.Template) {
				f := tmpl.Functions[0]
				if !slices.Equal(f.Routes, []gateway.Route{{Function: "Fn", Method: "GET", Path: "/v1/x"}}) || !f.DefaultRoute {
					t.Errorf("routes %v default %v", f.Routes, f.DefaultRoute)
				}
			},
		},
		{
			name:    "route with a path but no method is refused",
			yaml:    head + "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        R: {Type: HttpApi, Properties: {Path: /v1/x}}\n",
			wantErr: "needs both Path and Method",
		},
		{
			name:    "policy entry of no known kind is refused",
			yaml:    head + "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - NoSuchPolicy: {}\n",
			wantErr: "neither a known SAM policy template nor a policy document",
		},
		{
			name: "properties goformation does not know are read as written",
			yaml: "Parameters:\n  Days: {Type: Number, Default: 30}\n" + head +
				"  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: bootstrap\n" +
				"      LoggingConfig: {LogGroup: !Ref FnLogs}\n" +
				"  FnLogs:\n    Type: AWS::Logs::LogGroup\n    Condition: C\n" +
				"    Properties:\n      RetentionInDays: !Ref Days\n      LogGroupName: !Sub \"/x/${AWS::StackName}\"\n" +
				"  Api:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n" +
				"      AccessLogSettings: {DestinationArn: !GetAtt FnLogs.Arn, Format: x}\n" +
				"      Limit: 5\n",
			check: func(t *testing.T, tmpl *samtemplate.Template) {
				if len(tmpl.Functions) != 1 || tmpl.Functions[0].Handler != "bootstrap" {
					t.Fatalf("functions %+v", tmpl.Functions)
				}
				logs := tmpl.Resources["FnLogs"]
				if logs.Type != "AWS::Logs::LogGroup" || logs.Condition != "C" ||
					!reflect.DeepEqual(logs.Properties["RetentionInDays"], samtemplate.Ref("Days")) ||
					!reflect.DeepEqual(logs.Properties["LogGroupName"], map[string]any{"Fn::Sub": "/x/${AWS::StackName}"}) {
					t.Errorf("FnLogs %+v", logs)
				}
				api := tmpl.Resources["Api"].Properties
				if !reflect.DeepEqual(api["AccessLogSettings"], map[string]any{"DestinationArn": samtemplate.GetAtt("FnLogs", "Arn"), "Format": "x"}) || api["Limit"] != 5 {
					t.Errorf("Api %+v", api)
				}
				if fn := tmpl.Resources["Fn"].Properties["LoggingConfig"]; !reflect.DeepEqual(fn, map[string]any{"LogGroup": samtemplate.Ref("FnLogs")}) {
					t.Errorf("Fn LoggingConfig %+v", fn)
				}
				if ids := tmpl.ResourcesOfType("AWS::Logs::LogGroup"); !slices.Equal(ids, []string{"FnLogs"}) {
					t.Errorf("log groups %v", ids)
				}
			},
		},
		{
			name:    "invalid YAML is refused",
			yaml:    "Resources: [unclosed",
			wantErr: "invalid YAML",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := samtemplate.Parse([]byte(tc.yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, tmpl)
		})
	}
}

func TestFindWalksUpToTheModuleRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := samtemplate.Find(deep)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "template.yaml"); got != want {
		t.Errorf("Find = %q, want %q", got, want)
	}
}

// The HTTP API's CORS configuration lets a browser app make every call
// of the API: every method a route takes, the headers the API reads from
// a browser (the token, the body's type, If-None-Match), the headers a
// client needs to read back (ETag, Retry-After, the request id). Its
// origins are the deploy-time parameter, with no default: each
// environment names its own (samconfig.toml). No credentials: the API
// takes a bearer token, never a cookie.
func TestCORSConfigurationCoversTheRoutes(t *testing.T) {
	t.Parallel()
	tmpl := mustLoad(t)
	api, ok := tmpl.HTTPAPI("Api")
	if !ok || api.CORS == nil {
		t.Fatal("template.yaml: the HTTP API Api has no CorsConfiguration")
	}
	c := api.CORS
	if api.CORSOriginsParameter != "CorsAllowOrigins" || len(c.AllowOrigins) != 0 {
		t.Errorf("AllowOrigins: %v from parameter %q; want the parameter CorsAllowOrigins, with no default", c.AllowOrigins, api.CORSOriginsParameter)
	}
	for _, r := range tmpl.Routes() {
		if r.Method != "ANY" && !slices.Contains(c.AllowMethods, r.Method) {
			t.Errorf("route %s: AllowMethods %v lacks %s", r.Key(), c.AllowMethods, r.Method)
		}
	}
	for _, want := range []struct {
		list  []string
		field string
		names []string
	}{
		{c.AllowHeaders, "AllowHeaders", []string{"authorization", "content-type", "if-none-match"}},
		{c.ExposeHeaders, "ExposeHeaders", []string{"etag", "retry-after", "apigw-requestid"}},
	} {
		for _, n := range want.names {
			if !slices.ContainsFunc(want.list, func(s string) bool { return strings.EqualFold(s, n) }) {
				t.Errorf("%s %v lacks %s", want.field, want.list, n)
			}
		}
	}
	if c.MaxAge < 60 || c.AllowCredentials {
		t.Errorf("MaxAge %d, AllowCredentials %v; want a minute or more, and false", c.MaxAge, c.AllowCredentials)
	}
	// docs/conventions.md tells browser apps what they get: the same.
	root, err := module.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "conventions.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{strings.Join(c.AllowMethods, ","), strings.Join(c.AllowHeaders, ","), strings.Join(c.ExposeHeaders, ","),
		fmt.Sprintf("`%d` (seconds)", c.MaxAge), "`" + api.CORSOriginsParameter + "`"} {
		if !strings.Contains(string(doc), v) {
			t.Errorf("docs/conventions.md does not say %s", v)
		}
	}
}

func TestParseCORSConfiguration(t *testing.T) {
	t.Parallel()
	const tmpl = `
Parameters:
  Origins:
    Type: CommaDelimitedList
    Default: "https://a.test, https://b.test"
  Age:
    Type: Number
    Default: "300"
  Name:
    Type: String
Resources:
  Literal:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: [https://c.test]
        AllowMethods: [GET]
        MaxAge: 60
  FromParameters:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: !Ref Origins
        MaxAge: !Ref Age
        AllowCredentials: true
  NoCors:
    Type: AWS::Serverless::HttpApi
    Properties:
      Tags: {stage: !Ref Name}
`
	got, err := samtemplate.Parse([]byte(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	lit, _ := got.HTTPAPI("Literal")
	if lit.CORS == nil || !slices.Equal(lit.CORS.AllowOrigins, []string{"https://c.test"}) || lit.CORS.MaxAge != 60 || lit.CORSOriginsParameter != "" {
		t.Errorf("Literal: %+v", lit)
	}
	ref, _ := got.HTTPAPI("FromParameters")
	if ref.CORS == nil || !slices.Equal(ref.CORS.AllowOrigins, []string{"https://a.test", "https://b.test"}) || ref.CORS.MaxAge != 300 ||
		!ref.CORS.AllowCredentials || ref.CORSOriginsParameter != "Origins" {
		t.Errorf("FromParameters: %+v", ref)
	}
	if none, ok := got.HTTPAPI("NoCors"); !ok || none.CORS != nil {
		t.Errorf("NoCors: %+v, %v", none, ok)
	}
	if p := got.Parameters["Name"]; p.Type != "String" || p.Default != nil {
		t.Errorf("parameter Name: %+v", p)
	}

	bad := strings.Replace(tmpl, "AllowOrigins: !Ref Origins", "AllowOrigins: !Ref Name", 1)
	if _, err := samtemplate.Parse([]byte(bad)); err == nil || !strings.Contains(err.Error(), "CommaDelimitedList") {
		t.Errorf("AllowOrigins referring to a String parameter: %v", err)
	}
}
