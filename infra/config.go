package infra

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/privateledger/licences/function/env"
	"github.com/privateledger/licences/infra/preflight"
)

// Config is everything a stage may set, read from the stack's configuration
// and checked once. Components never read configuration themselves; they
// take the plain values held here.
type Config struct {
	Project string // the Pulumi project, used in names and tags
	Stage   string // the stack name: one stack per stage
	Region  string // aws:region
	// Profile (aws:profile) and AssumeRole (aws:assumeRole) are how the
	// stage reaches its account: the stack's AWS provider and the
	// preflight both use them, so both see the same account.
	Profile    string
	AssumeRole *preflight.AssumeRole
	// Now is when this run of the program started: it stamps the names
	// that must differ each time their resource is created.
	Now time.Time

	AZCount int          // availability zones, one isolated subnet each
	VPCCIDR netip.Prefix // the VPC's IPv4 range

	MemoryMB         int // memory of the API function
	TimeoutSeconds   int // timeout of the API function
	LogRetentionDays int // retention of every log group

	DeletionProtection bool   // whether the ledger or database refuses deletion
	KMSKey             string // "" (an AWS key), KMSKeyCreate, or a key ARN

	ThrottleRateLimit  float64 // API requests per second, steady state
	ThrottleBurstLimit int     // API requests in a burst

	LedgerEngine env.Engine // what keeps the licences
	// engine is LedgerEngine's part in the stack (engineOf), once the
	// configuration has been checked.
	engine              ledgerEngine
	AuroraMinCapacity   float64 // Aurora Serverless v2 capacity units, least
	AuroraMaxCapacity   float64 // and most
	BackupRetentionDays int     // Aurora's automated backups
	// AuroraEngineVersion is the version a new Aurora cluster is created
	// with: auroraEngineVersion, pinned, until the program's preflight
	// chooses one the region offers (see run).
	AuroraEngineVersion string

	XRayEndpoint    bool   // add an X-Ray interface endpoint
	CORSAllowOrigin string // Access-Control-Allow-Origin the API sends

	// APICallers may call the licence routes, APIErasers the erasure
	// route; empty, the principals of the deploying account whose own IAM
	// policies allow it.
	APICallers, APIErasers Callers
	WAF                    bool // a WAF web ACL in front of the stage
	WAFRateLimit           int  // requests per source IP per 5 minutes

	// DigestSchedule is when the digest function runs (Aurora), an
	// EventBridge Scheduler expression, verifying what changed since the
	// last digest; FullVerifySchedule when it runs verifying the whole
	// ledger, no more often; DigestRetentionDays how long each digest is
	// locked in compliance mode.
	DigestSchedule      string
	FullVerifySchedule  string
	DigestRetentionDays int

	// APIReservedConcurrency reserves that many executions for the API
	// function (0: none); where it reserves, the other functions reserve
	// one each.
	APIReservedConcurrency int
	AuroraReaders          int  // reader instances besides the writer
	FlowLogs               bool // VPC flow logs to CloudWatch Logs

	// AuroraSecondsUntilAutoPause is how long Aurora waits without a
	// connection before it pauses, where the minimum capacity is 0.
	AuroraSecondsUntilAutoPause int
	// AlarmEmails are subscribed to the stage's alarm topic.
	AlarmEmails []string
	// AlarmThresholds are every alarm threshold, the configured ones over
	// the stage's defaults (alarmThresholds).
	AlarmThresholds map[string]float64
}

// Callers are the principals a route admits: IAM principal ARNs (roles,
// users, an account's root) and whole accounts by id.
type Callers struct {
	ARNs     []string
	Accounts []string
}

// Empty reports whether no caller is named.
func (c Callers) Empty() bool { return len(c.ARNs) == 0 && len(c.Accounts) == 0 }

// maxCallers bounds a caller list: the API's resource policy holds them
// all, twice, within API Gateway's 8,192 characters.
const maxCallers = 20

