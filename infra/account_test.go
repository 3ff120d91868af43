package infra

import (
	"fmt"
	"testing"
)

// accountRoleARN is the ARN of API Gateway's account role in the mocked
// account: the provider's ARN when a stage creates it, IAM's when found.
func accountRoleARN(d *deployment, created bool) string {
	name := "licences-apigateway-cloudwatch-" + d.config.Region
	if created {
		return fmt.Sprintf("arn:aws:iam::%s:role/from-provider/%s", testAccount, name)
	}
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", testAccount, name)
}

// A fresh account has no API Gateway CloudWatch role, and a stage with
// access logs is refused until it has one: every shipped stage, alone in a
// fresh account, creates the role and points the account at it before its
// stage, and keeps both when destroyed.
//
// Mutant: stack.go `Create: cfg.APIGatewayAccountRole == AccountRoleCreate` -> `Create: false`
// Mutant: api.go `}, child, pulumi.DependsOn(append(stageDeps, args.Ready...)))` -> `}, child, pulumi.DependsOn(append(stageDeps[:0], args.Ready...)))`
// Mutant: api.go `}, opts, keep, pulumi.DependsOn(deps))` -> `}, opts, pulumi.DependsOn(deps))`
func TestAFreshAccountCanDeployAnyStageAlone(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		role := d.one(t, "aws:iam/role:Role", "api-cloudwatch")
		if role.Inputs["name"] != "licences-apigateway-cloudwatch-"+d.config.Region || !role.Retain {
			t.Errorf("account role %v (kept on destroy: %v), want licences-apigateway-cloudwatch-%s, kept", role.Inputs["name"], role.Retain, d.config.Region)
		}
		doc := policy(t, role, "assumeRolePolicy")
		if len(doc.Statement) != 1 || doc.Statement[0].Principal == nil || fmt.Sprint(doc.Statement[0].Principal.Service) != "[apigateway.amazonaws.com]" {
			t.Errorf("account role trusts %+v, want API Gateway only", doc)
		}
		attach := d.one(t, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "api-cloudwatch")
		if attach.Inputs["policyArn"] != "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs" || !attach.Retain {
			t.Errorf("account role policy %v (kept %v)", attach.Inputs["policyArn"], attach.Retain)
		}
		account := d.one(t, "aws:apigateway/account:Account", "api")
		if account.Inputs["cloudwatchRoleArn"] != accountRoleARN(d, true) || account.Inputs["resetOnDelete"] == true || !account.Retain {
			t.Errorf("account settings %v (kept %v), want the role, kept on destroy", account.Inputs, account.Retain)
		}
		dependsOn(t, account, "aws:iam/rolePolicyAttachment:RolePolicyAttachment::api-cloudwatch")
		dependsOn(t, d.one(t, "aws:apigateway/stage:Stage", "api"), "aws:apigateway/account:Account::api")
	})
}

// Stages in one account and region share the role: the first creates it,
// the others find it by name; all point the account at the same role, so
// no up of one undoes another's, and none creates a second.
//
// Mutant: names.go `return n.project + "-apigateway-cloudwatch-" + n.region` -> `return n.prefix() + "-apigateway-cloudwatch-" + n.region`
func TestStagesShareTheAPIGatewayAccountRole(t *testing.T) {
	first := mustDeploy(t, "dev", nil)
	second := mustDeploy(t, "prod", map[string]string{"licences:apiGatewayAccountRole": "existing"})
	// Its own roles: one per function, the digest scheduler's, and the
	// flow logs' where it records them.
	own := len(partsOf(second)) + 1
	if second.config.FlowLogs {
		own++
	}
	if n := len(second.ofType("aws:iam/role:Role")); n != own {
		t.Errorf("a stage that finds the account role has %d roles, want its own %d only", n, own)
	}
	found := false
	for _, c := range second.calls {
		if c.Token == "aws:iam/getRole:getRole" && c.Args["name"].StringValue() == "licences-apigateway-cloudwatch-eu-west-2" {
			found = true
		}
	}
	if !found {
		t.Error("the second stage does not look the role up by its shared name")
	}
	a := first.one(t, "aws:apigateway/account:Account", "api").Inputs["cloudwatchRoleArn"]
	b := second.one(t, "aws:apigateway/account:Account", "api")
	// The same role: the provider reports a created role's ARN with a path
	// in the mocks, so compare names.
	if fmt.Sprint(b.Inputs["cloudwatchRoleArn"]) != accountRoleARN(second, false) || fmt.Sprint(a) != accountRoleARN(first, true) {
		t.Errorf("account settings point at %v and %v, want the one shared role", a, b.Inputs["cloudwatchRoleArn"])
	}
	if !b.Retain {
		t.Error("a sharing stage's account setting is not kept on destroy")
	}
	dependsOn(t, second.one(t, "aws:apigateway/stage:Stage", "api"), "aws:apigateway/account:Account::api")
}
