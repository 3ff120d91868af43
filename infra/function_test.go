package infra

import (
	"fmt"
	"slices"

	"testing"

	"github.com/privateledger/licences/function/env"
)

// functionParts are the functions every stage has.
var functionParts = []string{apiPart, erasePart, migrationPart}

// partsOf are the functions of the stage: the Aurora engine's have a
// digest function besides.
func partsOf(d *deployment) []string {
	if d.config.LedgerEngine == env.AuroraPostgreSQL {
		return append(slices.Clone(functionParts), digestPart)
	}
	return functionParts
}

// Mutant: function.go `SubnetIds:        args.SubnetIDs,` -> `SubnetIds:        pulumi.StringArray{},`
// Mutant: function.go `SecurityGroupIds: pulumi.StringArray{args.SecurityGroupID},` -> `SecurityGroupIds: pulumi.StringArray{args.SecurityGroupID, pulumi.String("sg-default")},`
func TestFunctionsRunInIsolatedSubnetsWithFunctionGroup(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		for _, fn := range d.all(t, "aws:lambda/function:Function", len(partsOf(d))) {
			in := fn.Inputs
			vpc, _ := in["vpcConfig"].(map[string]any)
			if got := strs(vpc["subnetIds"]); !slices.Equal(got, isolatedSubnets(d)) {
				t.Errorf("%s subnets = %v, want %v", fn.Name, got, isolatedSubnets(d))
			}
			if got := strs(vpc["securityGroupIds"]); !slices.Equal(got, []string{"sg-network-function"}) {
				t.Errorf("%s security groups = %v, want the function group only", fn.Name, got)
			}
		}
	})
}

func TestFunctionsRuntimeSizingLogsAndTracing(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		sizing := map[string][2]int{
			apiPart:       {d.config.MemoryMB, d.config.TimeoutSeconds},
			erasePart:     {eraseMemoryMB, d.config.TimeoutSeconds},
			migrationPart: {migrationMemoryMB, migrationTimeoutSeconds},
			digestPart:    {digestMemoryMB, digestTimeoutSeconds},
		}
		for _, part := range partsOf(d) {
			size := sizing[part]
			in := d.one(t, "aws:lambda/function:Function", part).Inputs
			if in["runtime"] != "provided.al2023" || !slices.Equal(strs(in["architectures"]), []string{"arm64"}) || in["handler"] != part {
				t.Errorf("%s: runtime %v arch %v handler %v, want provided.al2023 arm64 %s", part, in["runtime"], in["architectures"], in["handler"], part)
			}
			if num(in["memorySize"]) != size[0] || num(in["timeout"]) != size[1] {
				t.Errorf("%s: memory %v timeout %v, want %v", part, in["memorySize"], in["timeout"], size)
			}
			if tc, _ := in["tracingConfig"].(map[string]any); tc["mode"] != "Active" {
				t.Errorf("%s: tracing %v, want Active", part, in["tracingConfig"])
			}
			if in["sourceCodeHash"] != testArtifact.SHA256 || in["code"] == nil {
				t.Errorf("%s: code %v hash %v, want the artifact and its hash", part, in["code"], in["sourceCodeHash"])
			}
			logName := "/aws/lambda/licences-" + d.config.Stage + "-" + part
			if lc, _ := in["loggingConfig"].(map[string]any); lc["logGroup"] != logName || lc["logFormat"] != "JSON" {
				t.Errorf("%s: logging %v, want JSON to %s", part, in["loggingConfig"], logName)
			}
			lg := d.one(t, "aws:cloudwatch/logGroup:LogGroup", part).Inputs
			if lg["name"] != logName || num(lg["retentionInDays"]) != d.config.LogRetentionDays {
				t.Errorf("%s: log group %v, want %s kept %d days", part, lg, logName, d.config.LogRetentionDays)
			}
		}
	})
}

