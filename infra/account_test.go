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
// Mutant: api.go `if args.AccountRole.Exists {` -> `if true {`
// Mutant: api.go `}, child, pulumi.DependsOn(append(stageDeps, args.Ready...)))` -> `}, child, pulumi.DependsOn(append(stageDeps[:0], args.Ready...)))`
// Mutant: api.go `}, opts, keep, pulumi.DependsOn([]pulumi.Resource{attach}))` -> `}, opts, pulumi.DependsOn([]pulumi.Resource{attach}))`
func TestAFreshAccountCanDeployAnyStageAlone(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		role := d.one(t, "aws:iam/role:Role", "api-cloudwatch")
		if role.Inputs["name"] != "licences-apigateway-cloudwatch-"+d.config.Region || !role.Retain || role.ImportID != "" {
			t.Errorf("account role %v (kept on destroy: %v, adopting %q), want licences-apigateway-cloudwatch-%s, created and kept", role.Inputs["name"], role.Retain, role.ImportID, d.config.Region)
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

// A stage that finds the account role in the account (made by another
// stage, or left by its own earlier self when it was destroyed) adopts it
// with the import option instead of creating it, which IAM would refuse
// with EntityAlreadyExists. A role whose name merely starts with the same
// text is not it.
//
// Mutant: api.go `roleOpts = append(roleOpts, pulumi.Import(pulumi.ID(args.AccountRole.Name)))` -> `roleOpts = append(roleOpts)`
// Mutant: account.go `Exists: slices.Contains(found.Names, name)}, nil` -> `Exists: slices.Contains(found.Names, name) || len(found.Names) > 0}, nil`
// Mutant: names.go `return n.project + "-apigateway-cloudwatch-" + n.region` -> `return n.prefix() + "-apigateway-cloudwatch-" + n.region`
func TestAStageAdoptsTheAccountRoleItFinds(t *testing.T) {
	const name = "licences-apigateway-cloudwatch-eu-west-2"
	for _, tc := range []struct {
		roles []string
		adopt bool
	}{
		{roles: []string{"other", name}, adopt: true},
		{roles: []string{name + "-old", "old-" + name}, adopt: false},
	} {
		for _, stage := range shippedStages {
			d, err := deployTo(t, &mocks{region: "eu-west-2", roles: tc.roles}, stage, stackConfig(t, stage, nil))
			if err != nil {
				t.Fatal(err)
			}
			role := d.one(t, "aws:iam/role:Role", "api-cloudwatch")
			want := ""
			if tc.adopt {
				want = name
			}
			if role.Inputs["name"] != name || role.ImportID != want || !role.Retain {
				t.Errorf("%s in an account with roles %v: role %v adopting %q (kept %v), want %s adopting %q, kept",
					stage, tc.roles, role.Inputs["name"], role.ImportID, role.Retain, name, want)
			}
			dependsOn(t, d.one(t, "aws:apigateway/stage:Stage", "api"), "aws:apigateway/account:Account::api")
		}
	}
}
