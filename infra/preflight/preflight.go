// Package preflight asks AWS, before a stage creates anything, whether the
// account and region can hold it, so a deploy that AWS would refuse
// part-way (after the VPC, keys, roles and database exist) is refused
// before it starts, with what to do about it:
//
//   - Lambda's concurrency: the stage's reservations must leave the 100
//     unreserved executions Lambda keeps, which a new account's quota
//     (as low as 10) does not;
//   - Aurora's engine version: a new cluster is created with a version
//     the region offers as Aurora Serverless v2, the long-term-support
//     minor of its major where there is one, since AWS stops creating
//     clusters on other minors about a year after their release.
//
// It calls Lambda's GetAccountSettings and GetFunctionConcurrency and
// RDS's DescribeDBEngineVersions, and needs the IAM actions of the same
// names; it changes nothing.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Access is how the preflight reaches AWS: the same account and region the
// stage deploys to.
type Access struct {
	Region  string // aws:region
	Profile string // aws:profile; "" for the default chain
	// AssumeRole, when set, is the role the stage deploys as (aws:assumeRole).
	AssumeRole *AssumeRole
	// Endpoint, when set, receives every call instead of AWS's endpoints,
	// and Credentials, when set, sign them: a stand-in AWS, in tests.
	// Without them the SDK's own configuration applies, including its
	// AWS_ENDPOINT_URL_LAMBDA and AWS_ENDPOINT_URL_RDS overrides.
	Endpoint    string
	Credentials aws.CredentialsProvider
	// PollDelay, when set, is how often Activate asks whether a function
	// is active, instead of the SDK waiter's schedule (tests).
	PollDelay time.Duration
}

// AssumeRole is the part of the AWS provider's assumeRole setting that the
// preflight honours; the stage's configuration refuses the rest.
type AssumeRole struct {
	RoleARN     string
	SessionName string
	ExternalID  string
	Duration    time.Duration // 0: STS's default
}

// Stage is what a stage will ask of the account.
type Stage struct {
	// Reservations are the executions each of the stage's functions will
	// reserve, by function name; 0 reserves none.
	Reservations map[string]int
	// Aurora, when set, is the Aurora cluster the stage creates.
	Aurora *Aurora
}

// Aurora is what a stage's Aurora PostgreSQL cluster needs of its engine
// version.
type Aurora struct {
	// Family is the parameter group family of the stage's major version,
	// such as aurora-postgresql16: the stage's parameter group fixes it.
	Family string
	// MinCapacity and MaxCapacity are the stage's Serverless v2 range in
	// ACUs, which the version must support (0 only from the versions
	// that pause).
	MinCapacity, MaxCapacity float64
}

// Result is what the preflight chose.
type Result struct {
	// EngineVersion is the Aurora engine version to create the cluster
	// with; "" for a stage without Aurora.
	EngineVersion string
}

// Checker asks one account and region.
type Checker struct {
	region    string
	lambda    *lambda.Client
	rds       *rds.Client
	pollDelay time.Duration // Access.PollDelay
}

// New makes a Checker for a's account and region; it calls nothing yet.
func New(ctx context.Context, a Access) (*Checker, error) {
	if a.Region == "" {
		return nil, errors.New("preflight: no region")
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(a.Region)}
	if a.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(a.Profile))
	}
	if a.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(a.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("preflight: load AWS configuration (profile %q): %w", a.Profile, err)
	}
	if r := a.AssumeRole; r != nil {
		stsClient := sts.NewFromConfig(cfg, func(o *sts.Options) {
			if a.Endpoint != "" {
				o.BaseEndpoint = aws.String(a.Endpoint)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, r.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			if r.SessionName != "" {
				o.RoleSessionName = r.SessionName
			}
			if r.ExternalID != "" {
				o.ExternalID = aws.String(r.ExternalID)
			}
			if r.Duration > 0 {
				o.Duration = r.Duration
			}
		}))
	}
	// Only an Endpoint replaces the endpoint the SDK resolved (which
	// honours AWS_ENDPOINT_URL_LAMBDA and AWS_ENDPOINT_URL_RDS).
	c := &Checker{region: a.Region, lambda: lambda.NewFromConfig(cfg), rds: rds.NewFromConfig(cfg), pollDelay: a.PollDelay}
	if a.Endpoint != "" {
		c.lambda = lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(a.Endpoint) })
		c.rds = rds.NewFromConfig(cfg, func(o *rds.Options) { o.BaseEndpoint = aws.String(a.Endpoint) })
	}
	return c, nil
}

