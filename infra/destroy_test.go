package infra

import (
	"slices"
	"strings"
	"testing"
)

// dependencies returns every resource r depends on, directly or through
// others, counting a parent as a dependency: what the engine deletes only
// after r is gone (pulumi's DependencyGraph.DependenciesOf and
// stepGenerator.ScheduleDeletes).
func (d *deployment) dependencies(t *testing.T, r recorded) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	var visit func(r recorded)
	visit = func(r recorded) {
		next := slices.Clone(r.Deps)
		if r.Parent != "" && !strings.HasSuffix(r.Parent, "pulumi:pulumi:Stack::licences-"+d.config.Stage) {
			next = append(next, r.Parent)
		}
		for _, urn := range next {
			dep := d.byURN(t, urn)
			key := dep.Type + "::" + dep.Name
			if !out[key] {
				out[key] = true
				visit(dep)
			}
		}
	}
	visit(r)
	return out
}

// On destroy, Lambda removes a function's network interfaces after the
// function is gone, with the function's role; subnets and security groups
// cannot go while interfaces remain. So each role's network policy must be
// deleted after every subnet and group: every one of them depends on it,
// and nothing the policy depends on is part of the network.
//
// Mutant: stack.go `}, s.opts, pulumi.DependsOn(networkPolicies))` -> `}, s.opts)`
func TestRolesOutliveTheNetworkOnDestroy(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		var network []recorded
		for _, typ := range []string{
			"awsx:ec2:Vpc", "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
			"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
			"aws:ec2/vpcEndpoint:VpcEndpoint", "aws:rds/subnetGroup:SubnetGroup",
		} {
			network = append(network, d.ofType(typ)...)
		}
		if len(network) < 6 {
			t.Fatalf("%d network resources, want the VPC, groups, rules and endpoints", len(network))
		}
		for _, part := range partsOf(d) {
			policy := "aws:iam/rolePolicy:RolePolicy::" + part + "-network"
			for _, r := range network {
				if !d.dependencies(t, r)[policy] {
					t.Errorf("%s %s can outlast %s on destroy: it does not depend on it", r.Type, r.Name, policy)
				}
			}
			for dep := range d.dependencies(t, d.one(t, "aws:iam/rolePolicy:RolePolicy", part+"-network")) {
				if !strings.HasPrefix(dep, "aws:iam/role:Role::") && !strings.HasPrefix(dep, "licences:infra:ExecutionRole::") && !strings.HasPrefix(dep, "pulumi:providers:") {
					t.Errorf("%s depends on %s: it must come before the network", policy, dep)
				}
			}
		}
	})
}

// While a function is destroyed its interfaces move to the stripped default
// group, one its role may create interfaces with (on "*").
//
// Mutant: stack.go `ReplacementSecurityGroupID: s.network.DefaultSecurityGroupID,` -> `ReplacementSecurityGroupID: s.network.FunctionSecurityGroupID,`
func TestFunctionsMoveToTheStrippedDefaultGroupOnDestroy(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		for _, part := range partsOf(d) {
			in := d.one(t, "aws:lambda/function:Function", part).Inputs
			if in["replaceSecurityGroupsOnDestroy"] != true || !slices.Equal(strs(in["replacementSecurityGroupIds"]), []string{"network-default-id"}) {
				t.Errorf("%s replaces its groups on destroy %v with %v, want the default group", part, in["replaceSecurityGroupsOnDestroy"], in["replacementSecurityGroupIds"])
			}
			if !slices.Contains(rolePermissions(t, d, "licences-"+d.config.Stage+"-"+part+"-"+d.config.Region), "ec2:CreateNetworkInterface on *") {
				t.Errorf("the %s role may not create interfaces in the replacement group", part)
			}
		}
	})
}
