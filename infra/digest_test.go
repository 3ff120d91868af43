package infra

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/privateledger/licences/function/digeststore"
	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/function/pgstore"
	"github.com/privateledger/licences/testdouble/locals3"
)

// The digest bucket: Object Lock in compliance mode for the configured
// days, versioned, encrypted with the stage key where the stage has one,
// closed to the public, TLS only, written by the digest role alone, and
// kept, with every setting, when the stage is destroyed.
//
// Mutant: digest.go `Mode: pulumi.String("COMPLIANCE"),` -> `Mode: pulumi.String("GOVERNANCE"),`
// Mutant: digest.go `child := []pulumi.ResourceOption{pulumi.Parent(b), pulumi.RetainOnDelete(true)}` -> `child := []pulumi.ResourceOption{pulumi.Parent(b), pulumi.RetainOnDelete(false)}`
// Mutant: digest.go `BlockPublicPolicy:     pulumi.Bool(true),` -> `BlockPublicPolicy:     pulumi.Bool(false),`
// Mutant: digest.go `Condition: Condition{"Bool": {"aws:SecureTransport": {"false"}}}},` -> `Condition: Condition{"Bool": {"aws:SecureTransport": {"true"}}}},`
// Mutant: digest.go `Condition: Condition{"StringNotEquals": {"aws:PrincipalArn": {writer}}}},` -> `Condition: Condition{"StringNotEquals": {"aws:PrincipalArn": {writer, "*"}}}},`
func TestTheDigestBucketIsLockedEncryptedPrivateAndKept(t *testing.T) {
	for _, kms := range []string{"", KMSKeyCreate} {
		t.Run("kmsKey="+kms, func(t *testing.T) {
			d := mustDeploy(t, "prod", map[string]string{"licences:kmsKey": kms})
			bucket := d.one(t, "aws:s3/bucketV2:BucketV2", "digests")
			if bucket.Inputs["bucketPrefix"] != "licences-prod-digests-" || bucket.Inputs["bucket"] != nil || bucket.Inputs["objectLockEnabled"] != true || bucket.Inputs["forceDestroy"] == true {
				t.Errorf("bucket %v, want one named from the prefix licences-prod-digests-, with Object Lock", bucket.Inputs)
			}
			id := digestBucketName("prod")
			lock := d.one(t, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2", "digests").Inputs
			rule, _ := lock["rule"].(map[string]any)
			ret, _ := rule["defaultRetention"].(map[string]any)
			if lock["bucket"] != id || ret["mode"] != "COMPLIANCE" || num(ret["days"]) != d.config.DigestRetentionDays || d.config.DigestRetentionDays != 400 {
				t.Errorf("object lock %v, want COMPLIANCE for %d days", lock, d.config.DigestRetentionDays)
			}
			if v, _ := d.one(t, "aws:s3/bucketVersioningV2:BucketVersioningV2", "digests").Inputs["versioningConfiguration"].(map[string]any); v["status"] != "Enabled" {
				t.Errorf("versioning %v, want Enabled", v)
			}
			sse := d.one(t, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "digests").Inputs
			rules, _ := sse["rules"].([]any)
			by, _ := rules[0].(map[string]any)["applyServerSideEncryptionByDefault"].(map[string]any)
			switch {
			case kms == "" && (by["sseAlgorithm"] != "AES256" || by["kmsMasterKeyId"] != nil):
				t.Errorf("encryption %v, want S3's own keys without a stage key", by)
			case kms == KMSKeyCreate && (by["sseAlgorithm"] != "aws:kms" || !strings.HasPrefix(fmt.Sprint(by["kmsMasterKeyId"]), "arn:aws:kms:")):
				t.Errorf("encryption %v, want the stage key", by)
			}
			block := d.one(t, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "digests").Inputs
			for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
				if block[k] != true {
					t.Errorf("public access block %s = %v, want true", k, block[k])
				}
			}
			if r, _ := d.one(t, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "digests").Inputs["rule"].(map[string]any); r["objectOwnership"] != "BucketOwnerEnforced" {
				t.Errorf("ownership %v, want ACLs disabled", r)
			}
			doc := policy(t, d.one(t, "aws:s3/bucketPolicy:BucketPolicy", "digests"), "policy")
			arn := digestBucketARN(d)
			want := map[string]string{
				"TLSOnly":             `Deny * [s3:*] [` + arn + ` ` + arn + `/*] {"Bool":{"aws:SecureTransport":["false"]}}`,
				"OnlyTheDigestWrites": `Deny * [s3:PutObject] [` + arn + `/*] {"StringNotEquals":{"aws:PrincipalArn":["` + roleARN("prod", "digest", d.config.Region) + `"]}}`,
			}
			if len(doc.Statement) != len(want) {
				t.Errorf("bucket policy %+v, want %d statements", doc, len(want))
			}
			for _, s := range doc.Statement {
				cond, _ := json.Marshal(s.Condition)
				if got := fmt.Sprintf("%s %s %v %v %s", s.Effect, strings.Join(s.Principal.AWS, ","), s.Action, s.Resource, cond); got != want[s.Sid] {
					t.Errorf("bucket policy %s:\n got %s\nwant %s", s.Sid, got, want[s.Sid])
				}
			}
			for _, r := range d.resources {
				if strings.HasPrefix(r.Type, "aws:s3/") && !r.Retain {
					t.Errorf("%s %s is deleted with the stage: a compliance-mode bucket outlives it, and so must its settings", r.Type, r.Name)
				}
			}
		})
	}
}

