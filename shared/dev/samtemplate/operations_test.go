package samtemplate_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
	"github.com/pufinid/pufinid-api/shared/secretkeys"
)

// What a deployed stack does for its operators, read from template.yaml:
// throttling at the edge, logs kept for a set time, alarms that reach
// someone. None of it can run here (no AWS account), so these tests hold
// the template to it.

// dig follows keys through nested Properties maps.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// numberParameter checks that name is a Number parameter whose default
// is want.
func numberParameter(t *testing.T, tmpl *samtemplate.Template, name, want string) {
	t.Helper()
	p, ok := tmpl.Parameters[name]
	if !ok || p.Type != "Number" || p.Default == nil || *p.Default != want || p.Description == "" {
		t.Errorf("parameter %s = %+v; want a described Number with default %s", name, p, want)
	}
}

func TestStageThrottlingComesFromParameters(t *testing.T) {
	t.Parallel()
	tmpl := mustLoad(t)
	settings := dig(tmpl.Resources["Api"].Properties, "DefaultRouteSettings")
	for field, param := range map[string]string{
		"ThrottlingRateLimit":  "ApiThrottlingRateLimit",
		"ThrottlingBurstLimit": "ApiThrottlingBurstLimit",
	} {
		if got := dig(settings, field); !reflect.DeepEqual(got, samtemplate.Ref(param)) {
			t.Errorf("Api DefaultRouteSettings.%s = %v, want !Ref %s", field, got, param)
		}
	}
	numberParameter(t, tmpl, "ApiThrottlingRateLimit", "100")
	numberParameter(t, tmpl, "ApiThrottlingBurstLimit", "200")
}

// contextVariable is one $context variable of an access log format.
var contextVariable = regexp.MustCompile(`\$context\.[A-Za-z.]+`)

// The access log is one JSON object per request, with the facts an
// operator matches a report with, and nothing that may carry a
// credential: no query string, no header but the user agent, no body.
func TestAccessLogsAreJSONWithTheRequestFacts(t *testing.T) {
	t.Parallel()
	tmpl := mustLoad(t)
	als := dig(tmpl.Resources["Api"].Properties, "AccessLogSettings")
	dest, ok := dig(als, "DestinationArn").(map[string]any)
	if !ok || dest["Fn::GetAtt"] == nil {
		t.Fatalf("Api AccessLogSettings.DestinationArn = %v, want !GetAtt <log group>.Arn", dig(als, "DestinationArn"))
	}
	target := dest["Fn::GetAtt"].([]any)
	checkLogGroup(t, tmpl, fmt.Sprint(target[0]))
	if target[1] != "Arn" {
		t.Errorf("DestinationArn reads attribute %v, want Arn", target[1])
	}

	format, _ := dig(als, "Format").(string)
	if strings.ContainsAny(format, "\n\r") {
		t.Errorf("Format spans lines; API Gateway writes it as one log line")
	}
	var fields map[string]string
	if err := json.Unmarshal([]byte(format), &fields); err != nil {
		t.Fatalf("Format is not a JSON object of strings: %v\n%s", err, format)
	}
	want := map[string]string{
		"requestId":       "$context.requestId",
		"routeKey":        "$context.routeKey",
		"status":          "$context.status",
		"responseLatency": "$context.responseLatency",
		"sourceIp":        "$context.identity.sourceIp",
		"userAgent":       "$context.identity.userAgent",
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("Format field %q = %q, want %q", k, fields[k], v)
		}
	}
	// Every value is exactly one variable: a field that mixes text and
	// variables would not stay valid JSON when a value holds a quote.
	allowed := regexp.MustCompile(`^\$context\.(requestId|routeKey|status|responseLatency|integrationLatency|identity\.sourceIp|identity\.userAgent|requestTimeEpoch|protocol|responseLength|integrationErrorMessage|httpMethod|path)$`)
	for k, v := range fields {
		if !allowed.MatchString(v) {
			t.Errorf("Format field %q = %q: not one of the variables an access log may carry", k, v)
		}
	}
	if vars := contextVariable.FindAllString(format, -1); len(vars) != len(fields) {
		t.Errorf("Format has %d variables in %d fields", len(vars), len(fields))
	}
}