var (
	// schedulePattern is an EventBridge Scheduler rate or cron expression:
	// a rate of one takes the singular unit, more the plural.
	schedulePattern  = regexp.MustCompile(`^(rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)|cron\(\S+( \S+){5}\))$`)
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
	// principalPattern is an IAM user, role or account root: what
	// aws:PrincipalArn holds for a caller (for a role session, its role).
	principalPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:(root|(user|role)/([\w+=,.@-]+/)*[\w+=,.@-]{1,64})$`)
)

// parseCallers checks a caller list, naming the first bad entry.
func parseCallers(key string, entries []string) (Callers, error) {
	var c Callers
	if len(entries) > maxCallers {
		return c, fmt.Errorf("%s: %d callers: at most %d (the API's resource policy holds them all)", key, len(entries), maxCallers)
	}
	for _, e := range entries {
		switch {
		case accountIDPattern.MatchString(e):
			if !slices.Contains(c.Accounts, e) {
				c.Accounts = append(c.Accounts, e)
			}
		case principalPattern.MatchString(e) && len(e) <= 2048:
			if !slices.Contains(c.ARNs, e) {
				c.ARNs = append(c.ARNs, e)
			}
		case strings.Contains(e, ":sts::"):
			return Callers{}, fmt.Errorf("%s: %q is a role session: name its role, arn:aws:iam::ACCOUNT:role/NAME (API Gateway matches a session by its role)", key, e)
		default:
			return Callers{}, fmt.Errorf("%s: %q is neither a 12-digit account id nor an IAM role, user or root ARN such as arn:aws:iam::123456789012:role/licence-clerk", key, e)
		}
	}
	return c, nil
}

// KMSKeyCreate as the kmsKey setting makes the stack create the ledger's
// customer-managed key, with rotation on.
const KMSKeyCreate = "create"

// Limits on settings, kept beside the reader so errors can name them.
const (
	minAZs, maxAZs       = 2, 6
	minPrefix, maxPrefix = 16, 24
	minMemory, maxMemory = 128, 10240
	// API Gateway waits 29 s at most; the handler keeps 1.5 s of the
	// function's time to wait for a commit it has sent and to answer
	// (licence.CommitWait), so under 3 s leaves too little for the ledger.
	minTimeout, maxTimeout = 3, 29
	maxStageLen            = 16 // keeps every derived name within AWS limits
	// A rate-based rule counts 10 to 2,000,000,000 requests
	// (https://docs.aws.amazon.com/waf/latest/APIReference/API_RateBasedStatement.html).
	minWAFRate, maxWAFRate = 10, 2000000000
)

// logRetentionDays are the values CloudWatch Logs accepts.
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	stagePattern  = regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$`)
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	kmsARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
)

