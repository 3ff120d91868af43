package awsrules

import (
	"strings"
	"testing"
)

// examples holds, for each rule (by type and property), inputs AWS takes
// and inputs it refuses: every rule must accept the first and refuse each
// of the second, so no rule is a check that cannot fail.
var examples = map[string]struct{ good, bad []any }{
	"aws:ec2/securityGroup:SecurityGroup name":                              {[]any{"licences-dev-function"}, []any{"sg-licences", "it's", strings.Repeat("a", 256), ""}},
	"aws:ec2/securityGroup:SecurityGroup description":                       {[]any{"Lambda functions: egress only to the interface endpoints"}, []any{"the functions' group", "é"}},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule description": {[]any{"HTTPS from the function security group"}, []any{"HTTPS from the functions' security group", "A & B"}},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule description":   {[]any{"PostgreSQL to the Aurora cluster only"}, []any{"to the cluster's port"}},
	"aws:ec2/vpcEndpoint:VpcEndpoint policy": {
		[]any{`{"Version":"2012-10-17","Statement":[{"Sid":"ApiSend","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:role/r"]},"Action":["qldb:SendCommand"],"Resource":["*"]}]}`},
		[]any{
			`{"Statement":[{"Sid":"A","Effect":"Allow","Action":["x:y"],"Resource":["*"]}]}`,
			`{"Statement":[{"Sid":"A","Principal":"*","Effect":"Allow"},{"Sid":"A","Principal":"*","Effect":"Allow"}]}`,
			`{"Statement":[{"Sid":"Not-alnum","Principal":"*","Effect":"Allow"}]}`,
			`{"Statement":[{"Sid":"A","Principal":"*","Effect":"Allow","Action":["` + strings.Repeat("x", 20480) + `"]}]}`,
		}},
	"aws:lambda/function:Function name":        {[]any{"licences-dev-api"}, []any{"licences.dev", strings.Repeat("f", 65)}},
	"aws:lambda/function:Function description": {[]any{"Licence API"}, []any{strings.Repeat("d", 257)}},
	"aws:lambda/function:Function handler":     {[]any{"api"}, []any{"two words"}},
	"aws:lambda/function:Function memorySize":  {[]any{512.0}, []any{64.0, 10241.0}},
	"aws:lambda/function:Function timeout":     {[]any{10.0}, []any{0.0, 901.0}},
	"aws:lambda/function:Function environment.variables": {
		[]any{map[string]any{"LEDGER_NAME": "licences-dev"}},
		[]any{map[string]any{"AWS_REGION": "x"}, map[string]any{"1ST": "x"}, map[string]any{"DB-HOST": "x"}, map[string]any{"BIG": strings.Repeat("v", 4096)}},
	},
	"aws:iam/role:Role name":             {[]any{"licences-dev-api-eu-west-2"}, []any{"licences dev", strings.Repeat("r", 65)}},
	"aws:iam/role:Role description":      {[]any{"Execution role of the licences-dev-api function"}, []any{"emoji \u263a", strings.Repeat("d", 1001)}},
	"aws:iam/role:Role assumeRolePolicy": {[]any{`{"Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com"]},"Action":["sts:AssumeRole"]}]}`}, []any{`{"Statement":[{"Effect":"Allow","Action":["sts:AssumeRole"]}]}`}},
	"aws:iam/rolePolicy:RolePolicy policy": {
		[]any{`{"Statement":[{"Sid":"Logs","Effect":"Allow","Action":["logs:PutLogEvents"],"Resource":["*"]}]}`},
		[]any{`{"Statement":[{"Sid":"Logs","Effect":"Allow"},{"Sid":"Logs","Effect":"Allow"}]}`, `{"Statement":[{"Sid":"Tracing-1","Effect":"Allow"}]}`, `{"Statement":[{"Sid":"A","Action":["` + strings.Repeat("x", 10240) + `"]}]}`},
	},
	"aws:cloudwatch/logGroup:LogGroup name":                    {[]any{"/aws/lambda/licences-dev-api", "aws-waf-logs-licences-dev"}, []any{"/aws/lambda/licences dev", ""}},
	"aws:cloudwatch/logGroup:LogGroup retentionInDays":         {[]any{7.0, 365.0}, []any{8.0}},
	"aws:cloudwatch/metricAlarm:MetricAlarm name":              {[]any{"licences-prod-api-5xx"}, []any{"", strings.Repeat("a", 256)}},
	"aws:cloudwatch/metricAlarm:MetricAlarm alarmDescription":  {[]any{"API 5XX responses"}, []any{strings.Repeat("d", 1025)}},
	"aws:cloudwatch/dashboard:Dashboard dashboardName":         {[]any{"licences-prod"}, []any{"licences prod", "licences.prod"}},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter name":      {[]any{"licences-prod-api-throttled"}, []any{"licences:prod", "api*"}},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter pattern":   {[]any{`{ $.status = "429" }`}, []any{strings.Repeat("p", 1025)}},
	"aws:sns/topic:Topic name":                                 {[]any{"licences-prod-alarms"}, []any{"licences.prod", strings.Repeat("t", 257)}},
	"aws:kms/alias:Alias name":                                 {[]any{"alias/licences-prod-ledger"}, []any{"licences-prod", "alias/aws/licences", "alias/with space"}},
	"aws:kms/key:Key description":                              {[]any{"Encrypts licences-prod"}, []any{strings.Repeat("k", 8193)}},
	"aws:kms/key:Key deletionWindowInDays":                     {[]any{30.0}, []any{6.0, 31.0}},
	"aws:qldb/ledger:Ledger name":                              {[]any{"licences-dev"}, []any{"licences--dev", "-licences", "licences-", "12345", strings.Repeat("l", 33)}},
	"aws:rds/cluster:Cluster clusterIdentifier":                {[]any{"licences-staging"}, []any{"1licences", "licences--staging", "licences-", strings.Repeat("c", 64)}},
	"aws:rds/cluster:Cluster finalSnapshotIdentifier":          {[]any{"licences-staging-final-20261125133000"}, []any{"licences_staging", "licences-staging-"}},
	"aws:rds/cluster:Cluster databaseName":                     {[]any{"licences"}, []any{"1db", "licences-db"}},
	"aws:rds/cluster:Cluster masterUsername":                   {[]any{"licencesadmin"}, []any{"licences_admin", "administrator_long", "1admin"}},
	"aws:rds/cluster:Cluster backupRetentionPeriod":            {[]any{14.0}, []any{0.0, 36.0}},
	"aws:rds/clusterInstance:ClusterInstance identifier":       {[]any{"licences-staging-writer"}, []any{"licences_staging_writer"}},
	"aws:rds/clusterParameterGroup:ClusterParameterGroup name": {[]any{"licences-staging"}, []any{"licences_staging", "1licences", "licences--staging"}},
	"aws:rds/subnetGroup:SubnetGroup name":                     {[]any{"licences-staging"}, []any{"default", "licences/staging"}},
	"aws:apigateway/stage:Stage stageName":                     {[]any{"staging"}, []any{"stage.1", ""}},
	"aws:apigateway/restApiPolicy:RestApiPolicy policy": {
		[]any{`{"Version":"2012-10-17","Statement":[{"Sid":"Preflight","Effect":"Allow","Principal":{"AWS":["*"]},"Action":["execute-api:Invoke"],"Resource":["arn:aws:execute-api:eu-west-2:1:a/dev/OPTIONS/*"]}]}`},
		[]any{`{"Statement":[{"Sid":"NoPrincipal","Effect":"Allow","Action":["execute-api:Invoke"]}]}`, `{"Statement":[{"Sid":"A","Principal":"*","Effect":"Allow","Resource":["` + strings.Repeat("r", 8192) + `"]}]}`},
	},
	"aws:iam/policy:Policy name":        {[]any{"licences-dev-api-client-eu-west-2"}, []any{"licences dev client", strings.Repeat("p", 129)}},
	"aws:iam/policy:Policy description": {[]any{"Calls the licences routes of the dev stage"}, []any{"emoji \u263a", strings.Repeat("d", 1001)}},
	"aws:iam/policy:Policy policy": {
		[]any{`{"Statement":[{"Sid":"Invoke","Effect":"Allow","Action":["execute-api:Invoke"],"Resource":["*"]}]}`},
		[]any{`{"Statement":[{"Sid":"In-voke","Effect":"Allow"}]}`, `{"Statement":[{"Sid":"A","Action":["` + strings.Repeat("x", 6144) + `"]}]}`},
	},
	"aws:s3/bucketV2:BucketV2 bucket":       {[]any{"licences-staging-digests-123456789012-eu-west-2"}, []any{"Licences", "xn--licences", "licences-s3alias", "licences..digests", "l", "-licences", strings.Repeat("b", 64)}},
	"aws:s3/bucketV2:BucketV2 bucketPrefix": {[]any{"licences-staging-digests-"}, []any{"Licences-", "xn--licences-", "sthree-licences-", "licences..digests-", "-licences-", "", strings.Repeat("b", 38)}},
	"aws:s3/bucketPolicy:BucketPolicy policy": {
		[]any{`{"Version":"2012-10-17","Statement":[{"Sid":"TLSOnly","Effect":"Deny","Principal":{"AWS":["*"]},"Action":["s3:*"],"Resource":["*"]}]}`},
		[]any{`{"Statement":[{"Sid":"TLSOnly","Effect":"Deny","Action":["s3:*"]}]}`},
	},
	"aws:scheduler/schedule:Schedule name":                {[]any{"licences-staging-digest"}, []any{"licences staging", strings.Repeat("s", 65)}},
	"aws:scheduler/schedule:Schedule description":         {[]any{"Verifies the ledger"}, []any{strings.Repeat("d", 513)}},
	"aws:scheduler/schedule:Schedule scheduleExpression":  {[]any{"rate(1 hour)", "cron(0 * * * ? *)"}, []any{"every hour", "rate(1 fortnight)", "cron(0 * * *)"}},
	"aws:wafv2/webAcl:WebAcl name":                        {[]any{"licences-prod"}, []any{"licences prod", "licences.prod", strings.Repeat("w", 129)}},
	"aws:wafv2/webAcl:WebAcl description":                 {[]any{"Guards the licence API stage: AWS managed rules and a rate limit per source IP"}, []any{" leading space", "semi;colon", ""}},
	"aws:wafv2/webAcl:WebAcl visibilityConfig.metricName": {[]any{"licences-prod"}, []any{"licences prod", ""}},
	"aws:wafv2/webAcl:WebAcl rules": {
		[]any{[]any{map[string]any{"name": "RatePerSourceIP", "visibilityConfig": map[string]any{"metricName": "licences-prod-rate"}}}},
		[]any{[]any{map[string]any{"name": "Rate per IP", "visibilityConfig": map[string]any{"metricName": "m"}}}, []any{map[string]any{"name": "Rate", "visibilityConfig": map[string]any{"metricName": "m m"}}}},
	},
	"pulumi:providers:aws defaultTags.tags": {
		[]any{map[string]any{"project": "licences", "stage": "dev"}},
		[]any{map[string]any{"aws:stage": "dev"}, map[string]any{"stage": "dev!"}, map[string]any{strings.Repeat("k", 129): "v"}},
	},
}