// The S3 gateway endpoint is on the isolated subnets' route tables and
// admits the digest role to the digest object and the listing of its
// bucket, and nothing else.
//
// Mutant: digest.go `RouteTableIds:   args.RouteTableIDs,` -> `RouteTableIds:   pulumi.StringArray{},`
// Mutant: digest.go `Policy: endpointPolicyJSON([]EndpointAccess{{Name: "digest", Principal: args.Function.RoleARN, Grants:` -> `Policy: endpointPolicyJSON([]EndpointAccess{{Name: "digest", Principal: pulumi.String("*").ToStringOutput(), Grants:`
func TestTheS3GatewayEndpointAdmitsOnlyTheDigestRole(t *testing.T) {
	eachStage(t, onEngine(env.AuroraPostgreSQL), func(t *testing.T, d *deployment) {
		ep := d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "digests-s3").Inputs
		var tables []string
		for i := range d.config.AZCount {
			tables = append(tables, fmt.Sprintf("rtb-%d", i))
		}
		if ep["vpcEndpointType"] != "Gateway" || ep["serviceName"] != "com.amazonaws."+d.config.Region+".s3" || !slices.Equal(strs(ep["routeTableIds"]), tables) {
			t.Errorf("s3 endpoint %v, want a gateway on the route tables %v", ep, tables)
		}
		doc := policy(t, d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "digests-s3"), "policy")
		role := roleARN(d.config.Stage, "digest", d.config.Region)
		want := sorted([]string{role + ": s3:GetObject on " + digestBucketARN(d) + "/ledger-digest.json", role + ": s3:PutObject on " + digestBucketARN(d) + "/ledger-digest.json",
			role + ": s3:ListBucket on " + digestBucketARN(d)})
		if got := permissions(t, doc); !slices.Equal(got, want) {
			t.Errorf("the S3 endpoint allows:%s", diffLines(got, want))
		}
		assertNoWildcards(t, doc, nil)
		var lookedUp bool
		for _, c := range d.calls {
			if c.Token == "aws:ec2/getRouteTables:getRouteTables" && fmt.Sprint(c.Args["vpcId"].V) == "vpc-1" {
				lookedUp = true
			}
		}
		if !lookedUp {
			t.Error("the route tables were not looked up in the stage's VPC")
		}
	})
}

