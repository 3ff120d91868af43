package infra

import (
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"strings"
	"testing"

	"github.com/privateledger/licences/function/env"
)

// Each bad setting is refused with an error naming its key (or the keys
// that constrain each other) and what is allowed.
//
// Mutant: config.go `{func(c Config) bool { return !schedulePattern.MatchString(c.FullVerifySchedule) },` -> `{func(c Config) bool { return false },`
// Mutant: config.go `return full > 0 && digest > 0 && full < digest` -> `return full > 0 && digest > 0 && false`
// Mutant: config.go `return c.pauses() && rateSeconds(c.FullVerifySchedule) > 0 &&` -> `return false &&`
func TestBadConfigFailsWithAClearMessage(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stage     string
		overrides map[string]string
		want      []string // each must appear in the error
	}{
		{"one zone", "dev", map[string]string{"licences:azCount": "1"}, []string{"licences:azCount", "2 to 6"}},
		{"seven zones", "dev", map[string]string{"licences:azCount": "7"}, []string{"licences:azCount", "2 to 6"}},
		{"zones not a number", "dev", map[string]string{"licences:azCount": "two"}, []string{"licences:azCount", "whole number"}},
		{"cidr not a cidr", "dev", map[string]string{"licences:vpcCidr": "10.0.0.0/33"}, []string{"licences:vpcCidr", "IPv4 CIDR"}},
		{"cidr garbage", "dev", map[string]string{"licences:vpcCidr": "banana"}, []string{"licences:vpcCidr", "IPv4 CIDR"}},
		{"cidr host bits", "dev", map[string]string{"licences:vpcCidr": "10.0.0.1/16"}, []string{"licences:vpcCidr", "10.0.0.0/16"}},
		{"cidr too small", "dev", map[string]string{"licences:vpcCidr": "10.0.0.0/28"}, []string{"licences:vpcCidr", "/16 to /24"}},
		{"cidr ipv6", "dev", map[string]string{"licences:vpcCidr": "fd00::/56"}, []string{"licences:vpcCidr", "IPv4"}},
		{"unknown kms value", "dev", map[string]string{"licences:kmsKey": "yes-please"}, []string{"licences:kmsKey", `"create"`}},
		{"retention not offered", "dev", map[string]string{"licences:logRetentionDays": "8"}, []string{"licences:logRetentionDays", "one of"}},
		{"memory too small", "dev", map[string]string{"licences:memoryMb": "64"}, []string{"licences:memoryMb", "128 to 10240"}},
		{"timeout past api gateway", "dev", map[string]string{"licences:timeoutSeconds": "30"}, []string{"licences:timeoutSeconds", "29"}},
		{"timeout leaves no time for a commit", "dev", map[string]string{"licences:timeoutSeconds": "2"}, []string{"licences:timeoutSeconds", "3 to 29"}},
		{"not a boolean", "dev", map[string]string{"licences:deletionProtection": "sometimes"}, []string{"licences:deletionProtection", "true or false"}},
		{"throttle zero", "dev", map[string]string{"licences:throttleRateLimit": "0"}, []string{"licences:throttleRateLimit"}},
		{"cors origin", "dev", map[string]string{"licences:corsAllowOrigin": "example.com"}, []string{"licences:corsAllowOrigin", "https://"}},
		{"no region", "dev", map[string]string{"aws:region": ""}, []string{"aws:region", "Pulumi.<stage>.yaml"}},
		{"bad region", "dev", map[string]string{"aws:region": "mars-north"}, []string{"aws:region"}},
		{"unknown stage name", "Prod_1", nil, []string{`"Prod_1"`, "lowercase"}},
		{"unknown engine", "dev", map[string]string{"licences:ledgerEngine": "mysql"}, []string{"licences:ledgerEngine", "aurora-postgresql"}},
		{"capacity upside down", "dev", map[string]string{"licences:auroraMinCapacity": "8", "licences:auroraMaxCapacity": "2"}, []string{"licences:auroraMinCapacity", "0.5 to the maximum"}},
		{"capacity between zero and a half", "dev", map[string]string{"licences:auroraMinCapacity": "0.25"}, []string{"licences:auroraMinCapacity", "0 (pauses when idle)"}},
		{"pause too soon", "dev", map[string]string{"licences:auroraSecondsUntilAutoPause": "60"}, []string{"licences:auroraSecondsUntilAutoPause", "300 to 86400"}},
		{"a digest that keeps a pausing cluster awake", "dev", map[string]string{"licences:ledgerEngine": "aurora-postgresql", "licences:auroraMinCapacity": "0", "licences:auroraSecondsUntilAutoPause": "3600", "licences:digestSchedule": "rate(30 minutes)"}, []string{"licences:digestSchedule", "never pause"}},
		{"unknown threshold", "dev", map[string]string{"licences:alarmThresholds": `{"api5xxPercentage":2}`}, []string{"licences:alarmThresholds", "api5xxPercentage", "api5xxPercent"}},
		{"negative threshold", "dev", map[string]string{"licences:alarmThresholds": `{"api5xxPercent":-1}`}, []string{"licences:alarmThresholds", "0 or more"}},
		{"thresholds not an object", "dev", map[string]string{"licences:alarmThresholds": `[1]`}, []string{"licences:alarmThresholds"}},
		{"alarm email", "dev", map[string]string{"licences:alarmEmails": `["ops at example"]`}, []string{"licences:alarmEmails", "ops at example"}},
		{"backups too long", "dev", map[string]string{"licences:backupRetentionDays": "36"}, []string{"licences:backupRetentionDays", "1 to 35"}},
		{"stage too long", "a-very-long-stage-name", nil, []string{"stack name", "16"}},
		{"caller not a list", "dev", map[string]string{"licences:apiCallers": "arn:aws:iam::123456789012:role/x"}, []string{"licences:apiCallers", "a list of strings"}},
		{"caller a short account", "dev", map[string]string{"licences:apiCallers": `["12345"]`}, []string{"licences:apiCallers", `"12345"`, "12-digit account id"}},
		{"caller a session", "dev", map[string]string{"licences:apiCallers": `["arn:aws:sts::123456789012:assumed-role/clerk/jo"]`}, []string{"licences:apiCallers", "assumed-role/clerk/jo", "name its role"}},
		{"caller a group", "dev", map[string]string{"licences:apiCallers": `["123456789012","arn:aws:iam::123456789012:group/clerks"]`}, []string{"licences:apiCallers", "group/clerks"}},
		{"caller anyone", "dev", map[string]string{"licences:apiCallers": `["*"]`}, []string{"licences:apiCallers", `"*"`}},
		{"eraser a wildcard role", "dev", map[string]string{"licences:apiErasers": `["arn:aws:iam::123456789012:role/*"]`}, []string{"licences:apiErasers", "role/*"}},
		{"too many callers", "dev", map[string]string{"licences:apiCallers": `["` + strings.TrimSuffix(strings.Repeat(`111122223333","`, 21), `","`) + `"]`}, []string{"licences:apiCallers", "at most 20"}},
		{"digest schedule", "dev", map[string]string{"licences:digestSchedule": "every hour"}, []string{"licences:digestSchedule", "rate(1 hour)"}},
		{"digest schedule plural", "dev", map[string]string{"licences:digestSchedule": "rate(1 hours)"}, []string{"licences:digestSchedule"}},
		{"full verification schedule", "dev", map[string]string{"licences:fullVerifySchedule": "weekly"}, []string{"licences:fullVerifySchedule", "rate(7 days)"}},
		{"full verification schedule singular", "dev", map[string]string{"licences:fullVerifySchedule": "rate(7 day)"}, []string{"licences:fullVerifySchedule"}},
		{"full verification more often than the digest", "prod", map[string]string{"licences:digestSchedule": "rate(1 day)", "licences:fullVerifySchedule": "rate(12 hours)"}, []string{"licences:fullVerifySchedule", `"rate(12 hours)"`, "licences:digestSchedule", `"rate(1 day)"`, "more often"}},
		{"full verification more often than the digest, in other units", "prod", map[string]string{"licences:digestSchedule": "rate(2 hours)", "licences:fullVerifySchedule": "rate(90 minutes)"}, []string{"licences:fullVerifySchedule", "licences:digestSchedule", "more often"}},
		{"a full verification that keeps a pausing cluster awake", "dev", map[string]string{"licences:auroraMinCapacity": "0", "licences:auroraSecondsUntilAutoPause": "3600", "licences:digestSchedule": "cron(0 */6 * * ? *)", "licences:fullVerifySchedule": "rate(30 minutes)"}, []string{"licences:fullVerifySchedule", "never pause", "licences:auroraSecondsUntilAutoPause"}},
		{"digest retention", "dev", map[string]string{"licences:digestRetentionDays": "0"}, []string{"licences:digestRetentionDays", "compliance"}},
		{"waf rate too low", "dev", map[string]string{"licences:wafRateLimit": "9"}, []string{"licences:wafRateLimit", "10 to 2000000000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := deploy(t, tc.stage, stackConfig(t, "dev", tc.overrides))
			if err == nil {
				t.Fatal("deploy succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestDefaultsApplyWhenStackSetsNothing(t *testing.T) {
	d := mustDeployAs(t, "test", "", map[string]string{"aws:region": "eu-west-2"})
	c := d.config
	if c.AZCount != 2 || c.VPCCIDR.String() != "10.0.0.0/16" || !c.DeletionProtection || c.KMSKey != "" || c.MemoryMB != 512 {
		t.Errorf("defaults = %+v", c)
	}
	if c.DigestSchedule != "rate(1 hour)" || c.FullVerifySchedule != "rate(7 days)" {
		t.Errorf("schedules default to %q and %q, want hourly digests and a weekly full verification", c.DigestSchedule, c.FullVerifySchedule)
	}
}

// The full verification may run as often as the digest, or less often,
// or on a cron expression (no interval to compare).
func TestTheFullVerificationMayRunAsOftenAsTheDigestOrLess(t *testing.T) {
	for _, tc := range []struct{ digest, full string }{
		{"rate(1 hour)", "rate(60 minutes)"},
		{"rate(6 hours)", "rate(1 day)"},
		{"rate(1 hour)", "cron(0 3 ? * SUN *)"},
		{"cron(0 * * * ? *)", "rate(7 days)"},
	} {
		d := mustDeploy(t, "prod", map[string]string{"licences:digestSchedule": tc.digest, "licences:fullVerifySchedule": tc.full})
		if d.config.FullVerifySchedule != tc.full {
			t.Errorf("fullVerifySchedule %q read as %q", tc.full, d.config.FullVerifySchedule)
		}
	}
}

// AWS's limits on the names the stack sets, by resource type and property.
var nameLimits = map[string]struct {
	property string
	max      int
}{
	"aws:lambda/function:Function":            {"name", 64},
	"aws:iam/role:Role":                       {"name", 64},
	"aws:qldb/ledger:Ledger":                  {"name", 32},
	"aws:cloudwatch/logGroup:LogGroup":        {"name", 512},
	"aws:ec2/securityGroup:SecurityGroup":     {"name", 255},
	"aws:kms/alias:Alias":                     {"name", 256},
	"aws:apigateway/restApi:RestApi":          {"name", 1024},
	"aws:apigateway/stage:Stage":              {"stageName", 128},
	"aws:rds/cluster:Cluster":                 {"clusterIdentifier", 63},
	"aws:rds/clusterInstance:ClusterInstance": {"identifier", 63},
	"aws:rds/subnetGroup:SubnetGroup":         {"name", 255},
	"aws:iam/policy:Policy":                   {"name", 128},
	"aws:wafv2/webAcl:WebAcl":                 {"name", 128},
	"aws:s3/bucketV2:BucketV2":                {"bucketPrefix", 37}, // the provider's suffix of 26 makes 63
	"aws:scheduler/schedule:Schedule":         {"name", 64},
}

func TestNamesFitAWSLimitsAtTheLongestStageAndRegion(t *testing.T) {
	// The longest stage name the config accepts, and the longest region name
	// in the provider's list of regions.
	stage, region := strings.Repeat("s", maxStageLen), "ap-southeast-7"
	seen := map[string]int{}
	for _, base := range shippedStages {
		d, err := deploy(t, stage, stackConfig(t, base, map[string]string{"aws:region": region, "licences:kmsKey": "create", "licences:xrayEndpoint": "true"}))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range d.resources {
			limit, ok := nameLimits[r.Type]
			if !ok {
				continue
			}
			name, _ := r.Inputs[limit.property].(string)
			if name == "" {
				t.Errorf("%s %s has no %s: the stack names everything it can", r.Type, r.Name, limit.property)
			}
			if len(name) > limit.max {
				t.Errorf("%s %s: %s %q is %d characters, over AWS's %d", r.Type, r.Name, limit.property, name, len(name), limit.max)
			}
			seen[r.Type]++
		}
	}
	for typ := range nameLimits {
		if seen[typ] == 0 {
			t.Errorf("no %s checked", typ)
		}
	}
}

// Pulumi.yaml holds every key's default and the program none: a key
// without a value (a program run outside its project) is an error naming
// the key, never a default of the program's own.
//
// Mutant: config.go `r.fail(fmt.Errorf("%s:%s has no value:` -> `_ = (fmt.Errorf("%s:%s has no value:`
func TestAKeyWithoutAValueIsAnError(t *testing.T) {
	cfg := stackConfig(t, "dev", nil)
	delete(cfg, "licences:memoryMb")
	_, err := deploy(t, "dev", cfg)
	if err == nil || !strings.Contains(err.Error(), "licences:memoryMb has no value") {
		t.Errorf("dev without memoryMb: %v, want an error naming the key", err)
	}
}

// Every engine the handler knows has its part in the stack, and a name
// that is not an engine is refused, naming the engines there are.
func TestEveryEngineHasItsPartAndNoOtherIsTaken(t *testing.T) {
	for _, e := range env.Engines() {
		if _, err := engineOf(e); err != nil {
			t.Errorf("engine %s: %v", e, err)
		}
	}
	if _, err := engineOf("mysql"); err == nil || !strings.Contains(err.Error(), "aurora-postgresql") {
		t.Errorf("an unknown engine: %v, want a refusal naming the engines", err)
	}
}

// The default engine means one thing: Pulumi.yaml's ledgerEngine default
// is the handler's.
func TestTheDefaultEngineIsOne(t *testing.T) {
	project, err := workspace.LoadProject(filepath.Join("..", "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := configText(project.Config["ledgerEngine"].Default); got != string(env.DefaultEngine) {
		t.Errorf("Pulumi.yaml's ledgerEngine defaults to %s, the handler's to %s", got, env.DefaultEngine)
	}
}
