package infra

import (
	"fmt"
	"slices"

	"strings"
	"testing"
)

// Each security test names, in its comment, a one-line change to the infra
// code that makes it fail: the property it guards, broken.

// Private DNS for interface endpoints needs both.
// Mutant: network.go `EnableDnsHostnames: pulumi.Bool(true)` -> `EnableDnsHostnames: pulumi.Bool(false)`
func TestVPCHasDNSSupportAndHostnames(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		vpc := d.one(t, "awsx:ec2:Vpc", "network").Inputs
		if vpc["enableDnsSupport"] != true || vpc["enableDnsHostnames"] != true {
			t.Errorf("enableDnsSupport=%v enableDnsHostnames=%v, want both true", vpc["enableDnsSupport"], vpc["enableDnsHostnames"])
		}
	})
}

// No subnet may have a route out of the VPC.
// Mutant: network.go `{Type: awsx.SubnetTypeIsolated,` -> `{Type: awsx.SubnetTypePrivate,`
func TestVPCHasOnlyIsolatedSubnetsInConfiguredZones(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		vpc := d.one(t, "awsx:ec2:Vpc", "network").Inputs
		specs, _ := vpc["subnetSpecs"].([]any)
		if len(specs) != 1 || specs[0].(map[string]any)["type"] != "Isolated" {
			t.Errorf("subnetSpecs = %v, want one spec of type Isolated", specs)
		}
		if got := num(vpc["numberOfAvailabilityZones"]); got != d.config.AZCount || got < 2 {
			t.Errorf("numberOfAvailabilityZones = %d, want the configured %d (at least 2)", got, d.config.AZCount)
		}
		if vpc["subnetStrategy"] != "Auto" {
			t.Errorf("subnetStrategy = %v, want Auto", vpc["subnetStrategy"])
		}
		if vpc["cidrBlock"] != d.config.VPCCIDR.String() {
			t.Errorf("cidrBlock = %v, want %s", vpc["cidrBlock"], d.config.VPCCIDR)
		}
	})
}

// Mutant: network.go `nat := awsx.NatGatewayStrategyNone` -> `nat := awsx.NatGatewayStrategySingle`
func TestVPCHasNoNATGateways(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		nat, _ := d.one(t, "awsx:ec2:Vpc", "network").Inputs["natGateways"].(map[string]any)
		if nat["strategy"] != "None" {
			t.Errorf("natGateways = %v, want strategy None", nat)
		}
	})
}

// Nothing may fall back on the default group's allow-all rules.
// Mutant: network.go `ec2.NewDefaultSecurityGroup(ctx, name+"-default", &ec2.DefaultSecurityGroupArgs{ VpcId: vpc.VpcId,` -> `ec2.NewDefaultSecurityGroup(ctx, name+"-default", &ec2.DefaultSecurityGroupArgs{ VpcId: vpc.VpcId, Egress: ec2.DefaultSecurityGroupEgressArray{ec2.DefaultSecurityGroupEgressArgs{Protocol: pulumi.String("-1"), FromPort: pulumi.Int(0), ToPort: pulumi.Int(0), CidrBlocks: pulumi.StringArray{pulumi.String("0.0.0.0/0")}}},`
func TestDefaultSecurityGroupIsStripped(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		sg := d.one(t, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "network-default").Inputs
		if sg["vpcId"] != "vpc-1" {
			t.Errorf("default security group of %v, want the stage's VPC", sg["vpcId"])
		}
		if len(strs(sg["ingress"])) != 0 || len(strs(sg["egress"])) != 0 {
			t.Errorf("default security group keeps rules: ingress %v egress %v", sg["ingress"], sg["egress"])
		}
	})
}

// privateServiceGroups maps the security group of each private service the
// functions may reach (every endpoint, and the database) to its port.
func privateServiceGroups(t *testing.T, d *deployment) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, ep := range d.ofType("aws:ec2/vpcEndpoint:VpcEndpoint") {
		if ep.Inputs["vpcEndpointType"] == "Gateway" {
			continue // reached by prefix list, not by group: gatewayPrefixLists
		}
		groups := strs(ep.Inputs["securityGroupIds"])
		if len(groups) != 1 {
			t.Fatalf("endpoint %s has groups %v, want its own one", ep.Name, groups)
		}
		out[groups[0]] = 443
	}
	for _, c := range d.ofType("aws:rds/cluster:Cluster") {
		for _, g := range strs(c.Inputs["vpcSecurityGroupIds"]) {
			out[g] = 5432
		}
	}
	if len(out) == 0 {
		t.Fatal("no private service groups: every stage has at least its engine's endpoint")
	}
	return out
}