// LoadConfig reads and validates the stack's configuration. Every error names
// the key and says what is allowed.
func LoadConfig(ctx *pulumi.Context) (Config, error) {
	r := reader{cfg: config.New(ctx, ""), project: ctx.Project()}
	aws := config.New(ctx, "aws")
	c := Config{
		Project:                     ctx.Project(),
		Now:                         time.Now(),
		Stage:                       ctx.Stack(),
		Region:                      aws.Get("region"),
		Profile:                     aws.Get("profile"),
		AuroraEngineVersion:         auroraEngineVersion,
		AZCount:                     r.int("azCount"),
		MemoryMB:                    r.int("memoryMb"),
		TimeoutSeconds:              r.int("timeoutSeconds"),
		LogRetentionDays:            r.int("logRetentionDays"),
		DeletionProtection:          r.bool("deletionProtection"),
		KMSKey:                      r.cfg.Get("kmsKey"),
		ThrottleRateLimit:           r.float("throttleRateLimit"),
		ThrottleBurstLimit:          r.int("throttleBurstLimit"),
		XRayEndpoint:                r.bool("xrayEndpoint"),
		CORSAllowOrigin:             r.string("corsAllowOrigin"),
		LedgerEngine:                env.Engine(r.string("ledgerEngine")),
		AuroraMinCapacity:           r.float("auroraMinCapacity"),
		AuroraMaxCapacity:           r.float("auroraMaxCapacity"),
		BackupRetentionDays:         r.int("backupRetentionDays"),
		WAF:                         r.bool("waf"),
		WAFRateLimit:                r.int("wafRateLimit"),
		DigestSchedule:              r.string("digestSchedule"),
		FullVerifySchedule:          r.string("fullVerifySchedule"),
		DigestRetentionDays:         r.int("digestRetentionDays"),
		APIReservedConcurrency:      r.int("apiReservedConcurrency"),
		AuroraReaders:               r.int("auroraReaders"),
		FlowLogs:                    r.bool("flowLogs"),
		AuroraSecondsUntilAutoPause: r.int("auroraSecondsUntilAutoPause"),
		AlarmEmails:                 r.list("alarmEmails"),
	}
	thresholds := map[string]float64{}
	if v, ok := r.required("alarmThresholds"); ok {
		if err := json.Unmarshal([]byte(v), &thresholds); err != nil {
			r.fail(r.bad("alarmThresholds", v, "an object of threshold names and numbers"))
		}
	}
	callers, erasers := r.list("apiCallers"), r.list("apiErasers")
	cidr := r.string("vpcCidr")
	if r.err != nil {
		return Config{}, r.err
	}
	var err error
	if c.AssumeRole, err = awsAccess(aws); err != nil {
		return Config{}, err
	}
	if c.VPCCIDR, err = netip.ParsePrefix(cidr); err != nil || !c.VPCCIDR.Addr().Is4() {
		return Config{}, r.bad("vpcCidr", cidr, "an IPv4 CIDR block such as 10.0.0.0/16")
	}
	if c.APICallers, err = parseCallers(c.Project+":apiCallers", callers); err != nil {
		return Config{}, err
	}
	if c.APIErasers, err = parseCallers(c.Project+":apiErasers", erasers); err != nil {
		return Config{}, err
	}
	if c.AlarmThresholds, err = parseThresholds(c.Project+":alarmThresholds", thresholds, alarmThresholds(c)); err != nil {
		return Config{}, err
	}
	for _, e := range c.AlarmEmails {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			return Config{}, fmt.Errorf("%s:alarmEmails: %q is not a plain email address", c.Project, e)
		}
	}
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	c.engine = ledgerEngines[c.LedgerEngine]
	return c, nil
}

// validate checks the ranges and forms of values already parsed, rule by
// rule, and reports the first that does not hold.
func (c Config) validate() error {
	key := func(k string) string { return c.Project + ":" + k }
	for _, r := range configRules {
		if r.broken(c) {
			return r.explain(c, key)
		}
	}
	eng, err := engineOf(c.LedgerEngine)
	if err != nil {
		return fmt.Errorf("%s: %w", key("ledgerEngine"), err)
	}
	for _, r := range eng.rules() {
		if r.broken(c) {
			return r.explain(c, key)
		}
	}
	return nil
}

// configRule is one check on the parsed configuration: when broken, the
// error that names the key (or keys that constrain each other) and says
// what is allowed.
type configRule struct {
	broken  func(c Config) bool
	explain func(c Config, key func(string) string) error
}

