package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FirewallArgs configures a Firewall.
type FirewallArgs struct {
	Name string // the web ACL's name, and its metrics'
	// StageARN is the API stage it guards.
	StageARN pulumi.StringInput
	// RateLimit is how many requests one source IP may send in 5 minutes
	// before it is blocked.
	RateLimit        int
	LogGroupName     string // must start aws-waf-logs-
	LogRetentionDays int
	KMSKeyARN        pulumi.StringPtrInput // nil: CloudWatch's own keys
}

// Firewall is a regional WAF web ACL in front of the API stage: AWS's
// managed Common and KnownBadInputs rule groups, a rate limit per source
// IP, and its decisions logged.
type Firewall struct {
	pulumi.ResourceState

	ARN pulumi.StringOutput `pulumi:"arn"`
}

// managedRuleGroups are the AWS managed rule groups the firewall runs, in
// order: generic web exploits, then known-bad request patterns.
var managedRuleGroups = []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}

// NewFirewall creates the web ACL, associates it with the stage and logs
// its decisions to a log group of its own.
func NewFirewall(ctx *pulumi.Context, name string, args FirewallArgs, opts ...pulumi.ResourceOption) (*Firewall, error) {
	f := &Firewall{}
	if err := ctx.RegisterComponentResource("licences:infra:Firewall", name, f, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(f)
	visibility := func(metric string) wafv2.WebAclRuleVisibilityConfigArgs {
		return wafv2.WebAclRuleVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true),
			MetricName:               pulumi.String(metric),
			SampledRequestsEnabled:   pulumi.Bool(true),
		}
	}
	var rules wafv2.WebAclRuleArray
	for i, group := range managedRuleGroups {
		rules = append(rules, wafv2.WebAclRuleArgs{
			Name:     pulumi.String(group),
			Priority: pulumi.Int(i),
			// The group's own actions (blocks) apply.
			OverrideAction: &wafv2.WebAclRuleOverrideActionArgs{None: &wafv2.WebAclRuleOverrideActionNoneArgs{}},
			Statement: &wafv2.WebAclRuleStatementArgs{
				ManagedRuleGroupStatement: &wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
					Name: pulumi.String(group), VendorName: pulumi.String("AWS"),
				},
			},
			VisibilityConfig: visibility(args.Name + "-" + group),
		})
	}
	rules = append(rules, wafv2.WebAclRuleArgs{
		Name:     pulumi.String("RatePerSourceIP"),
		Priority: pulumi.Int(len(managedRuleGroups)),
		Action:   &wafv2.WebAclRuleActionArgs{Block: &wafv2.WebAclRuleActionBlockArgs{}},
		Statement: &wafv2.WebAclRuleStatementArgs{
			RateBasedStatement: &wafv2.WebAclRuleStatementRateBasedStatementArgs{
				Limit:               pulumi.Int(args.RateLimit),
				AggregateKeyType:    pulumi.String("IP"),
				EvaluationWindowSec: pulumi.Int(300),
			},
		},
		VisibilityConfig: visibility(args.Name + "-rate"),
	})
	acl, err := wafv2.NewWebAcl(ctx, name, &wafv2.WebAclArgs{
		Name:          pulumi.String(args.Name),
		Description:   pulumi.String("Guards the licence API stage: AWS managed rules and a rate limit per source IP"),
		Scope:         pulumi.String("REGIONAL"),
		DefaultAction: &wafv2.WebAclDefaultActionArgs{Allow: &wafv2.WebAclDefaultActionAllowArgs{}},
		Rules:         rules,
		VisibilityConfig: &wafv2.WebAclVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true),
			MetricName:               pulumi.String(args.Name),
			SampledRequestsEnabled:   pulumi.Bool(true),
		},
	}, child)
	if err != nil {
		return nil, fmt.Errorf("create web acl: %w", err)
	}
	if _, err := wafv2.NewWebAclAssociation(ctx, name, &wafv2.WebAclAssociationArgs{
		ResourceArn: args.StageARN,
		WebAclArn:   acl.Arn,
	}, child); err != nil {
		return nil, fmt.Errorf("associate web acl: %w", err)
	}
	logs, err := logGroup{args.LogGroupName, args.LogRetentionDays, args.KMSKeyARN}.create(ctx, name+"-logs", child)
	if err != nil {
		return nil, fmt.Errorf("create waf log group: %w", err)
	}
	if _, err := wafv2.NewWebAclLoggingConfiguration(ctx, name, &wafv2.WebAclLoggingConfigurationArgs{
		ResourceArn:           acl.Arn,
		LogDestinationConfigs: pulumi.StringArray{logs.Arn},
	}, child); err != nil {
		return nil, fmt.Errorf("log web acl: %w", err)
	}
	f.ARN = acl.Arn
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{"arn": f.ARN})
}
