package awsrules

import "fmt"

// The rules, by service. Each What is the documented constraint in short;
// each Source the page that states it (the API reference of the call that
// takes the input, or the service's quotas).

const (
	// EC2's characters for security group names and descriptions.
	ec2GroupChars = `[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*`
	// The characters of a rule's description: the same but for '&'.
	ec2RuleChars = `[a-zA-Z0-9 ._\-:/()#,@\[\]+=;{}!$*]*`
	// RDS identifiers: a letter first, then letters, digits and single
	// hyphens, not ending in one.
	rdsIdentifier = `[A-Za-z](-?[A-Za-z0-9])*`
	// The characters every tagging service accepts.
	tagChars = `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`
)

// Lambda's reserved environment variables: a function may not set them.
var lambdaReserved = `_HANDLER|_X_AMZN_TRACE_ID|AWS_DEFAULT_REGION|AWS_REGION|AWS_EXECUTION_ENV|AWS_LAMBDA_FUNCTION_NAME|` +
	`AWS_LAMBDA_FUNCTION_MEMORY_SIZE|AWS_LAMBDA_FUNCTION_VERSION|AWS_LAMBDA_INITIALIZATION_TYPE|AWS_LAMBDA_LOG_GROUP_NAME|` +
	`AWS_LAMBDA_LOG_STREAM_NAME|AWS_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|` +
	`AWS_LAMBDA_RUNTIME_API|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR`