// configRules are the checks, in the order the program reports them.
var configRules = []configRule{
	{func(c Config) bool { return len(c.Stage) > maxStageLen || !stagePattern.MatchString(c.Stage) },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("stack name %q: want 2 to %d lowercase letters, digits or hyphens, starting with a letter (it names the stage and every resource)", c.Stage, maxStageLen)
		}},
	{func(c Config) bool { return c.Region == "" },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("aws:region is not set: set it in the stage's stack file, Pulumi.<stage>.yaml")
		}},
	{func(c Config) bool { return !regionPattern.MatchString(c.Region) },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("aws:region: %q is not an AWS region name such as eu-west-2", c.Region)
		}},
	{func(c Config) bool { return c.AZCount < minAZs || c.AZCount > maxAZs },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %d is out of range: want %d to %d availability zones (two at least, so the function survives the loss of one)", key("azCount"), c.AZCount, minAZs, maxAZs)
		}},
	{func(c Config) bool { return c.VPCCIDR != c.VPCCIDR.Masked() },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %s has host bits set: did you mean %s?", key("vpcCidr"), c.VPCCIDR, c.VPCCIDR.Masked())
		}},
	{func(c Config) bool { return c.VPCCIDR.Bits() < minPrefix || c.VPCCIDR.Bits() > maxPrefix },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: /%d is out of range: want a prefix from /%d to /%d", key("vpcCidr"), c.VPCCIDR.Bits(), minPrefix, maxPrefix)
		}},
	{func(c Config) bool { return c.MemoryMB < minMemory || c.MemoryMB > maxMemory },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %d is out of range: want %d to %d MB", key("memoryMb"), c.MemoryMB, minMemory, maxMemory)
		}},
	{func(c Config) bool { return c.TimeoutSeconds < minTimeout || c.TimeoutSeconds > maxTimeout },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %d is out of range: want %d to %d seconds (the handler keeps 1.5 s to finish a commit and answer; API Gateway gives up after 29)", key("timeoutSeconds"), c.TimeoutSeconds, minTimeout, maxTimeout)
		}},
	{func(c Config) bool { return !slices.Contains(logRetentionDays, c.LogRetentionDays) },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %d is not a retention CloudWatch Logs offers: want one of %v", key("logRetentionDays"), c.LogRetentionDays, logRetentionDays)
		}},
	{func(c Config) bool {
		return c.KMSKey != "" && c.KMSKey != KMSKeyCreate && !kmsARNPattern.MatchString(c.KMSKey)
	},
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %q: want %q (the stack creates a key), a KMS key ARN, or nothing (an AWS-owned key)", key("kmsKey"), c.KMSKey, KMSKeyCreate)
		}},
	{func(c Config) bool { return c.ThrottleRateLimit <= 0 || c.ThrottleRateLimit > 10000 },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %g is out of range: want more than 0 and at most 10000 requests per second", key("throttleRateLimit"), c.ThrottleRateLimit)
		}},
	{func(c Config) bool { return c.ThrottleBurstLimit < 1 || c.ThrottleBurstLimit > 5000 },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %d is out of range: want 1 to 5000 requests", key("throttleBurstLimit"), c.ThrottleBurstLimit)
		}},
	{func(c Config) bool { return c.WAFRateLimit < minWAFRate || c.WAFRateLimit > maxWAFRate },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %d is out of range: want %d to %d requests per source IP in 5 minutes (WAF's limits for a rate-based rule)", key("wafRateLimit"), c.WAFRateLimit, minWAFRate, maxWAFRate)
		}},
	{func(c Config) bool { return c.APIReservedConcurrency < 0 || c.APIReservedConcurrency > maxReserved },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %d is out of range: want 0 (none) to %d executions", key("apiReservedConcurrency"), c.APIReservedConcurrency, maxReserved)
		}},
	{func(c Config) bool {
		return c.CORSAllowOrigin != "*" && !strings.HasPrefix(c.CORSAllowOrigin, "https://") && !strings.HasPrefix(c.CORSAllowOrigin, "http://")
	},
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %q: want * or an origin such as https://example.com", key("corsAllowOrigin"), c.CORSAllowOrigin)
		}},
}