// Check runs every check for s and returns what it chose.
func (c *Checker) Check(ctx context.Context, s Stage) (Result, error) {
	if err := c.Concurrency(ctx, s.Reservations); err != nil {
		return Result{}, err
	}
	if s.Aurora == nil {
		return Result{}, nil
	}
	v, err := c.EngineVersion(ctx, *s.Aurora)
	if err != nil {
		return Result{}, err
	}
	return Result{EngineVersion: v}, nil
}

// Lambda keeps 100 executions unreserved in every account and region: the
// Lambda developer guide, "Configuring reserved concurrency for a function"
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html):
// "You can reserve up to the Unreserved account concurrency value that is
// shown, minus 100 for functions that don't have reserved concurrency."
// PutFunctionConcurrency refuses a reservation that would leave fewer
// ("Specified ReservedConcurrentExecutions for function decreases
// account's UnreservedConcurrentExecution below its minimum value of
// [100]").
const minUnreserved = 100

// ConcurrencyQuota is the Service Quotas code of Lambda's "Concurrent
// executions" quota, the account's concurrency in a region
// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
const ConcurrencyQuota = "L-B99A9384"

// ConcurrencyError is a stage whose reservations the account's Lambda
// concurrency cannot hold.
type ConcurrencyError struct {
	Region string
	// Limit and Unreserved are the account's concurrency and what the
	// existing reservations leave of it; Adding is what the stage's
	// reservations add to those its functions hold already.
	Limit, Unreserved, Adding int
}

// Needed is the concurrency quota that would hold the stage: the
// reservations there are, the stage's new ones, and the 100 Lambda keeps.
func (e *ConcurrencyError) Needed() int {
	return e.Limit - e.Unreserved + e.Adding + minUnreserved
}

func (e *ConcurrencyError) Error() string {
	return fmt.Sprintf("preflight: the stage reserves %d more Lambda executions, but the account's quota \"Lambda concurrent executions\" "+
		"(Service Quotas code %s) in %s is %d, with %d unreserved, and Lambda keeps %d unreserved: the account concurrency limit needed is %d. "+
		"Raise the quota in the Service Quotas console (AWS Lambda, Concurrent executions) or with "+
		"`aws service-quotas request-service-quota-increase --service-code lambda --quota-code %s --desired-value %d --region %s`, "+
		"then deploy again once AWS has granted it",
		e.Adding, ConcurrencyQuota, e.Region, e.Limit, e.Unreserved, minUnreserved, e.Needed(), ConcurrencyQuota, e.Needed(), e.Region)
}

// Concurrency checks that the account can hold reservations (executions by
// function name): what they add to the reservations the functions hold
// already must leave Lambda's 100 unreserved. A function that does not
// exist yet holds none; one that holds as many as it will, or more,
// adds nothing, so deploying a healthy stage again is never refused. A
// stage that reserves nothing asks nothing.
func (c *Checker) Concurrency(ctx context.Context, reservations map[string]int) error {
	names := make([]string, 0, len(reservations))
	for name, n := range reservations {
		if n > 0 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	settings, err := c.lambda.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil {
		return c.apiError("lambda", "GetAccountSettings", err)
	}
	limit := settings.AccountLimit
	if limit == nil || limit.UnreservedConcurrentExecutions == nil {
		return fmt.Errorf("preflight: Lambda's GetAccountSettings in %s answered no AccountLimit.UnreservedConcurrentExecutions", c.region)
	}
	adding := 0
	for _, name := range names {
		held, err := c.held(ctx, name)
		if err != nil {
			return err
		}
		adding += max(0, reservations[name]-held)
	}
	unreserved := int(*limit.UnreservedConcurrentExecutions)
	if adding > 0 && unreserved-adding < minUnreserved {
		return &ConcurrencyError{Region: c.region, Limit: int(limit.ConcurrentExecutions), Unreserved: unreserved, Adding: adding}
	}
	return nil
}

// held is the executions a function reserves now: none where it has no
// reservation or does not exist.
func (c *Checker) held(ctx context.Context, name string) (int, error) {
	out, err := c.lambda.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(name)})
	if _, missing := errors.AsType[*lambdatypes.ResourceNotFoundException](err); missing {
		return 0, nil
	}
	if err != nil {
		return 0, c.apiError("lambda", "GetFunctionConcurrency", fmt.Errorf("function %s: %w", name, err))
	}
	if out.ReservedConcurrentExecutions == nil {
		return 0, nil
	}
	return int(*out.ReservedConcurrentExecutions), nil
}