// checkLogGroup checks that id is a log group kept for the stack's
// retention parameter, and returns its name.
func checkLogGroup(t *testing.T, tmpl *samtemplate.Template, id string) any {
	t.Helper()
	res, ok := tmpl.Resources[id]
	if !ok || res.Type != "AWS::Logs::LogGroup" {
		t.Errorf("%s is %q, want an AWS::Logs::LogGroup", id, res.Type)
		return nil
	}
	if got := res.Properties["RetentionInDays"]; !reflect.DeepEqual(got, samtemplate.Ref("LogRetentionInDays")) {
		t.Errorf("%s RetentionInDays = %v, want !Ref LogRetentionInDays", id, got)
	}
	return res.Properties["LogGroupName"]
}

func TestEveryFunctionLogsToAGroupWithRetention(t *testing.T) {
	t.Parallel()
	tmpl := mustLoad(t)
	numberParameter(t, tmpl, "LogRetentionInDays", "30")
	names := map[string]string{}
	for _, f := range tmpl.Functions {
		ref, _ := dig(tmpl.Resources[f.LogicalID].Properties, "LoggingConfig", "LogGroup").(map[string]any)
		group, _ := ref["Ref"].(string)
		if group == "" {
			t.Errorf("%s: LoggingConfig.LogGroup = %v, want !Ref to its log group", f.LogicalID, ref)
			continue
		}
		name := fmt.Sprint(checkLogGroup(t, tmpl, group))
		if other, dup := names[name]; dup {
			t.Errorf("%s and %s log to the same group %s", other, f.LogicalID, name)
		}
		names[name] = f.LogicalID
	}
	// Every log group is some function's or the API's: none is left over
	// from a function that was removed.
	if got, want := len(tmpl.ResourcesOfType("AWS::Logs::LogGroup")), len(tmpl.Functions)+1; got != want {
		t.Errorf("%d log groups, want %d (one per function, one for the API's access logs)", got, want)
	}
}

// alarm is what TestAlarms reads of one AWS::CloudWatch::Alarm: each
// metric it watches as "Namespace MetricName Dimension=Value...".
type alarm struct {
	id      string
	props   map[string]any
	metrics []string
}

func alarms(tmpl *samtemplate.Template) []alarm {
	var out []alarm
	for _, id := range tmpl.ResourcesOfType("AWS::CloudWatch::Alarm") {
		a := alarm{id: id, props: tmpl.Resources[id].Properties}
		describe := func(m any) string {
			s := fmt.Sprint(dig(m, "Namespace"), " ", dig(m, "MetricName"))
			dims, _ := dig(m, "Dimensions").([]any)
			for _, d := range dims {
				v := dig(d, "Value")
				if r, ok := v.(map[string]any); ok && r["Ref"] != nil {
					v = "!Ref " + fmt.Sprint(r["Ref"])
				} else if ok && r["Fn::GetAtt"] != nil {
					v = "!GetAtt " + getAtt(r["Fn::GetAtt"])
				}
				s += fmt.Sprint(" ", dig(d, "Name"), "=", v)
			}
			return s
		}
		if a.props["MetricName"] != nil {
			a.metrics = append(a.metrics, describe(a.props))
		}
		queries, _ := a.props["Metrics"].([]any)
		for _, q := range queries {
			if m := dig(q, "MetricStat", "Metric"); m != nil {
				a.metrics = append(a.metrics, describe(m))
			}
		}
		out = append(out, a)
	}
	return out
}