// auroraRules are the checks on the Aurora engine's settings
// (auroraEngine.rules).
var auroraRules = []configRule{
	{func(c Config) bool {
		return (c.AuroraMinCapacity != 0 && c.AuroraMinCapacity < 0.5) || c.AuroraMaxCapacity < 1 || c.AuroraMaxCapacity > 256 || c.AuroraMinCapacity > c.AuroraMaxCapacity
	},
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s and %s: %g and %g: want a minimum of 0 (pauses when idle) or 0.5 to the maximum, and a maximum of 1 to 256 capacity units", key("auroraMinCapacity"), key("auroraMaxCapacity"), c.AuroraMinCapacity, c.AuroraMaxCapacity)
		}},
	{func(c Config) bool {
		return c.AuroraSecondsUntilAutoPause < 300 || c.AuroraSecondsUntilAutoPause > 86400
	},
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %d is out of range: want 300 to 86400 seconds (Aurora's limits)", key("auroraSecondsUntilAutoPause"), c.AuroraSecondsUntilAutoPause)
		}},
	{func(c Config) bool {
		return c.pauses() && c.scheduleSeconds() > 0 && c.scheduleSeconds() <= c.AuroraSecondsUntilAutoPause
	},
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %q runs the digest every %d s, within %s (%d s): the cluster would never pause; run it less often", key("digestSchedule"), c.DigestSchedule, c.scheduleSeconds(), key("auroraSecondsUntilAutoPause"), c.AuroraSecondsUntilAutoPause)
		}},
	{func(c Config) bool { return c.BackupRetentionDays < 1 || c.BackupRetentionDays > 35 },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %d is out of range: want 1 to 35 days", key("backupRetentionDays"), c.BackupRetentionDays)
		}},
	{func(c Config) bool {
		return !schedulePattern.MatchString(c.DigestSchedule) || c.DigestSchedule == "rate(0 minutes)"
	},
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %q: want an EventBridge Scheduler expression such as rate(1 hour), rate(6 hours) or cron(0 * * * ? *)", key("digestSchedule"), c.DigestSchedule)
		}},
	{func(c Config) bool { return !schedulePattern.MatchString(c.FullVerifySchedule) },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %q: want an EventBridge Scheduler expression such as rate(7 days), rate(1 day) or cron(0 3 ? * SUN *)", key("fullVerifySchedule"), c.FullVerifySchedule)
		}},
	// The full verification reads the whole ledger, the digest's run only
	// what changed since the last digest, and both catch the same
	// tampering: the full one is the slower, costlier check, never the more
	// frequent. Two rates compare; a cron expression has no interval to
	// compare (as in the auto-pause rule above), and is taken as written.
	{func(c Config) bool {
		full, digest := rateSeconds(c.FullVerifySchedule), rateSeconds(c.DigestSchedule)
		return full > 0 && digest > 0 && full < digest
	},
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %q runs the full verification every %d s, more often than %s (%q, every %d s): the full run reads the whole ledger, the digest's only what changed; run it as often as the digest or less often",
				key("fullVerifySchedule"), c.FullVerifySchedule, rateSeconds(c.FullVerifySchedule), key("digestSchedule"), c.DigestSchedule, rateSeconds(c.DigestSchedule))
		}},
	// The auto-pause rule, for the full verification. Where both schedules
	// are rates it adds nothing: the rule above holds the full run to the
	// digest's interval or longer, which the digest's own auto-pause rule
	// already holds past the pause. It matters where the digest is a cron
	// expression, which neither rule can measure, and the full run a rate.
	{func(c Config) bool {
		return c.pauses() && rateSeconds(c.FullVerifySchedule) > 0 && rateSeconds(c.FullVerifySchedule) <= c.AuroraSecondsUntilAutoPause
	},
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %q runs the full verification every %d s, within %s (%d s): the cluster would never pause; run it less often", key("fullVerifySchedule"), c.FullVerifySchedule, rateSeconds(c.FullVerifySchedule), key("auroraSecondsUntilAutoPause"), c.AuroraSecondsUntilAutoPause)
		}},
	{func(c Config) bool { return c.DigestRetentionDays < 1 || c.DigestRetentionDays > 36500 },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %d is out of range: want 1 to 36500 days (each digest is locked that long, in compliance mode: no one can shorten it)", key("digestRetentionDays"), c.DigestRetentionDays)
		}},
	{func(c Config) bool { return c.AuroraReaders < 0 || c.AuroraReaders > 15 },
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %d is out of range: want 0 to 15 reader instances (Aurora's limit)", key("auroraReaders"), c.AuroraReaders)
		}},
	{func(c Config) bool {
		return c.APIReservedConcurrency > 0 && c.connectionBudget() > c.maxConnections()
	},
		func(c Config, key func(string) string) error {
			return fmt.Errorf("%s: %d API executions, one connection each, with %d for the other functions and %d for operators, need %d connections, but at %g ACUs (%s) the cluster accepts %d: reserve at most %d, or raise the maximum capacity",
				key("apiReservedConcurrency"), c.APIReservedConcurrency, otherFunctionConnections, operatorConnections, c.connectionBudget(),
				c.AuroraMaxCapacity, key("auroraMaxCapacity"), c.maxConnections(), c.maxConnections()-otherFunctionConnections-operatorConnections)
		}},
}