var rules = []Rule{
	// EC2
	{Type: "aws:ec2/securityGroup:SecurityGroup", Property: "name",
		What:   "up to 255 of a-z A-Z 0-9 space ._-:/()#,@[]+=&;{}!$*, not starting sg-",
		Source: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
		check:  all(text(1, 255, ec2GroupChars), not(`^sg-`, "starts with sg-"))},
	{Type: "aws:ec2/securityGroup:SecurityGroup", Property: "description",
		What:   "up to 255 of a-z A-Z 0-9 space ._-:/()#,@[]+=&;{}!$*",
		Source: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html",
		check:  text(0, 255, ec2GroupChars)},
	{Type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", Property: "description",
		What:   "up to 255 of a-z A-Z 0-9 space ._-:/()#,@[]+=;{}!$* (no apostrophe, no &)",
		Source: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_UserIdGroupPair.html",
		check:  text(0, 255, ec2RuleChars)},
	{Type: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", Property: "description",
		What:   "up to 255 of a-z A-Z 0-9 space ._-:/()#,@[]+=;{}!$* (no apostrophe, no &)",
		Source: "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_UserIdGroupPair.html",
		check:  text(0, 255, ec2RuleChars)},
	{Type: "aws:ec2/vpcEndpoint:VpcEndpoint", Property: "policy",
		What:   "a JSON policy of at most 20,480 characters, white space included, a Principal in every statement",
		Source: "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html",
		check:  policy(20480, true, true)},

	// Lambda
	{Type: "aws:lambda/function:Function", Property: "name",
		What:   "1 to 64 of a-z A-Z 0-9 - _",
		Source: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html",
		check:  text(1, 64, `[a-zA-Z0-9\-_]+`)},
	{Type: "aws:lambda/function:Function", Property: "description",
		What:   "at most 256 characters",
		Source: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html",
		check:  text(0, 256, "")},
	{Type: "aws:lambda/function:Function", Property: "handler",
		What:   "at most 128 characters, no white space",
		Source: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html",
		check:  text(0, 128, `[^\s]+`)},
	{Type: "aws:lambda/function:Function", Property: "memorySize",
		What:   "128 to 10,240 MB",
		Source: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html",
		check:  between(128, 10240)},
	{Type: "aws:lambda/function:Function", Property: "timeout",
		What:   "1 to 900 seconds",
		Source: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html",
		check:  between(1, 900)},
	{Type: "aws:lambda/function:Function", Property: "environment.variables",
		What:   "keys a letter then letters, digits or _, none reserved by Lambda",
		Source: "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html",
		check:  keys(all(text(2, 1024, `[a-zA-Z][a-zA-Z0-9_]+`), not(`^(`+lambdaReserved+`)$`, "reserved by Lambda")), nil)},
	{Type: "aws:lambda/function:Function", Property: "environment.variables",
		What:   "all variables together at most 4 KB",
		Source: "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html",
		check:  mapSize(4096)},

	// IAM
	{Type: "aws:iam/role:Role", Property: "name",
		What:   "1 to 64 of letters, digits and +=,.@_-",
		Source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
		check:  text(1, 64, `[\w+=,.@-]+`)},
	{Type: "aws:iam/role:Role", Property: "description",
		What:   "at most 1,000 characters of tab, newline, printable ASCII and Latin-1",
		Source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
		check:  text(0, 1000, `[\x{0009}\x{000A}\x{000D}\x{0020}-\x{007E}\x{00A1}-\x{00FF}]*`)},
	{Type: "aws:iam/role:Role", Property: "assumeRolePolicy",
		What:   "a trust policy of at most 2,048 characters (white space not counted), Sids of letters and digits, unique",
		Source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
		check:  policy(2048, false, true)},
	{Type: "aws:iam/policy:Policy", Property: "name",
		What:   "1 to 128 of letters, digits and +=,.@-_",
		Source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html",
		check:  text(1, 128, `[\w+=,.@-]+`)},
	{Type: "aws:iam/policy:Policy", Property: "description",
		What:   "at most 1,000 characters of tab, newline, printable ASCII and Latin-1",
		Source: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html",
		check:  text(0, 1000, `[\x{0009}\x{000A}\x{000D}\x{0020}-\x{007E}\x{00A1}-\x{00FF}]*`)},
	{Type: "aws:iam/policy:Policy", Property: "policy",
		What:   "a managed policy of at most 6,144 characters (white space not counted), Sids of letters and digits, unique",
		Source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
		check:  policy(6144, false, false)},
	{Type: "aws:iam/rolePolicy:RolePolicy", Property: "policy",
		What:   "inline policies of a role at most 10,240 characters together (white space not counted), Sids of letters and digits, unique",
		Source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
		check:  policy(10240, false, false)},

	// CloudWatch Logs
	{Type: "aws:cloudwatch/logGroup:LogGroup", Property: "name",
		What:   "1 to 512 of a-z A-Z 0-9 . - _ / #",
		Source: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html",
		check:  text(1, 512, `[\.\-_/#A-Za-z0-9]+`)},
	{Type: "aws:cloudwatch/logGroup:LogGroup", Property: "retentionInDays",
		What:   "one of the retentions CloudWatch Logs offers",
		Source: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html",
		check:  oneOf(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)},

	{Type: "aws:cloudwatch/metricAlarm:MetricAlarm", Property: "name",
		What:   "1 to 255 characters",
		Source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
		check:  text(1, 255, "")},
	{Type: "aws:cloudwatch/metricAlarm:MetricAlarm", Property: "alarmDescription",
		What:   "at most 1,024 characters",
		Source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
		check:  text(0, 1024, "")},
	{Type: "aws:cloudwatch/dashboard:Dashboard", Property: "dashboardName",
		What:   "1 to 255 of letters, digits, - and _",
		Source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
		check:  text(1, 255, `[A-Za-z0-9_-]+`)},
	{Type: "aws:cloudwatch/logMetricFilter:LogMetricFilter", Property: "name",
		What:   "1 to 512 characters, no : or *",
		Source: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html",
		check:  text(1, 512, `[^:*]+`)},
	{Type: "aws:cloudwatch/logMetricFilter:LogMetricFilter", Property: "pattern",
		What:   "at most 1,024 characters",
		Source: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html",
		check:  text(0, 1024, "")},

	// SNS
	{Type: "aws:sns/topic:Topic", Property: "name",
		What:   "1 to 256 of letters, digits, - and _",
		Source: "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html",
		check:  text(1, 256, `[A-Za-z0-9_-]+`)},

	// KMS
	{Type: "aws:kms/alias:Alias", Property: "name",
		What:   "alias/ then 1 to 250 of a-z A-Z 0-9 / _ -, not alias/aws/",
		Source: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
		check:  all(text(7, 256, `alias/[a-zA-Z0-9/_-]+`), not(`^alias/aws/`, "alias/aws/ is reserved for AWS"))},
	{Type: "aws:kms/key:Key", Property: "description",
		What:   "at most 8,192 characters",
		Source: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html",
		check:  text(0, 8192, "")},
	{Type: "aws:kms/key:Key", Property: "deletionWindowInDays",
		What:   "7 to 30 days",
		Source: "https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html",
		check:  between(7, 30)},

	// QLDB
	{Type: "aws:qldb/ledger:Ledger", Property: "name",
		What:   "1 to 32 of letters, digits and single hyphens, not all digits, not starting or ending with a hyphen",
		Source: "https://docs.aws.amazon.com/qldb/latest/developerguide/API_CreateLedger.html",
		check:  all(text(1, 32, `[A-Za-z0-9](-?[A-Za-z0-9])*`), not(`^[0-9]+$`, "all digits"))},

	// RDS
	{Type: "aws:rds/cluster:Cluster", Property: "clusterIdentifier",
		What:   "1 to 63 letters, digits or hyphens, a letter first, no two hyphens together, none last",
		Source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html",
		check:  text(1, 63, rdsIdentifier)},
	{Type: "aws:rds/cluster:Cluster", Property: "finalSnapshotIdentifier",
		What:   "1 to 255 letters, digits or hyphens, a letter first, no two hyphens together, none last",
		Source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBCluster.html",
		check:  text(1, 255, rdsIdentifier)},
	{Type: "aws:rds/cluster:Cluster", Property: "databaseName",
		What:   "1 to 63 letters, digits or _, a letter first (PostgreSQL)",
		Source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html",
		check:  text(1, 63, `[A-Za-z][A-Za-z0-9_]*`)},
	{Type: "aws:rds/cluster:Cluster", Property: "masterUsername",
		What:   "1 to 16 letters or digits, a letter first",
		Source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html",
		check:  text(1, 16, `[A-Za-z][A-Za-z0-9]*`)},
	{Type: "aws:rds/cluster:Cluster", Property: "backupRetentionPeriod",
		What:   "1 to 35 days",
		Source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html",
		check:  between(1, 35)},
	{Type: "aws:rds/clusterInstance:ClusterInstance", Property: "identifier",
		What:   "1 to 63 letters, digits or hyphens, a letter first, no two hyphens together, none last",
		Source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html",
		check:  text(1, 63, rdsIdentifier)},
	{Type: "aws:rds/clusterParameterGroup:ClusterParameterGroup", Property: "name",
		What:   "1 to 255 letters, digits or hyphens, a letter first, no two hyphens together, none last",
		Source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBClusterParameterGroup.html",
		check:  text(1, 255, rdsIdentifier)},
	{Type: "aws:rds/subnetGroup:SubnetGroup", Property: "name",
		What:   "at most 255 letters, digits, periods, underscores, spaces or hyphens, not default",
		Source: "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSubnetGroup.html",
		check:  all(text(1, 255, `[a-zA-Z0-9._ -]+`), not(`^(?i)default$`, "default is reserved"))},

	// API Gateway
	{Type: "aws:apigateway/restApiPolicy:RestApiPolicy", Property: "policy",
		What:   "a resource policy of at most 8,192 characters, a Principal in every statement",
		Source: "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html",
		check:  policy(8192, true, true)},
	{Type: "aws:apigateway/stage:Stage", Property: "stageName",
		What:   "1 to 128 of letters, digits, hyphens and underscores",
		Source: "https://docs.aws.amazon.com/apigateway/latest/api/API_CreateStage.html",
		check:  text(1, 128, `[a-zA-Z0-9_-]+`)},

	// S3
	{Type: "aws:s3/bucketV2:BucketV2", Property: "bucket",
		What:   "3 to 63 of lowercase letters, digits, dots and hyphens, a letter or digit first and last, not xn-- first or -s3alias last",
		Source: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
		check:  all(text(3, 63, `[a-z0-9][a-z0-9.-]*[a-z0-9]`), not(`^xn--|-s3alias$|--ol-s3$|\.\.`, "a reserved prefix or suffix, or two dots"))},
	{Type: "aws:s3/bucketV2:BucketV2", Property: "bucketPrefix",
		What: "at most 37 of lowercase letters, digits, dots and hyphens, a letter or digit first, not xn-- or sthree- first: " +
			"the provider ends the name with 26 digits of its own, and the whole must be a bucket name",
		Source: "https://www.pulumi.com/registry/packages/aws/api-docs/s3/bucketv2/ (bucketPrefix); https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html",
		check:  all(text(1, 37, `[a-z0-9][a-z0-9.-]*`), not(`^xn--|^sthree-|\.\.`, "a reserved prefix, or two dots"))},
	{Type: "aws:s3/bucketPolicy:BucketPolicy", Property: "policy",
		What:   "a bucket policy of at most 20 KB, a Principal in every statement",
		Source: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html",
		check:  policy(20480, true, true)},

	// EventBridge Scheduler
	{Type: "aws:scheduler/schedule:Schedule", Property: "name",
		What:   "1 to 64 of letters, digits, . _ -",
		Source: "https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html",
		check:  text(1, 64, `[0-9a-zA-Z._-]+`)},
	{Type: "aws:scheduler/schedule:Schedule", Property: "description",
		What:   "at most 512 characters",
		Source: "https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html",
		check:  text(0, 512, "")},
	{Type: "aws:scheduler/schedule:Schedule", Property: "scheduleExpression",
		What:   "rate(value unit), cron(six fields) or at(…), at most 256 characters",
		Source: "https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html",
		check:  text(1, 256, `(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+( \S+){5}\)|at\(\S+\))`)},

	// WAF
	{Type: "aws:wafv2/webAcl:WebAcl", Property: "name",
		What:   "1 to 128 of letters, digits, _ and -",
		Source: "https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html",
		check:  text(1, 128, `[\w-]+`)},
	{Type: "aws:wafv2/webAcl:WebAcl", Property: "description",
		What:   "1 to 256 of letters, digits, white space and _+=:#@/-,., not starting or ending with white space",
		Source: "https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html",
		check:  text(1, 256, `[\w+=:#@/\-,.][\w+=:#@/\-,.\s]*[\w+=:#@/\-,.]`)},
	{Type: "aws:wafv2/webAcl:WebAcl", Property: "visibilityConfig.metricName",
		What:   "1 to 255 of letters, digits and _#:.-/, no white space",
		Source: "https://docs.aws.amazon.com/waf/latest/APIReference/API_VisibilityConfig.html",
		check:  text(1, 255, `[\w#:.\-/]+`)},
	{Type: "aws:wafv2/webAcl:WebAcl", Property: "rules",
		What:   "each rule named 1 to 128 of letters, digits, _ and -, its metric 1 to 255 of letters, digits and _#:.-/",
		Source: "https://docs.aws.amazon.com/waf/latest/APIReference/API_Rule.html",
		check: each(func(rule map[string]any) error {
			if err := text(1, 128, `[\w-]+`)(rule["name"]); err != nil {
				return fmt.Errorf("rule name: %w", err)
			}
			vc, _ := rule["visibilityConfig"].(map[string]any)
			if err := text(1, 255, `[\w#:.\-/]+`)(vc["metricName"]); err != nil {
				return fmt.Errorf("rule %v metric name: %w", rule["name"], err)
			}
			return nil
		})},

	// Tags, which the provider puts on every taggable resource.
	{Type: "pulumi:providers:aws", Property: "defaultTags.tags",
		What:   "keys 1 to 128 and values up to 256 of letters, digits, spaces and _.:/=+-@; no key starting aws:",
		Source: "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html",
		check:  keys(all(text(1, 128, tagChars), not(`^(?i)aws:`, "aws: is reserved")), text(0, 256, tagChars))},
}
