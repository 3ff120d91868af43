package infra

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PolicyDocument is an IAM policy: identity-based, a trust policy or a VPC
// endpoint policy. Typed, so a policy is built and tested as data and
// marshalled once.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a PolicyDocument.
type Statement struct {
	Sid       string     `json:"Sid,omitempty"`
	Effect    string     `json:"Effect"`
	Principal *Principal `json:"Principal,omitempty"`
	Action    []string   `json:"Action"`
	Resource  []string   `json:"Resource,omitempty"`
	Condition Condition  `json:"Condition,omitempty"`
}

// Condition is a statement's conditions: operator, then key, then values.
// Keys under one operator, and operators, must all hold.
type Condition map[string]map[string][]string

// Principal names who a resource or trust policy applies to.
type Principal struct {
	AWS     []string `json:"AWS,omitempty"`
	Service []string `json:"Service,omitempty"`
}

// Grant allows Actions on Resources. A function's role policy is a list of
// grants; an endpoint policy repeats a role's grants with the role as the
// principal, so both are written from the same values.
type Grant struct {
	Sid       string
	Actions   []string
	Resources pulumi.StringArrayInput
}

// grantsOf returns the grants, cut down to their actions of the IAM service
// named by prefix (such as "qldb"), leaving out those with none.
func grantsOf(grants []Grant, service string) []Grant {
	var out []Grant
	for _, g := range grants {
		var actions []string
		for _, a := range g.Actions {
			if strings.HasPrefix(a, service+":") {
				actions = append(actions, a)
			}
		}
		if len(actions) > 0 {
			g.Actions = actions
			out = append(out, g)
		}
	}
	return out
}

// statementsOf resolves grants into Allow statements, as a
// pulumi.AnyOutput holding []Statement.
func statementsOf(grants []Grant) pulumi.AnyOutput {
	inputs := make([]any, len(grants))
	for i, g := range grants {
		inputs[i] = g.Resources
	}
	return pulumi.All(inputs...).ApplyT(func(v []any) []Statement {
		out := make([]Statement, len(grants))
		for i, g := range grants {
			out[i] = Statement{Sid: g.Sid, Effect: "Allow", Action: g.Actions, Resource: v[i].([]string)}
		}
		return out
	}).(pulumi.AnyOutput)
}

// identityPolicyJSON is the policy of a role that holds grants.
func identityPolicyJSON(grants []Grant) pulumi.StringOutput {
	return statementsOf(grants).ApplyT(func(v any) (string, error) {
		return marshalPolicy(PolicyDocument{Version: "2012-10-17", Statement: v.([]Statement)})
	}).(pulumi.StringOutput)
}

// endpointPolicyJSON is a VPC endpoint policy: each principal may use its
// own grants and nothing else; everyone else is denied by omission. A
// statement's id is its grant's, prefixed with the principal's name, so ids
// are unique in the policy.
func endpointPolicyJSON(access []EndpointAccess) pulumi.StringOutput {
	var inputs []any
	for _, a := range access {
		inputs = append(inputs, a.Principal, statementsOf(a.Grants))
	}
	return pulumi.All(inputs...).ApplyT(func(v []any) (string, error) {
		doc := PolicyDocument{Version: "2012-10-17"}
		for i := 0; i < len(v); i += 2 {
			a := access[i/2]
			principal := &Principal{AWS: []string{v[i].(string)}}
			for _, s := range v[i+1].([]Statement) {
				s.Sid = sidPrefix(a.Name) + s.Sid
				s.Principal = principal
				doc.Statement = append(doc.Statement, s)
			}
		}
		return marshalPolicy(doc)
	}).(pulumi.StringOutput)
}

// sidPrefix turns a name such as "api" or "log-writer" into a statement id
// prefix such as "Api" or "LogWriter": statement ids are alphanumeric.
func sidPrefix(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// serviceTrustJSON lets the named AWS service assume a role on behalf of
// this account only (aws:SourceAccount): for services that act for any
// account, where the confused deputy is a risk.
func serviceTrustJSON(service string, account Account) pulumi.StringOutput {
	return account.ID.ApplyT(func(id string) (string, error) {
		return marshalPolicy(PolicyDocument{Version: "2012-10-17", Statement: []Statement{{
			Effect: "Allow", Principal: &Principal{Service: []string{service}}, Action: []string{"sts:AssumeRole"},
			Condition: Condition{"StringEquals": {"aws:SourceAccount": {id}}},
		}}})
	}).(pulumi.StringOutput)
}

// accountAdministers is a resource policy's statement that leaves the
// resource to the account's IAM policies, as a key's default policy does.
func accountAdministers(partition, account string, actions []string, resource string) Statement {
	return Statement{Sid: "AccountAdministersThroughIAM", Effect: "Allow", Principal: &Principal{AWS: []string{fmt.Sprintf("arn:%s:iam::%s:root", partition, account)}},
		Action: actions, Resource: []string{resource}}
}

// assumeRolePolicy lets the named AWS service assume a role.
func assumeRolePolicy(service string) string {
	s, err := marshalPolicy(PolicyDocument{
		Version: "2012-10-17",
		Statement: []Statement{{
			Effect:    "Allow",
			Principal: &Principal{Service: []string{service}},
			Action:    []string{"sts:AssumeRole"},
		}},
	})
	if err != nil {
		panic(err) // a constant document: cannot fail
	}
	return s
}

func marshalPolicy(doc PolicyDocument) (string, error) {
	for i, s := range doc.Statement {
		if len(s.Action) == 0 {
			return "", fmt.Errorf("policy statement %d (%s) has no actions", i, s.Sid)
		}
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