// The digest function's own S3 code (function/digeststore) runs its first
// and second runs against an empty digest bucket, in a local S3 that
// decides each request by the policies the stage's plan sets: the digest
// role's, the S3 gateway endpoint's and the bucket's. S3 answers a read of
// a digest not yet written with 404 only to a caller that may list the
// bucket, and 403 to any other, so a plan without s3:ListBucket for the
// role fails here as it fails on AWS, on every run.
//
// Mutant: digest.go `{Sid: "ListDigests", Actions: []string{"s3:ListBucket"}, Resources: pulumi.StringArray{bucketARN}},` -> `/* no s3:ListBucket */`
func TestTheDigestRunsAgainstS3AsPlanned(t *testing.T) {
	if digestKey != digeststore.Key {
		t.Fatalf("the stack grants the object %q, the function keeps its digests in %q", digestKey, digeststore.Key)
	}
	eachStage(t, onEngine(env.AuroraPostgreSQL), func(t *testing.T, d *deployment) {
		vars := d.variables(t, digestPart)
		cfg, err := env.Parse(func(k string) string { return vars[k] })
		if err != nil {
			t.Fatalf("the digest function refuses its environment: %v", err)
		}
		roleName := newNames(d.config).role(digestPart)
		access := locals3.Access{
			Principal:      roleARN(d.config.Stage, digestPart, d.config.Region),
			Endpoint:       d.one(t, "aws:ec2/vpcEndpoint:VpcEndpoint", "digests-s3").Inputs["policy"].(string),
			BucketPolicies: map[string]string{cfg.DigestBucket: d.one(t, "aws:s3/bucketPolicy:BucketPolicy", "digests").Inputs["policy"].(string)},
		}
		for _, p := range d.ofType("aws:iam/rolePolicy:RolePolicy") {
			if p.Inputs["role"] == roleName {
				access.Identity = append(access.Identity, p.Inputs["policy"].(string))
			}
		}
		for _, a := range d.ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
			if a.Inputs["role"] == roleName {
				t.Fatalf("the digest role has the managed policy %v, which this test cannot read", a.Inputs["policyArn"])
			}
		}
		if len(access.Identity) == 0 {
			t.Fatalf("no policy of the role %s", roleName)
		}
		bucket := locals3.New(cfg.DigestBucket)
		if err := bucket.Authorize(access); err != nil {
			t.Fatalf("the local S3 cannot evaluate the plan's policies: %v", err)
		}
		// The bucket policy refuses what does not come over TLS.
		hs := httptest.NewTLSServer(bucket)
		t.Cleanup(hs.Close)
		ctx := context.Background()
		store, err := digeststore.Open(ctx, cfg.DigestBucket, hs.URL, func(o *s3.Options) { o.HTTPClient = hs.Client() })
		if err != nil {
			t.Fatal(err)
		}
		for run := int64(1); run <= 2; run++ {
			previous, err := store.Newest(ctx)
			switch {
			case err != nil:
				t.Fatalf("run %d reads the previous digest: %v", run, err)
			case run == 1 && previous != nil, run == 2 && (previous == nil || previous.Seq != 1):
				t.Fatalf("run %d reads %+v as the previous digest", run, previous)
			}
			if _, err := store.Put(ctx, pgstore.Digest{Seq: run, Hash: []byte{byte(run)}}); err != nil {
				t.Fatalf("run %d writes its digest: %v", run, err)
			}
		}
		if n := len(bucket.Versions(cfg.DigestBucket, digeststore.Key)); n != 2 {
			t.Errorf("%d digests written, want 2", n)
		}
	})
}

