package infra

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// deployerActions is what the deployer must be allowed for each resource
// type the stack holds: its create, update, read and delete calls as the
// AWS provider makes them, and its tagging calls. The provider functions
// and the preflight's calls are under "invoke". A type a plan holds that is
// not here fails TestDeployerPolicyCoversEveryPlan: give it its actions, and
// the policy file what it lacks.
var deployerActions = map[string][]string{
	"invoke": {"sts:GetCallerIdentity", "ec2:DescribeAvailabilityZones", "ec2:DescribeVpcEndpointServices", "ec2:DescribeRouteTables",
		"iam:ListRoles", "lambda:GetAccountSettings", "lambda:GetFunctionConcurrency", "rds:DescribeDBEngineVersions"},
	"pulumi:providers:aws": nil,
	"awsx:ec2:Vpc": {"ec2:CreateVpc", "ec2:DeleteVpc", "ec2:DescribeVpcs", "ec2:ModifyVpcAttribute", "ec2:DescribeVpcAttribute",
		"ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:DescribeSubnets", "ec2:CreateRouteTable", "ec2:DeleteRouteTable",
		"ec2:AssociateRouteTable", "ec2:DisassociateRouteTable", "ec2:CreateInternetGateway", "ec2:AttachInternetGateway",
		"ec2:DetachInternetGateway", "ec2:DeleteInternetGateway", "ec2:DescribeInternetGateways", "ec2:CreateTags", "ec2:DeleteTags"},
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup":                      {"ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress", "ec2:CreateTags"},
	"aws:ec2/securityGroup:SecurityGroup":                                    {"ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup", "ec2:DescribeSecurityGroups", "ec2:RevokeSecurityGroupEgress", "ec2:CreateTags"},
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":              {"ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DescribeSecurityGroupRules", "ec2:ModifySecurityGroupRules"},
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":                {"ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress", "ec2:DescribeSecurityGroupRules", "ec2:ModifySecurityGroupRules"},
	"aws:ec2/vpcEndpoint:VpcEndpoint":                                        {"ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints", "ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists", "ec2:CreateTags"},
	"aws:ec2/flowLog:FlowLog":                                                {"ec2:CreateFlowLogs", "ec2:DeleteFlowLogs", "ec2:DescribeFlowLogs", "iam:PassRole", "ec2:CreateTags"},
	"aws:iam/role:Role":                                                      {"iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole"},
	"aws:iam/rolePolicy:RolePolicy":                                          {"iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment":                      {"iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies"},
	"aws:iam/policy:Policy":                                                  {"iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:ListPolicyVersions", "iam:TagPolicy"},
	"aws:kms/key:Key":                                                        {"kms:CreateKey", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:ListResourceTags"},
	"aws:kms/alias:Alias":                                                    {"kms:CreateAlias", "kms:DeleteAlias", "kms:ListAliases", "kms:UpdateAlias"},
	"aws:lambda/function:Function":                                           {"lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency", "lambda:ListVersionsByFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:TagResource", "lambda:ListTags", "iam:PassRole"},
	"aws:lambda/permission:Permission":                                       {"lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy"},
	"aws:lambda/invocation:Invocation":                                       {"lambda:InvokeFunction"},
	"aws:cloudwatch/logGroup:LogGroup":                                       {"logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DescribeLogGroups", "logs:PutRetentionPolicy", "logs:AssociateKmsKey", "logs:TagResource", "logs:ListTagsForResource"},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter":                         {"logs:PutMetricFilter", "logs:DeleteMetricFilter", "logs:DescribeMetricFilters"},
	"aws:cloudwatch/metricAlarm:MetricAlarm":                                 {"cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:TagResource", "cloudwatch:ListTagsForResource"},
	"aws:cloudwatch/dashboard:Dashboard":                                     {"cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"},
	"aws:sns/topic:Topic":                                                    {"sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:TagResource", "sns:ListTagsForResource", "sns:Subscribe", "sns:Unsubscribe"},
	"aws:sns/topicPolicy:TopicPolicy":                                        {"sns:SetTopicAttributes", "sns:GetTopicAttributes"},
	"aws:apigateway/account:Account":                                         {"apigateway:PATCH", "apigateway:GET", "iam:PassRole"},
	"aws:apigateway/restApi:RestApi":                                         {"apigateway:POST", "apigateway:GET", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"},
	"aws:apigateway/restApiPolicy:RestApiPolicy":                             {"apigateway:PATCH", "apigateway:GET", "apigateway:UpdateRestApiPolicy"},
	"aws:apigateway/resource:Resource":                                       {"apigateway:POST", "apigateway:GET", "apigateway:DELETE"},
	"aws:apigateway/method:Method":                                           {"apigateway:PUT", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"},
	"aws:apigateway/methodResponse:MethodResponse":                           {"apigateway:PUT", "apigateway:GET", "apigateway:DELETE"},
	"aws:apigateway/methodSettings:MethodSettings":                           {"apigateway:PATCH", "apigateway:GET"},
	"aws:apigateway/integration:Integration":                                 {"apigateway:PUT", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"},
	"aws:apigateway/integrationResponse:IntegrationResponse":                 {"apigateway:PUT", "apigateway:GET", "apigateway:DELETE"},
	"aws:apigateway/response:Response":                                       {"apigateway:PUT", "apigateway:GET", "apigateway:DELETE"},
	"aws:apigateway/deployment:Deployment":                                   {"apigateway:POST", "apigateway:GET", "apigateway:DELETE"},
	"aws:apigateway/stage:Stage":                                             {"apigateway:POST", "apigateway:GET", "apigateway:PATCH", "apigateway:DELETE", "apigateway:SetWebACL"},
	"aws:wafv2/webAcl:WebAcl":                                                {"wafv2:CreateWebACL", "wafv2:GetWebACL", "wafv2:UpdateWebACL", "wafv2:DeleteWebACL", "wafv2:ListTagsForResource", "wafv2:TagResource"},
	"aws:wafv2/webAclAssociation:WebAclAssociation":                          {"wafv2:AssociateWebACL", "wafv2:DisassociateWebACL", "wafv2:GetWebACLForResource"},
	"aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration":        {"wafv2:PutLoggingConfiguration", "wafv2:GetLoggingConfiguration", "wafv2:DeleteLoggingConfiguration", "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies"},
	"aws:qldb/ledger:Ledger":                                                 {"qldb:CreateLedger", "qldb:DescribeLedger", "qldb:UpdateLedger", "qldb:UpdateLedgerPermissionsMode", "qldb:DeleteLedger", "qldb:TagResource", "qldb:ListTagsForResource"},
	"aws:rds/subnetGroup:SubnetGroup":                                        {"rds:CreateDBSubnetGroup", "rds:DescribeDBSubnetGroups", "rds:ModifyDBSubnetGroup", "rds:DeleteDBSubnetGroup", "rds:AddTagsToResource", "rds:ListTagsForResource"},
	"aws:rds/clusterParameterGroup:ClusterParameterGroup":                    {"rds:CreateDBClusterParameterGroup", "rds:DescribeDBClusterParameterGroups", "rds:DescribeDBClusterParameters", "rds:ModifyDBClusterParameterGroup", "rds:DeleteDBClusterParameterGroup", "rds:AddTagsToResource"},
	"aws:rds/cluster:Cluster":                                                {"rds:CreateDBCluster", "rds:DescribeDBClusters", "rds:ModifyDBCluster", "rds:DeleteDBCluster", "rds:AddTagsToResource", "rds:ListTagsForResource", "secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:RotateSecret", "kms:CreateGrant", "kms:DescribeKey", "iam:CreateServiceLinkedRole"},
	"aws:rds/clusterInstance:ClusterInstance":                                {"rds:CreateDBInstance", "rds:DescribeDBInstances", "rds:ModifyDBInstance", "rds:DeleteDBInstance", "rds:AddTagsToResource", "iam:PassRole"},
	"aws:s3/bucketV2:BucketV2":                                               {"s3:CreateBucket", "s3:ListBucket", "s3:GetBucketTagging", "s3:PutBucketTagging", "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:GetBucketVersioning", "s3:GetBucketObjectLockConfiguration", "s3:GetEncryptionConfiguration", "s3:GetBucketOwnershipControls", "s3:GetBucketPublicAccessBlock", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite", "s3:GetBucketLogging", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment"},
	"aws:s3/bucketVersioningV2:BucketVersioningV2":                           {"s3:PutBucketVersioning", "s3:GetBucketVersioning"},
	"aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2": {"s3:PutBucketObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration"},
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                 {"s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"},
	"aws:s3/bucketPolicy:BucketPolicy":                                       {"s3:PutBucketPolicy", "s3:GetBucketPolicy"},
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                 {"s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {"s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"},
	"aws:scheduler/schedule:Schedule": {"scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", "iam:PassRole"},
}

// deployerPolicy is the policy file the README gives deployers.
type deployerPolicy struct {
	Version   string
	Statement []struct {
		Sid      string
		Effect   string
		Action   []string
		Resource []string
	}
}

// A deployer with deploy/deployer-policy.json can run every stage: every
// resource type of every shipped stage's plan has its actions allowed, the
// policy grants no wildcard action, and every statement says what it is for.
func TestDeployerPolicyCoversEveryPlan(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "deploy", "deployer-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc deployerPolicy
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("deploy/deployer-policy.json: %v", err)
	}
	allowed := map[string]bool{}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || s.Sid == "" || len(s.Resource) == 0 {
			t.Errorf("statement %q: want an Allow with a Sid and resources", s.Sid)
		}
		for _, a := range s.Action {
			if strings.Contains(a, "*") {
				t.Errorf("statement %s grants the wildcard action %s", s.Sid, a)
			}
			allowed[a] = true
		}
	}
	need := map[string][]string{"invoke": deployerActions["invoke"]}
	for _, stage := range shippedStages {
		for _, r := range mustDeploy(t, stage, nil).resources {
			if strings.HasPrefix(r.Type, "licences:") {
				continue // components: nothing in AWS
			}
			actions, ok := deployerActions[r.Type]
			if !ok {
				t.Errorf("%s's plan holds %s, which deployerActions does not know", stage, r.Type)
			}
			need[r.Type] = actions
		}
	}
	for typ, actions := range need {
		for _, a := range actions {
			if !allowed[a] {
				t.Errorf("deploy/deployer-policy.json does not allow %s, which %s needs", a, typ)
			}
		}
	}
	// Nothing beyond what some type needs.
	for a := range allowed {
		used := false
		for _, actions := range deployerActions {
			used = used || slices.Contains(actions, a)
		}
		if !used {
			t.Errorf("deploy/deployer-policy.json allows %s, which no resource of the stack needs", a)
		}
	}
}
