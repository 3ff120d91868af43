// Package awsrules holds AWS's documented constraints on the inputs this
// stack sets (names, descriptions, identifiers, tags, environment
// variables, policy documents), each with the page that documents it.
//
// Mocks know only what they are told, so a plan can satisfy every test and
// still be refused by AWS on its first `pulumi up`. The infra tests check
// every resource of every shipped stage's plan against these rules, and the
// stand-in AWS provider of the end-to-end test refuses a resource that
// breaks one, as AWS would.
package awsrules

import (
	"fmt"
	"sort"
	"strings"
)

// A Rule is one documented constraint on one input of one resource type.
type Rule struct {
	// Type is the Pulumi type token, such as aws:ec2/securityGroup:SecurityGroup.
	Type string
	// Property is the input, as a dotted path into the inputs: name,
	// environment.variables, defaultTags.tags.
	Property string
	// What states the constraint; Source is where AWS documents it.
	What, Source string

	check func(v any) error
}

// Violation is an input that breaks a rule.
type Violation struct {
	Rule  Rule
	Value any
	Err   error
}

func (v Violation) Error() string {
	return fmt.Sprintf("%s %s %v: %v (AWS: %s; %s)", v.Rule.Type, v.Rule.Property, quote(v.Value), v.Err, v.Rule.What, v.Rule.Source)
}

func quote(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// Rules returns every rule.
func Rules() []Rule { return rules }

// Types lists the resource types the rules cover.
func Types() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rules {
		if !seen[r.Type] {
			seen[r.Type] = true
			out = append(out, r.Type)
		}
	}
	sort.Strings(out)
	return out
}

// Check checks the inputs of a resource of type typ, as plain values (a
// PropertyMap's Mappable form), against every rule for typ. An input that
// is absent, or not yet known, is not checked.
func Check(typ string, inputs map[string]any) []Violation {
	var out []Violation
	for _, r := range rules {
		if r.Type != typ {
			continue
		}
		v, ok := lookup(inputs, r.Property)
		if !ok {
			continue
		}
		if err := r.check(v); err != nil {
			out = append(out, Violation{Rule: r, Value: v, Err: err})
		}
	}
	return out
}

// lookup finds the value at a dotted path.
func lookup(inputs map[string]any, path string) (any, bool) {
	var cur any = inputs
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok || cur == nil {
			return nil, false
		}
	}
	return cur, true
}

// physicalNames are the inputs AWS knows resources by, each unique in an
// account and region (IAM roles: in the account; S3 buckets: in the
// partition): a second resource of the same name is refused
// (EntityAlreadyExists, ResourceConflictException,
// DBClusterAlreadyExistsFault, BucketAlreadyOwnedByYou, …).
var physicalNames = map[string]string{
	"aws:lambda/function:Function":                        "name",
	"aws:iam/role:Role":                                   "name",
	"aws:qldb/ledger:Ledger":                              "name",
	"aws:cloudwatch/logGroup:LogGroup":                    "name",
	"aws:ec2/securityGroup:SecurityGroup":                 "name",
	"aws:kms/alias:Alias":                                 "name",
	"aws:rds/cluster:Cluster":                             "clusterIdentifier",
	"aws:rds/clusterInstance:ClusterInstance":             "identifier",
	"aws:rds/subnetGroup:SubnetGroup":                     "name",
	"aws:iam/policy:Policy":                               "name",
	"aws:wafv2/webAcl:WebAcl":                             "name",
	"aws:scheduler/schedule:Schedule":                     "name",
	"aws:rds/clusterParameterGroup:ClusterParameterGroup": "name",
	"aws:sns/topic:Topic":                                 "name",
	"aws:cloudwatch/metricAlarm:MetricAlarm":              "name",
	"aws:cloudwatch/dashboard:Dashboard":                  "dashboardName",
	"aws:s3/bucketV2:BucketV2":                            "bucket",
}

// namePrefixes are the inputs from which the provider names a resource
// whose physical name is not given: the prefix, then a suffix of the
// provider's own, unique to each creation.
var namePrefixes = map[string]string{
	"aws:s3/bucketV2:BucketV2": "bucketPrefix",
}

// NamePrefix returns the input from which the provider names a resource of
// type typ when its physical name is not given, if it has one.
func NamePrefix(typ string) (property string, ok bool) {
	property, ok = namePrefixes[typ]
	return property, ok
}

// PhysicalName returns the input that names a resource of type typ
// uniquely in its account and region, if it has one.
func PhysicalName(typ string) (property string, ok bool) {
	property, ok = physicalNames[typ]
	return property, ok
}