// storeAccess is what each engine's functions may do to its store, as
// "action on resource" lines.
func storeAccess(d *deployment) map[string][]string {
	switch d.config.LedgerEngine {
	case env.QLDB:
		ledger := fmt.Sprintf("arn:aws:qldb:%s:%s:ledger/licences-%s", d.config.Region, testAccount, d.config.Stage)
		return map[string][]string{
			apiPart: {"qldb:SendCommand on " + ledger, "qldb:PartiQLSelect on " + ledger + "/table/*", "qldb:PartiQLInsert on " + ledger + "/table/*",
				"qldb:PartiQLUpdate on " + ledger + "/table/*", "qldb:PartiQLDelete on " + ledger + "/table/*", "qldb:PartiQLHistoryFunction on " + ledger + "/table/*"},
			erasePart: {"qldb:SendCommand on " + ledger, "qldb:PartiQLSelect on " + ledger + "/table/*", "qldb:PartiQLUpdate on " + ledger + "/table/*",
				"qldb:PartiQLHistoryFunction on " + ledger + "/table/*", "qldb:PartiQLRedact on " + ledger + "/table/*",
				"qldb:PartiQLSelect on " + ledger + "/information_schema/user_tables"},
			migrationPart: {"qldb:SendCommand on " + ledger, "qldb:PartiQLCreateTable on " + ledger + "/table/*", "qldb:PartiQLCreateIndex on " + ledger + "/table/*",
				"qldb:PartiQLSelect on " + ledger + "/information_schema/user_tables"},
		}
	case env.AuroraPostgreSQL:
		return map[string][]string{
			apiPart:   {fmt.Sprintf("rds-db:connect on arn:aws:rds-db:%s:%s:dbuser:cluster-ABCDEFGHIJKLMNOP/licences_api", d.config.Region, testAccount)},
			erasePart: {fmt.Sprintf("rds-db:connect on arn:aws:rds-db:%s:%s:dbuser:cluster-ABCDEFGHIJKLMNOP/licences_eraser", d.config.Region, testAccount)},
			digestPart: append([]string{
				fmt.Sprintf("rds-db:connect on arn:aws:rds-db:%s:%s:dbuser:cluster-ABCDEFGHIJKLMNOP/licences_digest", d.config.Region, testAccount),
				"s3:GetObject on " + digestBucketARN(d) + "/ledger-digest.json", "s3:PutObject on " + digestBucketARN(d) + "/ledger-digest.json",
				"s3:ListBucket on " + digestBucketARN(d),
			}, keyUse(d)...),
			migrationPart: append([]string{"secretsmanager:GetSecretValue on " + secretARN}, keyDecrypt(d)...),
		}
	}
	return nil
}

// digestBucketARN is the ARN of the stage's digest bucket.
func digestBucketARN(d *deployment) string { return "arn:aws:s3:::" + digestBucketName(d.config.Stage) }

// digestBucketName is the name the mocked provider gives a stage's digest
// bucket: its prefix, then the suffix of the stage's first bucket.
func digestBucketName(stage string) string {
	return "licences-" + stage + "-digests-" + bucketSuffix(1)
}

// keyUse is the digest function's use of the stage key, where the stage
// has one: the digests are encrypted with it.
func keyUse(d *deployment) []string {
	if d.config.KMSKey == "" {
		return nil
	}
	key := d.config.KMSKey
	if key == KMSKeyCreate {
		key = fmt.Sprintf("arn:aws:kms:%s:%s:key/0d1b2c3d-0000-4000-8000-000000000000", d.config.Region, testAccount)
	}
	return []string{"kms:Decrypt on " + key, "kms:GenerateDataKey on " + key}
}

// keyDecrypt is decrypting with the stage key, where the stage has one.
func keyDecrypt(d *deployment) []string {
	if use := keyUse(d); use != nil {
		return use[:1]
	}
	return nil
}

// rolePermissions are every permission a role holds, from all its inline
// policies, as "action on resource" lines, each policy held to no wildcard
// but where anyResourceActions allows one.
func rolePermissions(t *testing.T, d *deployment, roleName string) []string {
	t.Helper()
	var out []string
	n := 0
	for _, p := range d.ofType("aws:iam/rolePolicy:RolePolicy") {
		if p.Inputs["role"] != roleName {
			continue
		}
		n++
		doc := policy(t, p, "policy")
		assertNoWildcards(t, doc, anyResourceActions)
		out = append(out, permissions(t, doc)...)
	}
	if n == 0 {
		t.Fatalf("role %s has no policy", roleName)
	}
	return sorted(out)
}