// The digest function runs on two schedules, and no others: every
// digestSchedule verifying what changed since the last digest (input {}),
// every fullVerifySchedule verifying the whole ledger ({"full": true}),
// each under its own name, alike otherwise (the one function, the one
// role, the same retries and no flexible window), through a role that
// EventBridge Scheduler of this account alone may assume and that may
// invoke that function alone.
//
// Mutant: digest.go `Arn:         args.Function.ARN,` -> `Arn:         args.Bucket.ARN,`
// Mutant: policy.go `			Condition: Condition{"StringEquals": {"aws:SourceAccount": {id}}},` -> `			Condition: nil,`
// Mutant: digest.go `input: "{\"full\": true}",` -> `input: "{}",`
// Mutant: digest.go `input: "{}",` -> `input: "{\"full\": true}",`
// Mutant: digest.go `expression: args.FullSchedule,` -> `expression: args.Schedule,`
// Mutant: stack.go `FullScheduleName:        s.names.schedule(digestPart + "-full"),` -> `FullScheduleName:        s.names.schedule(digestPart),`
func TestTheDigestRunsOnItsSchedules(t *testing.T) {
	eachStage(t, onEngine(env.AuroraPostgreSQL), func(t *testing.T, d *deployment) {
		if d.config.FullVerifySchedule == d.config.DigestSchedule {
			t.Fatalf("%s runs both verifications at %s: the test could not tell the schedules apart", d.config.Stage, d.config.DigestSchedule)
		}
		d.all(t, "aws:scheduler/schedule:Schedule", 2)
		fn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:licences-%s-digest", d.config.Region, testAccount, d.config.Stage)
		schedRole := fmt.Sprintf("arn:aws:iam::%s:role/from-provider/licences-%s-digest-scheduler-%s", testAccount, d.config.Stage, d.config.Region)
		for _, want := range []struct {
			resource, name, expression string
			full                       bool
		}{
			{"digests", "licences-" + d.config.Stage + "-digest", d.config.DigestSchedule, false},
			{"digests-full", "licences-" + d.config.Stage + "-digest-full", d.config.FullVerifySchedule, true},
		} {
			s := d.one(t, "aws:scheduler/schedule:Schedule", want.resource)
			target, _ := s.Inputs["target"].(map[string]any)
			if s.Inputs["name"] != want.name || s.Inputs["scheduleExpression"] != want.expression || target["arn"] != fn || target["roleArn"] != schedRole {
				t.Errorf("schedule %s %v, want %s at %s running %s as %s", want.resource, s.Inputs, want.name, want.expression, fn, schedRole)
			}
			// The input as the digest function reads it (digestHandler's
			// JSON), and nothing else in it.
			wantInput := map[string]any{}
			if want.full {
				wantInput["full"] = true
			}
			var input map[string]any
			if text, _ := target["input"].(string); json.Unmarshal([]byte(text), &input) != nil || !maps.Equal(input, wantInput) {
				t.Errorf("schedule %s: input %v, want %v", want.resource, target["input"], wantInput)
			}
			window, _ := s.Inputs["flexibleTimeWindow"].(map[string]any)
			retry, _ := target["retryPolicy"].(map[string]any)
			if window["mode"] != "OFF" || num(retry["maximumRetryAttempts"]) != 2 {
				t.Errorf("schedule %s: window %v, retries %v, want OFF and 2", want.resource, window, retry)
			}
			dependsOn(t, s, "aws:iam/rolePolicy:RolePolicy::digests-scheduler", "aws:ec2/vpcEndpoint:VpcEndpoint::digests-s3", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule::digests-s3")
		}
		trust := policy(t, d.one(t, "aws:iam/role:Role", "digests-scheduler"), "assumeRolePolicy")
		cond, _ := json.Marshal(trust.Statement[0].Condition)
		if len(trust.Statement) != 1 || !slices.Equal(trust.Statement[0].Principal.Service, []string{"scheduler.amazonaws.com"}) || string(cond) != `{"StringEquals":{"aws:SourceAccount":["`+testAccount+`"]}}` {
			t.Errorf("scheduler trust %+v, want EventBridge Scheduler of this account only", trust)
		}
		if got := rolePermissions(t, d, "licences-"+d.config.Stage+"-digest-scheduler-"+d.config.Region); !slices.Equal(got, []string{"lambda:InvokeFunction on " + fn}) {
			t.Errorf("the scheduler may %v, want to invoke the digest function only", got)
		}
	})
}

// No role but the digest's may touch the digest bucket or S3 at all.
//
// Mutant: database.go `api:       storeRole{grants: []Grant{db.connectGrant(account, env.APIDatabaseUser)}, settings: as(env.APIDatabaseUser)},` -> `api:       storeRole{grants: append([]Grant{db.connectGrant(account, env.APIDatabaseUser)}, digestGrants(bucket.ARN, key)...), settings: as(env.APIDatabaseUser)},`
func TestOnlyTheDigestRoleReachesTheDigestBucket(t *testing.T) {
	eachStage(t, onEngine(env.AuroraPostgreSQL), func(t *testing.T, d *deployment) {
		digestRole := "licences-" + d.config.Stage + "-digest-" + d.config.Region
		checked := 0
		for _, p := range d.ofType("aws:iam/rolePolicy:RolePolicy") {
			text := fmt.Sprint(p.Inputs["policy"])
			if p.Inputs["role"] != digestRole && (strings.Contains(text, "s3:") || strings.Contains(text, "digests")) {
				t.Errorf("role %v may use the digest bucket: %s", p.Inputs["role"], text)
			}
			checked++
		}
		if checked < len(partsOf(d)) {
			t.Fatalf("%d role policies checked", checked)
		}
	})
}

// A QLDB stage has no digests of its own making: its journal has them.
func TestQLDBStagesHaveNoDigestInfrastructure(t *testing.T) {
	eachStage(t, onEngine(env.QLDB), func(t *testing.T, d *deployment) {
		for _, typ := range []string{"aws:s3/bucketV2:BucketV2", "aws:scheduler/schedule:Schedule"} {
			if n := len(d.ofType(typ)); n != 0 {
				t.Errorf("%d %s on a QLDB stage", n, typ)
			}
		}
		if slices.Contains(d.names("aws:lambda/function:Function"), digestPart) {
			t.Error("a digest function on a QLDB stage")
		}
	})
}
