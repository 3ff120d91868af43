package infra

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// logGroup is where a part of the stage logs: every log group of the
// stage is named by the stack, kept the stage's retention, and encrypted
// with the stage key where the stage has one (nil: CloudWatch's own keys).
type logGroup struct {
	Name          string
	RetentionDays int
	KMSKeyARN     pulumi.StringPtrInput
}

// create makes the log group as the resource name says.
func (g logGroup) create(ctx *pulumi.Context, name string, opts ...pulumi.ResourceOption) (*cloudwatch.LogGroup, error) {
	return cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(g.Name),
		RetentionInDays: pulumi.Int(g.RetentionDays),
		KmsKeyId:        g.KMSKeyARN,
	}, opts...)
}