// An operator hears of trouble from the alarms, not from the users: every
// function's failures and throttles, the API's 5xx rate and p99 latency,
// and the table's throttled requests, each to the one topic.
func TestAlarmsWatchWhatFailsAndNotifyTheTopic(t *testing.T) {
	t.Parallel()
	tmpl := mustLoad(t)
	all := alarms(tmpl)
	watched := func(metric string) []alarm {
		var out []alarm
		for _, a := range all {
			if slices.Contains(a.metrics, metric) {
				out = append(out, a)
			}
		}
		return out
	}
	for _, f := range tmpl.Functions {
		for _, m := range []string{"Errors", "Throttles"} {
			if got := watched("AWS/Lambda " + m + " FunctionName=!Ref " + f.LogicalID); len(got) != 1 {
				t.Errorf("%s: %d alarms on %s, want 1", f.LogicalID, len(got), m)
			}
		}
	}
	api := "ApiId=!Ref Api Stage=$default"
	fivexx := watched("AWS/ApiGateway 5xx " + api)
	if len(fivexx) != 1 || len(watched("AWS/ApiGateway Count "+api)) != 1 || fivexx[0].id != watched("AWS/ApiGateway Count " + api)[0].id {
		t.Errorf("want one alarm on the API's 5xx rate (5xx over Count)")
	} else if got := fivexx[0].props["Threshold"]; !reflect.DeepEqual(got, samtemplate.Ref("Alarm5xxRatePercent")) {
		t.Errorf("%s Threshold = %v, want !Ref Alarm5xxRatePercent", fivexx[0].id, got)
	}
	if lat := watched("AWS/ApiGateway Latency " + api); len(lat) != 1 {
		t.Errorf("%d alarms on the API's latency, want 1", len(lat))
	} else if lat[0].props["ExtendedStatistic"] != "p99" || !reflect.DeepEqual(lat[0].props["Threshold"], samtemplate.Ref("AlarmLatencyP99Ms")) {
		t.Errorf("%s: ExtendedStatistic %v Threshold %v, want p99 and !Ref AlarmLatencyP99Ms", lat[0].id, lat[0].props["ExtendedStatistic"], lat[0].props["Threshold"])
	}
	for _, m := range []string{"ReadThrottleEvents", "WriteThrottleEvents"} {
		if got := watched("AWS/DynamoDB " + m + " TableName=!Ref Table"); len(got) != 1 {
			t.Errorf("%d alarms on the table's %s, want 1", len(got), m)
		}
	}
	numberParameter(t, tmpl, "Alarm5xxRatePercent", "1")
	numberParameter(t, tmpl, "AlarmLatencyP99Ms", "2000")
	// SES reviews an account at these rates (docs/email.md).
	for _, c := range []struct{ metric, param, def string }{
		{"Reputation.BounceRate", "AlarmBounceRate", "0.05"},
		{"Reputation.ComplaintRate", "AlarmComplaintRate", "0.001"},
	} {
		got := watched("AWS/SES " + c.metric)
		if len(got) != 1 {
			t.Errorf("%d alarms on SES's %s, want 1", len(got), c.metric)
			continue
		}
		if !reflect.DeepEqual(got[0].props["Threshold"], samtemplate.Ref(c.param)) || got[0].props["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" {
			t.Errorf("%s: Threshold %v %v, want >= !Ref %s", got[0].id, got[0].props["ComparisonOperator"], got[0].props["Threshold"], c.param)
		}
		numberParameter(t, tmpl, c.param, c.def)
	}
	// Every event function's dead letters: an event not recorded.
	// Lambda retries an asynchronous event twice, then drops it, unless the
	// function has a dead-letter queue.
	for _, f := range tmpl.EventFunctions() {
		queue, _ := dig(tmpl.Resources[f.LogicalID].Properties, "DeadLetterQueue", "TargetArn", "Fn::GetAtt").([]any)
		if len(queue) != 2 || queue[1] != "Arn" || dig(tmpl.Resources[f.LogicalID].Properties, "DeadLetterQueue", "Type") != "SQS" {
			t.Errorf("%s: DeadLetterQueue %v, want an SQS queue of the stack (!GetAtt <queue>.Arn)", f.LogicalID, dig(tmpl.Resources[f.LogicalID].Properties, "DeadLetterQueue"))
			continue
		}
		if got := watched(fmt.Sprintf("AWS/SQS ApproximateNumberOfMessagesVisible QueueName=!GetAtt %s.QueueName", queue[0])); len(got) != 1 {
			t.Errorf("%s: %d alarms on its dead-letter queue %s, want 1", f.LogicalID, len(got), queue[0])
		}
	}

	topic := samtemplate.Ref("AlarmTopic")
	for _, a := range all {
		for _, key := range []string{"AlarmActions", "OKActions"} {
			if actions, _ := a.props[key].([]any); !slices.ContainsFunc(actions, func(v any) bool { return reflect.DeepEqual(v, topic) }) {
				t.Errorf("%s %s = %v, want the alarm topic", a.id, key, a.props[key])
			}
		}
		// No traffic is not an outage; an idle stage must not page anyone.
		if a.props["TreatMissingData"] != "notBreaching" {
			t.Errorf("%s TreatMissingData = %v, want notBreaching", a.id, a.props["TreatMissingData"])
		}
		if a.props["AlarmDescription"] == nil {
			t.Errorf("%s has no AlarmDescription: the notification is all the operator reads", a.id)
		}
		checkMetricMath(t, a)
	}
	if want := 2*len(tmpl.Functions) + 3 + 2 + len(tmpl.EventFunctions()); len(all) != want {
		t.Errorf("%d alarms, want %d", len(all), want)
	}
}

// checkMetricMath checks that an alarm's expression reads only queries it
// declares, and that exactly one query is the alarm's value.
func checkMetricMath(t *testing.T, a alarm) {
	t.Helper()
	queries, _ := a.props["Metrics"].([]any)
	if len(queries) == 0 {
		return
	}
	ids := map[string]bool{}
	returned := 0
	for _, q := range queries {
		ids[fmt.Sprint(dig(q, "Id"))] = true
		if dig(q, "ReturnData") == true {
			returned++
		}
	}
	if returned != 1 {
		t.Errorf("%s: %d queries return data, want 1", a.id, returned)
	}
	functions := map[string]bool{"IF": true, "FILL": true}
	for _, q := range queries {
		expr, _ := dig(q, "Expression").(string)
		for _, name := range regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`).FindAllString(expr, -1) {
			if !ids[name] && !functions[name] {
				t.Errorf("%s: expression %q reads %s, which no query declares", a.id, expr, name)
			}
		}
	}
}

func TestAlarmTopicAndOptionalEmail(t *testing.T) {
	t.Parallel()
	tmpl := mustLoad(t)
	if tmpl.Resources["AlarmTopic"].Type != "AWS::SNS::Topic" {
		t.Fatalf("AlarmTopic is %q, want an AWS::SNS::Topic", tmpl.Resources["AlarmTopic"].Type)
	}
	subs := tmpl.ResourcesOfType("AWS::SNS::Subscription")
	if len(subs) != 1 {
		t.Fatalf("subscriptions %v, want one", subs)
	}
	sub := tmpl.Resources[subs[0]]
	if sub.Condition != "HasAlarmEmail" || !slices.Contains(tmpl.Conditions, "HasAlarmEmail") {
		t.Errorf("%s Condition = %q, want HasAlarmEmail (declared)", subs[0], sub.Condition)
	}
	if sub.Properties["Protocol"] != "email" || !reflect.DeepEqual(sub.Properties["Endpoint"], samtemplate.Ref("AlarmEmail")) ||
		!reflect.DeepEqual(sub.Properties["TopicArn"], samtemplate.Ref("AlarmTopic")) {
		t.Errorf("%s = %v, want an email subscription of AlarmEmail to AlarmTopic", subs[0], sub.Properties)
	}
	if p := tmpl.Parameters["AlarmEmail"]; p.Type != "String" || p.Default == nil || *p.Default != "" {
		t.Errorf("AlarmEmail = %+v, want a String parameter defaulting to empty (no subscription)", p)
	}
	// CloudWatch cannot publish to a topic under SNS's AWS-managed key
	// (its key policy grants no other service): the alarms would change
	// state and notify no one. A topic an AWS service publishes to is
	// unencrypted or under a key of the stack's whose policy grants it.
	for _, id := range tmpl.ResourcesOfType("AWS::SNS::Topic") {
		if k, ok := tmpl.Resources[id].Properties["KmsMasterKeyId"].(string); ok && strings.Contains(k, "aws/sns") {
			t.Errorf("%s is encrypted with %s, to which no AWS service can publish", id, k)
		}
	}
}

// pseudoParameters are CloudFormation's own references.
var pseudoParameters = map[string]bool{
	"AWS::AccountId": true, "AWS::NotificationARNs": true, "AWS::NoValue": true, "AWS::Partition": true,
	"AWS::Region": true, "AWS::StackId": true, "AWS::StackName": true, "AWS::URLSuffix": true,
}

// A reference to a parameter or resource that does not exist fails only
// at deploy time, which no test here reaches; this finds it first.
func TestEveryReferenceNamesSomethingDeclared(t *testing.T) {
	t.Parallel()
	tmpl := mustLoad(t)
	declared := func(name string) bool {
		_, param := tmpl.Parameters[name]
		_, res := tmpl.Resources[name]
		return param || res || pseudoParameters[name]
	}
	subVar := regexp.MustCompile(`\$\{([^}!]+)\}`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["Ref"].(string); ok && len(v) == 1 && !declared(r) {
				t.Errorf("%s: !Ref %s names nothing declared", path, r)
			}
			if g, ok := v["Fn::GetAtt"].([]any); ok && len(g) == 2 {
				if _, ok := tmpl.Resources[fmt.Sprint(g[0])]; !ok && !samGeneratedRole(tmpl, fmt.Sprint(g[0])) {
					t.Errorf("%s: !GetAtt %v names no resource", path, g)
				}
			}
			if s, ok := v["Fn::Sub"].(string); ok {
				for _, m := range subVar.FindAllStringSubmatch(s, -1) {
					name, _, _ := strings.Cut(m[1], ".")
					if !declared(name) {
						t.Errorf("%s: !Sub ${%s} names nothing declared", path, m[1])
					}
				}
			}
			for k, c := range v {
				walk(path+"."+k, c)
			}
		case []any:
			for i, c := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		}
	}
	for id, res := range tmpl.Resources {
		if res.Condition != "" && !slices.Contains(tmpl.Conditions, res.Condition) {
			t.Errorf("%s: Condition %s is not declared", id, res.Condition)
		}
		walk(id, res.Properties)
	}
}

// samGeneratedRole reports whether id is the execution role SAM generates
// for a function that names none: <function's logical id>Role.
func samGeneratedRole(tmpl *samtemplate.Template, id string) bool {
	fn, ok := strings.CutSuffix(id, "Role")
	if !ok {
		return false
	}
	r, ok := tmpl.Resources[fn]
	_, named := r.Properties["Role"]
	return ok && r.Type == "AWS::Serverless::Function" && !named
}

// The private keys' secret: within the account, Secrets Manager allows a
// read that an identity policy allows, so its resource policy denies
// reading and writing key material to every principal but the token
// function's role (and an operator's, when the stack names one).
func TestOnlyTheTokenFunctionReadsThePrivateKeys(t *testing.T) {
	t.Parallel()
	tmpl := mustLoad(t)
	ids := tmpl.ResourcesOfType("AWS::SecretsManager::ResourcePolicy")
	if len(ids) != 1 {
		t.Fatalf("resource policies %v, want one, on SigningKeys", ids)
	}
	p := tmpl.Resources[ids[0]].Properties
	if !reflect.DeepEqual(p["SecretId"], samtemplate.Ref("SigningKeys")) || p["BlockPublicPolicy"] != true {
		t.Errorf("%s: SecretId %v, BlockPublicPolicy %v; want SigningKeys, true", ids[0], p["SecretId"], p["BlockPublicPolicy"])
	}
	doc, _ := p["ResourcePolicy"].(map[string]any)
	sts, _ := doc["Statement"].([]any)
	if len(sts) != 1 {
		t.Fatalf("statements %v, want one Deny", sts)
	}
	st, _ := sts[0].(map[string]any)
	var actions []string
	for _, a := range st["Action"].([]any) {
		actions = append(actions, fmt.Sprint(a))
	}
	slices.Sort(actions)
	want := []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}
	if st["Effect"] != "Deny" || st["Principal"] != "*" || !slices.Equal(actions, want) {
		t.Errorf("statement %v; want Deny to * of %v", st, want)
	}
	cond, _ := st["Condition"].(map[string]any)
	except := fmt.Sprint(cond["StringNotEquals"])
	role := fmt.Sprint(map[string]any{"Fn::GetAtt": []any{"TokenFunctionRole", "Arn"}})
	if !strings.Contains(except, role) || !strings.Contains(except, "KeyAdminPrincipalArn") || !samGeneratedRole(tmpl, "TokenFunctionRole") {
		t.Errorf("denied to all but %s; want all but the token function's generated role and KeyAdminPrincipalArn", except)
	}
}

// A key that stopped signing is retired by the first rotation after
// secretkeys.DefaultRetireAfter, so it stays accepted that long plus up to
// one rotation period: the period is bounded by the retirement age, so a
// key nobody signs with any more is gone within twice that.
func TestRotationPeriodIsBoundedByTheRetirementAge(t *testing.T) {
	t.Parallel()
	p := mustLoad(t).Parameters["SigningKeyRotationDays"]
	maxDays := secretkeys.DefaultRetireAfter.Hours() / 24
	if p.Type != "Number" || p.MaxValue == nil || *p.MaxValue > maxDays || p.MinValue == nil || *p.MinValue < 1 {
		t.Errorf("SigningKeyRotationDays %+v: want a Number from 1 to at most %v (secretkeys.DefaultRetireAfter)", p, maxDays)
	}
}

// getAtt reads Fn::GetAtt's argument, a list or a dotted string.
func getAtt(v any) string {
	if l, ok := v.([]any); ok {
		parts := make([]string, len(l))
		for i, p := range l {
			parts[i] = fmt.Sprint(p)
		}
		return strings.Join(parts, ".")
	}
	return fmt.Sprint(v)
}
