package replay

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
)

// samPolicyActions are the actions of the SAM policy templates the
// template uses, as SAM's policy_templates.json defines them.
var samPolicyActions = map[string][]string{
	"DynamoDBReadPolicy": {"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"},
	"DynamoDBCrudPolicy": {"dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query",
		"dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:ConditionCheckItem"},
	"DynamoDBWritePolicy": {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"},
}

// dynamoWrites are the DynamoDB actions that change data.
var dynamoWrites = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}

// allowedActions lists what a function's policies allow; an unknown
// policy template is an error (add it to samPolicyActions).
func allowedActions(f samtemplate.Function) ([]string, error) {
	var out []string
	for _, p := range f.Policies {
		if p.Template != "" {
			acts, ok := samPolicyActions[p.Template]
			if !ok {
				return nil, fmt.Errorf("%s: policy template %s: its actions are not known to the replay", f.LogicalID, p.Template)
			}
			out = append(out, acts...)
			continue
		}
		for _, st := range p.Statements {
			if st.Effect == "Allow" {
				out = append(out, st.Actions...)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// allows reports whether action is in allowed, honoring "service:*" and
// trailing wildcards.
func allows(allowed []string, action string) bool {
	for _, a := range allowed {
		if a == action || a == "*" {
			return true
		}
		if prefix, ok := strings.CutSuffix(a, "*"); ok && strings.HasPrefix(action, prefix) {
			return true
		}
	}
	return false
}

// checkPolicies compares what a function did during the replay with what
// its policies allow: every call must be allowed; a function that never
// wrote must not be allowed to write; only a function that sent email may
// be allowed to send it.
func checkPolicies(f samtemplate.Function, used []string) []string {
	allowed, err := allowedActions(f)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	for _, u := range used {
		if !allows(allowed, u) {
			problems = append(problems, fmt.Sprintf("%s calls %s, which its policies in template.yaml do not allow", f.LogicalID, u))
		}
	}
	wrote := slices.ContainsFunc(used, func(u string) bool { return slices.Contains(dynamoWrites, u) })
	if !wrote {
		for _, w := range dynamoWrites {
			if allows(allowed, w) {
				problems = append(problems, fmt.Sprintf("%s never writes to the table in the replay, yet its policies allow %s", f.LogicalID, w))
			}
		}
	}
	mailed := slices.ContainsFunc(used, func(u string) bool { return strings.HasPrefix(u, "ses:") })
	if !mailed {
		for _, a := range allowed {
			if strings.HasPrefix(a, "ses:") {
				problems = append(problems, fmt.Sprintf("%s never sends email in the replay, yet its policies allow %s", f.LogicalID, a))
			}
		}
	}
	return problems
}