// unhonouredAWSKeys are AWS provider settings that would make the stage
// reach AWS otherwise than the program does: its provider is an explicit
// one, which reads no stack setting but those the program hands it
// (aws:region, aws:profile and aws:assumeRole), and its preflight uses
// the same. Set, they would be ignored in silence; they are refused.
var unhonouredAWSKeys = []string{"assumeRoles", "assumeRoleWithWebIdentity", "accessKey", "secretKey", "token",
	"sharedCredentialsFiles", "sharedConfigFiles", "endpoints", "allowedAccountIds", "forbiddenAccountIds"}

// assumeRoleKeys are the parts of aws:assumeRole the program honours.
var assumeRoleKeys = []string{"roleArn", "sessionName", "externalId", "duration"}

// awsAccess checks the stack's AWS access settings and reads aws:assumeRole,
// the AWS provider's object (pulumi-aws v6: one role).
func awsAccess(aws *config.Config) (*preflight.AssumeRole, error) {
	for _, k := range unhonouredAWSKeys {
		if aws.Get(k) != "" {
			return nil, fmt.Errorf("aws:%s is set, but this program uses only aws:region, aws:profile and aws:assumeRole (with %v) to reach AWS: "+
				"remove it, and give credentials through the environment (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", k, assumeRoleKeys)
		}
	}
	v := aws.Get("assumeRole")
	if v == "" {
		return nil, nil
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(v), &raw); err != nil {
		return nil, fmt.Errorf("aws:assumeRole: %q is not an object such as {roleArn: arn:aws:iam::123456789012:role/deployer}", v)
	}
	for k := range raw {
		if !slices.Contains(assumeRoleKeys, k) {
			return nil, fmt.Errorf("aws:assumeRole: %s is not supported by this program: want only %v", k, assumeRoleKeys)
		}
	}
	text := func(k string) string { s, _ := raw[k].(string); return s }
	r := &preflight.AssumeRole{RoleARN: text("roleArn"), SessionName: text("sessionName"), ExternalID: text("externalId")}
	if !roleARNPattern.MatchString(r.RoleARN) {
		return nil, fmt.Errorf("aws:assumeRole: roleArn %q is not an IAM role ARN such as arn:aws:iam::123456789012:role/deployer", r.RoleARN)
	}
	if d := text("duration"); d != "" {
		var err error
		if r.Duration, err = time.ParseDuration(d); err != nil || r.Duration < 15*time.Minute || r.Duration > 12*time.Hour {
			return nil, fmt.Errorf("aws:assumeRole: duration %q: want 15m to 12h", d)
		}
	}
	return r, nil
}

var roleARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)

// reader reads typed values from the project's namespace, keeping the first
// error so LoadConfig can read every key and then check once.
type reader struct {
	cfg     *config.Config
	project string
	err     error
}

func (r *reader) raw(key string) (string, bool) {
	v := r.cfg.Get(key)
	return v, v != ""
}