// gatewayPrefixLists are the prefix lists of the gateway endpoints (S3,
// on the stages with digests): the functions reach them by prefix list.
func gatewayPrefixLists(d *deployment) []string {
	var out []string
	for _, ep := range d.ofType("aws:ec2/vpcEndpoint:VpcEndpoint") {
		if ep.Inputs["vpcEndpointType"] == "Gateway" {
			out = append(out, "pl-"+ep.Name)
		}
	}
	return out
}

// The functions' only egress: each private service's port to its group,
// and HTTPS to each gateway endpoint's prefix list.
// Mutant: guard.go `ReferencedSecurityGroupId: id,` -> `CidrIpv4: pulumi.String("0.0.0.0/0"),`
func TestFunctionEgressIsOnlyToEachPrivateService(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		fnSG := "sg-network-function"
		sg := d.one(t, "aws:ec2/securityGroup:SecurityGroup", "network-function").Inputs
		if sg["egress"] != nil || sg["ingress"] != nil {
			t.Errorf("function security group has inline rules: %v", sg)
		}
		want := privateServiceGroups(t, d)
		gateways := gatewayPrefixLists(d)
		egress := d.all(t, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", len(want)+len(gateways))
		got := map[string]int{}
		for _, r := range egress {
			in := r.Inputs
			if in["securityGroupId"] != fnSG {
				t.Errorf("egress rule %s on %v: only the function group has egress rules", r.Name, in["securityGroupId"])
			}
			if pl, ok := in["prefixListId"].(string); ok {
				if !slices.Contains(gateways, pl) || in["ipProtocol"] != "tcp" || num(in["fromPort"]) != 443 || num(in["toPort"]) != 443 ||
					in["cidrIpv4"] != nil || in["referencedSecurityGroupId"] != nil {
					t.Errorf("egress rule %s = %v, want HTTPS to a gateway endpoint's prefix list %v only", r.Name, in, gateways)
				}
				continue
			}
			if in["ipProtocol"] != "tcp" || num(in["fromPort"]) != num(in["toPort"]) || in["cidrIpv4"] != nil || in["cidrIpv6"] != nil || in["prefixListId"] != nil {
				t.Errorf("egress rule %s = %v, want one TCP port to a security group only", r.Name, in)
			}
			got[fmt.Sprint(in["referencedSecurityGroupId"])] = num(in["fromPort"])
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("function egress goes to %v, want exactly %v", got, want)
		}
	})
}

// Each private service admits the functions' group on its port, and no
// one else.
// Mutant: guard.go `ReferencedSecurityGroupId: args.Client,` -> `CidrIpv4: pulumi.String("10.0.0.0/8"),`
func TestPrivateServicesAdmitOnlyTheFunctions(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		want := privateServiceGroups(t, d)
		ingress := d.all(t, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", len(want))
		got := map[string]int{}
		for _, r := range ingress {
			in := r.Inputs
			if in["ipProtocol"] != "tcp" || num(in["fromPort"]) != num(in["toPort"]) ||
				in["referencedSecurityGroupId"] != "sg-network-function" || in["cidrIpv4"] != nil || in["cidrIpv6"] != nil || in["prefixListId"] != nil {
				t.Errorf("ingress rule %s = %v, want one TCP port from the function group only", r.Name, in)
			}
			got[fmt.Sprint(in["securityGroupId"])] = num(in["fromPort"])
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ingress rules %v, want exactly %v", got, want)
		}
		for _, sg := range d.ofType("aws:ec2/securityGroup:SecurityGroup") {
			if sg.Inputs["ingress"] != nil || sg.Inputs["egress"] != nil {
				t.Errorf("security group %s has inline rules", sg.Name)
			}
		}
	})
}

func TestEverySecurityGroupAndRuleIsDescribed(t *testing.T) {
	eachStage(t, nil, func(t *testing.T, d *deployment) {
		n := 0
		for _, typ := range []string{
			"aws:ec2/securityGroup:SecurityGroup",
			"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
			"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
		} {
			for _, r := range d.ofType(typ) {
				n++
				if desc, _ := r.Inputs["description"].(string); strings.TrimSpace(desc) == "" {
					t.Errorf("%s %s has no description", typ, r.Name)
				}
			}
		}
		if n < 4 {
			t.Errorf("%d security groups and rules, want at least a group and a rule pair per service", n)
		}
	})
}

// isolatedSubnets are the subnet ids the mocked VPC reports.
func isolatedSubnets(d *deployment) []string {
	var out []string
	for i := range d.config.AZCount {
		out = append(out, fmt.Sprintf("subnet-%d", i))
	}
	return out
}
