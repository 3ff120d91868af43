package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/vpc"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// digestKey is the object the digest function keeps the ledger's digest
// in (function/digeststore's Key): each run adds a version.
const digestKey = "ledger-digest.json"

// DigestBucketArgs configures a DigestBucket.
type DigestBucketArgs struct {
	// NamePrefix begins the bucket's name; the provider ends it with a
	// suffix unique to the creation, so a bucket kept from an earlier
	// stage of the same name never stands in the way.
	NamePrefix string
	// RetentionDays is how long each digest is locked, in compliance mode:
	// no one, the account's root included, can change or delete it sooner.
	RetentionDays int
	// KMSKeyARN is the stage key; nil means S3's own keys (SSE-S3).
	KMSKeyARN pulumi.StringPtrInput
	// WriterRoleARN is the only principal that may put objects.
	WriterRoleARN pulumi.StringInput
}

// DigestBucket is where the ledger's digests are kept outside the
// database: versioned, under Object Lock in compliance mode, encrypted,
// closed to the public, TLS only, written by the digest function's role
// alone. A compliance-mode bucket cannot be emptied before its retention
// ends, so the bucket and its settings are kept when the stage is
// destroyed.
type DigestBucket struct {
	pulumi.ResourceState

	Name pulumi.StringOutput `pulumi:"name"`
	ARN  pulumi.StringOutput `pulumi:"arn"`
}

// NewDigestBucket creates the bucket and its settings.
func NewDigestBucket(ctx *pulumi.Context, name string, args DigestBucketArgs, opts ...pulumi.ResourceOption) (*DigestBucket, error) {
	b := &DigestBucket{}
	if err := ctx.RegisterComponentResource("licences:infra:DigestBucket", name, b, opts...); err != nil {
		return nil, err
	}
	child := []pulumi.ResourceOption{pulumi.Parent(b), pulumi.RetainOnDelete(true)}
	bucket, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		BucketPrefix:      pulumi.String(args.NamePrefix),
		ObjectLockEnabled: pulumi.Bool(true),
	}, child...)
	if err != nil {
		return nil, fmt.Errorf("create digest bucket: %w", err)
	}
	versioning, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, child...)
	if err != nil {
		return nil, fmt.Errorf("version digest bucket: %w", err)
	}
	if _, err := s3.NewBucketObjectLockConfigurationV2(ctx, name, &s3.BucketObjectLockConfigurationV2Args{
		Bucket:            bucket.ID(),
		ObjectLockEnabled: pulumi.String("Enabled"),
		Rule: &s3.BucketObjectLockConfigurationV2RuleArgs{
			DefaultRetention: &s3.BucketObjectLockConfigurationV2RuleDefaultRetentionArgs{
				Mode: pulumi.String("COMPLIANCE"),
				Days: pulumi.Int(args.RetentionDays),
			},
		},
	}, append(child, pulumi.DependsOn([]pulumi.Resource{versioning}))...); err != nil {
		return nil, fmt.Errorf("lock digest bucket: %w", err)
	}
	encryption := &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{SseAlgorithm: pulumi.String("AES256")}
	if args.KMSKeyARN != nil {
		encryption = &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm: pulumi.String("aws:kms"), KmsMasterKeyId: args.KMSKeyARN,
		}
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{&s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: encryption,
			BucketKeyEnabled:                   pulumi.Bool(true),
		}},
	}, child...); err != nil {
		return nil, fmt.Errorf("encrypt digest bucket: %w", err)
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, child...); err != nil {
		return nil, fmt.Errorf("disable digest bucket acls: %w", err)
	}
	block, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, child...)
	if err != nil {
		return nil, fmt.Errorf("block public access to digest bucket: %w", err)
	}
	if _, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: digestBucketPolicyJSON(bucket.Arn, args.WriterRoleARN),
	}, append(child, pulumi.DependsOn([]pulumi.Resource{block}))...); err != nil {
		return nil, fmt.Errorf("digest bucket policy: %w", err)
	}
	b.Name, b.ARN = bucket.Bucket, bucket.Arn
	return b, ctx.RegisterResourceOutputs(b, pulumi.Map{"name": b.Name, "arn": b.ARN})
}

// digestBucketPolicyJSON refuses every request not made over TLS, and
// every upload by anyone but the writer.
func digestBucketPolicyJSON(bucketARN pulumi.StringOutput, writer pulumi.StringInput) pulumi.StringOutput {
	return pulumi.All(bucketARN, writer).ApplyT(func(v []any) (string, error) {
		bucket, writer := v[0].(string), v[1].(string)
		everyone := &Principal{AWS: []string{"*"}}
		return marshalPolicy(PolicyDocument{Version: "2012-10-17", Statement: []Statement{
			{Sid: "TLSOnly", Effect: "Deny", Principal: everyone, Action: []string{"s3:*"}, Resource: []string{bucket, bucket + "/*"},
				Condition: Condition{"Bool": {"aws:SecureTransport": {"false"}}}},
			{Sid: "OnlyTheDigestWrites", Effect: "Deny", Principal: everyone, Action: []string{"s3:PutObject"}, Resource: []string{bucket + "/*"},
				Condition: Condition{"StringNotEquals": {"aws:PrincipalArn": {writer}}}},
		}})
	}).(pulumi.StringOutput)
}

