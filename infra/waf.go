package infra

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/privateledger/licences/function/httpapi"
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

// Firewall is a regional WAF web ACL in front of the API stage: the API's
// body limit, AWS's managed Common and KnownBadInputs rule groups, a rate
// limit per source IP, and its decisions logged.
type Firewall struct {
	pulumi.ResourceState

	ARN pulumi.StringOutput `pulumi:"arn"`
}

// managedRuleGroups are the AWS managed rule groups the firewall runs, in
// order: generic web exploits, then known-bad request patterns.
var managedRuleGroups = []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}

// The body limit is the API's (httpapi.MaxBodyBytes, answered 413), and
// the firewall keeps to it:
//   - The Common rule set's SizeRestrictions_BODY blocks bodies over 8 KB
//     with a 403
//     (https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-baseline.html),
//     which would refuse bodies the API accepts: it only counts here.
//   - bodyLimitRule blocks a body over the API's limit with the API's own
//     answer, 413 and a problem document. WAF inspects the first 16 KB
//     (16,384 bytes) of an API Gateway request's body by default
//     (https://docs.aws.amazon.com/waf/latest/APIReference/API_Body.html);
//     a larger body is "oversize", which the rule's oversize handling
//     counts as a match. So the limit must not exceed what WAF inspects,
//     or a body within it would be refused as oversize.
const (
	commonBodySizeRule     = "SizeRestrictions_BODY"
	bodyLimitRule          = "BodyOverLimit"
	bodyTooLargeKey        = "body-too-large"
	wafBodyInspectionBytes = 16 * 1024
	// A build error should the API's limit ever exceed what WAF inspects.
	_ uint = wafBodyInspectionBytes - httpapi.MaxBodyBytes
)

// bodyTooLargeJSON is the firewall's 413: the problem document the API
// answers a body over its limit with.
func bodyTooLargeJSON() string {
	b, _ := json.Marshal(map[string]any{
		"type": "about:blank", "title": http.StatusText(http.StatusRequestEntityTooLarge), "status": http.StatusRequestEntityTooLarge,
		"detail": fmt.Sprintf("the body may be at most %d bytes", httpapi.MaxBodyBytes),
	})
	return string(b)
}

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
	rules := wafv2.WebAclRuleArray{wafv2.WebAclRuleArgs{
		Name:     pulumi.String(bodyLimitRule),
		Priority: pulumi.Int(0),
		Action: &wafv2.WebAclRuleActionArgs{Block: &wafv2.WebAclRuleActionBlockArgs{
			CustomResponse: &wafv2.WebAclRuleActionBlockCustomResponseArgs{
				ResponseCode:          pulumi.Int(http.StatusRequestEntityTooLarge),
				CustomResponseBodyKey: pulumi.String(bodyTooLargeKey),
			},
		}},
		Statement: &wafv2.WebAclRuleStatementArgs{
			SizeConstraintStatement: &wafv2.WebAclRuleStatementSizeConstraintStatementArgs{
				ComparisonOperator: pulumi.String("GT"),
				Size:               pulumi.Int(httpapi.MaxBodyBytes),
				FieldToMatch: &wafv2.WebAclRuleStatementSizeConstraintStatementFieldToMatchArgs{
					Body: &wafv2.WebAclRuleStatementSizeConstraintStatementFieldToMatchBodyArgs{OversizeHandling: pulumi.String("MATCH")},
				},
				TextTransformations: wafv2.WebAclRuleStatementSizeConstraintStatementTextTransformationArray{
					wafv2.WebAclRuleStatementSizeConstraintStatementTextTransformationArgs{Priority: pulumi.Int(0), Type: pulumi.String("NONE")},
				},
			},
		},
		VisibilityConfig: visibility(args.Name + "-body"),
	}}
	for _, group := range managedRuleGroups {
		var overrides wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray
		if group == "AWSManagedRulesCommonRuleSet" {
			overrides = append(overrides, wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs{
				Name:        pulumi.String(commonBodySizeRule),
				ActionToUse: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs{Count: &wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs{}},
			})
		}
		rules = append(rules, wafv2.WebAclRuleArgs{
			Name:     pulumi.String(group),
			Priority: pulumi.Int(len(rules)),
			// The group's own actions (blocks) apply, but where overridden.
			OverrideAction: &wafv2.WebAclRuleOverrideActionArgs{None: &wafv2.WebAclRuleOverrideActionNoneArgs{}},
			Statement: &wafv2.WebAclRuleStatementArgs{
				ManagedRuleGroupStatement: &wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
					Name: pulumi.String(group), VendorName: pulumi.String("AWS"),
					RuleActionOverrides: overrides,
				},
			},
			VisibilityConfig: visibility(args.Name + "-" + group),
		})
	}
	rules = append(rules, wafv2.WebAclRuleArgs{
		Name:     pulumi.String("RatePerSourceIP"),
		Priority: pulumi.Int(len(rules)),
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
		CustomResponseBodies: wafv2.WebAclCustomResponseBodyArray{wafv2.WebAclCustomResponseBodyArgs{
			Key: pulumi.String(bodyTooLargeKey), ContentType: pulumi.String("APPLICATION_JSON"), Content: pulumi.String(bodyTooLargeJSON()),
		}},
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