// Every role holds exactly: its store access, logging to its own group,
// the network interfaces Lambda manages for it, and tracing. Nothing else.
//
// Mutant: function.go `{Sid: "Logs", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"},` -> `{Sid: "Logs", Actions: []string{"xray:PutTraceSegments"},`
// Mutant: function.go `pulumi.Sprintf("%s:*", logGroupARN)` -> `pulumi.Sprintf("%s*", logGroupARN)`
// Mutant: ledger.go `Tables:  []string{qldbCreateTable, qldbCreateIndex},` -> `Tables:  []string{qldbCreateTable, qldbCreateIndex, qldbDelete},`
// Mutant: ledger.go `Tables:  []string{qldbSelect, qldbUpdate, qldbHistoryFunction, qldbRedact},` -> `Tables:  []string{qldbSelect, qldbInsert, qldbUpdate, qldbHistoryFunction, qldbRedact},`
// Mutant: database.go `erase:     storeRole{grants: []Grant{db.connectGrant(account, env.EraserDatabaseUser)}` -> `erase:     storeRole{grants: []Grant{db.connectGrant(account, env.APIDatabaseUser)}`
// Mutant: role.go `Resources: pulumi.StringArray{args.Account.arn("ec2", "*/*")}` -> `Resources: pulumi.StringArray{pulumi.String("*")}`
func TestRolePoliciesAreExactlyWhatEachFunctionNeeds(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		access := storeAccess(d)
		for _, part := range partsOf(d) {
			want := slices.Clone(access[part])
			want = append(want,
				fmt.Sprintf("logs:CreateLogStream on arn:aws:logs:%s:%s:log-group:/aws/lambda/licences-%s-%s:*", d.config.Region, testAccount, d.config.Stage, part),
				fmt.Sprintf("logs:PutLogEvents on arn:aws:logs:%s:%s:log-group:/aws/lambda/licences-%s-%s:*", d.config.Region, testAccount, d.config.Stage, part),
				"ec2:CreateNetworkInterface on *",
				"ec2:DescribeNetworkInterfaces on *", "ec2:DescribeSubnets on *",
				"xray:PutTraceSegments on *", "xray:PutTelemetryRecords on *",
			)
			for _, a := range manageENIActions {
				want = append(want, fmt.Sprintf("%s on arn:aws:ec2:%s:%s:*/*", a, d.config.Region, testAccount))
			}
			if got, want := rolePermissions(t, d, "licences-"+d.config.Stage+"-"+part+"-"+d.config.Region), sorted(want); !slices.Equal(got, want) {
				t.Errorf("%s role may:%s", part, diffLines(got, want))
			}
		}
	})
}

// Mutant: role.go `assumeRolePolicy("lambda.amazonaws.com")` -> `assumeRolePolicy("apigateway.amazonaws.com")`
func TestRolesTrustLambdaOnly(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		for _, part := range partsOf(d) {
			doc := policy(t, d.one(t, "aws:iam/role:Role", part), "assumeRolePolicy")
			if len(doc.Statement) != 1 || doc.Statement[0].Principal == nil || !slices.Equal(doc.Statement[0].Principal.Service, []string{"lambda.amazonaws.com"}) ||
				!slices.Equal(doc.Statement[0].Action, []string{"sts:AssumeRole"}) || doc.Statement[0].Effect != "Allow" {
				t.Errorf("%s trust policy = %+v, want lambda.amazonaws.com only", part, doc)
			}
		}
	})
}

// The function waits for its role's policies: Lambda checks at create
// time that the role may create network interfaces.
//
// Mutant: function.go `pulumi.DependsOn([]pulumi.Resource{args.Role.networkPolicy, policy, logs})` -> `pulumi.DependsOn([]pulumi.Resource{policy, logs})`
func TestFunctionsWaitForTheirPoliciesAndLogGroup(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		for _, part := range partsOf(d) {
			dependsOn(t, d.one(t, "aws:lambda/function:Function", part),
				"aws:iam/rolePolicy:RolePolicy::"+part, "aws:iam/rolePolicy:RolePolicy::"+part+"-network",
				"aws:cloudwatch/logGroup:LogGroup::"+part)
		}
	})
}