func TestEveryRuleAcceptsWhatAWSTakesAndRefusesWhatItDoesNot(t *testing.T) {
	covered := map[string]bool{}
	for _, r := range Rules() {
		key := r.Type + " " + r.Property
		ex, ok := examples[key]
		if !ok || len(ex.good) == 0 || len(ex.bad) == 0 {
			t.Errorf("rule %s (%s) has no examples: add what AWS takes and what it refuses", key, r.What)
			continue
		}
		if r.Source == "" || r.What == "" {
			t.Errorf("rule %s has no source or statement", key)
		}
		covered[key] = true
		for _, good := range ex.good {
			// Every rule on this property must take a good value: one
			// property may have several rules.
			if vs := Check(r.Type, nest(r.Property, good)); len(vs) != 0 {
				t.Errorf("%s: %v refused: %v", key, good, vs)
			}
		}
	}
	for key, ex := range examples {
		if !covered[key] {
			t.Errorf("examples for %s, which no rule checks", key)
			continue
		}
		typ, prop, _ := strings.Cut(key, " ")
		for _, bad := range ex.bad {
			if vs := Check(typ, nest(prop, bad)); len(vs) == 0 {
				t.Errorf("%s: %.80v accepted", key, bad)
			}
		}
	}
}

// nest puts a value at a dotted path.
func nest(path string, v any) map[string]any {
	parts := strings.Split(path, ".")
	for i := len(parts) - 1; i > 0; i-- {
		v = map[string]any{parts[i]: v}
	}
	return map[string]any{parts[0]: v}
}

func TestAbsentAndUnknownInputsAreNotChecked(t *testing.T) {
	if vs := Check("aws:qldb/ledger:Ledger", map[string]any{}); len(vs) != 0 {
		t.Errorf("absent name: %v", vs)
	}
	if vs := Check("aws:qldb/ledger:Ledger", map[string]any{"name": struct{}{}}); len(vs) != 0 {
		t.Errorf("unknown name: %v", vs)
	}
}
