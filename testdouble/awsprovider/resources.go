package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/privateledger/licences/infra/awsrules"
)

// awsError is an error as AWS words it: its code, then its message.
func awsError(code, format string, args ...any) error {
	return fmt.Errorf("%s: %s", code, fmt.Sprintf(format, args...))
}

func plainJSON(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func str(m resource.PropertyMap, k string) string {
	if v, ok := m[resource.PropertyKey(k)]; ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

// physicalName is the name AWS knows a resource by, if it has one.
func physicalName(typ tokens.Type, in resource.PropertyMap) string {
	prop, ok := awsrules.PhysicalName(string(typ))
	if !ok {
		return ""
	}
	return str(in, prop)
}

// create applies what creating the resource does to the account, or
// refuses as AWS would. It names a resource given only a prefix for its
// name as the provider does, in in.
func (p *standin) create(a *accountState, urn string, in resource.PropertyMap) error {
	typ := resource.URN(urn).Type()
	nameFromPrefix(a, typ, in)
	if name := physicalName(typ, in); name != "" {
		// A name is taken while anything holds it: a resource of any stack,
		// or one a destroyed stack retained, which AWS still has. Creating
		// it again is refused whoever asks.
		key := string(typ) + " " + name
		if _, taken := a.Names[key]; taken {
			return nameTaken(typ, name)
		}
		a.Names[key] = urn
		a.Inputs[key] = in.Mappable()
	}
	switch typ {
	case "aws:iam/role:Role":
		a.Roles[str(in, "name")] = roleARN(str(in, "name"))
	case "aws:apigateway/account:Account":
		return setAccountRole(a, str(in, "cloudwatchRoleArn"))
	case "aws:apigateway/stage:Stage":
		return stageLogging(a, in)
	}
	return nil
}

// bucketSuffixTime stands in for the time in the suffix the provider
// names a resource with (Terraform's id.PrefixedUniqueId: a timestamp to
// the ten-thousandth of a second, then a counter in eight hex digits):
// fixed, so the stand-in's answers are deterministic; the counter is the
// account's.
const bucketSuffixTime = "202501010000000000"

// nameFromPrefix sets the physical name of a resource given only a prefix
// for it: the prefix, then a suffix unique to this creation.
func nameFromPrefix(a *accountState, typ tokens.Type, in resource.PropertyMap) {
	prop, ok := awsrules.NamePrefix(string(typ))
	name, _ := awsrules.PhysicalName(string(typ))
	if !ok || str(in, name) != "" || str(in, prop) == "" {
		return
	}
	a.NamedFromPrefix++
	in[resource.PropertyKey(name)] = resource.NewPropertyValue(fmt.Sprintf("%s%s%08x", str(in, prop), bucketSuffixTime, a.NamedFromPrefix))
}

// keepName carries a resource's physical name, which the provider made
// from a prefix at its creation, from its old state into its new inputs:
// an update does not rename it.
func keepName(typ tokens.Type, olds, news resource.PropertyMap) {
	prop, ok := awsrules.NamePrefix(string(typ))
	name, _ := awsrules.PhysicalName(string(typ))
	if ok && str(news, name) == "" && str(news, prop) != "" && str(olds, name) != "" {
		news[resource.PropertyKey(name)] = olds[resource.PropertyKey(name)]
	}
}

// update applies an update, or refuses it as AWS would.
func (p *standin) update(a *accountState, urn string, olds, news resource.PropertyMap) error {
	switch typ := resource.URN(urn).Type(); {
	case typ == "aws:apigateway/account:Account":
		return setAccountRole(a, str(news, "cloudwatchRoleArn"))
	case typ == "aws:apigateway/stage:Stage":
		return stageLogging(a, news)
	case isAurora(typ):
		from, to := str(olds, "engineVersion"), str(news, "engineVersion")
		if to != "" && versionLess(to, from) {
			return awsError("InvalidParameterCombination", "Cannot upgrade aurora-postgresql from %s to %s", from, to)
		}
	}
	return nil
}

// release frees what a deleted resource held.
func (p *standin) release(a *accountState, urn string, props resource.PropertyMap) {
	typ := resource.URN(urn).Type()
	if name := physicalName(typ, props); name != "" && a.Names[string(typ)+" "+name] == urn {
		delete(a.Names, string(typ)+" "+name)
		delete(a.Inputs, string(typ)+" "+name)
	}
	if typ == "aws:iam/role:Role" {
		delete(a.Roles, str(props, "name"))
	}
}

// nameTaken is AWS's answer to creating a resource whose name is taken.
func nameTaken(typ tokens.Type, name string) error {
	switch typ {
	case "aws:iam/role:Role":
		// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
		// (EntityAlreadyExists: a resource with the same name exists).
		return awsError("EntityAlreadyExists", "Role with name %s already exists.", name)
	case "aws:s3/bucketV2:BucketV2":
		// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
		// (BucketAlreadyOwnedByYou: you already own it, outside us-east-1).
		return awsError("BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
	}
	return awsError("ResourceAlreadyExists", "%s %s already exists in this account and region", typ, name)
}

func roleARN(name string) string { return fmt.Sprintf("arn:aws:iam::%s:role/%s", account, name) }

// setAccountRole points API Gateway's account settings at a role, which
// must exist.
func setAccountRole(a *accountState, arn string) error {
	for _, r := range a.Roles {
		if r == arn {
			a.APIGatewayCloudWatchRole = arn
			return nil
		}
	}
	return awsError("BadRequestException", "The role ARN does not have required permissions set to API Gateway")
}

// stageLogging refuses a stage with access logs while the account has no
// CloudWatch role, or one that no longer exists.
func stageLogging(a *accountState, in resource.PropertyMap) error {
	if _, logs := in["accessLogSettings"]; !logs {
		return nil
	}
	for _, r := range a.Roles {
		if r == a.APIGatewayCloudWatchRole {
			return nil
		}
	}
	return awsError("BadRequestException", "CloudWatch Logs role ARN must be set in account settings to enable logging")
}

func isAurora(typ tokens.Type) bool {
	return typ == "aws:rds/cluster:Cluster" || typ == "aws:rds/clusterInstance:ClusterInstance"
}

// versionLess compares dotted versions numerically.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

// withEngineVersion sets engineVersion, and engineVersionActual where it
// is there, in a marshalled property map.
func withEngineVersion(s *structpb.Struct, version string) (*structpb.Struct, error) {
	if s == nil {
		return nil, nil
	}
	m, err := unmarshal(s)
	if err != nil {
		return nil, err
	}
	for _, k := range []resource.PropertyKey{"engineVersion", "engineVersionActual"} {
		if _, ok := m[k]; ok {
			m[k] = resource.NewPropertyValue(version)
		}
	}
	return marshal(m)
}

// state is a resource's id and outputs: its inputs and what AWS would add.
func (p *standin) state(urnString string, in resource.PropertyMap) (string, *structpb.Struct, error) {
	urn := resource.URN(urnString)
	typ, name := string(urn.Type()), urn.Name()
	sum := sha256.Sum256([]byte(urnString))
	id := strings.ToLower(strings.Split(typ, ":")[2]) + "-" + hex.EncodeToString(sum[:6])
	out := in.Copy()
	set := func(k string, v any) { out[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	named := func(k string) string {
		if s := str(in, k); s != "" {
			return s
		}
		return name
	}
	arn := func(service, res string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, p.region, account, res)
	}
	switch typ {
	case "aws:iam/role:Role":
		id = named("name")
		set("arn", roleARN(id))
		set("name", id)
	case "aws:qldb/ledger:Ledger":
		id = named("name")
		set("arn", arn("qldb", "ledger/"+id))
	case "aws:lambda/function:Function":
		id = named("name")
		set("arn", arn("lambda", "function:"+id))
		set("invokeArn", fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", p.region, arn("lambda", "function:"+id)))
	case "aws:cloudwatch/logGroup:LogGroup":
		id = named("name")
		set("arn", arn("logs", "log-group:"+id))
	case "aws:kms/key:Key":
		set("arn", arn("kms", "key/"+id))
		set("keyId", id)
	case "aws:apigateway/restApi:RestApi":
		set("rootResourceId", "root-"+id)
		set("executionArn", arn("execute-api", id))
	case "aws:apigateway/stage:Stage":
		set("invokeUrl", fmt.Sprintf("https://%s.execute-api.%s.amazonaws.com/%s", id, p.region, named("stageName")))
		set("arn", fmt.Sprintf("arn:aws:apigateway:%s::/restapis/%s/stages/%s", p.region, str(in, "restApi"), named("stageName")))
	case "aws:s3/bucketV2:BucketV2":
		if str(in, "bucket") == "" {
			// Named from a prefix, at creation: unknown until then.
			out["bucket"] = resource.MakeComputed(resource.NewStringProperty(""))
			out["arn"] = resource.MakeComputed(resource.NewStringProperty(""))
			break
		}
		id = named("bucket")
		set("arn", "arn:aws:s3:::"+id)
		set("bucket", id)
	case "aws:sns/topic:Topic":
		id = named("name")
		set("arn", arn("sns", id))
	case "aws:iam/policy:Policy":
		id = named("name")
		set("arn", fmt.Sprintf("arn:aws:iam::%s:policy/%s", account, id))
	case "aws:wafv2/webAcl:WebAcl":
		set("arn", arn("wafv2", "regional/webacl/"+named("name")+"/"+id))
	case "aws:ec2/vpcEndpoint:VpcEndpoint":
		set("prefixListId", "pl-"+hex.EncodeToString(sum[:4]))
		set("dnsEntries", []any{map[string]any{"dnsName": id + ".vpce.amazonaws.com", "hostedZoneId": "Z1"}})
	case "aws:lambda/invocation:Invocation":
		set("result", `{"schemaVersion":1}`)
	case "aws:rds/cluster:Cluster":
		id = named("clusterIdentifier")
		set("arn", arn("rds", "cluster:"+id))
		set("endpoint", id+".cluster-standin."+p.region+".rds.amazonaws.com")
		set("clusterResourceId", "cluster-"+strings.ToUpper(hex.EncodeToString(sum[:8])))
		// The version the cluster runs: the one asked for, until AWS
		// upgrades it (Read).
		set("engineVersionActual", str(in, "engineVersion"))
		set("masterUserSecrets", []any{map[string]any{"secretArn": arn("secretsmanager", "secret:rds!cluster-"+hex.EncodeToString(sum[:4])), "secretStatus": "active"}})
	case "aws:rds/clusterInstance:ClusterInstance":
		id = named("identifier")
		set("arn", arn("rds", "db:"+id))
	}
	s, err := marshal(out)
	return id, s, err
}