// required is a key's value. Pulumi.yaml declares every key's default and
// the CLI applies it, so the program holds no second copy: a key with no
// value means the program runs outside its project.
func (r *reader) required(key string) (string, bool) {
	v, ok := r.raw(key)
	if !ok {
		r.fail(fmt.Errorf("%s:%s has no value: Pulumi.yaml declares its default, which the Pulumi CLI applies; run the program as this project's (pulumi up, cmd/deploy)", r.project, key))
	}
	return v, ok
}

func (r *reader) string(key string) string {
	v, _ := r.required(key)
	return v
}

func (r *reader) int(key string) int {
	v, ok := r.required(key)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.fail(r.bad(key, v, "a whole number"))
	}
	return n
}

func (r *reader) float(key string) float64 {
	v, ok := r.required(key)
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		r.fail(r.bad(key, v, "a number"))
	}
	return f
}

func (r *reader) bool(key string) bool {
	v, ok := r.required(key)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(r.bad(key, v, "true or false"))
	}
	return b
}

// list reads a list of strings, as a stack file writes it (a YAML list,
// which the CLI hands over as JSON).
func (r *reader) list(key string) []string {
	v, ok := r.required(key)
	if !ok {
		return nil
	}
	var out []string
	if err := json.Unmarshal([]byte(v), &out); err != nil {
		r.fail(r.bad(key, v, "a list of strings"))
	}
	return out
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) bad(key, value, want string) error {
	return fmt.Errorf("%s:%s: %q is not valid: want %s", r.project, key, value, want)
}

// The connection budget of an Aurora stage: each API execution holds one
// connection (a Lambda instance serves one request at a time, and its pool
// keeps one); the migration, erase and digest functions reserve one
// execution and one connection each; operators keep a margin.
const (
	maxReserved               = 1000
	otherFunctionConnections  = 3
	operatorConnections       = 10
	connectionsPerACU         = 189  // the 1-ACU row of AWS's max_connections table, a lower bound for every row
	connectionsCap            = 5000 // Aurora PostgreSQL's ceiling
	connectionsCapLowMinimum  = 2000 // the ceiling when the minimum capacity is 0 or 0.5 ACU
	connectionsTableReference = "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.setting-capacity.html#aurora-serverless-v2.max-connections"
)

// connectionBudget is what the stage's reservations need.
func (c Config) connectionBudget() int {
	return c.APIReservedConcurrency + otherFunctionConnections + operatorConnections
}

// maxConnections is a lower bound on the connections the writer accepts at
// the maximum capacity: Aurora Serverless v2 derives max_connections from
// the maximum ACUs' memory (connectionsTableReference: 189 at 1 ACU, 823 at
// 4, 1,669 at 8, 3,360 at 16, 5,000 from 32; at most 2,000 when the minimum
// is 0 or 0.5 ACU). 189 per ACU stays under every row.
func (c Config) maxConnections() int {
	n := int(c.AuroraMaxCapacity * connectionsPerACU)
	ceiling := connectionsCap
	if c.AuroraMinCapacity <= 0.5 {
		ceiling = connectionsCapLowMinimum
	}
	return min(n, ceiling)
}

// pauses reports whether the stage's Aurora cluster pauses when idle.
func (c Config) pauses() bool {
	return c.AuroraMinCapacity == 0
}

// scheduleSeconds is the digest schedule's interval for a rate(...)
// expression; 0 for a cron expression.
func (c Config) scheduleSeconds() int { return rateSeconds(c.DigestSchedule) }

// rateSeconds is a schedule expression's interval for a rate(...)
// expression; 0 for a cron expression.
func rateSeconds(expression string) int {
	var n int
	var unit string
	if _, err := fmt.Sscanf(expression, "rate(%d %s", &n, &unit); err != nil {
		return 0
	}
	switch strings.TrimSuffix(strings.TrimSuffix(unit, ")"), "s") {
	case "minute":
		return n * 60
	case "hour":
		return n * 3600
	case "day":
		return n * 86400
	}
	return 0
}
