package infra

// names derives every physical name in a stage from the project, the stage
// and the region, so names are predictable in the console and stay within
// AWS limits (Config.validate bounds the stage's length for that).
type names struct {
	project, stage, region string
}

func newNames(c Config) names { return names{c.Project, c.Stage, c.Region} }

// prefix is the stage's name stem, such as licences-dev.
func (n names) prefix() string { return n.project + "-" + n.stage }

// ledger names the QLDB ledger (at most 32 characters).
func (n names) ledger() string { return n.prefix() }

// function names a Lambda function (at most 64 characters).
func (n names) function(part string) string { return n.prefix() + "-" + part }

// role names an IAM role (at most 64 characters). IAM is global, so the
// region is in the name: the same stage in two regions must not collide.
func (n names) role(part string) string { return n.prefix() + "-" + part + "-" + n.region }

// accountRole names API Gateway's account-wide CloudWatch role: one per
// account and region, shared by every stage there, so it carries the
// project and the region but no stage.
func (n names) accountRole() string { return n.project + "-apigateway-cloudwatch-" + n.region }

// accessLogGroup is where API Gateway writes the stage's access logs.
func (n names) accessLogGroup() string { return "/aws/apigateway/" + n.prefix() + "/access" }

// securityGroup names a security group.
func (n names) securityGroup(part string) string { return n.prefix() + "-" + part }

// clientPolicy names the managed policy that lets a caller use a
// capability's routes (at most 128 characters); IAM is global, so the
// region is in it.
func (n names) clientPolicy(capability string) string {
	return n.prefix() + "-" + capability + "-client-" + n.region
}

// webACL names the stage's WAF web ACL (at most 128 characters).
func (n names) webACL() string { return n.prefix() }

// wafLogGroup is where WAF logs the stage's requests: WAF sends logs only
// to groups whose names start aws-waf-logs-.
func (n names) wafLogGroup() string { return "aws-waf-logs-" + n.prefix() }

// digestBucketPrefix begins the name of the bucket of the ledger's
// digests; the provider adds a suffix unique to each creation (at most 37
// characters, the provider's 26 making 63). The bucket is kept when the
// stage is destroyed, under Object Lock no one can lift, so a name of its
// own for each creation is what lets the stage be made again: a fixed
// name would be the kept bucket's, and S3 would refuse it.
func (n names) digestBucketPrefix() string { return n.prefix() + "-digests-" }

// schedule names an EventBridge Scheduler schedule (at most 64 characters).
func (n names) schedule(part string) string { return n.prefix() + "-" + part }

// flowLogGroup is where the VPC's flow logs go.
func (n names) flowLogGroup() string { return "/aws/vpc/" + n.prefix() + "/flow" }

// databaseLogGroup is where RDS exports the cluster's postgresql log: RDS
// names it, the stack makes it first, with the stage's key and retention.
func (n names) databaseLogGroup() string { return "/aws/rds/cluster/" + n.prefix() + "/postgresql" }

// logGroupPatterns match every log group of the stage, and no other
// stage's: what the stage key lets CloudWatch Logs encrypt.
func (n names) logGroupPatterns() []string {
	return []string{
		"/aws/lambda/" + n.prefix() + "-*",
		"/aws/apigateway/" + n.prefix() + "/*",
		n.wafLogGroup(),
		"/aws/vpc/" + n.prefix() + "/*",
		"/aws/rds/cluster/" + n.prefix() + "/*",
	}
}