// LTS are Aurora PostgreSQL's long-term-support minor versions, by
// parameter group family (one per major). DescribeDBEngineVersions does
// not say which versions are LTS, so they are kept here as AWS documents
// them: "Using an Aurora PostgreSQL long-term support (LTS) release",
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Updates.LTS.html,
// and the LTS column of the release calendar,
// https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/aurorapostgresql-release-calendar.html.
// An LTS minor stays available for at least three years, against about
// one for the others; when AWS names a new one, add it here.
var LTS = map[string]string{
	"aurora-postgresql11": "11.9",
	"aurora-postgresql12": "12.9",
	"aurora-postgresql13": "13.9",
	"aurora-postgresql14": "14.6",
	"aurora-postgresql15": "15.10",
	"aurora-postgresql16": "16.8",
	"aurora-postgresql17": "17.7",
}

// auroraEngine is the engine DescribeDBEngineVersions is asked about.
const auroraEngine = "aurora-postgresql"

// EngineVersion chooses the engine version to create a's cluster with,
// among the versions of a's family the region offers as Aurora
// Serverless v2 (ServerlessV2FeaturesSupport present, its range covering
// a's): the family's LTS minor where the region has it, else the newest,
// which stays available longest. Once the cluster exists the stack leaves
// its version to AWS's upgrades (see infra's NewDatabase).
func (c *Checker) EngineVersion(ctx context.Context, a Aurora) (string, error) {
	var offered, fits []string
	p := rds.NewDescribeDBEngineVersionsPaginator(c.rds, &rds.DescribeDBEngineVersionsInput{
		Engine: aws.String(auroraEngine), DBParameterGroupFamily: aws.String(a.Family),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", c.apiError("rds", "DescribeDBEngineVersions", err)
		}
		for _, v := range page.DBEngineVersions {
			if v.EngineVersion == nil || aws.ToString(v.DBParameterGroupFamily) != a.Family ||
				(v.Status != nil && *v.Status != "available") {
				continue
			}
			offered = append(offered, *v.EngineVersion)
			if runsServerlessV2(v.ServerlessV2FeaturesSupport, a) {
				fits = append(fits, *v.EngineVersion)
			}
		}
	}
	if len(fits) == 0 {
		return "", fmt.Errorf("preflight: %s in %s offers no %s version that runs Aurora Serverless v2 from %g to %g ACUs (versions offered: %v): "+
			"the stage cannot create its cluster there; choose another region, or other capacities", auroraEngine, c.region, a.Family, a.MinCapacity, a.MaxCapacity, offered)
	}
	if lts, ok := LTS[a.Family]; ok {
		if i := slices.IndexFunc(fits, func(v string) bool { return v == lts || strings.HasPrefix(v, lts+".") }); i >= 0 {
			return fits[i], nil
		}
	}
	return slices.MaxFunc(fits, compareVersions), nil
}

// runsServerlessV2 says whether a version with this Serverless v2 support
// (none: nil) runs a's capacity range.
func runsServerlessV2(sv *rdstypes.ServerlessV2FeaturesSupport, a Aurora) bool {
	if sv == nil {
		return false
	}
	return (sv.MinCapacity == nil || *sv.MinCapacity <= a.MinCapacity) && (sv.MaxCapacity == nil || *sv.MaxCapacity >= a.MaxCapacity)
}

// compareVersions orders dotted versions numerically: 16.10 after 16.9.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, errX := strconv.Atoi(as[i])
		y, errY := strconv.Atoi(bs[i])
		if errX != nil || errY != nil {
			if c := strings.Compare(as[i], bs[i]); c != 0 {
				return c
			}
			continue
		}
		if x != y {
			return x - y
		}
	}
	return len(as) - len(bs)
}

// apiError wraps an AWS error with the call and, where AWS refused the
// caller, what the caller needs.
func (c *Checker) apiError(service, op string, err error) error {
	err = fmt.Errorf("preflight: %s %s in %s: %w", service, op, c.region, err)
	if api, ok := errors.AsType[smithy.APIError](err); ok {
		switch api.ErrorCode() {
		case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException", "InvalidClientTokenId",
			"ExpiredToken", "ExpiredTokenException", "InvalidSignatureException", "SignatureDoesNotMatch":
			return fmt.Errorf("%w; the deploying identity needs %s:%s (the preflight calls lambda:GetAccountSettings, lambda:GetFunctionConcurrency "+
				"and rds:DescribeDBEngineVersions before anything is created), or set LICENCES_PREFLIGHT=off to skip it", err, service, op)
		}
	}
	return err
}