// digestGrants are what the digest function may do with the bucket: read
// the newest digest and write the next, under the stage key where the
// stage has one; and list the bucket, which is what makes S3 answer the
// first run's read of a digest not yet written with 404 NoSuchKey rather
// than 403 AccessDenied
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
// The listing is not narrowed by an s3:prefix condition: S3 documents the
// 404 for a caller with s3:ListBucket on the bucket, not for one whose
// listing is conditional, and the bucket holds the digests alone.
func digestGrants(bucketARN pulumi.StringOutput, key pulumi.StringPtrInput) []Grant {
	g := []Grant{
		{Sid: "Digests", Actions: []string{"s3:GetObject", "s3:PutObject"}, Resources: pulumi.StringArray{pulumi.Sprintf("%s/%s", bucketARN, digestKey)}},
		{Sid: "ListDigests", Actions: []string{"s3:ListBucket"}, Resources: pulumi.StringArray{bucketARN}},
	}
	if key != nil {
		g = append(g, Grant{Sid: "DigestKey", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"},
			Resources: pulumi.StringArray{key.ToStringPtrOutput().Elem()}})
	}
	return g
}

// DigestsArgs configures Digests.
type DigestsArgs struct {
	// Function is the digest function; its role the only one the S3
	// gateway endpoint admits.
	Function *Function
	Bucket   *DigestBucket
	// Schedule runs the digest's incremental verification, FullSchedule
	// its full one, each under its own name: EventBridge Scheduler
	// expressions, rate(…) or cron(…).
	Schedule, ScheduleName         string
	FullSchedule, FullScheduleName string
	SchedulerRoleName              string
	VpcID                          pulumi.StringInput
	RouteTableIDs                  pulumi.StringArrayInput
	FunctionSecurityGroupID        pulumi.StringInput
	Account                        Account
}

// Digests runs the digest function on two schedules, incremental and
// full, and gives it its one way to S3: a gateway endpoint on the isolated
// subnets' route tables whose policy admits the digest role to the digest
// object and the listing of its bucket, and nothing else, and an egress
// rule from the function group to S3's prefix list.
type Digests struct {
	pulumi.ResourceState

	EndpointID pulumi.StringOutput `pulumi:"endpointId"`
}

// NewDigests creates the endpoint, the egress rule, the scheduler's role
// and the schedules.
func NewDigests(ctx *pulumi.Context, name string, args DigestsArgs, opts ...pulumi.ResourceOption) (*Digests, error) {
	d := &Digests{}
	if err := ctx.RegisterComponentResource("licences:infra:Digests", name, d, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(d)
	endpoint, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           args.VpcID,
		ServiceName:     args.Account.endpointService("s3"),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   args.RouteTableIDs,
		// The endpoint admits the role to its S3 grants, the same values.
		Policy: endpointPolicyJSON([]EndpointAccess{{Name: "digest", Principal: args.Function.RoleARN, Grants: grantsOf(digestGrants(args.Bucket.ARN, nil), "s3")}}),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create s3 gateway endpoint: %w", err)
	}
	egress, err := vpc.NewSecurityGroupEgressRule(ctx, name+"-s3", &vpc.SecurityGroupEgressRuleArgs{
		SecurityGroupId: args.FunctionSecurityGroupID,
		Description:     pulumi.String("HTTPS to S3 through the gateway endpoint, whose policy admits the digest function only"),
		IpProtocol:      pulumi.String("tcp"),
		FromPort:        pulumi.Int(443),
		ToPort:          pulumi.Int(443),
		PrefixListId:    endpoint.PrefixListId,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create s3 egress rule: %w", err)
	}
	role, err := iam.NewRole(ctx, name+"-scheduler", &iam.RoleArgs{
		Name:             pulumi.String(args.SchedulerRoleName),
		Description:      pulumi.Sprintf("Lets EventBridge Scheduler run the %s and %s schedules", args.ScheduleName, args.FullScheduleName),
		AssumeRolePolicy: serviceTrustJSON("scheduler.amazonaws.com", args.Account),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create scheduler role: %w", err)
	}
	invoke, err := iam.NewRolePolicy(ctx, name+"-scheduler", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: identityPolicyJSON([]Grant{{Sid: "InvokeDigest", Actions: []string{"lambda:InvokeFunction"}, Resources: pulumi.StringArray{args.Function.ARN}}}),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create scheduler policy: %w", err)
	}
	// Two schedules run the one function, through the one role, alike but
	// for their input (function/bootstrap's digestHandler reads it): {}
	// verifies what changed since the newest digest, {"full": true} the
	// whole ledger. The first keeps the component's name, as before the
	// second was added, so an update leaves it in place.
	runs := []struct{ resource, name, expression, input, description string }{
		{resource: name, name: args.ScheduleName, expression: args.Schedule, input: "{}",
			description: "Verifies what changed in the ledger since its last digest, then writes the next"},
		{resource: name + "-full", name: args.FullScheduleName, expression: args.FullSchedule, input: "{\"full\": true}",
			description: "Verifies the whole ledger against its last digest, then writes the next"},
	}
	for _, run := range runs {
		if _, err := scheduler.NewSchedule(ctx, run.resource, &scheduler.ScheduleArgs{
			Name:               pulumi.String(run.name),
			Description:        pulumi.String(run.description),
			ScheduleExpression: pulumi.String(run.expression),
			FlexibleTimeWindow: &scheduler.ScheduleFlexibleTimeWindowArgs{Mode: pulumi.String("OFF")},
			Target: &scheduler.ScheduleTargetArgs{
				Arn:         args.Function.ARN,
				RoleArn:     role.Arn,
				Input:       pulumi.String(run.input),
				RetryPolicy: &scheduler.ScheduleTargetRetryPolicyArgs{MaximumRetryAttempts: pulumi.Int(2)},
			},
		}, child, pulumi.DependsOn([]pulumi.Resource{invoke, endpoint, egress})); err != nil {
			return nil, fmt.Errorf("create schedule %s: %w", run.name, err)
		}
	}
	d.EndpointID = endpoint.ID().ToStringOutput()
	return d, ctx.RegisterResourceOutputs(d, pulumi.Map{"endpointId": d.EndpointID})
}
